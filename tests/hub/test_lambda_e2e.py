"""End to end: the real `sgguard` binary under cargo-lambda's Lambda runtime emulator, invoked
with EventBridge events, against moto (through tests/hub/emulator.py's proxy).

The binary runs as the Lambda (AWS_LAMBDA_RUNTIME_API is set by the emulator), reaches the
member account through AssumeRole, revokes the violating rule and notifies SNS; the test reads
the notification back from an SQS queue subscribed to the topic.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
EMULATOR = REPO / "tests" / "hub" / "emulator.py"
HUB_KEY = ("AKIAHUBTESTING000001", "hub-secret")
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cargo_lambda() -> str:
    found = shutil.which("cargo-lambda") or str(Path(sys.executable).parent / "cargo-lambda")
    if not os.path.exists(found):
        pytest.fail("cargo-lambda is not installed in the venv: run `make venv`")
    return found


@pytest.fixture(scope="module")
def emulator():
    process = subprocess.Popen(
        [sys.executable, str(EMULATOR)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    urls = json.loads(process.stdout.readline())
    yield urls["proxy"]
    process.stdin.close()
    process.wait(timeout=20)


def client(service: str, proxy: str, key=HUB_KEY, token=None):
    return boto3.client(
        service,
        endpoint_url=proxy,
        region_name=REGION,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        aws_session_token=token,
    )


@pytest.fixture(scope="module")
def org(emulator):
    organizations = client("organizations", emulator)
    organizations.create_organization(FeatureSet="ALL")
    member = organizations.create_account(AccountName="workload-e2e", Email="e2e@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    sns = client("sns", emulator)
    topic = sns.create_topic(Name="sgguard-e2e")["TopicArn"]
    sqs = client("sqs", emulator)
    queue = sqs.create_queue(QueueName="inbox-e2e")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    assumed = client("sts", emulator).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )["Credentials"]
    ec2 = client(
        "ec2",
        emulator,
        key=(assumed["AccessKeyId"], assumed["SecretAccessKey"]),
        token=assumed["SessionToken"],
    )
    return {"proxy": emulator, "member": member, "topic": topic, "queue": queue, "sqs": sqs, "ec2": ec2}


@pytest.fixture(scope="module")
def lambda_url(org):
    port = free_port()
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", "/var/tmp/sgguard-target")
    variables = {
        "AWS_ENDPOINT_URL": org["proxy"],
        "AWS_ACCESS_KEY_ID": HUB_KEY[0],
        "AWS_SECRET_ACCESS_KEY": HUB_KEY[1],
        "AWS_REGION": REGION,
        "SGGUARD_TOPIC_ARN": org["topic"],
        "SGGUARD_MODE": "enforce",
        "SGGUARD_LOG": "info",
    }
    command = [cargo_lambda(), "lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", str(port),
               "--bin", "sgguard"]
    for name, value in variables.items():
        command += ["--env-var", f"{name}={value}"]
    log = open(os.environ["SGGUARD_E2E_LOG"], "w") if os.environ.get("SGGUARD_E2E_LOG") else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                pytest.fail("cargo lambda watch did not start")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/2015-03-31/functions/sgguard/invocations"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def invoke(url: str, event: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
    # The first invocation builds the binary (cargo run): allow for it.
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def event(member: str, group: str, rules: list, actor: str) -> dict:
    return {
        "version": "0",
        "id": "e2e-event",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": member,
        "time": "2026-11-27T08:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"type": "AssumedRole", "arn": actor, "accountId": member},
            "eventTime": "2026-11-27T08:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": REGION,
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "console.amazonaws.com",
            "requestParameters": {"groupId": group, "ipPermissions": {"items": []}},
            "responseElements": {"_return": True, "securityGroupRuleSet": {"items": rules}},
            "eventID": "e2e-event-id",
            "recipientAccountId": member,
        },
    }


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
    rules = [
        {"groupId": group, "securityGroupRuleId": r["SecurityGroupRuleId"], "isEgress": False,
         "ipProtocol": r["IpProtocol"], "fromPort": r["FromPort"], "toPort": r["ToPort"], "cidrIpv4": r["CidrIpv4"]}
        for r in ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    actor = f"arn:aws:sts::{org['member']}:assumed-role/Developer/mallory"
    status, outcome = invoke(lambda_url, event(org["member"], group, rules, actor))
    assert status == 200, outcome
    assert outcome["status"] == "handled"
    assert [f["outcome"] for f in outcome["findings"]] == ["revoked"]
    assert outcome["findings"][0]["from_port"] == 22
    assert ingress(ec2, group) == [("tcp", 443, "0.0.0.0/0")]

    messages = org["sqs"].receive_message(QueueUrl=org["queue"], MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["MessageAttributes"]["account_id"]["Value"] == org["member"]
    assert body["MessageAttributes"]["actor_arn"]["Value"] == actor
    assert body["MessageAttributes"]["action"]["Value"] == "revoked"
    document = json.loads(body["Message"])
    assert document["event"]["actor_arn"] == actor
    org["sqs"].delete_message(QueueUrl=org["queue"], ReceiptHandle=messages[0]["ReceiptHandle"])


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
    # What hub/schedule.tf sends (no event was ever seen for this rule).
    status, result = invoke(lambda_url, {"sgguard": "sweep", "regions": [REGION], "remediate": True})
    assert status == 200, result
    assert result["totals"]["revoked"] == 1, result
    assert result["errors"] == []
    assert ingress(ec2, group) == [("tcp", 443, "0.0.0.0/0")]

    messages = org["sqs"].receive_message(QueueUrl=org["queue"], MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["MessageAttributes"]["kind"]["Value"] == "sweep"
    assert body["MessageAttributes"]["account_id"]["Value"] == org["member"]
    assert body["Subject"].startswith("sgguard sweep: revoked 1 rule(s)"), body["Subject"]
    org["sqs"].delete_message(QueueUrl=org["queue"], ReceiptHandle=messages[0]["ReceiptHandle"])
