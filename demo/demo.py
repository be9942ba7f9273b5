#!/usr/bin/env python3
"""`make demo`: sgguard doing its job end to end, on one machine, against an emulated AWS.

Every AWS API below is moto's, behind the emulator's proxy on loopback (the world comes from
the sgguard_world package, tests/world: the emulator, the Organization, the people, the
CloudTrail records, the Lambda under cargo-lambda); nothing leaves the machine and no AWS
account is needed.

1. build   `cargo build --locked`: the one binary that is the hub Lambda and the CLI.
2. org     an Organization: the hub (its management account, access key AKIAHUBTESTING000001)
           and two members in OU Workloads; spoke-infra/sgguard-spoke.yaml rolled out to the OU
           by a SERVICE_MANAGED StackSet in us-east-1 and eu-west-1 (remediation role,
           forwarding rule); the hub bus and rule (hub/event-pattern.json); the SNS topic and
           the security inbox, an SQS queue subscribed to it.
3. hub     the binary as the Lambda, under cargo-lambda's runtime emulator (`cargo lambda watch`).
4. story   people in the member accounts change security groups through the EC2 API. moto has
           no CloudTrail, so each change's event is built from what the API returned, put on
           the member's default bus, forwarded by the StackSet's rule to the hub bus, taken
           from the hub rule's target and handed to the Lambda over HTTP. One event is lost.
5. sweep   `sgguard scan --accounts org --remediate`: catches what the lost event hid.
6. report  the rules before and after, per account and region; the inbox; then every
           expectation is checked: the exit code is 1 when one does not hold.

Usage: `make demo`, or `$VENV/bin/python demo/demo.py` (needs the project venv: `make venv`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Importing sgguard_world clears any real AWS credentials, profile or instance metadata from
# this process's environment: nothing can reach real AWS.
from sgguard_world import events
from sgguard_world.control import EmulatorProcess
from sgguard_world import terminal
from sgguard_world.ec2 import Call, Rule, authorize, edit, grow_prefix_list, permission, read_rules, rules_everywhere
from sgguard_world.files import REPO
from sgguard_world.lambda_runtime import TARGET_DIR, HubLambda, hub_environment
from sgguard_world.org import HUB_BUS, HUB_REGION, HUB_RULE, INBOX, OTHER_REGION, REGIONS, REMEDIATION_ROLE
from sgguard_world.org import STACK_SET, TOPIC, Org, WorldError
from sgguard_world.people import Actor, admin, iam_user, role_session
from sgguard_world.processes import Children, Interrupted, Signals
from sgguard_world.terminal import describe, paint, summarize

BINARY = TARGET_DIR / "debug" / "sgguard"
MEMBERS = ("workload-a", "workload-b")
# moto cannot run a provided.al2023 Lambda as a rule target: the hub rule targets this queue,
# and the demo hands what arrives there to the Lambda under cargo-lambda.
HUB_RULE_TARGET = "sgguard-lambda-trigger"

# What must become of a rule: "kept", revoked by the "hub" Lambda, or revoked by the "sweep".
Fate = str
FATE_LABELS = {"kept": "kept", "hub": "revoked by the hub", "sweep": "revoked by the sweep"}


class DemoError(Exception):
    """Something the demo needs did not work: it stops with this message."""


def say(text: str = "") -> None:
    """Prints a line; every step prints, so this is also where an interruption is noticed."""
    Signals.checkpoint()
    print(text, flush=True)


def heading(number: int, title: str) -> None:
    say()
    say(paint("bold", f"== {number}. {title}"))


def table(headers: list[str], rows: list[list[str]]) -> None:
    for line in terminal.table(headers, rows):
        say(line)


# --------------------------------------------------------------------------------------------
# The demo
# --------------------------------------------------------------------------------------------


@dataclass
class Sent:
    """An event handed to the hub, and what the Lambda answered."""

    actor: Actor
    record: dict
    expected: set[str]  # the rule ids its handling must revoke
    status: int = 0
    outcome: dict = field(default_factory=dict)


@dataclass
class Demo:
    """The steps, and what they learn on the way: the rules before, what must become of them,
    the events sent and the hub's answers, the sweep's report; then the problems found."""

    children: Children
    log_dir: Path
    org: Org | None = None
    hub: HubLambda | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)
    groups: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, name) -> id
    prefix_lists: dict[str, str] = field(default_factory=dict)  # name -> id, and id -> name
    before: dict[str, Rule] = field(default_factory=dict)  # every rule seen before remediation
    after_hub: dict[str, Rule] = field(default_factory=dict)  # the rules once the hub was done
    was: dict[str, str] = field(default_factory=dict)  # rule id -> its peer before an edit
    changed_by: dict[str, str] = field(default_factory=dict)  # rule id -> actor name
    fates: dict[str, Fate] = field(default_factory=dict)  # rule id -> its fate, when not "kept"
    sent: list[Sent] = field(default_factory=list)
    sweep: dict | None = None  # the scan's JSON document, with its exit code
    sweep_problem: str = ""
    problems: list[str] = field(default_factory=list)  # the expectations that did not hold

    def run(self) -> list[str]:
        """Every step, timed; the expectations that did not hold."""
        steps = [
            ("Build", "build", self.build),
            ("Organization", "organization", self.organization),
            ("Hub Lambda under cargo-lambda", "hub start", self.start_hub),
            ("Changes in the member accounts, and what the hub did", "changes + hub", self.story),
            ("Organization sweep", "sweep", self.run_sweep),
            ("Report", "report", self.report),
        ]
        for number, (title, name, step) in enumerate(steps, start=1):
            heading(number, title)
            started = time.monotonic()
            step()
            self.timings.append((name, time.monotonic() - started))
        return self.problems

    # -- 1. build --------------------------------------------------------------------------

    def build(self) -> None:
        say(f"  cargo build --locked   (CARGO_TARGET_DIR={TARGET_DIR})")
        env = {**os.environ, "CARGO_TARGET_DIR": str(TARGET_DIR)}
        if self.children.run(["cargo", "build", "--locked"], cwd=REPO, env=env).returncode != 0:
            raise DemoError("cargo build failed")

    # -- 2. organization -------------------------------------------------------------------

    def organization(self) -> None:
        def spawn(command, **kwargs):
            return self.children.start(command, log="emulator.log", **kwargs)

        try:
            proxy = EmulatorProcess(spawn=spawn).proxy
        except (RuntimeError, ValueError):
            raise DemoError(f"the emulator did not start (see {self.log_dir / 'emulator.log'})") from None
        say(f"  emulator (moto + counting proxy): {proxy}")

        org = self.org = Org(proxy)
        org.create([(name, "Workloads") for name in MEMBERS], ["Workloads"])
        a, b = org.members
        say(f"  Organization {org.org_id}: hub {org.hub} (management account), OU Workloads {org.ous['Workloads']}")
        say(f"    with workload-a {a} and workload-b {b}")
        org.deploy_spokes(["Workloads"], REGIONS)
        for account in org.members:  # what the hub will assume
            org.member("iam", account).get_role(RoleName=REMEDIATION_ROLE)
        say(f"  StackSet {STACK_SET} (SERVICE_MANAGED) -> OU Workloads, {' then '.join(REGIONS)}:")
        say(f"    role {REMEDIATION_ROLE} and the rule forwarding to the hub bus, in each member")
        org.build_hub_bus(HUB_RULE_TARGET)
        org.notifications()
        say(f"  hub bus {HUB_BUS} + rule {HUB_RULE} (hub/event-pattern.json)")
        say(f"  topic {TOPIC} -> SQS {INBOX}, the security inbox")
        self.existing_rules()
        self.before.update(self.rules())

    def rules(self) -> dict[str, Rule]:
        """Every rule in every account (hub included) and region."""
        return rules_everywhere(self.org, REGIONS)

    def existing_rules(self) -> None:
        """Compliant rules that were there before the story: the account admins made them."""
        a, b = self.org.members
        admin_a, admin_b = admin(self.org, a), admin(self.org, b)
        self.authorize(admin_a, "admin-rdp", [permission("tcp", 3389, "10.0.0.0/8")])
        entry = {"Cidr": "203.0.113.0/24", "Description": "office"}
        created = admin_b.client("ec2").create_managed_prefix_list(
            PrefixListName="office", AddressFamily="IPv4", MaxEntries=5, Entries=[entry]
        )
        office = created["PrefixList"]["PrefixListId"]
        self.prefix_lists.update({"office": office, office: "office"})
        self.authorize(admin_b, "office-ssh", [permission("tcp", 22, office)])
        self.authorize(admin_b, "office-web", [permission("tcp", 443, office)])
        say(f"  existing rules: workload-a {HUB_REGION} admin-rdp: tcp 3389 from 10.0.0.0/8")
        say(f"    workload-b {HUB_REGION} prefix list `office` {office} (203.0.113.0/24),")
        say("    used by office-ssh (tcp 22) and office-web (tcp 443)")

    # -- 3. hub ----------------------------------------------------------------------------

    def start_hub(self) -> None:
        def spawn(command, **kwargs):
            return self.children.start(command, log="lambda.log", **kwargs)

        try:
            self.hub = HubLambda(self.org.endpoint, self.org.topic_arn, spawn=spawn, checkpoint=Signals.checkpoint)
        except RuntimeError as error:
            raise DemoError(str(error)) from None
        say(f"  cargo lambda watch: {self.hub.url}")
        say(f"  env: hub credentials, AWS_ENDPOINT_URL={self.org.endpoint},")
        say(f"    SGGUARD_TOPIC_ARN={self.org.topic_arn}")

    # -- 4. the story ----------------------------------------------------------------------

    def story(self) -> None:
        org = self.org
        a, b = org.members
        terraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.5"
        pipeline = role_session(org, a, "terraform-deployer", "pipeline-1842", HUB_REGION, user_agent=terraform)
        alice = iam_user(org, a, "alice", HUB_REGION)
        bob = role_session(org, b, "Developer", "bob", OTHER_REGION)
        carol = iam_user(org, a, "carol", HUB_REGION)
        dave = role_session(org, b, "NetworkAdmin", "dave", HUB_REGION)
        erin = iam_user(org, a, "erin", OTHER_REGION, user_agent="aws-cli/2.17.60 md/command#ec2")
        office = self.prefix_lists["office"]

        call = self.authorize(pipeline, "web", [permission("tcp", 443, "0.0.0.0/0", "::/0")])
        self.send(pipeline, call, "opens HTTPS (tcp 443) to the world in a new group `web`")

        call = self.authorize(alice, "web", [permission("tcp", 22, "0.0.0.0/0")])
        self.send(alice, call, "opens SSH (tcp 22) to 0.0.0.0/0 in `web`, next to HTTPS", hub=["tcp 22 from 0.0.0.0/0"])

        wide_open = [
            permission("-1", None, "::/0"),
            permission("tcp", 5432, "0.0.0.0/1", "128.0.0.0/1"),
            permission("tcp", 5432, "10.0.0.0/8"),
        ]
        call = self.authorize(bob, "db", wide_open)
        what = "opens all traffic from ::/0 and PostgreSQL (tcp 5432) from 0.0.0.0/1 + 128.0.0.0/1 in a new group `db`"
        self.send(bob, call, what, hub=["all from ::/0", "tcp 5432 from 0.0.0.0/1", "tcp 5432 from 128.0.0.0/1"])

        call = self.edit(carol, "admin-rdp", "tcp 3389 from 10.0.0.0/8", "0.0.0.0/0")
        self.send(carol, call, "edits the RDP rule of `admin-rdp` to 0.0.0.0/0", hub=["tcp 3389 from 0.0.0.0/0"])

        call = self.grow_prefix_list(dave, "office", "0.0.0.0/0")
        self.send(dave, call, "adds 0.0.0.0/0 to the prefix list `office`", hub=[f"tcp 22 from {office}"])

        call = self.authorize(erin, "reporting", [permission("tcp", 3306, "0.0.0.0/0")])
        what = "opens MySQL (tcp 3306) to 0.0.0.0/0 in a new group `reporting`"
        self.send(erin, call, what, sweep=["tcp 3306 from 0.0.0.0/0"], lost=True)

    def authorize(self, actor: Actor, group: str, permissions: list[dict]) -> Call:
        """AuthorizeSecurityGroupIngress as the actor, into the named group (created first if new)."""
        key = (actor.account, actor.region, group)
        ec2 = actor.client("ec2")
        if key not in self.groups:
            self.groups[key] = ec2.create_security_group(GroupName=group, Description=f"demo {group}")["GroupId"]
        return authorize(ec2, actor.account, actor.region, self.groups[key], permissions)

    def edit(self, actor: Actor, group: str, old_text: str, new_cidr: str) -> Call:
        """ModifySecurityGroupRules as the actor: the group's rule `old_text` gets another peer."""
        group_id = self.groups[(actor.account, actor.region, group)]
        call, old = edit(actor.client("ec2"), actor.account, actor.region, group_id, old_text, new_cidr)
        self.was[old.id] = old.peer
        return call

    def grow_prefix_list(self, actor: Actor, name: str, cidr: str) -> Call:
        """ModifyManagedPrefixList as the actor: one more entry in the named list."""
        return grow_prefix_list(actor.client("ec2"), self.prefix_lists[name], cidr)

    def send(
        self,
        actor: Actor,
        call: Call,
        what: str,
        *,
        hub: Sequence[str] = (),
        sweep: Sequence[str] = (),
        lost: bool = False,
    ) -> None:
        """Records what the change did and what must become of it (the rules written as `hub`
        and `sweep`), then delivers its event the way AWS would: the member's default bus, the
        spoke rule, the hub bus, the hub rule, the Lambda."""
        say(f"- {paint('bold', actor.name)} in {self.org.names[actor.account]} {actor.region} {what}")
        self.before.update(read_rules(self.org.ec2(actor.account, actor.region), actor.account, actor.region))
        self.changed_by.update({rule.id: actor.name for rule in call.rules})
        expected = self.expect(actor, hub, "hub")
        self.expect(actor, sweep, "sweep")
        record = actor.record(call)
        if lost:
            say(f"    {call.name} {record['eventID']}: {paint('note', 'LOST on the way, never reaches the hub')}")
            return
        self.org.member("events", actor.account, actor.region).put_events(Entries=[events.entry(record)])
        event = self.org.forwarded(record["eventID"], checkpoint=Signals.checkpoint)
        # moto re-puts a forwarded event with the hub's account and region; EventBridge keeps
        # the member's, and the hub relies on them.
        event.update(account=actor.account, region=actor.region)
        sent = Sent(actor, record, expected)
        sent.status, sent.outcome = self.hub.invoke(event)
        self.sent.append(sent)
        say(f"    {call.name} -> member bus -> hub bus -> Lambda: {summarize(sent.status, sent.outcome)}")

    def expect(self, actor: Actor, texts: Sequence[str], fate: Fate) -> set[str]:
        """Gives the rules written as `texts`, in the actor's account and region, their fate."""
        marked = set()
        for text in texts:
            ids = [
                i
                for i, r in self.before.items()
                if (r.account, r.region, r.text()) == (actor.account, actor.region, text)
            ]
            if len(ids) != 1:
                raise DemoError(f"the demo expects one rule `{text}` in {actor.account} {actor.region}: {len(ids)}")
            self.fates[ids[0]] = fate
            marked.add(ids[0])
        return marked

    # -- 5. sweep --------------------------------------------------------------------------

    def run_sweep(self) -> None:
        self.after_hub = self.rules()
        if self.children.run([BINARY, "scan", "--help"], log="scan.log").returncode != 0:
            self.sweep_problem = f"{BINARY} has no `scan` subcommand: the sweep did not run"
            say("  " + paint("bad", "SKIPPED: " + self.sweep_problem))
            return
        command = [BINARY, "scan", "--accounts", "org", "--regions", ",".join(REGIONS), "--remediate"]
        command += ["--format", "json"]
        say("  " + " ".join(str(c) for c in command))
        env = {**os.environ, **hub_environment(self.org.endpoint)}
        result = self.children.run(command, log="scan.log", env=env, stdout=subprocess.PIPE)
        say(f"  exit code {result.returncode} (0 clean, 1 findings, 2 failure)")
        try:
            self.sweep = {**json.loads(result.stdout), "exit_code": result.returncode}
        except ValueError:
            self.sweep_problem = f"`sgguard scan` printed no JSON document (exit {result.returncode}; see scan.log)"
            say("  " + paint("bad", self.sweep_problem))
            return
        counts = ["groups", "rules", "findings", "revoked", "failed"]
        rows = [
            [a.get("account_id"), a.get("account_name"), r.get("region"), *(r.get(c) for c in counts), r.get("error")]
            for a in self.sweep.get("accounts", [])
            for r in a.get("regions", [])
        ]
        headers = ["ACCOUNT", "NAME", "REGION", *(c.upper() for c in counts), "ERROR"]
        table(headers, [["" if cell is None else str(cell) for cell in row] for row in rows])
        for f in self.sweep.get("findings", []):
            where = f"{f.get('account_id')} {f.get('region')} {f.get('group_id')} {f.get('rule_id')}"
            say(f"  finding: {where} {describe(f)} -> {f.get('outcome')}")

    # -- 6. report -------------------------------------------------------------------------

    def report(self) -> None:
        """The before/after tables and the inbox; every expectation checked."""
        after = self.rules()
        default_rules = default_problems = 0
        for account in self.org.names:
            for region in REGIONS:
                rows = []
                for rule in sorted(
                    (r for r in self.before.values() if (r.account, r.region) == (account, region)),
                    key=lambda r: (r.group_name, r.egress, r.protocol, r.from_port or 0, r.peer),
                ):
                    status, problem = self.judge(rule, after)
                    self.problems += [problem] if problem else []
                    if rule.group_name == "default":  # the same in every account and region
                        default_rules += 1
                        default_problems += problem is not None
                        continue
                    peer = rule.peer + (f" ({self.prefix_lists[rule.peer]})" if rule.peer in self.prefix_lists else "")
                    peer += f" (was {self.was[rule.id]})" if rule.id in self.was else ""
                    row = [f"{rule.group_name} {rule.group_id}", rule.id, "out" if rule.egress else "in"]
                    row += ["all" if rule.protocol == "-1" else rule.protocol, rule.ports(), peer]
                    rows.append([*row, self.changed_by.get(rule.id, "-"), status])
                if rows:
                    say()
                    say(paint("bold", f"{self.org.names[account]} {account}  {region}"))
                    table(["GROUP", "RULE", "DIR", "PROTO", "PORTS", "PEER", "CHANGED BY", "STATUS"], rows)
        say()
        touched = paint("bad", f"{default_problems} TOUCHED") if default_problems else "all kept"
        say(f"Default security groups, every account (hub included) and region: {default_rules} rules, {touched}.")
        self.problems += self.show_inbox() + self.check_hub() + self.check_sweep()

    def judge(self, rule: Rule, after: dict[str, Rule]) -> tuple[str, str | None]:
        """The rule's status for the table, and a problem when it is not what was expected."""
        actual = "hub" if rule.id not in self.after_hub else "sweep" if rule.id not in after else "kept"
        expected = self.fates.get(rule.id, "kept")
        where = f"{self.org.names[rule.account]} {rule.region} {rule.group_name} {rule.id} ({rule.text()})"
        if actual != expected:
            problem = f"{FATE_LABELS[actual]}, expected {FATE_LABELS[expected]}"
            return paint("bad", problem.upper()), f"{where}: {problem}"
        if actual == "kept" and after[rule.id].content() != rule.content():
            return paint("bad", "CHANGED"), f"{where}: changed to {after[rule.id].text()}"
        return (FATE_LABELS[actual] if actual == "kept" else paint("good", FATE_LABELS[actual])), None

    def show_inbox(self) -> list[str]:
        """Prints the inbox; problems unless it holds one message per event that found
        something, with that event's account_id and actor_arn."""
        messages = self.org.inbox()
        say()
        say(paint("bold", f"Security inbox (SQS {INBOX}, subscribed to {TOPIC}): {len(messages)} message(s)"))
        by_event: dict[str, list[dict]] = {}
        for n, envelope in enumerate(messages, 1):
            attributes = {k: v.get("Value") for k, v in envelope.get("MessageAttributes", {}).items()}
            document = json.loads(envelope.get("Message") or "{}")
            event = document.get("event", {})
            by_event.setdefault(event.get("id"), []).append(attributes)
            say(f"  [{n}] {envelope.get('Subject')}  ({event.get('name')})")
            say(f"      account_id={attributes.get('account_id')} ({document.get('account_name')})")
            say(f"      actor_arn={attributes.get('actor_arn')}")
            say(f"      action={attributes.get('action')} severity={attributes.get('severity')}")
            for f in document.get("findings", []):
                broken = ", ".join(v["policy_rule"] for v in f.get("violations", []))
                say(f"      {f.get('outcome')}: {f.get('group_id')} {f.get('rule_id')} {describe(f)}  [{broken}]")
        problems = []
        for sent in self.sent:
            event_id = sent.record["eventID"]
            got, want = by_event.pop(event_id, []), 1 if sent.expected else 0
            if len(got) != want:
                problems.append(f"inbox: {len(got)} message(s) for {sent.actor.name}'s event {event_id}, not {want}")
            for attributes in got:
                said = attributes.get("account_id"), attributes.get("actor_arn")
                if said != (sent.actor.account, sent.actor.arn):
                    problems.append(f"inbox: the message for {sent.actor.name}'s event says {said}")
        problems += [f"inbox: {len(got)} message(s) for an event never sent ({i})" for i, got in by_event.items()]
        return problems

    def check_hub(self) -> list[str]:
        """Each event handled, and exactly the rules it opened revoked."""
        problems = []
        for sent in self.sent:
            findings = sent.outcome.get("findings", [])
            revoked = {f.get("rule_id") for f in findings if f.get("outcome") == "revoked"}
            if sent.status != 200 or sent.outcome.get("status") != "handled":
                problems.append(f"hub: {sent.actor.name}'s event was not handled: {sent.status} {sent.outcome}")
            elif revoked != sent.expected:
                problems.append(
                    f"hub: {sent.actor.name}'s event revoked {sorted(revoked)}, not {sorted(sent.expected)}"
                )
        return problems

    def check_sweep(self) -> list[str]:
        """Every account and region scanned, without errors; the lost event's rule revoked."""
        if self.sweep is None:
            return [f"sweep: {self.sweep_problem}"]
        problems = [f"sweep: error: {error}" for error in self.sweep.get("errors", [])]
        expected = {i for i, fate in self.fates.items() if fate == "sweep"}
        revoked = {f.get("rule_id") for f in self.sweep.get("findings", []) if f.get("outcome") == "revoked"}
        if revoked != expected:
            problems.append(f"sweep: revoked {sorted(revoked)}, expected {sorted(expected)}")
        if self.sweep["exit_code"] != (1 if expected else 0):
            problems.append(f"sweep: exit code {self.sweep['exit_code']}, expected {1 if expected else 0} (findings)")
        scanned = {(a.get("account_id"), r.get("region")) for a in self.sweep.get("accounts", []) for r in a["regions"]}
        for account, name in self.org.names.items():
            problems += [f"sweep: {name} {account} {r} not scanned" for r in REGIONS if (account, r) not in scanned]
        return problems


def main() -> int:
    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="sgguard-demo-"))
    children = Children(log_dir)
    Signals.install()
    demo = Demo(children, log_dir)
    try:
        problems = demo.run()
    except Interrupted as interrupted:
        name = signal.Signals(interrupted.args[0]).name
        print(f"\nmake demo: interrupted ({name}); stopping everything it started. Logs: {log_dir}", flush=True)
        return 128 + interrupted.args[0]
    except (DemoError, WorldError) as error:
        problems = [str(error)]
    finally:
        Signals.ignore()  # a second Ctrl-C must not cut the clean-up short
        children.stop_all()

    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in demo.timings)
    timing = f"time: {time.monotonic() - started:.1f} s ({phases})"
    say()
    if problems:
        say(paint("bad", f"make demo: FAILED, {len(problems)} expectation(s) did not hold:"))
        for problem in problems:
            say(f"  - {problem}")
        say(f"logs: {log_dir}")
        say(timing)
        return 1
    shutil.rmtree(log_dir, ignore_errors=True)
    say(paint("good", "make demo: OK") + ": every violating rule revoked, by the hub for each event and by the sweep")
    say("for the lost one; every compliant rule untouched; one inbox message per event that found something,")
    say("with that event's account_id and actor_arn.")
    say(timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
