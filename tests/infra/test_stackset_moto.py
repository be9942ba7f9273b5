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
- AWS::SQS::QueuePolicy and AWS::CloudWatch::Alarm are not implemented (the resources are
  skipped): the spoke DLQ's policy and the two forwarding alarms are checked as documents in
  test_spoke_template.py;
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

import pytest

from sgguard_world import events
from sgguard_world.files import load_event_pattern, load_remediation_actions, tag_event_names, watched_event_names
from sgguard_world.org import HUB_LAMBDA_ROLE_ID, REGIONS, Org

STACKSET = "sgguard-spoke"
RULE_NAME = "sgguard-forward-sg-changes"
ROLE_NAMES = {"sgguard-remediation", "sgguard-event-forwarder", "sgguard-audit"}
DLQ_NAME = "sgguard-forward-sg-changes-dlq"
FORWARDED_NAMES = set(watched_event_names())
TAG_NAMES = set(tag_event_names())  # forwarded only when they tag a security group
OUS = {"Workloads": ["app-prod", "app-dev"], "Sandbox": ["playground"]}


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


def _inline_statements(iam, role: str) -> list[dict]:
    """The statements of every inline policy of `role`."""
    return [
        st
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        for st in _doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])["Statement"]
    ]


def _accounts(org: Org, ou: str) -> list[str]:
    return [org.accounts[name] for name in OUS[ou]]


@pytest.fixture(scope="module")
def org(moto_endpoint) -> Org:
    """The Organization, the hub bus and rule (an SQS queue standing in for the Lambda), then
    the StackSet of hub/stackset.tf on the Workloads OU, us-east-1 then eu-west-1."""
    o = Org(moto_endpoint)
    o.create([(name, ou) for ou, names in OUS.items() for name in names], list(OUS))
    o.build_hub_bus("sgguard-lambda-stand-in")
    o.deploy_spokes(["Workloads"], REGIONS)
    return o


def test_stack_set_is_service_managed(org: Org):
    ss = org.client("cloudformation").describe_stack_set(StackSetName=STACKSET)["StackSet"]
    assert ss["PermissionModel"] == "SERVICE_MANAGED"
    assert ss["Status"] == "ACTIVE"


def test_instances_cover_the_ou_in_both_regions_only(org: Org):
    summaries = org.client("cloudformation").list_stack_instances(StackSetName=STACKSET)["Summaries"]
    got = sorted((s["Account"], s["Region"]) for s in summaries)
    assert got == sorted((a, r) for a in _accounts(org, "Workloads") for r in REGIONS)
    assert not {s["Account"] for s in summaries} & set(_accounts(org, "Sandbox"))


@pytest.mark.parametrize("index", [0, 1])
def test_roles_exist_once_from_the_primary_region(org: Org, index: int):
    account = _accounts(org, "Workloads")[index]
    iam = org.member("iam", account, "eu-west-1")
    roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("sgguard-")]
    assert sorted(r["RoleName"] for r in roles) == sorted(ROLE_NAMES), "each role exactly once"
    for role in roles:
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
        assert tags["sgguard:created-in-region"] == REGIONS[0], "created by the primary-region instance only"

    remediation = iam.get_role(RoleName="sgguard-remediation")["Role"]
    trust = _doc(remediation["AssumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": org.hub_lambda_role_arn}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org.org_id}}
    # The hub role's unique id in the Sid (a recreated role changes the statement).
    assert statement["Sid"] == f"TrustSgguardHubLambdaInOrganization{HUB_LAMBDA_ROLE_ID}"

    actions = []
    for st in _inline_statements(iam, "sgguard-remediation"):
        actions += st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if any(a.startswith("ec2:Revoke") for a in st["Action"]):
            assert st["Resource"] == [
                f"arn:aws:ec2:*:{account}:security-group/*",
                f"arn:aws:ec2:*:{account}:security-group-rule/*",
            ]
        if "ec2:RestoreManagedPrefixListVersion" in st["Action"]:
            assert st["Resource"] == f"arn:aws:ec2:*:{account}:prefix-list/*"
    assert sorted(actions) == sorted(load_remediation_actions())
    assert not iam.list_attached_role_policies(RoleName="sgguard-remediation")["AttachedPolicies"]

    fwd_docs = [
        _doc(iam.get_role_policy(RoleName="sgguard-event-forwarder", PolicyName=n)["PolicyDocument"])
        for n in iam.list_role_policies(RoleName="sgguard-event-forwarder")["PolicyNames"]
    ]
    fwd = [(s["Effect"], s["Action"], s["Resource"]) for d in fwd_docs for s in d["Statement"]]
    assert fwd == [("Allow", "events:PutEvents", org.bus_arn)]


def test_audit_role_is_read_only_and_trusts_the_hub_lambda_in_the_organization(org: Org):
    account = _accounts(org, "Workloads")[0]
    iam = org.member("iam", account, "us-east-1")
    trust = _doc(iam.get_role(RoleName="sgguard-audit")["Role"]["AssumeRolePolicyDocument"])
    # AuditTrustedPrincipalArns is empty here: the optional statement is left out (moto keeps
    # the `Ref: AWS::NoValue` of the Fn::If as a null where CloudFormation drops it).
    (statement,) = [st for st in trust["Statement"] if st is not None]
    assert statement["Principal"] == {"AWS": org.hub_lambda_role_arn}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org.org_id}}
    # The hub role's unique id in the Sid (a recreated role changes the statement).
    assert statement["Sid"] == f"TrustSgguardHubLambdaInOrganization{HUB_LAMBDA_ROLE_ID}"
    actions = []
    for st in _inline_statements(iam, "sgguard-audit"):
        actions += st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
    assert sorted(actions) == sorted(a for a in load_remediation_actions()
                                     if not a.startswith(("ec2:Revoke", "ec2:Restore", "securityhub:")))
    assert not iam.list_attached_role_policies(RoleName="sgguard-audit")["AttachedPolicies"]


@pytest.mark.parametrize("region", REGIONS)
def test_each_region_has_its_forwarding_dlq(org: Org, region: str):
    account = _accounts(org, "Workloads")[0]
    sqs = org.member("sqs", account, region)
    url = sqs.get_queue_url(QueueName=DLQ_NAME)["QueueUrl"]
    assert url.endswith(f"/{account}/{DLQ_NAME}")
    # moto has no AWS::SQS::QueuePolicy nor AWS::CloudWatch::Alarm (it skips them): the queue
    # policy's aws:SourceArn condition and the alarms are checked in test_spoke_template.py only.
    (target,) = org.member("events", account, region).list_targets_by_rule(Rule=RULE_NAME)["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": f"arn:aws:sqs:{region}:{account}:{DLQ_NAME}"}
    # With the default parameters CloudFormation leaves the RetryPolicy out (a Number parameter's
    # Ref is the string "185" there; test_spoke_template.py checks the condition). Moto makes
    # Number parameters numbers, so its Fn::Equals with "185" is false and the target keeps the
    # parameters' policy: a canary that fails once moto compares as CloudFormation does.
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("index", [0, 1])
def test_rule_in_each_region_forwards_to_the_hub_bus(org: Org, index: int, region: str):
    account = _accounts(org, "Workloads")[index]
    events = org.member("events", account, region)
    rules = [r for r in events.list_rules(EventBusName="default")["Rules"] if r["Name"].startswith("sgguard")]
    assert [r["Name"] for r in rules] == [RULE_NAME]
    assert json.loads(rules[0]["EventPattern"]) == load_event_pattern()
    assert rules[0].get("State", "ENABLED") == "ENABLED"
    targets = events.list_targets_by_rule(Rule=RULE_NAME, EventBusName="default")["Targets"]
    assert len(targets) == 1
    assert targets[0]["Arn"] == org.bus_arn
    assert targets[0]["RoleArn"] == f"arn:aws:iam::{account}:role/sgguard-event-forwarder"


def test_sandbox_account_has_nothing(org: Org):
    account = _accounts(org, "Sandbox")[0]
    iam = org.member("iam", account, "us-east-1")
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("sgguard-")]
    for region in REGIONS:
        events = org.member("events", account, region)
        assert not [r for r in events.list_rules(EventBusName="default")["Rules"] if r["Name"].startswith("sgguard")]


# ---------------------------------------------------------------------------------------
# Events: from a member's default bus, through the spoke rule, to the hub bus and rule
# ---------------------------------------------------------------------------------------


def _drain(org: Org) -> list[dict]:
    return org.drain(org.trigger_url)


def _put(events_client, entries: list[dict]) -> None:
    for i in range(0, len(entries), 10):
        resp = events_client.put_events(Entries=entries[i : i + 10])
        assert resp["FailedEntryCount"] == 0, resp


_entry = events.entry


def _ct_detail(event_name: str, marker: str, **extra) -> dict:
    request = {"groupId": "sg-0123456789abcdef0"}
    if event_name in TAG_NAMES:
        request = {"resourcesSet": {"items": [{"resourceId": "sg-0123456789abcdef0"}]},
                   "tagSet": {"items": [{"key": "sgguard-exempt-until"}]}}
    return {
        "eventVersion": "1.08",
        "eventSource": "ec2.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "eu-west-1",
        "eventID": marker,
        "requestParameters": request,
        **extra,
    }


def test_only_matching_events_reach_the_hub(org: Org):
    _drain(org)
    account = _accounts(org, "Workloads")[0]
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
    # Tags of other resources stay in the member account; a call that tags a group among others
    # is forwarded (a match on any element of resourcesSet.items, as EventBridge matches arrays).
    account_id = account
    for name in sorted(TAG_NAMES):
        instance = events.tags(name, account_id, "eu-west-1", ["i-0123456789abcdef0"], {"Name": "web"},
                               f"arn:aws:sts::{account_id}:assumed-role/Developer/erin", event_id=f"no-{name}-instance")
        non_matching.append(_entry(instance))
        mixed = events.tags(name, account_id, "eu-west-1", ["i-0123456789abcdef0", "sg-0123456789abcdef0"],
                            {"sgguard-exempt-until": None}, f"arn:aws:sts::{account_id}:assumed-role/Developer/erin",
                            event_id=f"match-{name}-mixed-{uuid.uuid4()}")
        matching[mixed["eventID"]] = name
        entries.append(_entry(mixed))
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
    account = _accounts(org, "Workloads")[1]
    marker = f"match-us-east-1-{uuid.uuid4()}"
    _put(org.member("events", account, "us-east-1"), [_entry(_ct_detail("AuthorizeSecurityGroupEgress", marker))])
    assert [e["detail"]["eventID"] for e in _drain(org)] == [marker]


def test_sandbox_events_are_not_forwarded(org: Org):
    _drain(org)
    account = _accounts(org, "Sandbox")[0]
    _put(org.member("events", account, "eu-west-1"), [_entry(_ct_detail("AuthorizeSecurityGroupIngress", "sandbox"))])
    assert _drain(org) == []


def _fixture_records() -> list[tuple[str, dict]]:
    """(file name, CloudTrail record) for every shared fixture, envelope or raw record."""
    out = events.fixture_records()
    assert len(out) >= 10, f"expected the shared fixtures, found {len(out)} records"
    return out


def test_real_cloudtrail_events_are_filtered_as_designed(org: Org):
    """Every shared real event, wrapped as EventBridge wraps CloudTrail records.

    Expected per docs/architecture.md ("The path of one change"): forwarded iff eventSource is ec2.amazonaws.com, eventName is one
    of the watched calls (a tag call only when it names a security group) and no errorCode is
    present.
    """
    _drain(org)
    account = _accounts(org, "Workloads")[0]
    expected, entries = [], []
    for n, (name, record) in enumerate(_fixture_records()):
        marker = f"fixture-{n}-{name}"
        detail = {**record, "eventID": marker}
        tagged = json.dumps((detail.get("requestParameters") or {}).get("resourcesSet"))
        if (
            detail.get("eventSource") == "ec2.amazonaws.com"
            and detail.get("eventName") in FORWARDED_NAMES
            and (detail.get("eventName") not in TAG_NAMES or '"resourceId": "sg-' in tagged)
            and "errorCode" not in detail
        ):
            expected.append(marker)
        entries.append(_entry(detail))
    assert expected, "no fixture is expected to match: the fixtures changed"
    assert len(expected) < len(entries), "no fixture is expected to be filtered out"
    _put(org.member("events", account, "eu-west-1"), entries)
    assert sorted(e["detail"]["eventID"] for e in _drain(org)) == sorted(expected)
