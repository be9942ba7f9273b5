"""The remediation-role RCP as the hub module renders it (hub/tamper_protection.tf, output
`tamper_protection_rcp`): the module's own expression evaluated on the real policy file, with no
placeholder left, and the rendered policy judged (sgguard_world.scp_eval): the hub's Lambda role
gets into the remediation role of any member, every other principal is denied."""

from __future__ import annotations

import json
import re

import pytest

from sgguard_world.files import HUB
from sgguard_world.hcl_value import hcl_value
from sgguard_world.policies import hub_locals
from sgguard_world.scp_eval import Request, denying_statements

HUB_ACCOUNT = "111122223333"
MEMBER = "444455556666"


def rendered_rcp(partition: str = "aws", remediation_role_name: str = "sgguard-remediation",
                 lambda_role_name: str = "sgguard-lambda") -> dict:
    text = hcl_value(hub_locals()["tamper_protection_rcp"], {
        "path.module": str(HUB),
        "local.partition": partition,
        "local.account_id": HUB_ACCOUNT,
        "var.remediation_role_name": remediation_role_name,
        "aws_iam_role.lambda.name": lambda_role_name,
    }, {"replace": lambda s, old, new: s.replace(old, new), "file": lambda path: open(path).read(),
        "jsondecode": json.loads, "jsonencode": lambda v: json.dumps(v, separators=(",", ":"))})
    assert not re.search(r"[A-Z]{2,}_[A-Z_]{2,}", text), f"a placeholder is left: {text}"
    return json.loads(text)


def assume(principal: str, role: str) -> Request:
    return Request("sts:AssumeRole", role, {"aws:PrincipalArn": [principal]})


def test_the_hub_lambda_alone_gets_into_the_remediation_role():
    policy = rendered_rcp()
    role = f"arn:aws:iam::{MEMBER}:role/sgguard-remediation"
    assert denying_statements(policy, assume(f"arn:aws:iam::{HUB_ACCOUNT}:role/sgguard-lambda", role)) == []
    for other in (f"arn:aws:iam::{MEMBER}:role/admin", f"arn:aws:iam::999999999999:role/sgguard-lambda",
                  f"arn:aws:iam::{HUB_ACCOUNT}:role/other"):
        assert denying_statements(policy, assume(other, role)), other


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov"])
def test_the_rcp_carries_the_hubs_partition_and_names(partition):
    policy = rendered_rcp(partition, "acme-remediation", "acme-lambda")
    [statement] = policy["Statement"]
    assert statement["Resource"] == f"arn:{partition}:iam::*:role/acme-remediation"
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == (
        f"arn:{partition}:iam::{HUB_ACCOUNT}:role/acme-lambda")
