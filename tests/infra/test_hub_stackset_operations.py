"""The members' StackSet operations (hub/stackset.tf, issue #23): every operation the module
starts (the StackSet's updates, each region's and OU's instances) stops at the first failed
account by default and takes its preferences from the two variables; the README says why."""

from __future__ import annotations

import re

from sgguard_world.files import HUB
from sgguard_world.policies import module_files, resources

from static_common import first, hub_variables

PREFERENCES = {
    "max_concurrent_percentage": "${var.stackset_max_concurrent_percentage}",
    "failure_tolerance_percentage": "${var.stackset_failure_tolerance_percentage}",
}


def test_every_operation_stops_at_the_first_failure_by_default():
    res = resources(module_files(HUB))
    blocks = {name: first(res[(kind, name)]["operation_preferences"]) for kind, name in (
        ("aws_cloudformation_stack_set", "spoke"),
        ("aws_cloudformation_stack_set_instance", "primary"),
        ("aws_cloudformation_stack_set_instance", "other"))}
    for name, prefs in blocks.items():
        assert {k: prefs.get(k) for k in PREFERENCES} == PREFERENCES, name
        assert not {"failure_tolerance_count", "max_concurrent_count"} & set(prefs), name
    variables = hub_variables()
    tolerance, concurrency = variables["stackset_failure_tolerance_percentage"], variables["stackset_max_concurrent_percentage"]
    assert tolerance["default"] == 0 and concurrency["default"] == 25
    # 0 is a valid tolerance and 100 the most; concurrency at least one percent.
    assert "var.stackset_failure_tolerance_percentage >= 0" in tolerance["validation"][0]["condition"]
    assert "var.stackset_max_concurrent_percentage >= 1" in concurrency["validation"][0]["condition"]
    # The hub account's own StackSet: one account, no failure tolerated.
    hub_account = first(res[("aws_cloudformation_stack_set", "hub_account")]["operation_preferences"])
    assert (hub_account["failure_tolerance_count"], hub_account["max_concurrent_count"]) == (0, 1)


def test_the_readme_explains_the_default_and_its_cost():
    readme = " ".join((HUB / "README.md").read_text().split())
    assert "`stackset_failure_tolerance_percentage = 0`" in readme
    assert re.search(r"one account at a time per region", readme)
