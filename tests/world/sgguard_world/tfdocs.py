"""hub/README.md's `## Inputs` and `## Outputs` tables, generated from hub/variables*.tf and
hub/outputs.tf (python-hcl2), so that hub/README.md says what the module declares (docs/deploy.md,
"The Terraform, checked offline").

    python -m sgguard_world.tfdocs            rewrites both tables in hub/README.md
    python -m sgguard_world.tfdocs --check    exit 1 when the README's tables differ

tests/infra/test_tfschema.py runs the same comparison.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from .files import HUB
from .policies import blocks, parse_tf, unquote, variable_blocks

README = HUB / "README.md"
# A section: its heading, then everything up to the next `## ` heading (or the end).
SECTION = r"(^## {title}\n\n)(.*?)(?=^## |\Z)"


def hcl_value(value) -> str:
    """A default as written in HCL (python-hcl2 gives Python values, expressions as `${...}`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{(.*)\}", value, re.S)
        return m.group(1) if m else json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{k} = {hcl_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise ValueError(f"cannot write the default {value!r} as HCL")


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def type_of(body: dict) -> str:
    typ = body.get("type", "any")
    m = re.fullmatch(r"\$\{(.*)\}", typ, re.S) if isinstance(typ, str) else None
    return m.group(1) if m else str(typ)


def inputs_table(variables_tf: Path | None = None) -> str:
    """The inputs of the module's variables*.tf (in file order), or of one file."""
    rows = ["| name | type | default | description |", "|---|---|---|---|"]
    found = blocks(parse_tf(variables_tf), "variable") if variables_tf else variable_blocks(HUB)
    for block in found:
        for name, body in block.items():
            default = f"`{hcl_value(body['default'])}`" if "default" in body else "required"
            rows.append(f"| `{unquote(name)}` | {type_of(body)} | {cell(default)} | {cell(body.get('description', ''))} |")
    return "\n".join(rows) + "\n"


def outputs_table(outputs_tf: Path = HUB / "outputs.tf") -> str:
    rows = ["| name | description |", "|---|---|"]
    for block in blocks(parse_tf(outputs_tf), "output"):
        for name, body in block.items():
            rows.append(f"| `{unquote(name)}` | {cell(body.get('description', ''))} |")
    return "\n".join(rows) + "\n"


def section(readme: str, title: str) -> str:
    """The text of `## TITLE` (without its heading and the blank lines that end it)."""
    m = re.search(SECTION.format(title=re.escape(title)), readme, re.M | re.S)
    if not m:
        raise ValueError(f"hub/README.md has no `## {title}` section")
    return m.group(2).rstrip("\n") + "\n"


def generated(readme: str) -> str:
    """README with both tables replaced by the generated ones."""
    for title, table in (("Inputs", inputs_table()), ("Outputs", outputs_table())):
        section(readme, title)  # present, or a clear error
        pattern = re.compile(SECTION.format(title=re.escape(title)), re.M | re.S)
        readme = pattern.sub(lambda m: m.group(1) + table + ("\n" if m.end() < len(m.string) else ""), readme, count=1)
    return readme


def main(argv: list[str]) -> int:
    text = README.read_text()
    want = generated(text)
    if argv == ["--check"]:
        if want != text:
            print("hub/README.md: the Inputs/Outputs tables differ from variables*.tf/outputs.tf; "
                  "run `python -m sgguard_world.tfdocs`", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    README.write_text(want)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
