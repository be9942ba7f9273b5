"""The emulator proxy's shared state: counts per action, the request log, deny rules, the access
keys AssumeRole issued, sgguard's own tally and the world built on it (one lock)."""

from __future__ import annotations

import threading

MAX_LOGGED_REQUESTS = 10_000  # "requests" log in /counts (counts themselves are unbounded)


class State:
    """Shared counters and deny rules (guarded by one lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.assumed: list[str] = []
        self.requests: list[dict] = []
        self.rules: list[dict] = []
        self.latency = 0.0
        self.key_accounts: dict[str, str] = {}  # access key id -> account, from AssumeRole answers
        self.key_principals: dict[str, str] = {}  # access key id -> assumed-role ARN, likewise
        self.sgguard: dict[str, int] = {}  # sgguard's own requests per action, never reset
        self.world = None  # the sgguard_world.org.Org built by POST /_sgguard/world
        self.world_lock = threading.Lock()  # held while the world is built (not self.lock)
        # rule id -> how many more DescribeSecurityGroupRules answers do not show it (a lagging,
        # eventually consistent read)
        self.lagging: dict[str, int] = {}

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "counts": dict(self.counts),
                "assumed": list(self.assumed),
                "requests": list(self.requests),
                "rules": [dict(r) for r in self.rules],
                "sgguard": dict(self.sgguard),
            }

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.assumed.clear()
            self.requests.clear()
            self.lagging.clear()

    def add_rule(self, rule: dict) -> None:
        with self.lock:
            self.rules.append(rule)

    def clear_rules(self) -> None:
        with self.lock:
            self.rules.clear()

    def lag(self, rule_id: str, times: int) -> None:
        """The next `times` DescribeSecurityGroupRules answers that hold `rule_id` do not show it."""
        with self.lock:
            self.lagging[rule_id] = times

    def lagging_rules(self) -> set[str]:
        """The rules DescribeSecurityGroupRules answers do not show yet."""
        with self.lock:
            return set(self.lagging)

    def hid(self, rule_ids: set[str]) -> None:
        """An answer did not show `rule_ids`: one answer fewer for each."""
        with self.lock:
            for rule_id in rule_ids & set(self.lagging):
                self.lagging[rule_id] -= 1
                if self.lagging[rule_id] <= 0:
                    del self.lagging[rule_id]

    def issued(self, access_key: str, account: str, principal: str | None = None) -> None:
        with self.lock:
            self.key_accounts[access_key] = account
            if principal:
                self.key_principals[access_key] = principal

    def principal_of(self, access_key: str) -> str | None:
        """The assumed-role ARN behind a key AssumeRole issued (None: a key of its own)."""
        with self.lock:
            return self.key_principals.get(access_key)

    def account_of(self, access_key: str) -> str | None:
        with self.lock:
            return self.key_accounts.get(access_key)

    def record_and_match(self, key: str, role_arn: str | None, body_texts: list[str],
                         by_sgguard: bool = False, access_key: str = "",
                         region: str = "") -> dict | None:
        """Count the request and return the deny rule that fires for it, if any."""
        account = self.account_of(access_key)
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            if by_sgguard:
                self.sgguard[key] = self.sgguard.get(key, 0) + 1
            if role_arn is not None:
                self.assumed.append(role_arn)
            fired = None
            for rule in self.rules:
                if rule["action"] not in ("*", key):
                    continue
                m = rule.get("match") or ""
                if m and not any(m in t for t in body_texts):
                    continue
                if rule.get("account") and rule["account"] != account:
                    continue
                if rule.get("region") and rule["region"] != region:
                    continue
                fired = dict(rule)
                if rule.get("times") is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        self.rules.remove(rule)
                break
            return fired

    def note_result(self, key: str, denied: bool, status: int, seconds: float = 0.0,
                    access_key: str = "") -> None:
        with self.lock:
            if len(self.requests) < MAX_LOGGED_REQUESTS:
                self.requests.append({"action": key, "denied": denied, "status": status,
                                      "seconds": float(seconds), "access_key": access_key,
                                      "account": self.key_accounts.get(access_key)})
