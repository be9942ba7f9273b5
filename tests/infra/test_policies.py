"""The tamper-protection policies of spoke-infra/policies/ (docs/security-model.md, "Tamper protection").

- Every policy passes parliament (an IAM policy linter from PyPI, run offline: it ships the
  IAM action/resource/condition-key database), as written (with its placeholders) and with the
  placeholders filled; a deliberately broken fixture must be flagged, so the lint can fail.
- The SCP's resource names are the names the spoke template and the hub module really create,
  so a rename cannot silently leave the new names unprotected; the RCP names the hub's role.
- The documented placeholders are exactly the ones in the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from parliament import analyze_policy_string

from sgguard_world.files import REPO, SPOKE, load_template
from sgguard_world.policies import blocks, hub_locals, module_files, parse_tf, resources, unquote, variable_blocks

POLICIES = SPOKE / "policies"
SCP = POLICIES / "sgguard-tamper-protection-scp.json"
RCP = POLICIES / "sgguard-remediation-role-rcp.json"
BROKEN = Path(__file__).parent / "fixtures" / "broken-scp.json"

# Placeholder -> an example value (what an operator would write), documented in
# docs/security-model.md ("Tamper protection") and spoke-infra/README.md.
PLACEHOLDERS = {
    "EXEMPTION_APPROVER_ROLE_NAME": "security-exemption-approver",
    "EXEMPTION_APPROVER_PERMISSION_SET": "SecurityExemptionApprover",
    "HUB_ACCOUNT_ID": "111122223333",
}

# Organizations' size limit of an SCP or an RCP document, in characters (white space counts).
POLICY_MAX_CHARS = 5120

STACKSETS_EXEC = "arn:aws:iam::*:role/stacksets-exec-*"


def lint(text: str, name: str) -> list[str]:
    policy = analyze_policy_string(text, filepath=name, include_community_auditors=True)
    return [f"{f.issue}: {f.detail} ({f.location})" for f in policy.findings]


def statements(path: Path) -> dict[str, dict]:
    doc = json.loads(path.read_text())
    assert doc["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in doc["Statement"]}


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def variable_default(name: str):
    variables = {unquote(n): body for b in variable_blocks(REPO / "hub") for n, body in b.items()}
    assert name in variables, f"hub/variables*.tf declare no {name}"
    return variables[name]["default"]


def default_name(name: str) -> str:
    """The name the module gives by default (hub/main.tf: `coalesce(var.X, <from name_prefix>)`)."""
    m = re.fullmatch(r'\$\{coalesce\(var\.(\w+), (?:"([^"]*)"|var\.name_prefix)\)\}', hub_locals()[name])
    assert m and m.group(1) == name, hub_locals()[name]
    given = variable_default(name)
    prefix = variable_default("name_prefix")
    return given if given is not None else (m.group(2) or "${var.name_prefix}").replace("${var.name_prefix}", prefix)


def test_policy_files_are_found():
    assert sorted(p.name for p in POLICIES.glob("*.json")) == sorted([SCP.name, RCP.name])


@pytest.mark.parametrize("path", [SCP, RCP], ids=lambda p: p.name)
@pytest.mark.parametrize("filled", [False, True], ids=["as-written", "placeholders-filled"])
def test_parliament_finds_nothing(path: Path, filled: bool):
    text = path.read_text()
    if filled:
        for placeholder, value in PLACEHOLDERS.items():
            text = text.replace(placeholder, value)
    assert lint(text, path.name) == []


def test_parliament_flags_the_broken_fixture():
    findings = lint(BROKEN.read_text(), BROKEN.name)
    assert any(f.startswith("UNKNOWN_ACTION") and "iam:DeleteRoles" in f for f in findings), findings


@pytest.mark.parametrize("path", [SCP, RCP], ids=lambda p: p.name)
def test_policy_fits_the_organizations_size_limit(path: Path):
    assert len(path.read_text()) <= POLICY_MAX_CHARS


def test_placeholders_are_the_documented_ones():
    texts = {p: p.read_text() for p in (SCP, RCP)}
    found = set()
    for text in texts.values():
        # Also inside a name (`AWSReservedSSO_<PLACEHOLDER>_…`): not after a letter or digit.
        found |= set(re.findall(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![a-z0-9])", text))
    assert found == set(PLACEHOLDERS)
    for readme in (REPO / "docs" / "security-model.md", SPOKE / "README.md"):
        body = readme.read_text()
        for placeholder in PLACEHOLDERS:
            assert placeholder in body, f"{readme.relative_to(REPO)} does not explain {placeholder}"


def test_scp_is_deny_only_without_principal():
    for sid, s in statements(SCP).items():
        assert s["Effect"] == "Deny", sid
        assert "Principal" not in s and "NotPrincipal" not in s, sid


def test_rcp_is_deny_with_principal_star():
    # RCP syntax: Effect Deny (Allow only in the AWS-managed RCPFullAWSAccess), Principal "*".
    for sid, s in statements(RCP).items():
        assert s["Effect"] == "Deny", sid
        assert s["Principal"] == "*", sid
        assert all(a.startswith("sts:") for a in as_list(s["Action"])), sid


def test_scp_protects_the_template_role_and_rule_names():
    template = load_template()
    params = template["Parameters"]
    res = template["Resources"]
    roles = {
        f"arn:aws:iam::*:role/{params[res[logical]['Properties']['RoleName']['Ref']]['Default']}"
        for logical in ("RemediationRole", "EventForwarderRole", "AuditRole")
    }
    rules = {
        f"arn:aws:events:*:*:rule/{r['Properties']['Name']}"
        for r in res.values()
        if r["Type"] == "AWS::Events::Rule"
    }
    scp = statements(SCP)

    role_stmt = scp["ProtectSgguardSpokeRoles"]
    assert set(as_list(role_stmt["Resource"])) == roles
    for action in (
        "iam:AttachRolePolicy",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
    ):
        assert action in role_stmt["Action"], action

    rule_stmt = scp["ProtectSgguardForwardingRule"]
    assert set(as_list(rule_stmt["Resource"])) == rules
    for action in ("DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"):
        assert f"events:{action}" in rule_stmt["Action"], action

    queues = {
        f"arn:aws:sqs:*:*:{r['Properties']['QueueName']}" for r in res.values() if r["Type"] == "AWS::SQS::Queue"
    }
    dlq_stmt = scp["ProtectSgguardForwardingDeadLetterQueue"]
    assert set(as_list(dlq_stmt["Resource"])) == queues
    for action in ("DeleteQueue", "PurgeQueue", "SetQueueAttributes"):
        assert f"sqs:{action}" in dlq_stmt["Action"], action

    # The stacks StackSets creates in each account are named StackSet-<stack set name>-<id>.
    stack_stmt = scp["ProtectSgguardSpokeStacks"]
    stackset_name = default_name("stackset_name")
    assert as_list(stack_stmt["Resource"]) == [f"arn:aws:cloudformation:*:*:stack/StackSet-{stackset_name}-*"]

    # Only the StackSets execution role may change them; and nobody may forge one.
    for sid in ("ProtectSgguardSpokeRoles", "ProtectSgguardForwardingRule", "ProtectSgguardForwardingDeadLetterQueue",
                "ProtectSgguardSpokeStacks"):
        assert scp[sid]["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": STACKSETS_EXEC}}, sid
    forge = scp["NobodyCreatesOrChangesStackSetsExecutionRoles"]
    assert as_list(forge["Resource"]) == [STACKSETS_EXEC] and "Condition" not in forge
    assert {"iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy"} <= set(forge["Action"])


def test_the_template_names_are_the_hub_defaults():
    # The remediation role name is also the hub's SGGUARD_ROLE_NAME: one default everywhere.
    params = load_template()["Parameters"]
    assert params["RemediationRoleName"]["Default"] == variable_default("remediation_role_name")
    assert params["AuditRoleName"]["Default"] == variable_default("audit_role_name")


def test_scp_guards_the_exemption_and_protection_tags_of_the_baseline():
    # The tag exemption and the tag protection documented in docs/baseline.md ("Writing a baseline")
    # use these keys: whoever may set them may stop revocations.
    readme = (REPO / "docs" / "baseline.md").read_text()
    keys = set(re.findall(r"tag: \{key: ([A-Za-z0-9_.:/=+@-]+)", readme))
    assert keys == {"sgguard-exempt-until", "sgguard-protected"}
    s = statements(SCP)["OnlySecurityTagsSecurityGroupsExempt"]
    assert sorted(as_list(s["Action"])) == ["ec2:CreateTags", "ec2:DeleteTags"]
    assert as_list(s["Resource"]) == ["arn:aws:ec2:*:*:security-group/*"]
    patterns = as_list(s["Condition"]["ForAnyValue:StringLike"]["aws:TagKeys"])
    assert all(any(re.fullmatch(p.replace("*", ".*"), k) for p in patterns) for k in keys)
    # The approver is one no member can create (tests/infra/test_scp_approver.py evaluates it):
    # a role under the reserved path, or the role of an IAM Identity Center permission set.
    sso = "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com"
    set_role = "AWSReservedSSO_EXEMPTION_APPROVER_PERMISSION_SET_" + "?" * 16
    assert s["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": [
        "arn:aws:iam::*:role/sgguard-approver/EXEMPTION_APPROVER_ROLE_NAME",
        f"{sso}/{set_role}",
        f"{sso}/*/{set_role}",
    ]}
    reserved = statements(SCP)["NobodyCreatesOrChangesApproverRoles"]
    assert as_list(reserved["Resource"]) == ["arn:aws:iam::*:role/sgguard-approver/*", "arn:aws:iam::*:role/aws-reserved/*"]
    assert reserved["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": STACKSETS_EXEC}}


def test_rcp_lets_only_the_hub_lambda_role_assume_the_remediation_role():
    # The hub's Lambda role is "${local.function_name}-lambda" (hub/iam.tf).
    lambda_role = resources(module_files(REPO / "hub"))[("aws_iam_role", "lambda")]
    assert lambda_role["name"] == "${local.function_name}-lambda"
    hub_role = f"{default_name('function_name')}-lambda"
    (s,) = statements(RCP).values()
    assert "sts:AssumeRole" in as_list(s["Action"])
    assert as_list(s["Resource"]) == [f"arn:aws:iam::*:role/{variable_default('remediation_role_name')}"]
    assert s["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::HUB_ACCOUNT_ID:role/{hub_role}"}}


def test_the_docs_count_the_policies_sgguard_adds():
    """One SCP and one RCP per OU of stackset_ou_ids, against Organizations' 5 per target: the
    count the docs give is the count of policy files of each type."""
    kinds = {"SCP": [SCP], "RCP": [RCP]}
    assert sorted(POLICIES.glob("*.json")) == sorted(kinds["SCP"] + kinds["RCP"])
    readme = " ".join((SPOKE / "README.md").read_text().split())
    deploy = " ".join((REPO / "docs" / "deploy.md").read_text().split())
    words = {1: "one"}
    scps, rcps = len(kinds["SCP"]), len(kinds["RCP"])
    assert f"sgguard adds {words[scps]} SCP (`{SCP.name}`) and {words[rcps]} RCP (`{RCP.name}`) to each OU of `stackset_ou_ids`" in readme
    assert f"sgguard adds {words[scps]} SCP and {words[rcps]} RCP to each OU of `stackset_ou_ids`" in deploy
    assert "at most 5 SCPs" in readme and "Control Tower" in readme and "Control Tower" in deploy

