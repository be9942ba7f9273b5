"""The spoke template deployed as a StackSet into an Organization emulated by moto.

Setup (module fixture `org`): the moto management account 123456789012 creates an
organization with OUs "Workloads" (2 accounts) and "Sandbox" (1 account) and plays the hub:
bus `sgguard-hub` in us-east-1 with the bus policy of hub/events.tf, and a rule with
hub/event-pattern.json. Then, as hub/stackset.tf does, a SERVICE_MANAGED StackSet (moto
supports that permission model: stack instances are created from OrganizationalUnitIds)
and its instances for the Workloads OU, primary region us-east-1 first, then eu-west-1.
Member accounts are reached only through STS AssumeRole into
OrganizationAccountAccessRole, as in AWS.

Stand-in: moto cannot invoke a Lambda target (neither a provided.al2023 runtime nor any
Lambda target of an EventBridge rule), so the hub rule targets an SQS queue. Moto does
deliver the spoke rule's cross-account/cross-region event-bus target for real.

What moto cannot check, and so these tests do not claim (see tests/infra/README.md):
- AutoDeployment and CallAs are accepted but ignored (no deployment to an account that
  later joins the OU is emulated);
- the stack instances' stacks are hidden: they do not appear in the member's
  DescribeStacks as in AWS, so resources are checked in the member's IAM and EventBridge;
- IAM is not evaluated for these calls: the remediation role's trust policy (hub role +
  aws:PrincipalOrgID), the forwarder role's permission and the hub bus policy are asserted
  as documents, not enforced (moto's optional IAM enforcement ignores Resource and cannot
  check cross-account trust);
- the forwarded event is re-put on the hub bus with the hub's account and region
  (real EventBridge keeps the member's `account` and `region`), so the test identifies
  events by their detail;
- EventBridge's refusal of `aws.*` sources in PutEvents is not emulated, which is what lets
  the test inject CloudTrail-shaped events.
"""

from __future__ import annotations

import ast
import json
import uuid
from pathlib import Path

import boto3
import pytest

from sgguard_infra import (
    CLOUDTRAIL_FIXTURES,
    SPOKE_TEMPLATE,
    load_event_pattern,
    load_remediation_actions,
)

HUB_ACCOUNT = "123456789012"  # moto's default account = management account = hub here
HUB_REGION = "us-east-1"
REGIONS = ["us-east-1", "eu-west-1"]  # primary first, as hub/stackset.tf orders them
HUB_BUS = "sgguard-hub"
HUB_BUS_ARN = f"arn:aws:events:{HUB_REGION}:{HUB_ACCOUNT}:event-bus/{HUB_BUS}"
HUB_LAMBDA_ROLE_ARN = f"arn:aws:iam::{HUB_ACCOUNT}:role/sgguard-lambda"
STACKSET = "sgguard-spoke"
RULE_NAME = "sgguard-forward-sg-changes"
ROLE_NAMES = {"sgguard-remediation", "sgguard-event-forwarder"}
FORWARDED_NAMES = {
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "ModifyManagedPrefixList",
}


def _doc(value) -> dict:
    """An IAM document as a dict.

    boto3 decodes AWS's URL-encoded JSON into a dict. Moto stores the inline policies that
    CloudFormation creates as the Python repr of the dict (a moto quirk), which boto3 hands
    back as a string: read that with ast.literal_eval (literals only, nothing executed).
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return ast.literal_eval(value)


class Org:
    """Handles on the emulated organization, for the tests."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.org_id = ""
        self.ou: dict[str, str] = {}
        self.accounts: dict[str, list[str]] = {}
        self.queue_url = ""

    def client(self, service: str, region: str = HUB_REGION, creds: dict | None = None):
        kwargs = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        if creds:
            kwargs = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, **kwargs)

    def member(self, service: str, account: str, region: str):
        """A client inside a member account, through AssumeRole (never moto's backdoors)."""
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="sgguard-infra-test",
        )["Credentials"]
        client = self.client(service, region, creds)
        if service == "sts":
            return client
        who = self.client("sts", region, creds).get_caller_identity()
        assert who["Account"] == account, f"AssumeRole landed in {who['Account']}, not {account}"
        return client


@pytest.fixture(scope="module")
def org(moto_endpoint) -> Org:
    o = Org(moto_endpoint)
    orgs = o.client("organizations")
    o.org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    for name in ("Workloads", "Sandbox"):
        o.ou[name] = orgs.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"]
        o.accounts[name] = []
    for name, ou in (("app-prod", "Workloads"), ("app-dev", "Workloads"), ("playground", "Sandbox")):
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        assert status["State"] == "SUCCEEDED", status
        account = status["AccountId"]
        orgs.move_account(AccountId=account, SourceParentId=root, DestinationParentId=o.ou[ou])
        o.accounts[ou].append(account)

    # --- the hub side of hub/events.tf, with an SQS queue standing in for the Lambda ---
    events = o.client("events")
    events.create_event_bus(Name=HUB_BUS)
    events.put_permission(
        EventBusName=HUB_BUS,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OrganizationPutsEvents",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "events:PutEvents",
                        "Resource": HUB_BUS_ARN,
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": o.org_id}},
                    }
                ],
            }
        ),
    )
    sqs = o.client("sqs")
    o.queue_url = sqs.create_queue(QueueName="sgguard-lambda-stand-in")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=o.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="sgguard-sg-changes", EventBusName=HUB_BUS, EventPattern=json.dumps(load_event_pattern()))
    events.put_targets(
        Rule="sgguard-sg-changes", EventBusName=HUB_BUS, Targets=[{"Id": "lambda-stand-in", "Arn": queue_arn}]
    )

    # --- the StackSet of hub/stackset.tf ---
    cfn = o.client("cloudformation")
    cfn.create_stack_set(
        StackSetName=STACKSET,
        TemplateBody=SPOKE_TEMPLATE.read_text(),
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        CallAs="SELF",
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {
                "HubAccountId": HUB_ACCOUNT,
                "HubRegion": HUB_REGION,
                "HubEventBusName": HUB_BUS,
                "HubLambdaRoleArn": HUB_LAMBDA_ROLE_ARN,
                "RemediationRoleName": "sgguard-remediation",
                "PrimaryRegion": REGIONS[0],
                "OrganizationId": o.org_id,
            }.items()
        ],
    )
    for region in REGIONS:  # aws_cloudformation_stack_set_instance.primary, then .other
        op = cfn.create_stack_instances(
            StackSetName=STACKSET,
            DeploymentTargets={"OrganizationalUnitIds": [o.ou["Workloads"]]},
            Regions=[region],
            CallAs="SELF",
        )["OperationId"]
        status = cfn.describe_stack_set_operation(StackSetName=STACKSET, OperationId=op)["StackSetOperation"]["Status"]
        assert status == "SUCCEEDED", status
    return o


def test_stack_set_is_service_managed(org: Org):
    ss = org.client("cloudformation").describe_stack_set(StackSetName=STACKSET)["StackSet"]
    assert ss["PermissionModel"] == "SERVICE_MANAGED"
    assert ss["Status"] == "ACTIVE"


def test_instances_cover_the_ou_in_both_regions_only(org: Org):
    summaries = org.client("cloudformation").list_stack_instances(StackSetName=STACKSET)["Summaries"]
    got = sorted((s["Account"], s["Region"]) for s in summaries)
    assert got == sorted((a, r) for a in org.accounts["Workloads"] for r in REGIONS)
    assert not {s["Account"] for s in summaries} & set(org.accounts["Sandbox"])


@pytest.mark.parametrize("index", [0, 1])
def test_roles_exist_once_from_the_primary_region(org: Org, index: int):
    account = org.accounts["Workloads"][index]
    iam = org.member("iam", account, "eu-west-1")
    roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("sgguard-")]
    assert sorted(r["RoleName"] for r in roles) == sorted(ROLE_NAMES), "each role exactly once"
    for role in roles:
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
        assert tags["sgguard:created-in-region"] == REGIONS[0], "created by the primary-region instance only"

    remediation = iam.get_role(RoleName="sgguard-remediation")["Role"]
    trust = _doc(remediation["AssumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": HUB_LAMBDA_ROLE_ARN}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org.org_id}}

    actions = []
    for name in iam.list_role_policies(RoleName="sgguard-remediation")["PolicyNames"]:
        doc = _doc(iam.get_role_policy(RoleName="sgguard-remediation", PolicyName=name)["PolicyDocument"])
        for st in doc["Statement"]:
            actions += st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if any(a.startswith("ec2:Revoke") for a in st["Action"]):
                assert st["Resource"] == [
                    f"arn:aws:ec2:*:{account}:security-group/*",
                    f"arn:aws:ec2:*:{account}:security-group-rule/*",
                ]
    assert sorted(actions) == sorted(load_remediation_actions())
    assert not iam.list_attached_role_policies(RoleName="sgguard-remediation")["AttachedPolicies"]

    fwd_docs = [
        _doc(iam.get_role_policy(RoleName="sgguard-event-forwarder", PolicyName=n)["PolicyDocument"])
        for n in iam.list_role_policies(RoleName="sgguard-event-forwarder")["PolicyNames"]
    ]
    fwd = [(s["Effect"], s["Action"], s["Resource"]) for d in fwd_docs for s in d["Statement"]]
    assert fwd == [("Allow", "events:PutEvents", HUB_BUS_ARN)]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("index", [0, 1])
def test_rule_in_each_region_forwards_to_the_hub_bus(org: Org, index: int, region: str):
    account = org.accounts["Workloads"][index]
    events = org.member("events", account, region)
    rules = [r for r in events.list_rules(EventBusName="default")["Rules"] if r["Name"].startswith("sgguard")]
    assert [r["Name"] for r in rules] == [RULE_NAME]
    assert json.loads(rules[0]["EventPattern"]) == load_event_pattern()
    assert rules[0].get("State", "ENABLED") == "ENABLED"
    targets = events.list_targets_by_rule(Rule=RULE_NAME, EventBusName="default")["Targets"]
    assert len(targets) == 1
    assert targets[0]["Arn"] == HUB_BUS_ARN
    assert targets[0]["RoleArn"] == f"arn:aws:iam::{account}:role/sgguard-event-forwarder"


def test_sandbox_account_has_nothing(org: Org):
    account = org.accounts["Sandbox"][0]
    iam = org.member("iam", account, "us-east-1")
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("sgguard-")]
    for region in REGIONS:
        events = org.member("events", account, region)
        assert not [r for r in events.list_rules(EventBusName="default")["Rules"] if r["Name"].startswith("sgguard")]


# ---------------------------------------------------------------------------------------
# Events: from a member's default bus, through the spoke rule, to the hub bus and rule
# ---------------------------------------------------------------------------------------


def _drain(org: Org) -> list[dict]:
    sqs = org.client("sqs")
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=org.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=org.queue_url, ReceiptHandle=m["ReceiptHandle"])


def _put(events, entries: list[dict]) -> None:
    for i in range(0, len(entries), 10):
        resp = events.put_events(Entries=entries[i : i + 10])
        assert resp["FailedEntryCount"] == 0, resp


def _entry(detail: dict, source: str = "aws.ec2", detail_type: str = "AWS API Call via CloudTrail") -> dict:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": "default"}


def _ct_detail(event_name: str, marker: str, **extra) -> dict:
    return {
        "eventVersion": "1.08",
        "eventSource": "ec2.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "eu-west-1",
        "eventID": marker,
        "requestParameters": {"groupId": "sg-0123456789abcdef0"},
        **extra,
    }


def test_only_matching_events_reach_the_hub(org: Org):
    _drain(org)
    account = org.accounts["Workloads"][0]
    matching = {f"match-{name}-{uuid.uuid4()}": name for name in sorted(FORWARDED_NAMES)}
    entries = [_entry(_ct_detail(name, marker)) for marker, name in matching.items()]
    non_matching = [
        _entry(_ct_detail("RevokeSecurityGroupIngress", "no-revoke")),  # the guard's own action
        _entry(_ct_detail("AuthorizeSecurityGroupIngress", "no-failed", errorCode="Client.UnauthorizedOperation")),
        _entry(_ct_detail("CreateSecurityGroup", "no-create")),
        _entry({**_ct_detail("AuthorizeSecurityGroupIngress", "no-source"), "eventSource": "s3.amazonaws.com"}),
        _entry(_ct_detail("AuthorizeSecurityGroupIngress", "no-aws-ec2"), source="custom.ec2"),
        _entry(_ct_detail("AuthorizeSecurityGroupIngress", "no-detail-type"), detail_type="EC2 Instance State-change Notification"),
    ]
    _put(org.member("events", account, "eu-west-1"), entries + non_matching)

    received = _drain(org)
    got = sorted(e["detail"]["eventID"] for e in received)
    assert got == sorted(matching), f"hub received {got}"
    for e in received:
        assert e["source"] == "aws.ec2"
        assert e["detail-type"] == "AWS API Call via CloudTrail"
        assert e["detail"]["eventName"] == matching[e["detail"]["eventID"]]


def test_primary_region_rule_forwards_too(org: Org):
    _drain(org)
    account = org.accounts["Workloads"][1]
    marker = f"match-us-east-1-{uuid.uuid4()}"
    _put(org.member("events", account, "us-east-1"), [_entry(_ct_detail("AuthorizeSecurityGroupEgress", marker))])
    assert [e["detail"]["eventID"] for e in _drain(org)] == [marker]


def test_sandbox_events_are_not_forwarded(org: Org):
    _drain(org)
    account = org.accounts["Sandbox"][0]
    _put(org.member("events", account, "eu-west-1"), [_entry(_ct_detail("AuthorizeSecurityGroupIngress", "sandbox"))])
    assert _drain(org) == []


def _fixture_records() -> list[tuple[str, dict]]:
    """(file name, CloudTrail record) for every shared fixture, envelope or raw record."""
    assert CLOUDTRAIL_FIXTURES.is_dir(), f"shared CloudTrail fixtures missing at {CLOUDTRAIL_FIXTURES}"
    out = []
    for path in sorted(CLOUDTRAIL_FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and "detail" in doc and "detail-type" in doc:
            records = [doc["detail"]]
        elif isinstance(doc, dict) and "Records" in doc:
            records = doc["Records"]
        elif isinstance(doc, list):
            records = doc
        else:
            records = [doc]
        out += [(path.name, r) for r in records if isinstance(r, dict)]
    assert len(out) >= 10, f"expected the shared fixtures, found {len(out)} records"
    return out


def test_real_cloudtrail_events_are_filtered_as_designed(org: Org):
    """Every shared real event, wrapped as EventBridge wraps CloudTrail records.

    Expected per DESIGN.md: forwarded iff eventSource is ec2.amazonaws.com, eventName is one
    of the four and no errorCode is present.
    """
    _drain(org)
    account = org.accounts["Workloads"][0]
    expected, entries = [], []
    for n, (name, record) in enumerate(_fixture_records()):
        marker = f"fixture-{n}-{name}"
        detail = {**record, "eventID": marker}
        if (
            detail.get("eventSource") == "ec2.amazonaws.com"
            and detail.get("eventName") in FORWARDED_NAMES
            and "errorCode" not in detail
        ):
            expected.append(marker)
        entries.append(_entry(detail))
    assert expected, "no fixture is expected to match: the fixtures changed"
    assert len(expected) < len(entries), "no fixture is expected to be filtered out"
    _put(org.member("events", account, "eu-west-1"), entries)
    assert sorted(e["detail"]["eventID"] for e in _drain(org)) == sorted(expected)
