"""What the static checks of tests/infra share: the hub module's variables, outputs and Lambda
environment as parsed, and the pieces of HCL expressions they compare (nested blocks, string
literals, the patterns of validation conditions)."""

from __future__ import annotations

import re

from sgguard_world.files import HUB
from sgguard_world.policies import blocks, hub_locals, parse_tf, unquote, variable_blocks


def hub_variables() -> dict[str, dict]:
    return {unquote(n): body for b in variable_blocks(HUB) for n, body in b.items()}


def hub_outputs() -> dict[str, dict]:
    return {unquote(n): body for b in blocks(parse_tf(HUB / "outputs.tf"), "output") for n, body in b.items()}


def lambda_environment() -> str:
    return hub_locals()["lambda_environment"]


def first(block):
    """A nested block as python-hcl2 gives it: a list of one dict (or the dict)."""
    return block[0] if isinstance(block, list) else block


def hcl_string(text: str) -> str:
    """The value of an HCL string literal's body (the escapes the module uses: \\\\ and \\")."""
    return text.replace('\\"', '"').replace("\\\\", "\\")


def validation_regex(condition: str, subject: str) -> str:
    """The pattern of `regex("...", SUBJECT)` in a validation condition."""
    m = re.search(r'regex\("((?:[^"\\]|\\.)*)", ' + re.escape(subject) + r"\)", condition)
    assert m, f"no regex(..., {subject}) in {condition}"
    return hcl_string(m.group(1))
