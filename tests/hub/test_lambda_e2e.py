"""End to end: the real `sgguard` binary under cargo-lambda's Lambda runtime emulator, invoked
with EventBridge events, against moto (through the sgguard_world emulator's proxy).

The binary runs as the Lambda (AWS_LAMBDA_RUNTIME_API is set by the emulator), reaches the
member account through AssumeRole, revokes the violating rule and notifies SNS; the test reads
the notification back from an SQS queue subscribed to the topic.
"""

from __future__ import annotations

import json
import os

import pytest

from sgguard_world import events
from sgguard_world.control import EmulatorProcess
from sgguard_world.lambda_runtime import HubLambda
from sgguard_world.org import HUB_REGION as REGION
from sgguard_world.org import client


@pytest.fixture(scope="module")
def org():
    """The emulator, with the hub, one member with the spoke stack (the scheduled sweep checks
    it), the topic and the inbox built by its world."""
    emulator = EmulatorProcess()
    world = emulator.control("POST", "world", {
        "ous": ["workloads"],
        "members": [{"name": "workload-e2e", "ou": "workloads"}],
        "spokes": {"ous": ["workloads"], "regions": [REGION]},
    })
    member = world["members"][0]
    credentials = emulator.control("POST", "credentials", {"account": member})
    ec2 = client("ec2", emulator.proxy, REGION, credentials)
    yield {"proxy": emulator.proxy, "member": member, "topic": world["topic_arn"], "ec2": ec2,
           "inbox": lambda: emulator.control("POST", "inbox")["messages"]}
    assert emulator.stop() == 0


@pytest.fixture(scope="module")
def lambda_url(org):
    try:
        hub = HubLambda(org["proxy"], org["topic"], log=os.environ.get("SGGUARD_E2E_LOG"))
    except RuntimeError as error:
        pytest.fail(str(error))
    yield hub
    hub.stop()


def invoke(hub: HubLambda, event: dict) -> tuple[int, dict]:
    return hub.invoke(event)


def ingress(ec2, group: str) -> list:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    return sorted((r["IpProtocol"], r.get("FromPort"), r.get("CidrIpv4")) for r in rules if not r["IsEgress"])


def test_the_lambda_binary_revokes_and_notifies(org, lambda_url):
    ec2 = org["ec2"]
    group = ec2.create_security_group(GroupName="e2e-web", Description="e2e")["GroupId"]
    for port in (22, 443):
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
    rules = events.rule_set_items(
        r
        for r in ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
        if not r["IsEgress"]
    )
    actor = f"arn:aws:sts::{org['member']}:assumed-role/Developer/mallory"
    record = events.authorize_ingress(org["member"], REGION, group, rules, actor)
    status, outcome = invoke(lambda_url, events.envelope(record))
    assert status == 200, outcome
    assert outcome["status"] == "handled"
    assert [f["outcome"] for f in outcome["findings"]] == ["revoked"]
    assert outcome["findings"][0]["from_port"] == 22
    assert ingress(ec2, group) == [("tcp", 443, "0.0.0.0/0")]

    messages = org["inbox"]()
    assert len(messages) == 1
    body = messages[0]
    assert body["MessageAttributes"]["account_id"]["Value"] == org["member"]
    assert body["MessageAttributes"]["actor_arn"]["Value"] == actor
    assert body["MessageAttributes"]["action"]["Value"] == "revoked"
    document = json.loads(body["Message"])
    assert document["event"]["actor_arn"] == actor


def test_a_malformed_event_fails_the_invocation_with_its_error_type(lambda_url):
    status, error = invoke(lambda_url, {"hello": "world"})
    assert status != 200
    assert error["errorType"] == "Sgguard.MalformedEvent", error


def test_the_scheduled_sweep_payload_sweeps_and_sends_one_summary(org, lambda_url):
    ec2 = org["ec2"]
    group = ec2.create_security_group(GroupName="e2e-predates", Description="e2e")["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                       {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    # What hub/schedule.tf sends with sweep_engine = "lambda" (no event was ever seen for this rule).
    status, result = invoke(lambda_url, {"sgguard": "sweep", "regions": [REGION], "remediate": True})
    assert status == 200, result
    assert result["totals"]["revoked"] == 1, result
    assert result["errors"] == []
    assert ingress(ec2, group) == [("tcp", 443, "0.0.0.0/0")]

    messages = org["inbox"]()
    assert len(messages) == 1
    body = messages[0]
    assert body["MessageAttributes"]["kind"]["Value"] == "sweep"
    assert body["MessageAttributes"]["account_id"]["Value"] == org["member"]
    assert body["Subject"].startswith("sgguard sweep: revoked 1 rule(s)"), body["Subject"]
