"""The Terraform modules (hub/ and its two examples) parsed with python-hcl2, as no Terraform
binary is available offline: every `var.X` and `local.X` declared, every `file()` target present,
the examples calling the hub module with its inputs and outputs, the READMEs listing every input,
output and parameter, the StackSet passing the template's parameters, and one Lambda artifact path
from `make lambda-zip` to the module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sgguard_world.files import REPO, HUB, SPOKE, SPOKE_TEMPLATE, load_template
from sgguard_world.policies import (blocks, hub_locals, module_files, parse_tf, resources, stack_set_parameters, unquote,
                                    variable_blocks)

from static_common import hub_variables

TERRAFORM_MODULES = [HUB, HUB / "examples" / "organization", HUB / "examples" / "single-account"]


def strings(node) -> list[str]:
    """Every string (expression or literal) anywhere in a parsed HCL structure, keys included."""
    out = []
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for k, v in node.items():
            out.append(k)
            out.extend(strings(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(strings(v))
    return out


REF = re.compile(r"(?<![\w.])(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)")
FILE_CALL = re.compile(r"\b(?:file|filebase64sha256|filebase64|templatefile|filemd5|filesha256)\(\s*\"([^\"]+)\"")


@pytest.mark.parametrize("module", TERRAFORM_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_variable_and_local_reference_is_declared(module: Path):
    files = module_files(module)
    assert (module / "variables.tf").exists(), f"{module} has no variables.tf"
    declared_vars = {unquote(name) for b in variable_blocks(module) for name in b}
    declared_locals = {k for p in files.values() for b in blocks(p, "locals") for k in b}
    for path, parsed in files.items():
        for text in strings(parsed):
            if "${" not in text and not text.startswith(("var.", "local.")):
                continue
            for kind, name in REF.findall(text):
                if kind == "var":
                    assert name in declared_vars, f"{path.relative_to(REPO)}: var.{name} is not declared in variables*.tf"
                else:
                    assert name in declared_locals, f"{path.relative_to(REPO)}: local.{name} is not declared"
    for b in variable_blocks(module):
        for name, body in b.items():
            assert body.get("description"), f"variable {name} in {module} has no description"


@pytest.mark.parametrize("module", TERRAFORM_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_file_function_target_exists(module: Path):
    targets = []
    for path, parsed in module_files(module).items():
        for text in strings(parsed):
            for arg in FILE_CALL.findall(text):
                resolved = arg.replace("${path.module}", str(module))
                if "${" in resolved:  # a variable path (e.g. var.lambda_zip_path): not a repo file
                    continue
                targets.append(resolved)
                assert Path(resolved).is_file(), f"{path.relative_to(REPO)}: file({arg!r}) does not exist"
    if module == HUB:
        names = sorted(Path(t).name for t in targets)
        assert names == ["event-pattern.json", "remediation-actions.json", "sgguard-remediation-role-rcp.json",
                         "sgguard-spoke.yaml", "sgguard-tamper-protection-scp.json"], names


def test_examples_call_the_hub_module_with_declared_inputs():
    hub_vars = hub_variables()
    required = {n for n, body in hub_vars.items() if "default" not in body}
    hub_outputs = {unquote(n) for p in module_files(HUB).values() for b in blocks(p, "output") for n in b}
    for example in TERRAFORM_MODULES[1:]:
        files = module_files(example)
        calls = [body for p in files.values() for b in blocks(p, "module") for body in b.values()]
        assert len(calls) == 1, f"{example}: expected one module call"
        call = calls[0]
        assert call["source"] == "../..", f"{example}: source must be ../.."
        args = {k for k in call if k not in ("source", "version", "providers", "depends_on", "count", "for_each")}
        assert not args - set(hub_vars), f"{example}: unknown inputs {sorted(args - set(hub_vars))}"
        assert required <= args, f"{example}: missing required inputs {sorted(required - args)}"
        for text in strings(list(files.values())):
            for out in re.findall(r"module\.sgguard\.([A-Za-z_][A-Za-z0-9_]*)", text):
                assert out in hub_outputs, f"{example}: module.sgguard.{out} is not an output of hub/"


def test_hub_readme_lists_every_input_and_output():
    readme = (HUB / "README.md").read_text()
    names = [unquote(n) for b in variable_blocks(HUB) for n in b]
    names += [unquote(n) for b in blocks(parse_tf(HUB / "outputs.tf"), "output") for n in b]
    missing = [n for n in names if f"`{n}`" not in readme]
    assert not missing, f"hub/README.md does not list: {missing}"


def test_spoke_readme_lists_every_parameter():
    readme = (SPOKE / "README.md").read_text()
    missing = [p for p in load_template(SPOKE_TEMPLATE)["Parameters"] if f"`{p}`" not in readme]
    assert not missing, f"spoke-infra/README.md does not list: {missing}"


def test_stackset_passes_exactly_the_template_parameters():
    res = resources(module_files(HUB))
    stackset = res[("aws_cloudformation_stack_set", "spoke")]
    assert stackset["permission_model"] == "SERVICE_MANAGED"
    assert "sgguard-spoke.yaml" in hub_locals()["spoke_template"]
    assert stackset["template_body"] == "${local.spoke_template}"
    passed = set(stack_set_parameters("spoke"))
    cfn_params = load_template(SPOKE_TEMPLATE)["Parameters"]
    required = {n for n, p in cfn_params.items() if "Default" not in p}
    assert passed <= set(cfn_params), f"unknown StackSet parameters: {passed - set(cfn_params)}"
    assert required <= passed, f"StackSet does not pass {required - passed}"


def test_one_artifact_path_from_make_lambda_zip_to_the_module():
    """`make lambda-zip` builds ARCH (default) into dist/sgguard-$(ARCH).zip
    (scripts/lambda_zip.sh); the hub module's default architecture is that ARCH, and each
    example's lambda_zip_path default resolves, from the example's folder, to that file."""
    makefile = (REPO / "Makefile").read_text()
    arch = re.search(r"^ARCH \?= (\S+)$", makefile, re.M).group(1)
    script = (REPO / "scripts" / "lambda_zip.sh").read_text()
    assert re.search(r"^arch=\$\{2:-" + re.escape(arch) + r"\}$", script, re.M), "lambda_zip.sh's default arch"
    assert 'zip="dist/sgguard-$arch.zip"' in script
    built = (REPO / "dist" / f"sgguard-{arch}.zip").resolve()
    variables = hub_variables()
    assert variables["lambda_architecture"]["default"] == arch
    examples = sorted((HUB / "examples").iterdir())
    assert examples
    for example in examples:
        example_vars = {unquote(n): body for b in blocks(parse_tf(example / "variables.tf"), "variable")
                        for n, body in b.items()}
        default = example_vars["lambda_zip_path"]["default"]
        assert (example / default).resolve() == built, f"{example.name}: lambda_zip_path {default} is not {built}"
        module = blocks(parse_tf(example / "main.tf"), "module")[0]
        settings = next(iter(module.values()))
        assert settings.get("lambda_architecture", arch) == arch, f"{example.name}: lambda_architecture"
