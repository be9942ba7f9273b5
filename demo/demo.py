#!/usr/bin/env python3
"""`make demo`: sgguard doing its job end to end, on one machine, against an emulated AWS.

Every AWS API below is moto's, behind tests/hub/emulator.py's proxy on loopback; nothing
leaves the machine and no AWS account is needed.

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

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3

# Shared with the infrastructure tests. Importing it also clears any real AWS credentials,
# profile or instance metadata from this process's environment: nothing can reach real AWS.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "infra"))
from sgguard_infra import REPO, SPOKE_TEMPLATE, load_event_pattern

EMULATOR = REPO / "tests" / "hub" / "emulator.py"
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/sgguard-target"))
BINARY = TARGET_DIR / "debug" / "sgguard"

HUB_KEY = {"aws_access_key_id": "AKIAHUBTESTING000001", "aws_secret_access_key": "hub-secret"}
HUB_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
REGIONS = (HUB_REGION, OTHER_REGION)  # the StackSet's primary region first
MEMBERS = ("workload-a", "workload-b")
ADMIN_ROLE = "OrganizationAccountAccessRole"  # what Organizations creates in a new account
REMEDIATION_ROLE = "sgguard-remediation"
STACK_SET = "sgguard-spoke"
HUB_BUS = "sgguard-hub"
HUB_RULE = "sgguard-sg-changes"
# moto cannot run a provided.al2023 Lambda as a rule target: the hub rule targets this queue,
# and the demo hands what arrives there to the Lambda under cargo-lambda.
HUB_RULE_TARGET = "sgguard-lambda-trigger"
TOPIC = "sgguard-notifications"
INBOX = "security-inbox"
DETAIL_TYPE = "AWS API Call via CloudTrail"
EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"

# What must become of a rule: "kept", revoked by the "hub" Lambda, or revoked by the "sweep".
Fate = str
FATE_LABELS = {"kept": "kept", "hub": "revoked by the hub", "sweep": "revoked by the sweep"}


class DemoError(Exception):
    """Something the demo needs did not work: it stops with this message."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the argument is the signal number."""


class Signals:
    """SIGINT and SIGTERM raise Interrupted, and keep raising it at every checkpoint: botocore
    turns whatever is raised while it reads a socket into a retryable HTTPClientError, so the
    first raise can be swallowed and the call retried."""

    received: int | None = None

    @classmethod
    def install(cls) -> None:
        signal.signal(signal.SIGINT, cls.handle)
        signal.signal(signal.SIGTERM, cls.handle)

    @classmethod
    def handle(cls, signum: int, _frame) -> None:
        cls.received = signum
        raise Interrupted(signum)

    @classmethod
    def checkpoint(cls) -> None:
        if cls.received is not None:
            raise Interrupted(cls.received)

    @staticmethod
    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


# --------------------------------------------------------------------------------------------
# Output: plain text, colour only on a terminal
# --------------------------------------------------------------------------------------------

COLOUR = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
STYLES = {"bold": "1", "good": "32", "bad": "1;31", "note": "33", "dim": "2"}


def paint(style: str, text: str) -> str:
    return f"\033[{STYLES[style]}m{text}\033[0m" if COLOUR else text


def visible(text: str) -> str:
    return re.sub("\033\\[[0-9;]*m", "", text)


def say(text: str = "") -> None:
    """Prints a line; every step prints, so this is also where an interruption is noticed."""
    Signals.checkpoint()
    print(text, flush=True)


def heading(number: int, title: str) -> None:
    say()
    say(paint("bold", f"== {number}. {title}"))


def table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> None:
    """Left-aligned columns, sized by the visible text (colour codes do not count)."""
    widths = [max(len(h), *(len(visible(row[i])) for row in rows)) for i, h in enumerate(headers)]
    say(indent + paint("dim", "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()))
    for row in rows:
        cells = [cell + " " * (width - len(visible(cell))) for cell, width in zip(row, widths, strict=True)]
        say(indent + "  ".join(cells).rstrip())


# --------------------------------------------------------------------------------------------
# Child processes: each in its own process group, all stopped on the way out
# --------------------------------------------------------------------------------------------


class Children:
    """Every process the demo starts, each in a session (process group) of its own, so that one
    killpg stops it and whatever it started. The function that cargo lambda watch runs gets a
    group of its own too: descendants are also signalled one by one."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, args: list, log: str | None = None, **kwargs) -> subprocess.Popen:
        """Starts a command. With `log`, its stdout and stderr go to that file of the log folder,
        unless `stdout=` or `stderr=` says otherwise."""
        with contextlib.ExitStack() as files:
            if log is not None:
                log_file = files.enter_context(open(self.log_dir / log, "ab"))
                kwargs.setdefault("stdout", log_file)
                kwargs.setdefault("stderr", log_file)
            process = subprocess.Popen([str(a) for a in args], start_new_session=True, **kwargs)
        self.started.append(process)
        return process

    def run(self, args: list, **kwargs) -> subprocess.CompletedProcess:
        """Runs a command to its end (its stdout is returned when `stdout=subprocess.PIPE`)."""
        process = self.start(args, **kwargs)
        stdout, _ = process.communicate()
        return subprocess.CompletedProcess(process.args, process.returncode, stdout)

    def stop_all(self) -> None:
        """Stdin EOF (the emulator's way out) and SIGTERM to everything, SIGKILL after 10 s."""
        below = [pid for process in self.started for pid in descendants(process.pid)]
        for process in self.started:
            if process.stdin and not process.stdin.closed:
                process.stdin.close()
        send_signal(self.started, below, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        send_signal(self.started, below, signal.SIGKILL)  # what a leader started may outlive it
        for process in self.started:
            process.wait()


def send_signal(leaders: list[subprocess.Popen], others: list[int], signum: int) -> None:
    """Signals the leaders' process groups and the other processes; those already gone are fine."""
    for process in leaders:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
    for pid in others:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # after `pid (comm) state`
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            Signals.checkpoint()
            if process.poll() is not None or time.monotonic() > deadline:
                raise DemoError(f"{what} did not start listening on port {port}") from None
            time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Security-group rules, and EC2 calls as CloudTrail records them
# --------------------------------------------------------------------------------------------


@dataclass
class Rule:
    """One security-group rule, as DescribeSecurityGroupRules returns it."""

    id: str
    account: str
    region: str
    group_id: str
    group_name: str
    egress: bool
    protocol: str
    from_port: int | None
    to_port: int | None
    peer: str

    @classmethod
    def from_api(cls, account: str, region: str, group_name: str, r: dict) -> Rule:
        peer = r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
        peer = peer or r.get("ReferencedGroupInfo", {}).get("GroupId", "?")
        ports = r.get("FromPort"), r.get("ToPort")
        return cls(
            r["SecurityGroupRuleId"],
            account,
            region,
            r["GroupId"],
            group_name,
            r["IsEgress"],
            r["IpProtocol"],
            *ports,
            peer,
        )

    def ports(self) -> str:
        if self.protocol == "-1" or self.from_port in (None, -1):
            return "all"
        return str(self.from_port) if self.from_port == self.to_port else f"{self.from_port}-{self.to_port}"

    def text(self) -> str:
        """The rule in sgguard's one-line notation: `tcp 22 from 0.0.0.0/0`, `all from ::/0`."""
        protocol = "all" if self.protocol == "-1" else self.protocol
        ports = "" if self.ports() == "all" else f" {self.ports()}"
        direction = "egress " if self.egress else ""
        return f"{direction}{protocol}{ports} {'to' if self.egress else 'from'} {self.peer}"

    def content(self) -> tuple:
        return self.group_id, self.egress, self.protocol, self.from_port, self.to_port, self.peer

    def cloudtrail(self) -> dict:
        """The rule as an item of CloudTrail's `responseElements.securityGroupRuleSet`."""
        peer_key = "prefixListId" if self.peer.startswith("pl-") else "cidrIpv6" if ":" in self.peer else "cidrIpv4"
        return {
            "groupOwnerId": self.account,
            "groupId": self.group_id,
            "securityGroupRuleId": self.id,
            "securityGroupRuleArn": f"arn:aws:ec2:{self.region}:{self.account}:security-group-rule/{self.id}",
            "isEgress": self.egress,
            "ipProtocol": self.protocol,
            "fromPort": -1 if self.from_port is None else self.from_port,
            "toPort": -1 if self.to_port is None else self.to_port,
            peer_key: self.peer,
        }


def read_rules(ec2, account: str, region: str) -> dict[str, Rule]:
    """Every rule of every security group in one account and region, by rule id."""
    names = {}
    for page in ec2.get_paginator("describe_security_groups").paginate():
        names.update({g["GroupId"]: g["GroupName"] for g in page["SecurityGroups"]})
    rules = {}
    for page in ec2.get_paginator("describe_security_group_rules").paginate():
        for r in page["SecurityGroupRules"]:
            rules[r["SecurityGroupRuleId"]] = Rule.from_api(account, region, names.get(r["GroupId"], "?"), r)
    return rules


def permission(protocol: str, port: int | None, *peers: str) -> dict:
    """An EC2 IpPermission: `permission("tcp", 22, "0.0.0.0/0")`, `permission("-1", None, "::/0")`."""
    p: dict = {"IpProtocol": protocol}
    if port is not None:
        p.update(FromPort=port, ToPort=port)
    for peer in peers:
        if peer.startswith("pl-"):
            p.setdefault("PrefixListIds", []).append({"PrefixListId": peer})
        elif ":" in peer:
            p.setdefault("Ipv6Ranges", []).append({"CidrIpv6": peer})
        else:
            p.setdefault("IpRanges", []).append({"CidrIp": peer})
    return p


def cloudtrail_permission(p: dict) -> dict:
    """An IpPermission as CloudTrail records it in `requestParameters` (items lists, camelCase)."""

    def items(key: str, field_in: str, field_out: str) -> dict:
        return {"items": [{field_out: x[field_in]} for x in p[key]]} if p.get(key) else {}

    out = {"ipProtocol": p["IpProtocol"]}
    if "FromPort" in p:
        out.update(fromPort=p["FromPort"], toPort=p["ToPort"])
    out.update(
        groups={},
        ipRanges=items("IpRanges", "CidrIp", "cidrIp"),
        ipv6Ranges=items("Ipv6Ranges", "CidrIpv6", "cidrIpv6"),
        prefixListIds=items("PrefixListIds", "PrefixListId", "prefixListId"),
    )
    return out


@dataclass
class Call:
    """An EC2 call as CloudTrail records it, and the rules it created or changed."""

    name: str
    request: dict
    response: dict
    rules: list[Rule]
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# The emulated organization, and the people acting in it
# --------------------------------------------------------------------------------------------


@dataclass
class Actor:
    """Someone who changes security groups: an IAM user or a role session, in one account and
    (for the story) one region."""

    name: str  # for the tables: "alice", "bob (Developer)"
    account: str
    region: str
    session: boto3.Session
    endpoint: str
    identity: dict  # CloudTrail's userIdentity
    user_agent: str
    source_ip: str

    @property
    def arn(self) -> str:
        return self.identity["arn"]

    def client(self, service: str, region: str | None = None):
        return self.session.client(service, region_name=region or self.region, endpoint_url=self.endpoint)

    def record(self, call: Call) -> dict:
        """The CloudTrail record of a call this actor made, shaped as the real ones
        (tests/fixtures/cloudtrail)."""
        return {
            "eventVersion": "1.10",
            "userIdentity": self.identity,
            "eventTime": now(),
            "eventSource": "ec2.amazonaws.com",
            "eventName": call.name,
            "awsRegion": self.region,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
            "requestParameters": call.request,
            "responseElements": call.response,
            "requestID": call.request_id,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account,
            "eventCategory": "Management",
        }


class Org:
    """An Organization in moto: the hub (management account) and its members."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.hub_session = boto3.Session(**HUB_KEY)
        self.hub = self.client("sts").get_caller_identity()["Account"]
        self.members: dict[str, str] = {}  # account name -> id
        self.names: dict[str, str] = {self.hub: "hub"}  # account id -> name
        self.org_id = self.ou = self.topic_arn = self.inbox_url = self.trigger_url = ""
        self._admins: dict[str, Actor] = {}

    def client(self, service: str, region: str = HUB_REGION):
        """A client of the hub account."""
        return self.hub_session.client(service, region_name=region, endpoint_url=self.endpoint)

    def create(self) -> None:
        organizations = self.client("organizations")
        self.org_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        root = organizations.list_roots()["Roots"][0]["Id"]
        ou = organizations.create_organizational_unit(ParentId=root, Name="Workloads")
        self.ou = ou["OrganizationalUnit"]["Id"]
        for name in MEMBERS:
            status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
            if status["State"] != "SUCCEEDED":
                raise DemoError(f"creating account {name}: {status}")
            account = self.members[name] = status["AccountId"]
            self.names[account] = name
            organizations.move_account(AccountId=account, SourceParentId=root, DestinationParentId=self.ou)

    def deploy_spokes(self) -> None:
        """hub/stackset.tf in moto: the spoke template to the OU, the primary region first."""
        cfn = self.client("cloudformation")
        parameters = {
            "HubAccountId": self.hub,
            "HubRegion": HUB_REGION,
            "HubEventBusName": HUB_BUS,
            "HubLambdaRoleArn": f"arn:aws:iam::{self.hub}:role/sgguard-lambda",
            "RemediationRoleName": REMEDIATION_ROLE,
            "PrimaryRegion": REGIONS[0],
            "OrganizationId": self.org_id,
        }
        cfn.create_stack_set(
            StackSetName=STACK_SET,
            TemplateBody=SPOKE_TEMPLATE.read_text(),
            PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
        targets = {"OrganizationalUnitIds": [self.ou]}
        for region in REGIONS:
            operation = cfn.create_stack_instances(StackSetName=STACK_SET, DeploymentTargets=targets, Regions=[region])
            done = cfn.describe_stack_set_operation(StackSetName=STACK_SET, OperationId=operation["OperationId"])
            if done["StackSetOperation"]["Status"] != "SUCCEEDED":
                raise DemoError(f"StackSet instances in {region}: {done['StackSetOperation']}")
        for account in self.members.values():  # what the hub will assume
            self.admin(account).client("iam").get_role(RoleName=REMEDIATION_ROLE)

    def build_hub(self) -> None:
        """The hub side of hub/events.tf and hub/notifications.tf: bus, rule, topic, inbox."""
        events, sqs, sns = self.client("events"), self.client("sqs"), self.client("sns")
        bus_arn = events.create_event_bus(Name=HUB_BUS)["EventBusArn"]
        statement = {
            "Sid": "OrganizationPutsEvents",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": bus_arn,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": self.org_id}},
        }
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        events.put_permission(EventBusName=HUB_BUS, Policy=policy)
        self.trigger_url, trigger_arn = queue(sqs, HUB_RULE_TARGET)
        events.put_rule(Name=HUB_RULE, EventBusName=HUB_BUS, EventPattern=json.dumps(load_event_pattern()))
        events.put_targets(Rule=HUB_RULE, EventBusName=HUB_BUS, Targets=[{"Id": "lambda", "Arn": trigger_arn}])
        self.topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
        self.inbox_url, inbox_arn = queue(sqs, INBOX)
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=inbox_arn)

    def admin(self, account: str) -> Actor:
        """The account's administrator, reached the way AWS allows: AssumeRole from the hub."""
        if account not in self._admins:
            self._admins[account] = self.role_session(account, ADMIN_ROLE, "platform-admin", HUB_REGION, create=False)
        return self._admins[account]

    def role_session(
        self,
        account: str,
        role: str,
        session_name: str,
        region: str,
        *,
        create: bool = True,
        user_agent: str = "aws-cli/2.17.60 md/command#ec2",
    ) -> Actor:
        """Someone working through a role of the account (which its admin creates first)."""
        if create:
            trust = {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            }
            document = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
            self.admin(account).client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=document)
        role_arn = f"arn:aws:iam::{account}:role/{role}"
        creds = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        session = boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        who = self.whoami(session, account)
        issuer = {"type": "Role", "principalId": who["UserId"].split(":")[0], "arn": role_arn, "accountId": account}
        identity = {
            "type": "AssumedRole",
            "principalId": who["UserId"],
            "arn": who["Arn"],
            "accountId": account,
            "accessKeyId": creds["AccessKeyId"],
            "sessionContext": {
                "sessionIssuer": {**issuer, "userName": role},
                "attributes": {"creationDate": now(), "mfaAuthenticated": "false"},
            },
        }
        name = f"{session_name} ({role})"
        return Actor(name, account, region, session, self.endpoint, identity, user_agent, "198.51.100.23")

    def iam_user(self, account: str, name: str, region: str, user_agent: str = "console.ec2.amazonaws.com") -> Actor:
        """An IAM user of the account, with an access key of its own (its admin creates both)."""
        iam = self.admin(account).client("iam")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        session = boto3.Session(key["AccessKeyId"], key["SecretAccessKey"])
        who = self.whoami(session, account)
        identity = {
            "type": "IAMUser",
            "principalId": who["UserId"],
            "arn": who["Arn"],
            "accountId": account,
            "accessKeyId": key["AccessKeyId"],
            "userName": name,
        }
        return Actor(name, account, region, session, self.endpoint, identity, user_agent, "203.0.113.77")

    def whoami(self, session: boto3.Session, account: str) -> dict:
        who = session.client("sts", region_name=HUB_REGION, endpoint_url=self.endpoint).get_caller_identity()
        if who["Account"] != account:
            raise DemoError(f"{who['Arn']} landed in account {who['Account']}, not {account}")
        return who

    def ec2(self, account: str, region: str):
        """EC2 in any account of the organization, as its administrator."""
        if account == self.hub:
            return self.client("ec2", region)
        return self.admin(account).client("ec2", region)

    def rules(self) -> dict[str, Rule]:
        """Every rule in every account (hub included) and region."""
        found = {}
        for account in self.names:
            for region in REGIONS:
                found.update(read_rules(self.ec2(account, region), account, region))
        return found

    def forwarded(self, event_id: str) -> dict:
        """The event with this CloudTrail eventID, as the hub rule delivered it to its target."""
        sqs = self.client("sqs")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            Signals.checkpoint()
            received = sqs.receive_message(QueueUrl=self.trigger_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in received.get("Messages", []):
                sqs.delete_message(QueueUrl=self.trigger_url, ReceiptHandle=message["ReceiptHandle"])
                event = json.loads(message["Body"])
                if event.get("detail", {}).get("eventID") == event_id:
                    return event
        raise DemoError(f"event {event_id} never reached the hub bus's rule")

    def inbox(self) -> list[dict]:
        """Every notification delivered to the security inbox (SNS envelopes), oldest first."""
        sqs, messages = self.client("sqs"), []
        while batch := sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])
        return messages


def queue(sqs, name: str) -> tuple[str, str]:
    """A new SQS queue: its URL and ARN."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


# --------------------------------------------------------------------------------------------
# The hub: the binary as the Lambda under cargo-lambda's runtime emulator
# --------------------------------------------------------------------------------------------


class Hub:
    """`cargo lambda watch` runs the binary with AWS_LAMBDA_RUNTIME_API set and takes
    invocations over HTTP, as the Lambda service does. It starts the function with
    `cargo run --bin sgguard`: the same profile and target directory as the build step, so
    nothing is built again."""

    def __init__(self, children: Children, org: Org) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/2015-03-31/functions/sgguard/invocations"
        cargo_lambda = shutil.which("cargo-lambda") or str(Path(sys.executable).parent / "cargo-lambda")
        if not os.path.exists(cargo_lambda):
            raise DemoError("cargo-lambda is not installed in the venv: run `make venv`")
        variables = {
            "AWS_ENDPOINT_URL": org.endpoint,
            "AWS_ACCESS_KEY_ID": HUB_KEY["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": HUB_KEY["aws_secret_access_key"],
            "AWS_REGION": HUB_REGION,
            "SGGUARD_TOPIC_ARN": org.topic_arn,
            "SGGUARD_ROLE_NAME": REMEDIATION_ROLE,
            "SGGUARD_MODE": "enforce",
            "SGGUARD_LOG": "info",
        }
        command = [cargo_lambda, "lambda", "watch", "--ignore-changes", "--locked", "--quiet"]
        command += ["-A", "127.0.0.1", "-P", port, "--bin", "sgguard"]
        for name, value in variables.items():
            command += ["--env-var", f"{name}={value}"]
        env = {**os.environ, "CARGO_TARGET_DIR": str(TARGET_DIR), "CARGO_TERM_COLOR": "never"}
        process = children.start(command, log="lambda.log", cwd=REPO, env=env, stdin=subprocess.DEVNULL)
        wait_for_port(port, process, "cargo lambda watch", 60)

    def invoke(self, event: dict) -> tuple[int, dict]:
        """The HTTP status and the handler's answer (an outcome, or errorType/errorMessage)."""
        request = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST")
        try:
            # The first invocation starts the function: `cargo run` rebuilds only if the sources
            # changed since the build step.
            with urllib.request.urlopen(request, timeout=900) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        answer = json.loads(body or b"null")
        return status, answer if isinstance(answer, dict) else {"answer": answer}


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
    hub: Hub | None = None
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
        emulator = self.children.start(
            [sys.executable, EMULATOR], log="emulator.log", stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        line = emulator.stdout.readline()
        if not line:
            raise DemoError(f"the emulator did not start (see {self.log_dir / 'emulator.log'})")
        proxy = json.loads(line)["proxy"]
        say(f"  emulator (moto + counting proxy): {proxy}")

        org = self.org = Org(proxy)
        org.create()
        a, b = org.members.values()
        say(f"  Organization {org.org_id}: hub {org.hub} (management account), OU Workloads {org.ou}")
        say(f"    with workload-a {a} and workload-b {b}")
        org.deploy_spokes()
        say(f"  StackSet {STACK_SET} (SERVICE_MANAGED) -> OU Workloads, {' then '.join(REGIONS)}:")
        say(f"    role {REMEDIATION_ROLE} and the rule forwarding to the hub bus, in each member")
        org.build_hub()
        say(f"  hub bus {HUB_BUS} + rule {HUB_RULE} (hub/event-pattern.json)")
        say(f"  topic {TOPIC} -> SQS {INBOX}, the security inbox")
        self.existing_rules()
        self.before.update(org.rules())

    def existing_rules(self) -> None:
        """Compliant rules that were there before the story: the account admins made them."""
        a, b = self.org.members.values()
        admin_a, admin_b = self.org.admin(a), self.org.admin(b)
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
        self.hub = Hub(self.children, self.org)
        say(f"  cargo lambda watch: {self.hub.url}")
        say(f"  env: hub credentials, AWS_ENDPOINT_URL={self.org.endpoint},")
        say(f"    SGGUARD_TOPIC_ARN={self.org.topic_arn}")

    # -- 4. the story ----------------------------------------------------------------------

    def story(self) -> None:
        org = self.org
        a, b = org.members.values()
        terraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.5"
        pipeline = org.role_session(a, "terraform-deployer", "pipeline-1842", HUB_REGION, user_agent=terraform)
        alice = org.iam_user(a, "alice", HUB_REGION)
        bob = org.role_session(b, "Developer", "bob", OTHER_REGION)
        carol = org.iam_user(a, "carol", HUB_REGION)
        dave = org.role_session(b, "NetworkAdmin", "dave", HUB_REGION)
        erin = org.iam_user(a, "erin", OTHER_REGION, user_agent="aws-cli/2.17.60 md/command#ec2")
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

    def group_rules(self, account: str, region: str, group_id: str) -> dict[str, Rule]:
        rules = read_rules(self.org.ec2(account, region), account, region)
        return {i: r for i, r in rules.items() if r.group_id == group_id}

    def authorize(self, actor: Actor, group: str, permissions: list[dict]) -> Call:
        """AuthorizeSecurityGroupIngress as the actor, into the named group (created first if
        new). The rules the call created are read back: moto's own response lists only the
        last permission's."""
        key = (actor.account, actor.region, group)
        ec2 = actor.client("ec2")
        if key not in self.groups:
            self.groups[key] = ec2.create_security_group(GroupName=group, Description=f"demo {group}")["GroupId"]
        group_id = self.groups[key]
        old = self.group_rules(actor.account, actor.region, group_id)
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
        created = [r for i, r in self.group_rules(actor.account, actor.region, group_id).items() if i not in old]
        request = {"groupId": group_id, "ipPermissions": {"items": [cloudtrail_permission(p) for p in permissions]}}
        call = Call("AuthorizeSecurityGroupIngress", request, {}, created)
        rule_set = {"items": [r.cloudtrail() for r in created]}
        call.response = {"requestId": call.request_id, "_return": True, "securityGroupRuleSet": rule_set}
        return call

    def edit(self, actor: Actor, group: str, old_text: str, new_cidr: str) -> Call:
        """ModifySecurityGroupRules as the actor: the group's rule `old_text` gets another peer."""
        group_id = self.groups[(actor.account, actor.region, group)]
        rules = self.group_rules(actor.account, actor.region, group_id)
        (rule,) = [r for r in rules.values() if r.text() == old_text]
        spec = {"IpProtocol": rule.protocol, "FromPort": rule.from_port, "ToPort": rule.to_port, "CidrIpv4": new_cidr}
        update = {"SecurityGroupRuleId": rule.id, "SecurityGroupRule": spec}
        actor.client("ec2").modify_security_group_rules(GroupId=group_id, SecurityGroupRules=[update])
        self.was[rule.id] = rule.peer
        edited = self.group_rules(actor.account, actor.region, group_id)[rule.id]
        request = {"GroupId": group_id, "SecurityGroupRule": {**update, "tag": 1}}
        call = Call("ModifySecurityGroupRules", {"ModifySecurityGroupRulesRequest": request}, {}, [edited])
        response = {"xmlns": EC2_XMLNS, "requestId": call.request_id, "return": True}
        call.response = {"ModifySecurityGroupRulesResponse": response}
        return call

    def grow_prefix_list(self, actor: Actor, name: str, cidr: str) -> Call:
        """ModifyManagedPrefixList as the actor: one more entry in the named list."""
        list_id, ec2 = self.prefix_lists[name], actor.client("ec2")
        version = ec2.describe_managed_prefix_lists(PrefixListIds=[list_id])["PrefixLists"][0]["Version"]
        entry = {"Cidr": cidr, "Description": "contractor access"}
        changed = ec2.modify_managed_prefix_list(PrefixListId=list_id, CurrentVersion=version, AddEntries=[entry])
        # As the console's records have it: `cidr` beside `Description`, and `tag` a string.
        added = {"cidr": cidr, "Description": entry["Description"], "tag": "1"}
        request = {"PrefixListId": list_id, "CurrentVersion": version, "AddEntry": added}
        call = Call("ModifyManagedPrefixList", {"ModifyManagedPrefixListRequest": request}, {}, [])
        prefix_list = {k[0].lower() + k[1:]: v for k, v in changed["PrefixList"].items() if not isinstance(v, list)}
        response = {"xmlns": EC2_XMLNS, "requestId": call.request_id, "prefixList": prefix_list}
        call.response = {"ModifyManagedPrefixListResponse": response}
        return call

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
        entry = {
            "Source": "aws.ec2",
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(record),
            "EventBusName": "default",
        }
        self.org.admin(actor.account).client("events", actor.region).put_events(Entries=[entry])
        event = self.org.forwarded(record["eventID"])
        # moto re-puts a forwarded event with the hub's account and region; EventBridge keeps
        # the member's, and the hub relies on them.
        event.update(account=actor.account, region=actor.region)
        sent = Sent(actor, record, expected)
        sent.status, sent.outcome = self.hub.invoke(event)
        self.sent.append(sent)
        say(f"    {call.name} -> member bus -> hub bus -> Lambda: {summarize(sent)}")

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
        self.after_hub = self.org.rules()
        if self.children.run([BINARY, "scan", "--help"], log="scan.log").returncode != 0:
            self.sweep_problem = f"{BINARY} has no `scan` subcommand: the sweep did not run"
            say("  " + paint("bad", "SKIPPED: " + self.sweep_problem))
            return
        command = [BINARY, "scan", "--accounts", "org", "--regions", ",".join(REGIONS), "--remediate"]
        command += ["--format", "json"]
        say("  " + " ".join(str(c) for c in command))
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.org.endpoint,
            "AWS_REGION": HUB_REGION,
            "AWS_ACCESS_KEY_ID": HUB_KEY["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": HUB_KEY["aws_secret_access_key"],
            "SGGUARD_ROLE_NAME": REMEDIATION_ROLE,
        }
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
        after = self.org.rules()
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


def describe(finding: dict) -> str:
    """A finding's rule in one line: `tcp 22 from 0.0.0.0/0`."""
    ports = finding.get("from_port")
    if ports is not None and finding.get("to_port") != ports:
        ports = f"{ports}-{finding['to_port']}"
    way = "to" if finding.get("direction") == "egress" else "from"
    return " ".join(str(w) for w in (finding.get("protocol"), ports, way, finding.get("peer")) if w is not None)


def summarize(sent: Sent) -> str:
    """What the Lambda answered, in one line."""
    outcome = sent.outcome
    if sent.status != 200:
        return paint("bad", f"FAILED ({sent.status}): {outcome.get('errorType')}: {outcome.get('errorMessage')}")
    findings = outcome.get("findings", [])
    revoked = [f"{f['rule_id']} ({describe(f)})" for f in findings if f.get("outcome") == "revoked"]
    others = [f"{f['rule_id']} {f.get('outcome')}" for f in findings if f.get("outcome") != "revoked"]
    text = f"{outcome.get('status')}, {outcome.get('rules_evaluated')} rules evaluated, "
    text += paint("good", "revoked " + ", ".join(revoked)) if revoked else "nothing to revoke"
    return text + (f"; {', '.join(others)}" if others else "")


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
    except DemoError as error:
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
