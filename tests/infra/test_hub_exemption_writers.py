"""Who may change the exemptions file (issue #22): the report bucket policy's statement
`OnlyNamedWritersChangeExemptions` (hub/reports.tf, parsed with python-hcl2 and its value
rendered), evaluated for the principals the docs name, and `exemptions_writer_arns`' validation."""

from __future__ import annotations

import re

import pytest

from sgguard_world.files import HUB, REPO
from sgguard_world.hcl_value import hcl_value, jsonencode_argument
from sgguard_world.policies import hub_locals, module_files
from sgguard_world.scp_eval import Request, denying_statements

from static_common import hub_variables, validation_regex

HUB_ACCOUNT = "111122223333"
BUCKET_ARN = "arn:aws:s3:::sgguard-reports-111122223333-eu-west-1"
EXEMPTIONS = f"{BUCKET_ARN}/config/exemptions.yaml"
LAMBDA_ROLE = f"arn:aws:iam::{HUB_ACCOUNT}:role/sgguard-lambda"
DEPLOYER = f"arn:aws:iam::{HUB_ACCOUNT}:role/terraform-deployer"
APPROVER = f"arn:aws:iam::{HUB_ACCOUNT}:role/security/exemption-approver"
ADMIN = f"arn:aws:iam::{HUB_ACCOUNT}:role/Admin"
WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion")


def writer_arns(writers: list[str]) -> list[str]:
    """local.exemptions_writer_arns for these inputs: the module's expression, checked to be the
    documented one (the named writers, the applying principal's issuer role, the Lambda role)."""
    expression = hub_locals()["exemptions_writer_arns"]
    assert expression == ("${distinct(concat(var.exemptions_writer_arns, "
                          "[data.aws_iam_session_context.deployer.issuer_arn, aws_iam_role.lambda.arn]))}")
    return list(dict.fromkeys(writers + [DEPLOYER, LAMBDA_ROLE]))


def bucket_policy(writers: list[str]) -> dict:
    files = module_files(HUB)
    policy = next(b["aws_s3_bucket_policy"]["reports"]["policy"] for parsed in files.values()
                  for b in parsed.get("resource", []) if "aws_s3_bucket_policy" in b)
    return hcl_value(jsonencode_argument(policy), {
        "aws_s3_bucket.reports.arn": BUCKET_ARN,
        "local.exemptions_key": hub_locals()["exemptions_key"],
        "local.exemptions_writer_arns": writer_arns(writers),
    })


def writes_denied(policy: dict, principal: str, key: str = EXEMPTIONS) -> dict[str, list[str]]:
    # The one statement under test: the TLS statement's Bool operator is not the evaluator's.
    only = {"Statement": [s for s in policy["Statement"] if s["Sid"] == "OnlyNamedWritersChangeExemptions"]}
    assert len(only["Statement"]) == 1
    return {a: denying_statements(only, Request(a, key, {"aws:PrincipalArn": [principal]})) for a in WRITES}


def test_the_deployer_session_is_read_as_its_role():
    data = next(b["aws_iam_session_context"]["deployer"] for parsed in module_files(HUB).values()
                for b in parsed.get("data", []) if "aws_iam_session_context" in b)
    assert data["arn"] == "${data.aws_caller_identity.current.arn}"


@pytest.mark.parametrize("writers", [[], [APPROVER, f"arn:aws:iam::{HUB_ACCOUNT}:role/ops/sgguard-restore"]])
def test_only_the_named_writers_the_deployer_and_the_lambda_role_change_the_file(writers: list[str]):
    policy = bucket_policy(writers)
    statement = next(s for s in policy["Statement"] if s["Sid"] == "OnlyNamedWritersChangeExemptions")
    assert statement["Principal"] == "*" and statement["Effect"] == "Deny"
    assert statement["Action"] == list(WRITES) and statement["Resource"] == EXEMPTIONS
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": writers + [DEPLOYER, LAMBDA_ROLE]}}
    for allowed in writers + [DEPLOYER, LAMBDA_ROLE]:
        assert writes_denied(policy, allowed) == {a: [] for a in WRITES}, allowed
    for other in (ADMIN, f"arn:aws:iam::{HUB_ACCOUNT}:role/security/other-approver",
                  f"arn:aws:iam::{HUB_ACCOUNT}:user/alice"):
        assert writes_denied(policy, other) == {a: ["OnlyNamedWritersChangeExemptions"] for a in WRITES}, other
    # Reports under sweeps/ are not this statement's business.
    assert writes_denied(policy, ADMIN, f"{BUCKET_ARN}/sweeps/report.json") == {a: [] for a in WRITES}


def test_an_identity_center_pattern_admits_the_permission_set_s_roles():
    pattern = f"arn:aws:iam::{HUB_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_ExemptionApprover_*"
    policy = bucket_policy([pattern])
    sso = f"arn:aws:iam::{HUB_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ExemptionApprover_0123456789abcdef"
    assert writes_denied(policy, sso) == {a: [] for a in WRITES}
    other = sso.replace("ExemptionApprover", "Admin")
    assert writes_denied(policy, other)["s3:PutObject"] == ["OnlyNamedWritersChangeExemptions"]


@pytest.mark.parametrize("arn, valid", [
    (APPROVER, True), (f"arn:aws:iam::{HUB_ACCOUNT}:user/alice", True),
    (f"arn:aws-us-gov:iam::{HUB_ACCOUNT}:role/approver", True),
    (f"arn:aws:iam::{HUB_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Approver_*", True),
    # aws:PrincipalArn of a session is its role: an assumed-role ARN would never match.
    (f"arn:aws:sts::{HUB_ACCOUNT}:assumed-role/approver/alice", False),
    (f"arn:aws:iam::{HUB_ACCOUNT}:root", False), ("arn:aws:iam::1111:role/approver", False),
    ("approver", False), (f"arn:aws:iam::{HUB_ACCOUNT}:role/", False), (f"arn:aws:iam::{HUB_ACCOUNT}:group/x", False),
])
def test_writer_arns_validation(arn: str, valid: bool):
    variable = hub_variables()["exemptions_writer_arns"]
    assert variable["default"] == [] and variable["nullable"] is False
    pattern = validation_regex(variable["validation"][0]["condition"], "arn")
    assert (re.search(pattern, arn) is not None) == valid


def test_docs_name_the_statement_and_the_restore_role():
    for doc in (HUB / "README.md", REPO / "docs" / "security-model.md"):
        text = doc.read_text()
        assert "OnlyNamedWritersChangeExemptions" in text and "exemptions_writer_arns" in text, doc
        assert "sgguard restore" in text and "s3:DeleteObjectVersion" in text, doc
