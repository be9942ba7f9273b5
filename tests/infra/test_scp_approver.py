"""The exemption approver of the tamper-protection SCP (issue #22 item 5), evaluated: a member
cannot make a role that passes for the approver, the real approver (a role under the reserved
path `/sgguard-approver/`, or an IAM Identity Center permission set's role) may tag, and nobody
but the StackSets execution role creates or changes roles under the reserved paths. Each test
runs on the policy file with its placeholders filled by hand and on the hub module's rendering
of it (hub/tamper_protection.tf, output tamper_protection_scp) for both approver kinds."""

from __future__ import annotations

import json

import pytest

from sgguard_world.files import SPOKE
from sgguard_world.scp_eval import Request, arn_like, denying_statements, string_like

from scp_render import rendered_scp

SCP_FILE = SPOKE / "policies" / "sgguard-tamper-protection-scp.json"
MEMBER = "111122223333"
NAME, SET = "security-exemption-approver", "SecurityExemptionApprover"
SG = f"arn:aws:ec2:eu-west-1:{MEMBER}:security-group/sg-0123456789abcdef0"
EXEMPT_TAG = {"aws:TagKeys": ["Owner", "sgguard-exempt-until"]}


@pytest.fixture(scope="module", params=["filled-by-hand", "rendered-by-the-hub-module"])
def scp(request) -> dict:
    if request.param == "filled-by-hand":
        text = SCP_FILE.read_text()
        return json.loads(text.replace("EXEMPTION_APPROVER_ROLE_NAME", NAME).replace("EXEMPTION_APPROVER_PERMISSION_SET", SET))
    return rendered_scp(role_name=NAME, permission_set_name=SET)[0]


def tag(scp: dict, principal: str, keys=("sgguard-exempt-until",), action="ec2:CreateTags") -> list[str]:
    return denying_statements(scp, Request(action, SG, {"aws:PrincipalArn": [principal], "aws:TagKeys": list(keys)}))


def test_the_evaluator_can_tell_matches_apart():
    assert string_like("a/b/c", "a*c") and not string_like("abc", "a?") and string_like("ab", "a?")
    assert arn_like("arn:aws:iam::1:role/x/y", "arn:aws:iam::*:role/*")
    assert not arn_like("arn:aws:iam::1:role/x", "arn:aws:iam:*:role/x"), "a `*` never spans a `:`"


def test_a_member_made_role_of_the_approver_s_name_is_denied(scp: dict):
    for forged in (f"arn:aws:iam::{MEMBER}:role/{NAME}",
                   f"arn:aws:iam::{MEMBER}:role/other/{NAME}",
                   f"arn:aws:iam::{MEMBER}:role/AWSReservedSSO_{SET}_0123456789abcdef"):
        for action in ("ec2:CreateTags", "ec2:DeleteTags"):
            assert tag(scp, forged, action=action) == ["OnlySecurityTagsSecurityGroupsExempt"], forged
        assert tag(scp, forged, keys=["sgguard-protected"]) == ["OnlySecurityTagsSecurityGroupsExempt"]
    # Only those tag keys: an ordinary tag is not the SCP's business.
    assert tag(scp, f"arn:aws:iam::{MEMBER}:role/{NAME}", keys=["Owner"]) == []


@pytest.mark.parametrize("approver", [
    f"arn:aws:iam::{MEMBER}:role/sgguard-approver/{NAME}",
    f"arn:aws:iam::{MEMBER}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_{SET}_0123456789abcdef",
    # An identity source in us-east-1: no region in the path.
    f"arn:aws:iam::{MEMBER}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_{SET}_0123456789abcdef",
])
def test_the_real_approver_may_tag(scp: dict, approver: str):
    assert tag(scp, approver) == []
    assert tag(scp, approver, keys=["sgguard-protected"], action="ec2:DeleteTags") == []


def test_another_permission_set_is_not_the_approver(scp: dict):
    for other in (f"AWSReservedSSO_{SET}Wide_0123456789abcdef", f"AWSReservedSSO_{SET}_0123456789abcdef0",
                  f"AWSReservedSSO_Admin_0123456789abcdef"):
        arn = f"arn:aws:iam::{MEMBER}:role/aws-reserved/sso.amazonaws.com/eu-west-1/{other}"
        assert tag(scp, arn) == ["OnlySecurityTagsSecurityGroupsExempt"], other


@pytest.mark.parametrize("action", ["iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                                    "iam:PutRolePolicy", "iam:TagRole"])
@pytest.mark.parametrize("role", [f"sgguard-approver/{NAME}", "aws-reserved/sso.amazonaws.com/eu-west-1/"
                                  f"AWSReservedSSO_{SET}_0123456789abcdef"])
def test_a_member_cannot_make_or_change_a_role_under_the_reserved_paths(scp: dict, action: str, role: str):
    resource = f"arn:aws:iam::{MEMBER}:role/{role}"
    member = {"aws:PrincipalArn": [f"arn:aws:iam::{MEMBER}:role/Admin"]}
    assert denying_statements(scp, Request(action, resource, member)) == ["NobodyCreatesOrChangesApproverRoles"]
    stacksets = {"aws:PrincipalArn": [f"arn:aws:iam::{MEMBER}:role/stacksets-exec-0123456789abcdef"]}
    assert denying_statements(scp, Request(action, resource, stacksets)) == []
