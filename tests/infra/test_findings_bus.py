"""The findings bus (hub/events.tf, issue #22): sgguard's own events go to a bus only the hub's
sgguard role may write, never to the hub bus every member of the organization may write."""

from __future__ import annotations

import re

from sgguard_world.files import HUB
from sgguard_world.policies import hub_lambda_policy, module_files, resources

from static_common import hub_outputs, lambda_environment

LAMBDA_ROLE = "${aws_iam_role.lambda.arn}"
FINDINGS = "${aws_cloudwatch_event_bus.findings.arn}"


def _statements(policy: str) -> list[str]:
    """The statements of a jsonencode({...}) policy expression, each as its text."""
    body = policy[policy.index("Statement = [") :]
    return re.findall(r"\{(?:[^{}]|\{[^{}]*\}|\{[^{}]*\{[^{}]*\}[^{}]*\})*\}", body[len("Statement = [") :])


def test_the_findings_bus_admits_only_the_lambda_role():
    res = resources(module_files(HUB))
    bus_policy = res[("aws_cloudwatch_event_bus_policy", "findings")]
    assert bus_policy["event_bus_name"] == "${aws_cloudwatch_event_bus.findings.name}"
    statements = _statements(bus_policy["policy"])
    assert len(statements) == 2, statements
    allows = [s for s in statements if 'Effect = "Allow"' in s]
    denies = [s for s in statements if 'Effect = "Deny"' in s]
    # The one Allow names the Lambda role, nobody else (no `*`, no organization condition).
    (allow,) = allows
    assert f"Principal = {{AWS = {LAMBDA_ROLE[2:-1]}}}" in allow, allow
    assert "PrincipalOrgID" not in bus_policy["policy"]
    # Everyone else (members and the hub account's own principals) is denied PutEvents on it.
    (deny,) = denies
    assert 'Principal = "*"' in deny and 'Action = "events:PutEvents"' in deny, deny
    assert f'ArnNotEquals = {{"aws:PrincipalArn" = {LAMBDA_ROLE[2:-1]}}}' in deny, deny
    for s in statements:
        assert f"Resource = {FINDINGS[2:-1]}" in s, s


def test_the_lambda_puts_its_events_on_the_findings_bus_not_the_hub_bus():
    env = lambda_environment()
    assert "SGGUARD_EVENT_BUS_ARN = aws_cloudwatch_event_bus.findings.arn" in env
    assert "SGGUARD_HUB_BUS_ARN = aws_cloudwatch_event_bus.hub.arn" in env
    # The hub role grants PutEvents on exactly the findings bus.
    policy = hub_lambda_policy()
    grants = re.findall(r'Action = "events:PutEvents", Resource = ([^}]+)\}', policy)
    assert grants == ["aws_cloudwatch_event_bus.findings.arn"], grants
    outputs = hub_outputs()
    assert outputs["findings_bus_arn"]["value"] == FINDINGS


def test_nothing_in_the_hub_lets_members_write_the_findings_bus():
    res = resources(module_files(HUB))
    # The organization-wide grant is on the hub bus only.
    org_grants = [name for (kind, name), body in res.items()
                  if kind == "aws_cloudwatch_event_bus_policy" and "PrincipalOrgID" in body["policy"]]
    assert org_grants == ["hub"], org_grants
    assert "findings" not in res[("aws_cloudwatch_event_bus_policy", "hub")]["policy"]
    # No other resource names the findings bus as something to put events on.
    for (kind, name), body in res.items():
        text = str(body)
        if "aws_cloudwatch_event_bus.findings" in text:
            assert (kind, name) in {("aws_cloudwatch_event_bus_policy", "findings"),
                                     ("aws_iam_role_policy", "lambda")}, (kind, name)
