"""Terraform checked as far as offline allows: hub/ and both examples against the AWS provider's
published schema (each major the module accepts), their layout against hclwrite.Format (what
`terraform fmt` writes), and hub/README.md's Inputs/Outputs tables against the module.

The schemas come from the pinned bindings of requirements-tfschema.txt, extracted by run.sh into
VENV_DIR/tfschema/; the formatter from hclfmt/ (npm), installed by run.sh into VENV_DIR/hclfmt/.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sgguard_world import tfdocs, tfschema_extract
from sgguard_world.files import HUB, REPO
from sgguard_world.tfschema import Schema, accepted_majors, check, check_paths, parse_tf, version_range

HERE = Path(__file__).resolve().parent
PINS_FILE = HERE / "requirements-tfschema.txt"
BROKEN = HERE / "fixtures" / "tfschema-broken"
MODULES = [HUB, HUB / "examples" / "organization", HUB / "examples" / "single-account"]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)")


def pins() -> list[str]:
    lines = [line.strip() for line in PINS_FILE.read_text().splitlines()]
    return [PIN.match(line).group(0) for line in lines if line and not line.startswith("#")]


def schema_file(pin: str) -> Path:
    """Where run.sh extracted the schema of PIN."""
    path = Path(sys.prefix) / "tfschema" / f"{pin.replace('==', '-')}.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run tests/infra/run.sh VENV_DIR (it extracts the schema of {pin})")
    return path


@pytest.fixture(scope="module", params=pins())
def schema(request) -> Schema:
    pin = request.param
    path = schema_file(pin)
    loaded = Schema.load(path)
    assert loaded.package == pin, f"{path} was extracted from {loaded.package}, not {pin}"
    return loaded


def provider_constraint(path: Path) -> str:
    for block in parse_tf(path).get("terraform", []):
        for providers in block.get("required_providers", []):
            if "aws" in providers:
                return providers["aws"]["version"]
    raise AssertionError(f"{path.relative_to(REPO)} has no required_providers.aws")


# ---------------------------------------------------------------------------------------
# the provider schema
# ---------------------------------------------------------------------------------------


def test_the_schemas_checked_are_the_majors_the_module_accepts():
    """A pinned schema for every provider major hub/versions.tf accepts, and none outside it; the
    lowest is the constraint's lower bound itself. The examples ask for the same constraint."""
    constraint = provider_constraint(HUB / "versions.tf")
    versions = []
    for pin in pins():
        versions.append(tuple(int(x) for x in Schema.load(schema_file(pin)).version.split(".")))
    majors = {v[0] for v in versions}
    assert majors == accepted_majors(constraint), (
        f"hub/versions.tf accepts majors {sorted(accepted_majors(constraint))} (`{constraint}`), "
        f"the schemas checked are of {sorted(majors)} (tests/infra/requirements-tfschema.txt)")
    lowest = version_range(constraint)[0]
    assert min(versions) == lowest, (
        f"hub/versions.tf accepts {'.'.join(map(str, lowest))} and up (`{constraint}`), the lowest schema "
        f"checked is {'.'.join(map(str, min(versions)))} (tests/infra/requirements-tfschema.txt)")
    for example in MODULES[1:]:
        assert provider_constraint(example / "main.tf") == constraint, f"{example.relative_to(REPO)}: other constraint"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_module_matches_the_provider_schema(schema: Schema, module: Path):
    checker = check(schema, [module], REPO)
    assert not checker.findings, "\n".join(checker.findings)
    if module == HUB:
        # Every resource and data block of the hub was held against the schema (none skipped).
        declared = sum(1 for path in module.glob("*.tf") for kind in ("resource", "data")
                       for block in parse_tf(path).get(kind, []) for t, named in block.items()
                       if t != "__is_block__" for n in named if n != "__is_block__")
        assert len([a for a in checker.checked if ":provider." not in a]) == declared > 40


def test_the_broken_fixture_reports_exactly_its_mistakes(schema: Schema):
    where = "tests/infra/fixtures/tfschema-broken/main.tf"
    assert check_paths(schema, [BROKEN], REPO) == [
        f"{where}:aws_sqs_queue.misspelled: argument `message_retention_secods` is not an argument of "
        f"aws_sqs_queue ({schema.label})",
        f"{where}:aws_security_group_rules.unknown_type: resource type `aws_security_group_rules` does not exist "
        f"({schema.label})",
        f"{where}:aws_cloudwatch_event_target.missing_required: required argument `arn` of "
        f"aws_cloudwatch_event_target is missing ({schema.label})",
    ]


def test_nested_and_dynamic_blocks_are_checked(schema: Schema, tmp_path: Path):
    """A hub file with mistakes inside blocks: a nested argument, a dynamic block's content, a
    block written as an argument, an argument written as a block, an unknown meta block."""
    lambda_tf = (HUB / "lambda.tf").read_text()
    assert lambda_tf.count("    log_format = ") == 1
    (tmp_path / "lambda.tf").write_text(lambda_tf.replace("    log_format = ", "    log_formt  = "))
    (tmp_path / "more.tf").write_text("""
resource "aws_security_group" "sg" {
  name = "x"
  dynamic "ingress" {
    for_each = [22]
    content {
      from_prot = ingress.value
    }
  }
  dynamic "ingres" {
    for_each = []
    content {}
  }
  egress = []
  timeouts {
    create = "5m"
  }
}

resource "aws_sqs_queue" "q" {
  name {
    value = "x"
  }
  redrive_policy {
    x = 1
  }
}
""")
    found = [f.split(": ", 1)[1] for f in check_paths(schema, [tmp_path], tmp_path)]
    label = schema.label
    assert found == [
        f"argument `logging_config.log_formt` is not an argument of aws_lambda_function ({label})",
        f"required argument `logging_config.log_format` of aws_lambda_function is missing ({label})",
        f"argument `ingress.from_prot` is not an argument of aws_security_group ({label})",
        f"dynamic block `ingres` is not a block of aws_security_group ({label})",
        f"`name` is an argument of aws_sqs_queue, not a block ({label})",
        f"`redrive_policy` is an argument of aws_sqs_queue, not a block ({label})",
    ], "\n".join(found)


# ---------------------------------------------------------------------------------------
# layout: hclwrite.Format, the formatter `terraform fmt` applies
# ---------------------------------------------------------------------------------------


def terraform_files() -> list[Path]:
    skip = {".git", "target", "node_modules", ".terraform"}
    return sorted(p for p in REPO.rglob("*.tf") if not skip & set(p.relative_to(REPO).parts))


def hclwrite_format(paths: list[Path]) -> dict[Path, str]:
    node = shutil.which("node")
    modules = Path(sys.prefix) / "hclfmt" / "node_modules"
    if not node or not (modules / "@cdktf" / "hcl-tools").is_dir():
        pytest.fail(f"hclwrite.Format needs Node.js and {modules}: run tests/infra/run.sh VENV_DIR (npm ci of tests/infra/hclfmt)")
    proc = subprocess.run([node, str(HERE / "hclfmt" / "format.js"), *map(str, paths)], capture_output=True,
                          text=True, env={**os.environ, "NODE_PATH": str(modules)}, timeout=120)
    assert proc.returncode == 0, f"format.js failed:\n{proc.stderr}"
    return {Path(p): text for p, text in json.loads(proc.stdout).items()}


def layout_findings(paths: list[Path]) -> list[str]:
    out = []
    for path, formatted in hclwrite_format(paths).items():
        text = path.read_text()
        name = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        if formatted != text:
            diff = difflib.unified_diff(text.splitlines(), formatted.splitlines(), f"{name}", f"{name} (terraform fmt)",
                                        lineterm="", n=1)
            out.append("\n".join(diff))
        if not text.endswith("\n") or text.endswith("\n\n"):
            out.append(f"{name}: must end with exactly one newline")
        # What `terraform fmt` rewrites beyond hclwrite.Format: lone interpolations, quoted types.
        for n, line in enumerate(text.splitlines(), 1):
            if LEGACY.search(line):
                out.append(f"{name}:{n}: `terraform fmt` would rewrite `{line.strip()}`")
    return out


LEGACY = re.compile(r'=\s*"\$\{[^"{}]*\}"\s*(#.*)?$|^\s*type\s*=\s*"(string|number|bool|list|map|set|any)"')


def test_every_tf_file_is_laid_out_as_terraform_fmt_writes_it():
    files = terraform_files()
    assert {HUB / "versions.tf", BROKEN / "main.tf"} <= set(files)
    findings = layout_findings(files)
    assert not findings, "not as `terraform fmt` writes it:\n" + "\n".join(findings)


def test_the_layout_check_finds_misaligned_and_misindented_code(tmp_path: Path):
    source = (HUB / "stackset.tf").read_text()
    assert "  call_as          = var.stackset_call_as\n" in source
    bad = tmp_path / "stackset.tf"
    bad.write_text(source.replace("  call_as          = var.stackset_call_as\n", "   call_as = var.stackset_call_as\n", 1)
                   .replace("  name             = local.stackset_name\n", '  name             = "${local.stackset_name}"\n', 1)
                   + "\n")
    findings = layout_findings([bad])
    assert len(findings) == 3, findings
    assert "-   call_as = var.stackset_call_as" in findings[0]
    assert "+  call_as          = var.stackset_call_as" in findings[0]
    assert findings[1].endswith("must end with exactly one newline")
    assert findings[2].endswith('would rewrite `name             = "${local.stackset_name}"`'), findings[2]


# ---------------------------------------------------------------------------------------
# hub/README.md's tables
# ---------------------------------------------------------------------------------------


def test_hub_readme_tables_are_generated_from_the_module():
    readme = (HUB / "README.md").read_text()
    for title in ("Inputs", "Outputs"):
        want = tfdocs.inputs_table() if title == "Inputs" else tfdocs.outputs_table()
        have = tfdocs.section(readme, title)
        diff = "\n".join(difflib.unified_diff(have.splitlines(), want.splitlines(), "hub/README.md",
                                              "generated", lineterm="", n=0))
        assert have == want, (f"hub/README.md `## {title}` differs from the module: "
                              f"run `python -m sgguard_world.tfdocs`\n{diff}")
    assert tfdocs.generated(readme) == readme
    # The command docs/deploy.md and tests/infra/README.md name agrees.
    proc = subprocess.run([sys.executable, "-m", "sgguard_world.tfdocs", "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_readme_tables_follow_the_variables(tmp_path: Path):
    variables = (HUB / "variables.tf").read_text()
    assert 'default     = "sgguard"' in variables
    changed = tmp_path / "variables.tf"
    changed.write_text(variables.replace('default     = "sgguard"', 'default     = "guard"', 1))
    rows = [r for r in tfdocs.inputs_table(changed).splitlines() if r.startswith("| `name_prefix` ")]
    assert rows and rows[0].startswith('| `name_prefix` | string | `"guard"` |'), rows
    assert tfdocs.inputs_table(changed) != tfdocs.inputs_table()


# ---------------------------------------------------------------------------------------
# the extractor and the constraint reader, on their own
# ---------------------------------------------------------------------------------------


def test_the_extractor_reads_arguments_blocks_and_required_from_an_assembly():
    """A minimal jsii assembly shaped like the bindings': a resource class, its config struct (one
    required argument, one optional, a block, a list of objects) and the nested structs."""
    def prop(name: str, tf: str, typ: dict, optional: bool = True, block: bool = False) -> dict:
        link = f"{{@link https://registry.terraform.io/providers/hashicorp/aws/9.1.2/docs/resources/thing#{tf} Thing#{tf}}}"
        docs = {"summary": f"{tf} block.", "remarks": f"Docs at Terraform Registry: {link}"} if block else {
            "summary": f"Docs at Terraform Registry: {link}."}
        return {"name": name, "type": typ, "docs": docs, **({"optional": True} if optional else {})}

    p = "@cdktf/provider-aws.thing."
    struct = {"kind": "interface", "datatype": True}
    assembly = {"types": {
        p + "Thing": {"kind": "class", "docs": {"summary": "Represents a {@link https://registry.terraform.io/providers/"
                                                           "hashicorp/aws/9.1.2/docs/resources/thing aws_thing}."},
                      "initializer": {"parameters": [{"name": "scope", "type": {"fqn": "constructs.Construct"}},
                                                     {"name": "id", "type": {"primitive": "string"}},
                                                     {"name": "config", "type": {"fqn": p + "ThingConfig"}}]}},
        p + "ThingConfig": {**struct, "properties": [
            prop("functionName", "function_name", {"primitive": "string"}, optional=False),
            prop("ipv6CidrBlocks", "ipv6_cidr_blocks", {"collection": {"kind": "array", "elementtype": {"primitive": "string"}}}),
            prop("loggingConfig", "logging_config", {"fqn": p + "ThingLoggingConfig"}, block=True),
            prop("ingress", "ingress", {"union": {"types": [{"fqn": "cdktf.IResolvable"}, {"collection": {
                "kind": "array", "elementtype": {"fqn": p + "ThingIngress"}}}]}}),
        ]},
        p + "ThingLoggingConfig": {**struct, "properties": [prop("logFormat", "log_format", {"primitive": "string"}, optional=False)]},
        p + "ThingIngress": {**struct, "properties": [prop("fromPort", "from_port", {"primitive": "number"})]},
    }}
    schema = tfschema_extract.extract(assembly, "bindings==1.0.0")
    assert (schema["source"], schema["version"], schema["package"]) == ("hashicorp/aws", "9.1.2", "bindings==1.0.0")
    assert schema["resource"] == {"aws_thing": {
        "arguments": {"function_name": {"required": True}, "ipv6_cidr_blocks": {"required": False},
                      "ingress": {"required": False, "nested": {"arguments": {"from_port": {"required": False}}, "blocks": {}}}},
        "blocks": {"logging_config": {"required": False, "nested": {
            "arguments": {"log_format": {"required": True}}, "blocks": {}}}},
    }}


@pytest.mark.parametrize("constraint, majors", [
    ("~> 5.50", {5}), (">= 5.50, < 7.0", {5, 6}), (">= 5.50, <= 7.0.0", {5, 6, 7}), ("5.99.1", {5}),
    ("~> 6.0.1", {6}), (">= 4.0, < 5.0", {4}),
])
def test_accepted_majors(constraint: str, majors: set[int]):
    assert accepted_majors(constraint) == majors
