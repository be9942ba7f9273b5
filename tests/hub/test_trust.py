"""The emulator's AssumeRole checks the role's trust policy in a world built with "trust"
(sgguard_world.trust): the evaluator's verdicts on the statements sgguard's templates write, and
the spoke StackSet's roles end to end — the audit role lets in the principals named in
AuditTrustedPrincipalArns and nobody else of the hub, the remediation role only the hub's Lambda
role, a role that does not exist nobody."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from sgguard_world.control import EmulatorProcess
from sgguard_world.org import client
from sgguard_world.trust import Caller, denial

ORG = "o-abcdefghij"
HUB = "111122223333"
ROLE = "arn:aws:iam::222233334444:role/sgguard-audit"


def caller(arn: str, org: str | None = ORG) -> Caller:
    return Caller.of(arn, lambda _account: org)


def trust(principal, condition=None, effect="Allow") -> dict:
    statement = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


IN_ORG = {"StringEquals": {"aws:PrincipalOrgID": ORG}}
LAMBDA = f"arn:aws:iam::{HUB}:role/sgguard-lambda"


def test_a_named_role_lets_in_that_role_in_the_organization_only():
    policy = trust({"AWS": LAMBDA}, IN_ORG)
    assert denial(policy, caller(f"arn:aws:sts::{HUB}:assumed-role/sgguard-lambda/s1"), ROLE) is None
    assert "not authorized" in denial(policy, caller(f"arn:aws:sts::{HUB}:assumed-role/other/s1"), ROLE)
    assert "not authorized" in denial(policy, caller(f"arn:aws:sts::{HUB}:user/moto"), ROLE)
    # The right role of an account outside the organization.
    assert denial(policy, caller(f"arn:aws:sts::{HUB}:assumed-role/sgguard-lambda/s1", org=None), ROLE)


def test_an_account_principal_lets_in_anyone_of_that_account():
    for named in (HUB, f"arn:aws:iam::{HUB}:root"):
        assert denial(trust({"AWS": named}), caller(f"arn:aws:sts::{HUB}:user/moto"), ROLE) is None
    assert denial(trust({"AWS": HUB}), caller("arn:aws:sts::999999999999:user/moto"), ROLE)


def test_a_role_named_with_its_path_matches_the_assumed_role():
    policy = trust({"AWS": f"arn:aws:iam::{HUB}:role/teams/ci"})
    assert denial(policy, caller(f"arn:aws:sts::{HUB}:assumed-role/ci/run-1"), ROLE) is None


def test_a_service_principal_or_another_action_lets_no_one_in():
    assert denial(trust({"Service": "lambda.amazonaws.com"}), caller(f"arn:aws:sts::{HUB}:user/moto"), ROLE)
    policy = trust({"AWS": HUB})
    policy["Statement"][0]["Action"] = "sts:TagSession"
    assert denial(policy, caller(f"arn:aws:sts::{HUB}:user/moto"), ROLE)


def test_an_explicit_deny_wins_and_an_unknown_condition_grants_nothing():
    me = caller(f"arn:aws:sts::{HUB}:user/moto")
    policy = trust({"AWS": HUB})
    policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "sts:*",
                                "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-other"}}})
    assert "explicit deny" in denial(policy, me, ROLE)
    unknown = trust({"AWS": HUB}, {"StringEquals": {"sts:ExternalId": "x"}})
    assert denial(unknown, me, ROLE)
    assert "does not exist" in denial(None, me, ROLE)


@pytest.fixture(scope="module")
def world():
    emulator = EmulatorProcess()
    # The operator: the hub's own key, as IAM names it.
    me = client("sts", emulator.proxy).get_caller_identity()["Arn"].replace(":sts::", ":iam::", 1)
    described = emulator.control("POST", "world", {
        "ous": ["prod"],
        "members": [{"name": "app", "ou": "prod"}],
        "spokes": {"ous": ["prod"], "regions": ["us-east-1"], "audit_trusted_principal_arns": [me]},
        "trust": True,
    })
    assert described["operator_arn"] == me
    yield emulator, described
    emulator.stop()


def assume(proxy: str, role_arn: str, credentials: dict | None = None) -> dict:
    return client("sts", proxy, credentials=credentials).assume_role(
        RoleArn=role_arn, RoleSessionName="trust-test")["Credentials"]


def test_the_spoke_roles_let_in_exactly_whom_they_trust(world):
    emulator, described = world
    app = described["accounts"]["app"]
    # The operator named in AuditTrustedPrincipalArns: the audit role, not the remediation role.
    audit = assume(emulator.proxy, f"arn:aws:iam::{app}:role/sgguard-audit")
    who = client("sts", emulator.proxy, credentials=audit).get_caller_identity()
    assert who["Arn"].startswith(f"arn:aws:sts::{app}:assumed-role/sgguard-audit/")
    with pytest.raises(ClientError) as refused:
        assume(emulator.proxy, f"arn:aws:iam::{app}:role/sgguard-remediation")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert described["operator_arn"] in refused.value.response["Error"]["Message"]
    # A role that does not exist.
    with pytest.raises(ClientError):
        assume(emulator.proxy, f"arn:aws:iam::{app}:role/no-such-role")
    # The audit role's session is not the operator: it cannot go on into the audit role of
    # itself (the trust names the hub's principals only).
    with pytest.raises(ClientError):
        assume(emulator.proxy, f"arn:aws:iam::{app}:role/sgguard-audit", credentials=audit)
    # Organizations' administrator role trusts the management account: the operator gets in.
    assume(emulator.proxy, f"arn:aws:iam::{app}:role/OrganizationAccountAccessRole")
