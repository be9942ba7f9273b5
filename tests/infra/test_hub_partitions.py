"""Partitions without EventBridge cross-Region routing (issue #23): in aws-us-gov and aws-cn a
rule cannot target a bus in another Region, so the plan refuses the StackSets' forwarding rules
outside the hub's Region (hub/main.tf `local.cross_region_event_routing`, the preconditions of
hub/stackset.tf and hub/hub_account.tf), and the docs say so. The conditions are read from the
module and checked to be the forms evaluated here."""

from __future__ import annotations

import pytest

from sgguard_world.files import HUB, SPOKE, SPOKE_TEMPLATE
from sgguard_world.policies import hub_locals, module_files, resources

from static_common import first

HUB_REGION = "us-gov-west-1"


def preconditions(kind: str, name: str) -> list[dict]:
    return first(resources(module_files(HUB))[(kind, name)]["lifecycle"])["precondition"]


def routing(partition: str) -> bool:
    assert hub_locals()["cross_region_event_routing"] == '${local.partition == "aws"}'
    return partition == "aws"


@pytest.mark.parametrize("partition, regions, accepted", [
    ("aws", ["eu-west-1", "us-east-1"], True),
    ("aws-us-gov", [HUB_REGION], True),
    ("aws-us-gov", [HUB_REGION, "us-gov-east-1"], False),
    ("aws-cn", ["cn-north-1", "cn-northwest-1"], False),
])
def test_the_members_stack_set_forwards_across_regions_only_where_eventbridge_routes(partition, regions, accepted):
    (check,) = [p for p in preconditions("aws_cloudformation_stack_set", "spoke")
                if "cross_region_event_routing" in p["condition"]]
    assert check["condition"] == (
        "${local.cross_region_event_routing || alltrue([for r in var.stackset_regions : r == local.region])}")
    hub_region = regions[0]
    assert (routing(partition) or all(r == hub_region for r in regions)) == accepted
    assert "${local.partition}" in check["error_message"] and "stackset_regions" in check["error_message"]


@pytest.mark.parametrize("partition, accepted", [("aws", True), ("aws-us-gov", False), ("aws-cn", False)])
def test_the_hub_account_s_other_regions_need_cross_region_routing(partition, accepted):
    (check,) = [p for p in preconditions("aws_cloudformation_stack_set", "hub_account")
                if "cross_region_event_routing" in p["condition"]]
    assert check["condition"] == "${local.cross_region_event_routing}"
    assert routing(partition) == accepted
    assert "hub_account_regions = []" in check["error_message"]


def test_the_docs_do_not_advertise_those_partitions():
    for doc in (HUB / "README.md", SPOKE / "README.md", SPOKE_TEMPLATE):
        text = " ".join(doc.read_text().split())
        assert "GovCloud (US)" in text and "China" in text and "commercial Regions only" in text, doc
