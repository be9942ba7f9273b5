"""The repository's files the world and the tests read: one place for their paths."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

# The package lives in tests/world/sgguard_world/ and is installed editable: the repository is
# three levels up.
REPO = Path(__file__).resolve().parents[3]
HUB = REPO / "hub"
SPOKE = REPO / "spoke-infra"
SPOKE_TEMPLATE = SPOKE / "sgguard-spoke.yaml"
# THE list of the CloudTrail events sgguard watches (the spoke template keeps a copy, checked).
EVENT_PATTERN_FILE = HUB / "event-pattern.json"
# The EC2 actions the member role grants (and the hub role for the hub's own groups).
REMEDIATION_ACTIONS_FILE = SPOKE / "remediation-actions.json"
# The hub's own actions (Organizations, SNS, STS), and the called actions needing no grant.
HUB_ACTIONS_FILE = HUB / "hub-actions.json"
SWEEP_PAYLOAD_SCHEMA_FILE = HUB / "sweep-payload.schema.json"
# Real CloudTrail events shared by the project (their provenance: tests/fixtures/cloudtrail/PROVENANCE.md).
CLOUDTRAIL_FIXTURES = REPO / "tests" / "fixtures" / "cloudtrail"


def load_template(path: Path = SPOKE_TEMPLATE) -> dict:
    """Templates use long-form intrinsics only (Fn::Sub, Ref:), so plain YAML loads them."""
    return yaml.safe_load(path.read_text())


def spoke_templates() -> list[Path]:
    """Every CloudFormation template in spoke-infra/ (YAML or JSON with a Resources map)."""
    found = []
    for path in sorted(SPOKE.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json", ".template"):
            continue
        doc = load_template(path) if path.suffix != ".json" else json.loads(path.read_text())
        if isinstance(doc, dict) and "Resources" in doc:
            found.append(path)
    return found


def load_event_pattern() -> dict:
    return json.loads(EVENT_PATTERN_FILE.read_text())


def watched_event_names() -> list[str]:
    """The CloudTrail eventNames the hub acts on, in the pattern's order (those of `detail` and of
    its `$or` alternatives)."""

    def names(detail: dict) -> list[str]:
        out = list(detail.get("eventName", []))
        for alternative in detail.get("$or", []):
            out += names(alternative)
        return out

    return names(load_event_pattern()["detail"])


def tag_event_names() -> list[str]:
    """The watched tag calls: forwarded only when they name a security group (`sg-…`)."""
    return [name for name in watched_event_names() if name.endswith("Tags")]


def load_remediation_actions() -> list[str]:
    return json.loads(REMEDIATION_ACTIONS_FILE.read_text())


def load_hub_actions() -> dict:
    """hub/hub-actions.json: {"granted": [...], "needs_no_grant": {action: why},
    "not_reached_in_the_emulator": {action: why}}."""
    return json.loads(HUB_ACTIONS_FILE.read_text())


def actions_called() -> set[str]:
    """Every AWS action sgguard calls, as IAM names it: the two action files together."""
    hub = load_hub_actions()
    return set(load_remediation_actions()) | set(hub["granted"]) | set(hub["needs_no_grant"])
