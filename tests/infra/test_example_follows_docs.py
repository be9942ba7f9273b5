"""hub/examples/organization says what README.md and docs/deploy.md recommend (issue #23): the
settings those documents tell the first apply to keep (`name = value` in backticks, read from
the documents' own sentences) are the values the example's module block passes; the sweep's
timeouts its comments name are the documented ones and the module's default; and it passes the
audit role's trusted principals through a variable of its own."""

from __future__ import annotations

import json
import re

import pytest

from sgguard_world.files import HUB, REPO
from sgguard_world.policies import blocks, parse_tf, unquote

from static_common import hub_variables

EXAMPLE = HUB / "examples" / "organization"
DEPLOY = REPO / "docs" / "deploy.md"


def module_block() -> dict:
    (module,) = blocks(parse_tf(EXAMPLE / "main.tf"), "module")
    return next(iter(module.values()))


def settings(text: str) -> dict[str, object]:
    """The `name = value` settings written in backticks in a piece of documentation."""
    return {name: json.loads(value) for name, value in re.findall(r'`([a-z_]+) = ("[^"`]*"|true|false|[0-9]+)`', text)}


def deploy_step(number: int) -> str:
    text = DEPLOY.read_text()
    m = re.search(rf"^{number}\. (.*?)(?=^{number + 1}\. |^## )", text, re.M | re.S)
    assert m, f"docs/deploy.md has no step {number}"
    return re.sub(r"\s+", " ", m.group(1))


def first_apply_recommendations() -> dict[str, tuple[str, object]]:
    """Where each recommendation for the first apply of the example is written, and its value."""
    out = {}
    step3 = deploy_step(3)
    assert "hub/examples/organization" in step3 and "Keep the defaults" in step3
    for name, value in settings(step3[step3.index("Keep the defaults"):].split(".")[0]).items():
        out[name] = ("docs/deploy.md step 3", value)
    readme = re.sub(r"\s+", " ", (REPO / "README.md").read_text())
    m = re.search(r"apply `hub/examples/organization`[^,;.]*", readme)
    assert m, "README.md does not say how to apply hub/examples/organization"
    for name, value in settings(m.group(0)).items():
        out[name] = ("README.md", value)
    return out


def test_the_recommendations_are_found():
    # The test reads the documents: it must find what it compares.
    assert {"mode", "sweep_enabled"} <= set(first_apply_recommendations())


@pytest.mark.parametrize("name", sorted(first_apply_recommendations()))
def test_the_example_sets_what_the_docs_recommend_for_the_first_apply(name: str):
    where, value = first_apply_recommendations()[name]
    module = module_block()
    assert name in module, f"hub/examples/organization does not set {name} ({where} recommends {value!r})"
    assert module[name] == value, f"hub/examples/organization sets {name} = {module[name]!r}; {where} says {value!r}"
    # "Keep the defaults": the module's own default is the same.
    assert hub_variables()[name]["default"] == value, f"{where} calls {name} = {value!r} a default"


def test_the_sweep_timeouts_in_the_example_are_the_documented_ones():
    example = (EXAMPLE / "main.tf").read_text()
    comments = "\n".join(line.split("#", 1)[1] for line in example.splitlines() if "#" in line)
    # The worker's timeout (the default engine) and the single invocation's (sweep_engine = "lambda").
    documented = {"sweep_worker_timeout_seconds": (HUB / "README.md").read_text(),
                  "lambda_timeout_seconds": deploy_step(10)}
    for name, doc in documented.items():
        in_example = re.findall(rf"\b{name} = ([0-9]+)", comments)
        in_doc = re.findall(rf"`{name}`?,? (?:= )?([0-9]+)", doc)
        assert in_example and in_doc, (name, in_example, in_doc)
        assert set(in_example) == set(in_doc) == {"900"}, (name, in_example, in_doc)
    assert hub_variables()["sweep_worker_timeout_seconds"]["default"] == 900
    assert "sweep_engine = \"lambda\"" in comments
    assert re.search(r"sweep_enabled\s+= false", example) and "step 10" in comments


def test_the_example_passes_the_audit_role_s_principals_through():
    assert module_block()["audit_trusted_principal_arns"] == "${var.audit_trusted_principal_arns}"
    variables = {unquote(n): body for b in blocks(parse_tf(EXAMPLE / "variables.tf"), "variable") for n, body in b.items()}
    variable = variables["audit_trusted_principal_arns"]
    assert variable["type"] == "${list(string)}" and variable["default"] == []
    assert "audit_trusted_principal_arns" in DEPLOY.read_text()
