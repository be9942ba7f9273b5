"""The tamper-protection SCP as the hub module renders it (`exemption_approver`, output
`tamper_protection_scp`; hub/tamper_protection.tf) and the approver role the spoke StackSet can
create (spoke-infra/sgguard-spoke.yaml, `ApproverRoleName`): no placeholder left, valid JSON
within Organizations' size limit, parliament-clean, only the approver kinds given, the module's
names and partition; the variable's plan-time validations; the role under the path the SCP
reserves, which the StackSets execution role may create and a member may not."""

from __future__ import annotations

import functools
import re

import pytest

from sgguard_world.files import REPO, SPOKE, SPOKE_TEMPLATE, load_template
from sgguard_world.policies import hub_locals, module_files, resources
from sgguard_world.scp_eval import Request, arn_like, denying_statements

from scp_render import rendered_scp
from static_common import hub_outputs, hub_variables, validation_regex
from test_policies import POLICY_MAX_CHARS, lint

MEMBER = "111122223333"
SG = f"arn:aws:ec2:eu-west-1:{MEMBER}:security-group/sg-0123456789abcdef0"
ROLE, SET = "security-exemption-approver", "SecurityExemptionApprover"


def approver_patterns(policy: dict) -> list[str]:
    (s,) = [s for s in policy["Statement"] if s["Sid"] == "OnlySecurityTagsSecurityGroupsExempt"]
    return s["Condition"]["ArnNotLike"]["aws:PrincipalArn"]


def may_tag(policy: dict, principal: str) -> bool:
    request = Request("ec2:CreateTags", SG, {"aws:PrincipalArn": [principal], "aws:TagKeys": ["sgguard-exempt-until"]})
    return denying_statements(policy, request) == []


ROLE_ARN = f"arn:aws:iam::{MEMBER}:role/sgguard-approver/{ROLE}"
SET_ARN = f"arn:aws:iam::{MEMBER}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_{SET}_0123456789abcdef"


@pytest.mark.parametrize("role, permission_set, patterns", [(ROLE, None, 1), (None, SET, 2), (ROLE, SET, 3)])
def test_the_rendered_scp_has_no_placeholder_and_only_the_given_approvers(role, permission_set, patterns):
    policy, text = rendered_scp(role_name=role, permission_set_name=permission_set)
    assert "EXEMPTION_APPROVER" not in text and "HUB_ACCOUNT_ID" not in text
    assert len(text) <= POLICY_MAX_CHARS
    assert lint(text, "tamper_protection_scp") == []
    assert len(approver_patterns(policy)) == patterns
    assert may_tag(policy, ROLE_ARN) == (role is not None)
    assert may_tag(policy, SET_ARN) == (permission_set is not None)
    assert not may_tag(policy, f"arn:aws:iam::{MEMBER}:role/{ROLE}"), "a member's role of the approver's name"


def test_the_rendered_scp_names_this_hub_s_roles_stacks_and_partition():
    policy, text = rendered_scp(role_name="a" * 64, permission_set_name="b" * 32, partition="aws-us-gov",
                                remediation_role_name="acme-sgguard-remediation", audit_role_name="acme-sgguard-audit",
                                stackset_name="acme-sgguard-spoke-with-a-long-name")
    assert len(text) <= POLICY_MAX_CHARS, "the longest names still fit"
    assert "arn:aws:" not in text and text.count("arn:aws-us-gov:") > 10
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ProtectSgguardSpokeRoles"]["Resource"] == [
        "arn:aws-us-gov:iam::*:role/acme-sgguard-remediation", "arn:aws-us-gov:iam::*:role/sgguard-event-forwarder",
        "arn:aws-us-gov:iam::*:role/acme-sgguard-audit"]
    assert statements["ProtectSgguardSpokeStacks"]["Resource"] == (
        "arn:aws-us-gov:cloudformation:*:*:stack/StackSet-acme-sgguard-spoke-with-a-long-name-*")
    # Every statement but the approver's is the file's, names aside.
    _, default_text = rendered_scp(role_name=ROLE, permission_set_name=SET)
    assert set(statements) == {s["Sid"] for s in rendered_scp(ROLE, SET)[0]["Statement"]}
    assert len(default_text) < len((SPOKE / "policies" / "sgguard-tamper-protection-scp.json").read_text())


def test_the_output_is_the_rendering_and_null_without_an_approver():
    assert hub_outputs()["tamper_protection_scp"]["value"] == "${local.tamper_protection_scp}"
    assert hub_locals()["tamper_protection_scp"].startswith("${var.exemption_approver == null ? null : jsonencode(")
    assert hub_variables()["exemption_approver"]["default"] is None


@functools.cache
def _validations() -> list[dict]:
    return hub_variables()["exemption_approver"]["validation"]


def _validation(condition_part: str) -> str:
    (v,) = [v for v in _validations() if condition_part in v["condition"]]
    return v["condition"]


@pytest.mark.parametrize("name, valid", [(ROLE, True), ("a" * 64, True), ("a" * 65, False), ("", False),
                                         ("x/y", False), ("has space", False), ("ok+=,.@_-", True)])
def test_role_name_validation(name, valid):
    pattern = validation_regex(_validation("{1,64}$"), "var.exemption_approver.role_name")
    assert (re.search(pattern, name) is not None) == valid


@pytest.mark.parametrize("name, valid", [(SET, True), ("b" * 32, True), ("b" * 33, False), ("", False), ("a/b", False)])
def test_permission_set_name_validation(name, valid):
    pattern = validation_regex(_validation("{1,32}$"), "var.exemption_approver.permission_set_name")
    assert (re.search(pattern, name) is not None) == valid


@pytest.mark.parametrize("arn, valid", [(f"arn:aws:iam::{MEMBER}:role/security/approvers", True),
                                        (f"arn:aws:iam::{MEMBER}:user/alice", False),
                                        (f"arn:aws:sts::{MEMBER}:assumed-role/a/b", False), ("arn:aws:iam::1:role/a", False)])
def test_trusted_principal_validation(arn, valid):
    condition = _validation("trusted_principal_arn))")
    assert "var.exemption_approver.role_name != null &&" in condition, "a trusted principal needs the role's name"
    assert (re.search(validation_regex(condition, "var.exemption_approver.trusted_principal_arn"), arn) is not None) == valid


def test_at_least_one_approver_kind_is_required():
    condition = _validation("var.exemption_approver.role_name != null || var.exemption_approver.permission_set_name != null")
    assert condition == ("${var.exemption_approver == null ? true : var.exemption_approver.role_name != null || "
                         "var.exemption_approver.permission_set_name != null}")


def test_the_spoke_creates_the_approver_role_on_the_reserved_path_only_when_named():
    t = load_template(SPOKE_TEMPLATE)
    params, res = t["Parameters"], t["Resources"]
    assert params["ApproverRoleName"]["Default"] == "" and params["ApproverTrustedPrincipalArn"]["Default"] == ""
    assert t["Conditions"]["CreateApproverRole"] == {"Fn::And": [
        {"Condition": "IsPrimaryRegion"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApproverRoleName"}, ""]}]}]}
    rule = t["Rules"]["ApproverRoleNeedsTrustedPrincipal"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApproverRoleName"}, ""]}]}
    assert [a["Assert"] for a in rule["Assertions"]] == [
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApproverTrustedPrincipalArn"}, ""]}]}]
    role = res["ApproverRole"]
    assert role["Condition"] == "CreateApproverRole"
    props = role["Properties"]
    assert props["RoleName"] == {"Ref": "ApproverRoleName"} and props["Path"] == "/sgguard-approver/"
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "ApproverTrustedPrincipalArn"}} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    statements = {s["Sid"]: s for p in props["Policies"] for s in p["PolicyDocument"]["Statement"]}
    tags = statements["SetExemptionAndProtectionTagsOnly"]
    assert tags["Action"] == ["ec2:CreateTags", "ec2:DeleteTags"]
    # The role may set exactly the tag keys the SCP keeps for it.
    policy, _ = rendered_scp(role_name=ROLE)
    scp_tags = next(s for s in policy["Statement"] if s["Sid"] == "OnlySecurityTagsSecurityGroupsExempt")
    assert tags["Condition"] == {"ForAllValues:StringLike": {
        "aws:TagKeys": scp_tags["Condition"]["ForAnyValue:StringLike"]["aws:TagKeys"]}}
    assert [a for s in statements.values() for a in s["Action"] if not a.startswith("ec2:Describe")] == [
        "ec2:CreateTags", "ec2:DeleteTags"]

    # The role the template creates is the one the SCP names; the StackSets execution role may
    # create it, a member's administrator may not.
    arn = f"arn:aws:iam::{MEMBER}:role{props['Path']}{ROLE}"
    assert arn == ROLE_ARN and may_tag(policy, arn)
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:TagRole"):
        admin = Request(action, arn, {"aws:PrincipalArn": [f"arn:aws:iam::{MEMBER}:role/Admin"]})
        assert denying_statements(policy, admin) == ["NobodyCreatesOrChangesApproverRoles"], action
        stacksets = Request(action, arn, {"aws:PrincipalArn": [f"arn:aws:iam::{MEMBER}:role/stacksets-exec-0123456789abcdef"]})
        assert denying_statements(policy, stacksets) == [], action
    assert arn_like(arn, "arn:aws:iam::*:role/sgguard-approver/*")


def test_the_members_stack_set_gets_the_approver_only_with_a_name_and_a_principal():
    locals_ = hub_locals()
    assert locals_["approver_stack_parameters"] == (
        "${local.approver_role_name != null && local.approver_trusted_arn != null ? "
        "{ApproverRoleName = local.approver_role_name, ApproverTrustedPrincipalArn = local.approver_trusted_arn} : {}}")
    stackset = resources(module_files(REPO / "hub"))[("aws_cloudformation_stack_set", "spoke")]
    assert stackset["parameters"] == (
        "${merge(local.spoke_parameters, local.approver_stack_parameters, {PrimaryRegion = local.stackset_primary_region})}")
    hub_account = resources(module_files(REPO / "hub"))[("aws_cloudformation_stack_set", "hub_account")]
    assert "approver" not in hub_account["parameters"], "the hub account's execution role creates only the spoke's roles"
