"""Terraform files checked against the AWS provider's published schema, offline.

No Terraform binary or provider plugin can be fetched here, so `terraform validate` cannot run.
The schema comes from the prebuilt CDK for Terraform bindings (`sgguard_world.tfschema_extract`):
every resource, data source and the provider, each argument (required or not) and each nested
block. Every `resource`, `data` and `provider "aws"` block is held against it.

    python -m sgguard_world.tfschema SCHEMA.json PATH...   (exit 1 when it finds something)

What it cannot see: anything decided by the provider or AWS at plan or apply time (value
types, allowed values, conflicting arguments, computed-only attributes read elsewhere).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

from .policies import unquote

# Blocks are kept apart from object-valued arguments (`tags = {...}`) by `__is_block__`.
HCL_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)
IS_BLOCK = "__is_block__"

# Terraform's own arguments and blocks, valid in every resource or data block whatever the provider.
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on"}
META_BLOCKS = {
    "resource": {"lifecycle", "provisioner", "connection"},
    "data": {"lifecycle"},
    "provider": set(),
}
DYNAMIC_KEYS = {"for_each", "iterator", "labels", "content"}
KIND_WORD = {"resource": "resource type", "data": "data source", "provider": "provider"}

# ---------------------------------------------------------------------------------------
# check: .tf files -> findings
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    source: str
    version: str
    package: str
    types: dict  # {"resource": {...}, "data": {...}, "provider": {...}}

    @classmethod
    def load(cls, path: Path) -> Schema:
        raw = json.loads(path.read_text())
        return cls(raw["source"], raw["version"], raw["package"],
                   {k: raw[k] for k in ("resource", "data", "provider")})

    @property
    def label(self) -> str:
        return f"{self.source} {self.version} schema"


def parse_tf(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f, serialization_options=HCL_OPTIONS)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def is_block_list(value) -> bool:
    """A block as python-hcl2 gives it: a list of bodies, or of `{label: body}` for labelled ones
    (`dynamic "x"`, `provisioner "local-exec"`), as opposed to an argument's value."""
    def block(v) -> bool:
        if not isinstance(v, dict):
            return False
        labelled = list(v.values()) if len(v) == 1 else []
        return bool(v.get(IS_BLOCK)) or bool(labelled) and isinstance(labelled[0], dict) and bool(labelled[0].get(IS_BLOCK))

    return isinstance(value, list) and bool(value) and all(block(v) for v in value)


class Checker:
    def __init__(self, schema: Schema, root: Path):
        self.schema = schema
        self.root = root
        self.findings: list[str] = []
        self.checked: list[str] = []  # the address of every block held against the schema

    def check_file(self, path: Path) -> None:
        parsed = parse_tf(path)
        where = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        for kind in ("resource", "data"):
            for block in as_list(parsed.get(kind, [])):
                for type_name, named in block.items():
                    if type_name == IS_BLOCK:
                        continue
                    for name, body in named.items():
                        if name == IS_BLOCK:
                            continue
                        prefix = "data." if kind == "data" else ""
                        address = f"{where}:{prefix}{unquote(type_name)}.{unquote(name)}"
                        self.check_top(kind, unquote(type_name), address, body)
        for block in as_list(parsed.get("provider", [])):
            for name, body in block.items():
                if name != IS_BLOCK:
                    self.check_top("provider", unquote(name), f"{where}:provider.{unquote(name)}", body)

    def check_top(self, kind: str, type_name: str, address: str, body: dict) -> None:
        # Only the hashicorp/aws types are ours to check (terraform_data and friends are built in).
        if not type_name.startswith("aws_") and not (kind == "provider" and type_name == "aws"):
            return
        self.checked.append(address)
        known = self.schema.types[kind].get(type_name)
        if known is None:
            self.findings.append(f"{address}: {KIND_WORD[kind]} `{type_name}` does not exist ({self.schema.label})")
            return
        self.check_body(kind, type_name, address, "", known, body)

    def check_body(self, kind: str, type_name: str, address: str, path: str, schema: dict, body: dict) -> None:
        top = not path
        meta_args = META_ARGUMENTS if top and kind != "provider" else set()
        meta_blocks = META_BLOCKS[kind] if top else set()
        present: set[str] = set()
        for key, value in body.items():
            if key == IS_BLOCK:
                continue
            key = unquote(key)
            here = f"{path}{key}"
            is_block = is_block_list(value)
            if key == "dynamic" and is_block:
                for dyn in value:
                    for label, spec in dyn.items():
                        if label != IS_BLOCK:
                            present.add(unquote(label))
                            self.check_dynamic(kind, type_name, address, path, schema, unquote(label), spec)
                continue
            if key in meta_args and not is_block or key in meta_blocks and is_block:
                continue
            if key in schema["arguments"]:
                present.add(key)
                nested = schema["arguments"][key].get("nested")
                if is_block and nested is None:
                    self.findings.append(
                        f"{address}: `{here}` is an argument of {type_name}, not a block ({self.schema.label})")
                elif is_block:  # attributes as blocks: each block is one object of the list
                    for item in value:
                        self.check_body(kind, type_name, address, here + ".", nested, item)
            elif key in schema["blocks"]:
                present.add(key)
                if not is_block:
                    self.findings.append(
                        f"{address}: `{here}` is a block of {type_name}, not an argument ({self.schema.label})")
                    continue
                for nested in value:
                    self.check_body(kind, type_name, address, here + ".", schema["blocks"][key]["nested"], nested)
            else:
                what = "block" if is_block else "argument"
                self.findings.append(
                    f"{address}: {what} `{here}` is not an argument of {type_name} ({self.schema.label})")
        for name, spec in sorted({**schema["arguments"], **schema["blocks"]}.items()):
            if spec["required"] and name not in present:
                self.findings.append(
                    f"{address}: required argument `{path}{name}` of {type_name} is missing ({self.schema.label})")

    def check_dynamic(self, kind, type_name, address, path, schema, label, spec) -> None:
        here = f"{path}dynamic.{label}"
        nested = (schema["blocks"].get(label) or schema["arguments"].get(label) or {}).get("nested")
        if nested is None:
            self.findings.append(
                f"{address}: dynamic block `{path}{label}` is not a block of {type_name} ({self.schema.label})")
            return
        unknown = sorted(unquote(k) for k in spec if k != IS_BLOCK and unquote(k) not in DYNAMIC_KEYS)
        for k in unknown:
            self.findings.append(f"{address}: `{here}.{k}` is not an argument of a dynamic block")
        contents = as_list(spec.get("content", []))
        if not contents:
            self.findings.append(f"{address}: dynamic block `{here}` has no content block")
        for content in contents:
            self.check_body(kind, type_name, address, f"{path}{label}.", nested, content)


def check(schema: Schema, paths: list[Path], root: Path) -> Checker:
    """The `.tf` files of PATHS (files, or folders: their `*.tf`, not recursive), checked."""
    checker = Checker(schema, root)
    files = [f for p in paths for f in (sorted(p.glob("*.tf")) if p.is_dir() else [p])]
    if not files:
        raise ValueError(f"no .tf files in {', '.join(map(str, paths))}")
    for f in files:
        checker.check_file(f)
    return checker


def check_paths(schema: Schema, paths: list[Path], root: Path) -> list[str]:
    """Every finding in the `.tf` files of PATHS."""
    return check(schema, paths, root).findings


# ---------------------------------------------------------------------------------------
# version constraints: which provider majors a `required_providers` constraint accepts
# ---------------------------------------------------------------------------------------

CLAUSE = re.compile(r"^\s*(>=|<=|~>|!=|>|<|=)?\s*(\d+(?:\.\d+){0,2})\s*$")


Version = tuple[int, int, int]


def version_range(constraint: str, highest: int = 99) -> tuple[Version, Version, bool]:
    """The lowest version CONSTRAINT (Terraform's syntax) accepts, the upper bound, and whether the
    upper bound itself is accepted."""
    lo, hi, hi_inclusive = (0, 0, 0), (highest + 1, 0, 0), False
    for clause in constraint.split(","):
        m = CLAUSE.match(clause)
        if not m:
            raise ValueError(f"unsupported version constraint clause `{clause.strip()}`")
        op, parts = m.group(1) or "=", [int(x) for x in m.group(2).split(".")]
        version = tuple(parts + [0] * (3 - len(parts)))
        if op in (">=", ">"):
            lo = max(lo, version)
        elif op in ("<", "<="):
            if version < hi or version == hi and op == "<":
                hi, hi_inclusive = version, op == "<="
        elif op == "~>":
            lo = max(lo, version)
            bump = parts[:-1] if len(parts) > 1 else parts
            upper = tuple(bump[:-1] + [bump[-1] + 1] + [0] * (3 - len(bump)))
            if upper < hi:
                hi, hi_inclusive = upper, False
        elif op == "=":
            lo, hi, hi_inclusive = max(lo, version), min(hi, version), True
    return lo, hi, hi_inclusive


def accepted_majors(constraint: str, highest: int = 99) -> set[int]:
    """The majors with at least one version that CONSTRAINT accepts."""
    lo, hi, hi_inclusive = version_range(constraint, highest)
    majors = set()
    for major in range(lo[0], min(hi[0], highest) + 1):
        first = max(lo, (major, 0, 0))
        if first < hi or hi_inclusive and first == hi:
            majors.add(major)
    return majors


def main(argv: list[str]) -> int:
    if len(argv) >= 2:
        schema = Schema.load(Path(argv[0]))
        findings = check_paths(schema, [Path(p) for p in argv[1:]], Path.cwd())
        for f in findings:
            print(f)
        print(f"{len(findings)} finding(s) against {schema.label}", file=sys.stderr)
        return 1 if findings else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
