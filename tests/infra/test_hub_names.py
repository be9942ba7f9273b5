"""Every name the hub module gives comes from `name_prefix` (issue #23): a second hub can share an
account. A scan of hub/*.tf for literal names beginning with "sgguard" (each exception named
with its reason), the four overridable names going through their locals, and the defaults
giving the names of earlier releases (evaluated on the module's own expressions)."""

from __future__ import annotations

import re

import pytest

from sgguard_world.files import HUB
from sgguard_world.hcl_value import hcl_value
from sgguard_world.policies import hub_locals

from static_common import hub_variables, validation_regex

# (argument, literal) written as is, and why it is no name of this hub's.
NOT_THE_HUB_S_NAMES = {
    ("target_id", "sgguard-lambda"): "a target's id is unique per rule only, and the rules carry the prefix",
    ("display_name", "sgguard"): "the sender name of the topics' e-mails, not a resource name",
    ("display_name", "sgguard alarms"): "the same, for the alarm topic",
    ("forwarding_queue_name", "sgguard-forward-sg-changes-dlq"): "the spoke template's queue (member accounts)",
    ("default", "sgguard"): "the default of name_prefix itself",
    ("default", "sgguard-remediation"): "the members' role (the template's default, the SCP and the RCP name it)",
    ("default", "sgguard-audit"): "the members' audit role (the template's default, the SCP names it)",
}


# Text for people, not names.
PROSE = {"description", "alarm_description", "Comment"}


def literal_names() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(HUB.glob("*.tf")):
        for line in path.read_text().splitlines():
            m = re.match(r'\s*(\w+)\s*=\s*"(sgguard[^"]*)"', line)
            if m and m.group(1) not in PROSE:
                out.append((path.name, m.group(1), m.group(2)))
    return out


def test_no_name_of_the_hub_is_written_out():
    found = literal_names()
    unexplained = [f for f in found if (f[1], f[2]) not in NOT_THE_HUB_S_NAMES]
    assert not unexplained, f"names not derived from name_prefix: {unexplained}"
    # The scan sees the exceptions it allows (so it reads the files at all).
    assert {(k, v) for _, k, v in found} == set(NOT_THE_HUB_S_NAMES)


def test_the_overridable_names_go_through_their_locals():
    text = "".join(p.read_text() for p in sorted(HUB.glob("*.tf")) if not p.name.startswith("variables"))
    for name in ("function_name", "event_bus_name", "stackset_name", "trail_name"):
        assert f"var.{name}" in hub_locals()[name], name
        uses = re.findall(rf"\bvar\.{name}\b", text)
        assert len(uses) == 1, f"var.{name} is read outside local.{name}: {len(uses)} uses"


@pytest.mark.parametrize("prefix, names", [
    ("sgguard", {"function_name": "sgguard", "event_bus_name": "sgguard-hub", "stackset_name": "sgguard-spoke",
                 "trail_name": "sgguard"}),
    ("acme-guard", {"function_name": "acme-guard", "event_bus_name": "acme-guard-hub",
                    "stackset_name": "acme-guard-spoke", "trail_name": "acme-guard"}),
])
def test_the_defaults_follow_the_prefix(prefix, names):
    variables = hub_variables()
    assert variables["name_prefix"]["default"] == "sgguard"
    coalesce = {"coalesce": lambda *v: next(x for x in v if x not in (None, ""))}
    for name, expected in names.items():
        assert variables[name]["default"] is None, name
        refs = {f"var.{name}": None, "var.name_prefix": prefix}
        assert hcl_value(hub_locals()[name], refs, coalesce) == expected
        assert hcl_value(hub_locals()[name], {**refs, f"var.{name}": "given"}, coalesce) == "given"
    # The bucket defaults too.
    locals_ = hub_locals()
    assert "${var.name_prefix}-trail-" in locals_["trail_bucket_name"]
    assert "${local.function_name}-reports-" in locals_["report_bucket_name"]


@pytest.mark.parametrize("prefix, valid", [("sgguard", True), ("acme-guard-2", True), ("ab", False), ("Sgguard", False),
                                           ("a" * 24, True), ("a" * 25, False), ("guard-", False), ("9guard", False)])
def test_name_prefix_validation(prefix, valid):
    pattern = validation_regex(hub_variables()["name_prefix"]["validation"][0]["condition"], "var.name_prefix")
    assert (re.search(pattern, prefix) is not None) == valid


def test_the_metric_alarms_read_the_namespace_the_lambda_writes():
    """sgguard's own metrics go to SGGUARD_METRICS_NAMESPACE, which the module sets to the
    function's name: every alarm on them reads that namespace, so two hubs count apart."""
    from sgguard_world.policies import module_files, resources

    alarms = {name: body for (kind, name), body in resources(module_files(HUB)).items()
              if kind == "aws_cloudwatch_metric_alarm"}
    assert hub_locals()["metrics_namespace"] == "${local.function_name}"
    environment = (HUB / "main.tf").read_text()
    assert re.search(r"SGGUARD_METRICS_NAMESPACE\s*=\s*local\.metrics_namespace", environment)
    ours = {name: alarm for name, alarm in alarms.items()
            if "namespace" in alarm and not alarm["namespace"].startswith("AWS/")}
    assert len(ours) >= 5, sorted(alarms)
    for name, alarm in ours.items():
        assert alarm["namespace"] == "${local.metrics_namespace}", (name, alarm["namespace"])
