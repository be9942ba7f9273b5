"""Paths and loaders shared by the infrastructure tests (hub/, spoke-infra/).

Importing it also points boto3 at dummy credentials: no real profile, credentials or
instance metadata can be used by a test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
HUB = REPO / "hub"
SPOKE = REPO / "spoke-infra"
SPOKE_TEMPLATE = SPOKE / "sgguard-spoke.yaml"
EVENT_PATTERN_FILE = HUB / "event-pattern.json"
REMEDIATION_ACTIONS_FILE = SPOKE / "remediation-actions.json"
# Real CloudTrail events shared by the project (DESIGN.md "Real components in tests").
# The project keeps its own copy of the shared fixtures (tests/fixtures.rs checks they match).
CLOUDTRAIL_FIXTURES = REPO / "tests" / "fixtures" / "cloudtrail"

# No real credentials, profiles or instance metadata may be picked up by boto3.
for _key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_key, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


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


def load_template(path: Path) -> dict:
    """Templates use long-form intrinsics only (Fn::Sub, Ref:), so plain YAML loads them."""
    return yaml.safe_load(path.read_text())


def load_event_pattern() -> dict:
    return json.loads(EVENT_PATTERN_FILE.read_text())


def load_remediation_actions() -> list[str]:
    return json.loads(REMEDIATION_ACTIONS_FILE.read_text())


