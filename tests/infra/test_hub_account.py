"""The hub account's own spoke (hub/hub_account.tf): a SELF_MANAGED StackSet deploying
spoke-infra/sgguard-spoke.yaml to the hub account alone, in its regions besides the home region
(`hub_account_regions`); its execution role may do exactly what CloudFormation's handlers of the
template's resource types need (the registry schemas cfn-lint ships), on the spoke's resources
only; deployed into moto as the module deploys it, the rule and its dead-letter queue exist in
those regions and not in the home region, and the roles exist once.

Not checked here (no Terraform, no IAM evaluation in moto): that AWS accepts the execution
role's scoping at apply, and that StackSets assumes the roles as written."""

from __future__ import annotations

import json
import re

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from sgguard_world.files import HUB, SPOKE_TEMPLATE, load_template
from sgguard_world.org import HUB_REGION, OTHER_REGION, Org
from sgguard_world.policies import hub_locals, module_files, resources, stack_set_parameters

from static_common import first, hub_variables

HANDLERS = ("create", "read", "update", "delete")


def _policy(name: str) -> str:
    return resources(module_files(HUB))[("aws_iam_role_policy", name)]["policy"]


def _local_list(name: str) -> list[str]:
    value = hub_locals()[name]
    assert isinstance(value, list), f"local.{name} is not a literal list: {value}"
    return value


def _handler_permissions() -> set[str]:
    """Every permission the create/read/update/delete handlers of the spoke template's resource
    types need (CloudFormation registry schemas, as cfn-lint ships them)."""
    types = {r["Type"] for r in load_template(SPOKE_TEMPLATE)["Resources"].values()}
    needed = set()
    for kind in types:
        handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(HUB_REGION, kind).schema["handlers"]
        for handler in HANDLERS:
            needed |= set(handlers.get(handler, {}).get("permissions", []))
    return needed


def test_the_execution_role_may_do_what_the_spoke_s_handlers_need_and_no_more():
    granted = set(_local_list("hub_spoke_role_actions") + _local_list("hub_spoke_rule_actions")
                  + _local_list("hub_spoke_queue_actions") + _local_list("hub_spoke_alarm_actions"))
    policy = _policy("hub_spoke_execution")
    # iam:PassRole (the rule's target role) is granted apart, to EventBridge only.
    assert '"iam:PassRole"' in policy and '"iam:PassedToService" = "events.amazonaws.com"' in policy
    assert _handler_permissions() == granted | {"iam:PassRole"}
    # Each list on the spoke's own resources only.
    for actions, resource in (("hub_spoke_role_actions", "hub_spoke_role_arns"),
                              ("hub_spoke_rule_actions", "hub_spoke_rule_arn"),
                              ("hub_spoke_queue_actions", "hub_spoke_queue_arn"),
                              ("hub_spoke_alarm_actions", "hub_spoke_alarm_arn")):
        assert re.search(rf"Action\s*=\s*local\.{actions}\s*,?\s*Resource\s*=\s*local\.{resource}\b", policy), actions
    locals_ = hub_locals()
    template = load_template(SPOKE_TEMPLATE)
    rule = template["Resources"]["SecurityGroupChangeRule"]["Properties"]["Name"]
    queue = template["Resources"]["ForwardingDeadLetterQueue"]["Properties"]["QueueName"]
    assert locals_["hub_spoke_rule_arn"].endswith(f":rule/{rule}")
    assert locals_["hub_spoke_queue_arn"].endswith(":${local.forwarding_queue_name}")
    assert locals_["forwarding_queue_name"] == queue
    alarms = [r["Properties"]["AlarmName"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    prefix = locals_["hub_spoke_alarm_arn"].rsplit(":alarm:", 1)[1].rstrip("*")
    assert alarms and all(a.startswith(prefix) for a in alarms), alarms
    roles = template["Parameters"]
    assert "var.remediation_role_name, var.audit_role_name" in locals_["hub_spoke_role_arns"]
    assert f'"{roles["EventForwarderRoleName"]["Default"]}"' in locals_["hub_spoke_role_arns"]
    assert not re.search(r'Action\s*=\s*"(iam|events|sqs|cloudwatch):\*"', policy), "a wildcard action"
    # The administration role may only assume the execution role.
    admin = _policy("hub_spoke_administration")
    assert re.findall(r'Action\s*=\s*"([^"]+)"', admin) == ["sts:AssumeRole"]
    assert "aws_iam_role.hub_spoke_execution[0].arn" in admin


def test_the_stack_set_deploys_the_spoke_to_the_hub_account_alone_besides_its_home_region():
    res = resources(module_files(HUB))
    stackset = res[("aws_cloudformation_stack_set", "hub_account")]
    assert stackset["permission_model"] == "SELF_MANAGED"
    assert stackset["template_body"] == "${local.spoke_template}"
    assert stackset["name"] == "${local.hub_stackset_name}"
    # The members' parameters, the hub account's first region creating the roles.
    params = stack_set_parameters("hub_account")
    # (The exemption approver role is the members' only: this execution role creates the spoke's.)
    members = {k: v for k, v in stack_set_parameters("spoke").items() if not k.startswith("Approver")}
    assert params == {**members, "PrimaryRegion": "${local.hub_spoke_primary_region}"}
    locals_ = hub_locals()
    assert "r != local.region" in locals_["hub_account_regions"], "never the home region: its own rule guards it"
    assert locals_["hub_spoke_primary_region"] == "${try(local.hub_account_regions[0], null)}"
    for name in ("hub_account_primary", "hub_account_other"):
        instance = res[("aws_cloudformation_stack_set_instance", name)]
        assert instance["account_id"] == "${local.account_id}", name
        assert "deployment_targets" not in instance, name
    assert res[("aws_cloudformation_stack_set_instance", "hub_account_other")]["depends_on"] == [
        "${aws_cloudformation_stack_set_instance.hub_account_primary}"]
    assert "var.organization_id != null" in first(stackset["lifecycle"])["precondition"][0]["condition"]
    variable = hub_variables()["hub_account_regions"]
    assert variable["default"] is None
    assert "stackset_regions" in locals_["hub_account_regions_asked"]


@pytest.fixture(scope="module")
def hub(own_moto) -> Org:
    """The organization's hub (here also its management account), with the hub account's own
    spoke deployed as hub/hub_account.tf does: its other region only."""
    org = Org(own_moto)
    org.create([("app", None)])
    cfn = org.client("cloudformation")
    parameters = {
        "HubAccountId": org.hub,
        "HubRegion": HUB_REGION,
        "HubEventBusName": "sgguard-hub",
        "HubLambdaRoleArn": org.hub_lambda_role_arn,
        "OrganizationId": org.org_id,
        "PrimaryRegion": OTHER_REGION,
    }
    cfn.create_stack_set(
        StackSetName="sgguard-spoke-hub", TemplateBody=SPOKE_TEMPLATE.read_text(), PermissionModel="SELF_MANAGED",
        AdministrationRoleARN=f"arn:aws:iam::{org.hub}:role/sgguard-hub-spoke-administration",
        ExecutionRoleName="sgguard-hub-spoke-execution", Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    operation = cfn.create_stack_instances(StackSetName="sgguard-spoke-hub", Accounts=[org.hub], Regions=[OTHER_REGION])
    done = cfn.describe_stack_set_operation(StackSetName="sgguard-spoke-hub", OperationId=operation["OperationId"])
    assert done["StackSetOperation"]["Status"] == "SUCCEEDED", done
    return org


def test_deployed_the_hub_account_forwards_from_its_other_region_and_not_twice_at_home(hub: Org):
    other = hub.client("events", OTHER_REGION)
    rules = [r["Name"] for r in other.list_rules()["Rules"]]
    assert rules == ["sgguard-forward-sg-changes"]
    (target,) = other.list_targets_by_rule(Rule="sgguard-forward-sg-changes")["Targets"]
    assert target["Arn"] == f"arn:aws:events:{HUB_REGION}:{hub.hub}:event-bus/sgguard-hub"
    assert target["RoleArn"] == f"arn:aws:iam::{hub.hub}:role/sgguard-event-forwarder"
    queues = hub.client("sqs", OTHER_REGION).list_queues().get("QueueUrls", [])
    assert [q.rsplit("/", 1)[1] for q in queues] == ["sgguard-forward-sg-changes-dlq"]
    # The home region has the hub's own rule (events.tf), no spoke.
    assert not [r for r in hub.client("events", HUB_REGION).list_rules()["Rules"]
                if r["Name"] == "sgguard-forward-sg-changes"]
    roles = {r["RoleName"] for r in hub.client("iam").list_roles()["Roles"]}
    assert {"sgguard-remediation", "sgguard-audit", "sgguard-event-forwarder"} <= roles
    policy = json.dumps(hub.client("iam").get_role_policy(RoleName="sgguard-remediation",
                                                          PolicyName="sgguard-remediation")["PolicyDocument"])
    assert "sqs:GetQueueAttributes" in policy
