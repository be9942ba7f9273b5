"""Plain-text output for the demo: colour only on a terminal, tables sized by visible text."""

from __future__ import annotations

import os
import re
import sys

COLOUR = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
STYLES = {"bold": "1", "good": "32", "bad": "1;31", "note": "33", "dim": "2"}


def paint(style: str, text: str) -> str:
    return f"\033[{STYLES[style]}m{text}\033[0m" if COLOUR else text


def visible(text: str) -> str:
    return re.sub("\033\\[[0-9;]*m", "", text)


def table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns, sized by the visible text (colour codes do not count): the lines."""
    widths = [max(len(h), *(len(visible(row[i])) for row in rows)) for i, h in enumerate(headers)]
    lines = [indent + paint("dim", "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())]
    for row in rows:
        cells = [cell + " " * (width - len(visible(cell))) for cell, width in zip(row, widths, strict=True)]
        lines.append(indent + "  ".join(cells).rstrip())
    return lines


def describe(finding: dict) -> str:
    """A finding's rule in one line: `tcp 22 from 0.0.0.0/0`."""
    ports = finding.get("from_port")
    if ports is not None and finding.get("to_port") != ports:
        ports = f"{ports}-{finding['to_port']}"
    way = "to" if finding.get("direction") == "egress" else "from"
    return " ".join(str(w) for w in (finding.get("protocol"), ports, way, finding.get("peer")) if w is not None)


def summarize(status: int, outcome: dict) -> str:
    """What the Lambda answered, in one line."""
    if status != 200:
        return paint("bad", f"FAILED ({status}): {outcome.get('errorType')}: {outcome.get('errorMessage')}")
    findings = outcome.get("findings", [])
    revoked = [f"{f['rule_id']} ({describe(f)})" for f in findings if f.get("outcome") == "revoked"]
    others = [f"{f['rule_id']} {f.get('outcome')}" for f in findings if f.get("outcome") != "revoked"]
    text = f"{outcome.get('status')}, {outcome.get('rules_evaluated')} rules evaluated, "
    text += paint("good", "revoked " + ", ".join(revoked)) if revoked else "nothing to revoke"
    return text + (f"; {', '.join(others)}" if others else "")
