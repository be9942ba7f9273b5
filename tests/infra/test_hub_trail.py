"""The optional trail (hub/trail.tf) when a CloudTrail delegated administrator applies the module
(issue #23): the organization trail belongs to the management account, so the trail's ARN, which
the bucket policy's and the key policy's `aws:SourceArn` conditions name, and the log path of the
owner's own logs use `organization_trail_owner_account_id`, not the applying account; values
rendered from the module's own expressions."""

from __future__ import annotations

import re

import pytest

from sgguard_world.files import HUB
from sgguard_world.hcl_value import hcl_value
from sgguard_world.policies import hub_locals, module_files, resources

from static_common import first, hub_variables, validation_regex

HUB_ACCOUNT, MANAGEMENT = "111122223333", "999988887777"


def owner(is_organization_trail: bool, owner_input: str | None) -> str:
    """local.trail_owner_account_id, its expression checked to be the documented one."""
    assert hub_locals()["trail_owner_account_id"] == (
        "${var.is_organization_trail ? coalesce(var.organization_trail_owner_account_id, local.account_id) : local.account_id}")
    return (owner_input or HUB_ACCOUNT) if is_organization_trail else HUB_ACCOUNT


@pytest.mark.parametrize("is_org, owner_input, expected", [
    (True, None, HUB_ACCOUNT),          # applied in the management account
    (True, MANAGEMENT, MANAGEMENT),     # applied by a CloudTrail delegated administrator
    (False, None, HUB_ACCOUNT),         # a trail of this account only
])
def test_the_trail_arn_names_the_owner(is_org, owner_input, expected):
    # A string literal: python-hcl2 gives its content without the quotes.
    arn = hcl_value(f'"{hub_locals()["trail_arn"]}"', {
        "local.partition": "aws", "local.region": "eu-west-1",
        "local.trail_owner_account_id": owner(is_org, owner_input), "local.trail_name": "sgguard"})
    assert arn == f"arn:aws:cloudtrail:eu-west-1:{expected}:trail/sgguard"


def test_the_bucket_and_key_policies_use_the_owner_s_trail_and_logs():
    res = resources(module_files(HUB))
    policy = res[("aws_s3_bucket_policy", "trail")]["policy"]
    assert policy.count('"aws:SourceArn" = local.trail_arn') == 2, "both CloudTrail statements"
    assert '"${aws_s3_bucket.trail[0].arn}/AWSLogs/${local.trail_owner_account_id}/*"' in policy
    assert "local.account_id" not in policy, "the applying account is not the trail's owner"
    keys = hub_locals()["kms_key_statements"]
    cloudtrail = keys[keys.index('Sid = "CloudTrailEncryptsLogs"'):keys.index('Sid = "CloudTrailDescribesKey"')]
    assert '"aws:SourceArn" = local.trail_arn' in cloudtrail
    assert '"arn:${local.partition}:cloudtrail:*:${local.trail_owner_account_id}:trail/*"' in cloudtrail
    # Every trail ARN the module writes names the owner, never the applying account.
    text = "".join(path.read_text() for path in sorted(HUB.glob("*.tf")))
    arns = re.findall(r"arn:\$\{local\.partition\}:cloudtrail:[^:]+:([^:]+):trail/", text)
    assert arns and set(arns) == {"${local.trail_owner_account_id}"}, arns


def test_the_owner_is_validated_and_only_for_an_organization_trail():
    variable = hub_variables()["organization_trail_owner_account_id"]
    assert variable["default"] is None
    pattern = validation_regex(variable["validation"][0]["condition"], "var.organization_trail_owner_account_id")
    assert re.search(pattern, MANAGEMENT) and not re.search(pattern, "12345") and not re.search(pattern, "o-abc")
    lifecycle = first(resources(module_files(HUB))[("aws_cloudtrail", "sgguard")]["lifecycle"])
    conditions = [p["condition"] for p in lifecycle["precondition"]]
    assert "${var.is_organization_trail || var.organization_trail_owner_account_id == null}" in conditions
