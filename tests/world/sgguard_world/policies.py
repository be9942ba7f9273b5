"""The IAM policies as deployed: the spoke template's roles and the hub's Terraform (parsed with
python-hcl2; no Terraform binary is needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

from .files import HUB, SPOKE_TEMPLATE, load_template

HCL_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
# An action written in a policy: `"sns:Publish"` (condition keys such as aws:PrincipalOrgID excluded).
ACTION = re.compile(r'"((?!aws:)[a-z0-9-]+:[A-Za-z*]+)"')


def parse_tf(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f, serialization_options=HCL_OPTIONS)


def unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def blocks(parsed: dict, kind: str) -> list[dict]:
    value = parsed.get(kind, [])
    return value if isinstance(value, list) else [value]


def variable_blocks(module: Path) -> list[dict]:
    """The `variable` blocks of a module, from variables.tf and its variables_*.tf, in file
    order (variables.tf first)."""
    return [b for path in sorted(module.glob("variables*.tf")) for b in blocks(parse_tf(path), "variable")]


def module_files(module: Path) -> dict[Path, dict]:
    files = sorted(module.glob("*.tf"))
    assert files, f"no .tf files in {module}"
    return {f: parse_tf(f) for f in files}


def resources(parsed_files: dict[Path, dict]) -> dict[tuple[str, str], dict]:
    out = {}
    for parsed in parsed_files.values():
        for block in blocks(parsed, "resource"):
            for rtype, named in block.items():
                for name, body in named.items():
                    out[(unquote(rtype), unquote(name))] = body
    return out


def hub_locals() -> dict[str, str]:
    out: dict[str, str] = {}
    for parsed in module_files(HUB).values():
        for block in blocks(parsed, "locals"):
            out.update(block)
    return out


def all_actions(statements) -> list[str]:
    acts: list[str] = []
    for st in statements if isinstance(statements, list) else [statements]:
        a = st["Action"]
        acts.extend(a if isinstance(a, list) else [a])
    return acts


def eval_action_local(expr: str, locals_: dict[str, str]) -> list[str]:
    """Evaluate the few forms used for the action lists in hub/main.tf: the file, and
    `[for a in local.X : a if (!)startswith(a, "p") && …]`."""
    m = re.fullmatch(r'\$\{jsondecode\(file\("\$\{path\.module\}/([^"]+)"\)\)\}', expr)
    if m:
        return json.loads((HUB / m.group(1)).read_text())
    m = re.fullmatch(r'\$\{\[for (\w+) in local\.(\w+) : \1 if (.+)\]\}', expr, re.S)
    if m:
        # A conjunction of (negated) prefix tests: `!startswith(a, "x") && startswith(a, "y")`.
        tests = []
        for term in re.split(r"\s*&&\s*", m.group(3).strip()):
            t = re.fullmatch(r'(!?)startswith\(' + m.group(1) + r', "([^"]+)"\)', term)
            if not t:
                raise AssertionError(f"unsupported condition (extend sgguard_world.policies): {term}")
            tests.append((t.group(1) == "!", t.group(2)))
        base = eval_action_local(locals_[m.group(2)], locals_)
        return [a for a in base if all(a.startswith(prefix) != negate for negate, prefix in tests)]
    raise AssertionError(f"unsupported action expression (extend sgguard_world.policies): {expr}")


def _pairs(body: str) -> dict[str, str]:
    return {k: "${" + v + "}" for k, v in (pair.split(" = ", 1) for pair in body.split(", "))}


def stack_set_parameters(name: str) -> dict[str, str]:
    """The parameters `aws_cloudformation_stack_set.<name>` may pass: the module's
    `local.spoke_parameters` merged with optional locals of the form `COND ? {K = V} : {}`
    (their keys counted as passed) and its own (`merge(local.spoke_parameters, [local.X, ]
    {K = V})`)."""
    expr = resources(module_files(HUB))[("aws_cloudformation_stack_set", name)]["parameters"]
    m = re.fullmatch(r"\$\{merge\(local\.spoke_parameters, ((?:local\.\w+, )*)\{(.*)\}\)\}", expr)
    if not m:
        raise AssertionError(f"aws_cloudformation_stack_set.{name}: parameters are not merged from "
                             f"local.spoke_parameters: {expr}")
    locals_ = hub_locals()
    out = dict(locals_["spoke_parameters"])
    for optional in re.findall(r"local\.(\w+)", m.group(1)):
        o = re.fullmatch(r"\$\{.+ \? \{(.*)\} : \{\}\}", locals_[optional])
        if not o:
            raise AssertionError(f"local.{optional} is not `COND ? {{K = V, ...}} : {{}}`: {locals_[optional]}")
        out.update(_pairs(o.group(1)))
    return {**out, **_pairs(m.group(2))}


def hub_lambda_policy() -> str:
    """The hub Lambda role's policy expression (hub/iam.tf, aws_iam_role_policy.lambda)."""
    return resources(module_files(HUB))[("aws_iam_role_policy", "lambda")]["policy"]


def hub_lambda_role_actions() -> list[str]:
    """Every action the hub Lambda role grants: the literal ones and the `local.X` lists."""
    policy, locals_ = hub_lambda_policy(), hub_locals()
    acts = ACTION.findall(policy)
    for name in re.findall(r"Action = local\.(\w+)", policy):
        acts += eval_action_local(locals_[name], locals_)
    return acts


def spoke_remediation_role_actions() -> list[str]:
    """Every action the spoke template's remediation role grants in a member account."""
    role = load_template(SPOKE_TEMPLATE)["Resources"]["RemediationRole"]
    return [a for pol in role["Properties"]["Policies"] for a in all_actions(pol["PolicyDocument"]["Statement"])]
