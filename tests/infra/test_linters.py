"""The linters on hub/ (Terraform) and spoke-infra/ (CloudFormation): cfn-lint on every spoke
template (no error, no warning without a written justification) and checkov on both folders (no
failed check; every skip inline, with a reason)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sgguard_world.files import REPO, HUB, SPOKE_TEMPLATE, load_template, spoke_templates

# cfn-lint warnings accepted on purpose, as {(file name, rule id): reason}. Empty: none.
JUSTIFIED_CFN_LINT_WARNINGS: dict[tuple[str, str], str] = {}


def tool(name: str) -> str:
    """A console script of this venv (cfn-lint) or, for checkov, its isolated venv."""
    if name == "checkov" and os.environ.get("SGGUARD_CHECKOV"):
        return os.environ["SGGUARD_CHECKOV"]
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` not found: run tests/infra/run.sh VENV_DIR, which installs it")
    return found


# ---------------------------------------------------------------------------------------
# CloudFormation: cfn-lint
# ---------------------------------------------------------------------------------------


def test_spoke_templates_are_found():
    assert spoke_templates() == [SPOKE_TEMPLATE]


@pytest.mark.parametrize("template", spoke_templates(), ids=lambda p: p.name)
def test_cfn_lint(template: Path):
    proc = subprocess.run(
        [tool("cfn-lint"), "--format", "parseable", str(template)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    findings = [line for line in proc.stdout.splitlines() if line.strip()]
    errors, unjustified = [], []
    for line in findings:
        # parseable: file:line:col:line:col:RULE:message
        rule = line.split(":")[5] if line.count(":") >= 6 else line
        if rule.startswith("E") or not rule[:1].isalpha():
            errors.append(line)
        elif (template.name, rule) not in JUSTIFIED_CFN_LINT_WARNINGS:
            unjustified.append(line)
    assert proc.returncode in (0, 4, 8, 12), f"cfn-lint failed to run:\n{proc.stderr}"
    assert not errors, "cfn-lint errors:\n" + "\n".join(errors)
    assert not unjustified, "cfn-lint warnings without a justification:\n" + "\n".join(unjustified)


# ---------------------------------------------------------------------------------------
# checkov (one run per folder: it is the slow part)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["hub", "spoke-infra"])
def test_checkov(folder: str):
    proc = subprocess.run(
        [
            tool("checkov"),
            "-d",
            folder,
            "--quiet",
            "--compact",
            "--skip-download",  # offline: no Prisma Cloud guidelines/mappings download
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "CHECKOV_SKIP_VERSION_CHECK": "1", "BC_SKIP_MAPPING": "TRUE"},
        timeout=300,
    )
    assert proc.stdout.strip(), f"checkov printed nothing (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    # `--quiet` + no resource at all gives {"passed": 0, ...}; every folder has resources.
    ran = [r for r in reports if isinstance(r, dict) and "results" in r]
    assert ran, f"checkov scanned nothing in {folder}: {proc.stdout[:500]}"
    failed, bad_skips = [], []
    for r in ran:
        for check in r["results"].get("failed_checks", []):
            failed.append(f"{check['check_id']} {check['resource']} ({check['file_path']}:{check['file_line_range']})")
        for check in r["results"].get("skipped_checks", []):
            reason = (check.get("check_result") or {}).get("suppress_comment", "")
            if len(reason.strip()) < 20 or reason.strip().lower() == "no comment provided":
                bad_skips.append(f"{check['check_id']} {check['resource']}: {reason!r}")
    assert proc.returncode == 0 and not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert not bad_skips, "checkov skips need a written reason:\n" + "\n".join(bad_skips)


def test_checkov_skips_are_inline_with_reasons():
    """Terraform skips are `#checkov:skip=CKV_...:reason`; CFN skips are Metadata with a comment."""
    pattern = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")
    for tf in HUB.rglob("*.tf"):
        for n, line in enumerate(tf.read_text().splitlines(), 1):
            m = pattern.search(line)
            if m:
                assert m.group(1).startswith("CKV"), f"{tf}:{n}: skip of an unknown id"
                assert m.group(2) and len(m.group(2).strip()) >= 20, f"{tf}:{n}: skip without a real reason"
    for template in spoke_templates():
        for name, res in load_template(template)["Resources"].items():
            for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
                assert skip.get("id", "").startswith("CKV"), f"{template.name}:{name}: bad skip id"
                assert len(str(skip.get("comment", "")).strip()) >= 20, f"{template.name}:{name}: skip without a reason"
