"""Role trust policies, evaluated as STS does on AssumeRole (moto assumes any role, trusted or
not, even one that does not exist): may this caller assume the role? For the statements sgguard's
templates and Organizations' roles write — `Principal` as `*`, an account id or root ARN, a role
or user ARN; `Condition` with StringEquals / StringLike / ArnEquals / ArnLike (and their Not
forms) on `aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`. A condition this
evaluator cannot judge makes its statement grant nothing (it never lets a caller in by
guessing); an explicit Deny that matches wins."""

from __future__ import annotations

from dataclasses import dataclass

from .scp_eval import arn_like, string_like

ASSUME_ROLE = "sts:assumerole"


@dataclass(frozen=True)
class Caller:
    """Who asks: its principal ARN as IAM policies name it (an assumed role as its role's ARN),
    its account, and its organization (None outside)."""

    arn: str
    account: str
    org_id: str | None

    @staticmethod
    def of(arn: str, org_of) -> Caller:
        """The caller behind an STS ARN (`arn:aws:sts::A:assumed-role/R/session`,
        `arn:aws:sts::A:user/N`) or an IAM ARN; `org_of(account)` its organization."""
        parts = arn.split(":", 5)
        account, resource = parts[4], parts[5]
        if resource.startswith("assumed-role/"):
            principal = f"arn:aws:iam::{account}:role/{resource.split('/')[1]}"
        else:
            principal = f"arn:aws:iam::{account}:{resource}"
        return Caller(principal, account, org_of(account))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _names_caller(principal, caller: Caller) -> bool:
    """Whether a statement's `Principal` names the caller."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for named in _as_list(principal.get("AWS", [])):
        if named == "*" or named in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return True
        # A role named with its path matches the role the caller assumed (STS ARNs drop the path).
        if named.split(":", 5)[:5] == caller.arn.split(":", 5)[:5]:
            kind, _, name = named.split(":", 5)[5].partition("/")
            want_kind, _, want_name = caller.arn.split(":", 5)[5].partition("/")
            if kind == want_kind and name.rsplit("/", 1)[-1] == want_name:
                return True
    return False


_OPERATORS = {
    "StringEquals": lambda value, pattern: value == pattern,
    "StringLike": string_like,
    "ArnEquals": lambda value, pattern: value == pattern,
    "ArnLike": arn_like,
}


def _condition_holds(operator: str, key: str, patterns: list[str], caller: Caller) -> bool:
    """One condition; ValueError when it cannot be judged here."""
    negated = "Not" in operator
    matcher = _OPERATORS.get(operator.replace("Not", ""))
    if matcher is None:
        raise ValueError(f"condition operator {operator} is not evaluated by the emulator")
    values = {
        "aws:principalorgid": caller.org_id,
        "aws:principalaccount": caller.account,
        "aws:principalarn": caller.arn,
    }
    if key.lower() not in values:
        raise ValueError(f"condition key {key} is not evaluated by the emulator")
    value = values[key.lower()]
    matched = value is not None and any(matcher(value, p) for p in patterns)
    return matched != negated


def _applies(statement: dict, caller: Caller) -> bool:
    """Whether a statement's action, principal and conditions cover this AssumeRole."""
    actions = [a.lower() for a in _as_list(statement.get("Action", []))]
    if not any(string_like(ASSUME_ROLE, a) for a in actions):
        return False
    if not _names_caller(statement.get("Principal"), caller):
        return False
    for operator, block in (statement.get("Condition") or {}).items():
        for key, patterns in block.items():
            if not _condition_holds(operator, key, [str(p) for p in _as_list(patterns)], caller):
                return False
    return True


def denial(policy: dict | None, caller: Caller, role_arn: str) -> str | None:
    """Why `caller` may not assume `role_arn` with this trust policy (None: a missing role), or
    None when it may."""
    refused = f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    if policy is None:
        return f"{refused} (the role does not exist)"
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        try:
            applies = _applies(statement, caller)
        except ValueError as e:
            if statement.get("Effect") == "Deny":
                return f"{refused} ({e}; a Deny counts)"
            continue
        if applies and statement.get("Effect") == "Deny":
            return f"{refused} (an explicit deny in the trust policy)"
        allowed = allowed or (applies and statement.get("Effect") == "Allow")
    return None if allowed else refused
