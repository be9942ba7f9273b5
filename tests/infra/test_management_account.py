"""The management account's guard as docs/deploy.md step 4 deploys it: the spoke template as a
plain stack per region, made by the step's `aws cloudformation` commands as written (only the
example hub account and organization ids replaced by the emulated ones), run with the management
account's credentials against moto. The hub is a member account here (a delegated
administrator), the management account the one that created the organization.

Not checked here: what moto does not emulate (the queue policy and the alarms are skipped, as
in test_stackset_moto.py; no IAM evaluation), nor that StackSets skips the management account
(AWS documents it; moto's StackSets do not)."""

from __future__ import annotations

import json

import pytest

from sgguard_world.files import REPO, SPOKE_TEMPLATE, load_template
from sgguard_world.org import Org

from cli_calls import call_of, section_commands

STEP = "Guard the management account"
EXAMPLE_HUB, EXAMPLE_ORG = "111122223333", "o-ab12cd34ef"
ROLES = {"sgguard-remediation", "sgguard-audit", "sgguard-event-forwarder"}


def _commands() -> list[str]:
    return section_commands(REPO / "docs" / "deploy.md", STEP)


def test_the_step_creates_one_stack_per_region_with_every_parameter_the_template_needs():
    calls = [call_of(c) for c in _commands()]
    creates = [c for c in calls if c.operation == "CreateStack"]
    assert len(creates) >= 2, "a stack in more than one region"
    required = {n for n, p in load_template(SPOKE_TEMPLATE)["Parameters"].items() if "Default" not in p}
    primaries = set()
    for call in creates:
        params = {p["ParameterKey"]: p["ParameterValue"] for p in call.params["Parameters"]}
        assert required <= set(params), f"{call.region}: no {required - set(params)}"
        assert call.params["TemplateBody"] == SPOKE_TEMPLATE.read_text()
        assert call.params["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
        assert params["HubLambdaRoleArn"] == f"arn:aws:iam::{params['HubAccountId']}:role/sgguard-lambda"
        primaries.add(params["PrimaryRegion"])
    # One region creates the roles, and its stack comes first.
    assert primaries == {creates[0].region}
    assert len({c.region for c in creates}) == len(creates)


@pytest.fixture(scope="module")
def management(own_moto) -> tuple[Org, str]:
    """An organization whose hub is the member `security`; step 4 run as its management
    account (the ids of the step's example replaced by the emulated ones)."""
    org = Org(own_moto)
    org.create(["security", "app"])
    hub = org.accounts["security"]
    for command in _commands():
        call = call_of(command.replace(EXAMPLE_HUB, hub).replace(EXAMPLE_ORG, org.org_id))
        client = org.client(call.service, call.region)  # the management account's own key
        method = {api: name for name, api in client.meta.method_to_api_mapping.items()}[call.operation]
        getattr(client, method)(**call.params)
    return org, hub


def test_the_stacks_guard_every_region_of_the_management_account(management):
    org, hub = management
    creates = [call_of(c) for c in _commands() if "create-stack" in c]
    regions = [c.region for c in creates]
    for region in regions:
        stack = org.client("cloudformation", region).describe_stacks(StackName="sgguard-spoke")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", (region, stack["StackStatus"])
        events = org.client("events", region)
        assert [r["Name"] for r in events.list_rules()["Rules"]] == ["sgguard-forward-sg-changes"]
        (target,) = events.list_targets_by_rule(Rule="sgguard-forward-sg-changes")["Targets"]
        assert target["Arn"].endswith(f":{hub}:event-bus/sgguard-hub"), target
        assert target["RoleArn"] == f"arn:aws:iam::{org.hub}:role/sgguard-event-forwarder"
        queues = org.client("sqs", region).list_queues().get("QueueUrls", [])
        # .../<account>/<name> (moto's server answers with its own host).
        assert [q.split("/")[-2:] for q in queues] == [[org.hub, "sgguard-forward-sg-changes-dlq"]], queues


def test_the_roles_exist_once_and_trust_the_hub_in_the_organization(management):
    org, hub = management
    iam = org.client("iam")
    roles = {r["RoleName"]: r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("sgguard-")}
    assert set(roles) == ROLES
    primary = call_of(_commands()[0]).region
    for name in ROLES:
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
        assert tags["sgguard:created-in-region"] == primary, name
    trust = roles["sgguard-remediation"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{hub}:role/sgguard-lambda"}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org.org_id}}
    policy = iam.get_role_policy(RoleName="sgguard-remediation", PolicyName="sgguard-remediation")["PolicyDocument"]
    text = json.dumps(policy)
    assert "sqs:GetQueueAttributes" in text and "ec2:RevokeSecurityGroupIngress" in text
