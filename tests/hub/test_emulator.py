"""Tests for sgguard_world.emulator (moto + counting, fault-injecting proxy, the world it builds).

Run: /var/tmp/sgguard-venv/bin/python -m pytest -q tests/hub
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ROLE_A = "arn:aws:iam::111111111111:role/sgguard-remediation"
ROLE_B = "arn:aws:iam::222222222222:role/sgguard-remediation"


def start_emulator(*args: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sgguard_world.emulator", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"emulator printed nothing; stderr: {proc.stderr.read().decode()}")
    return proc, json.loads(line)


@pytest.fixture(scope="module")
def emulator():
    proc, urls = start_emulator()
    yield proc, urls
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture
def proxy(emulator):
    _, urls = emulator
    url = urls["proxy"]
    control(url, "POST", "allow")
    control(url, "POST", "reset")
    return url


def control(proxy: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(f"{proxy}/_sgguard/{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def client(service: str, proxy: str, attempts: int = 1):
    return boto3.client(
        service,
        endpoint_url=proxy,
        region_name="us-east-1",
        aws_access_key_id="AKIDTESTING",
        aws_secret_access_key="secret",
        aws_session_token="token",
        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
    )


def test_startup_line(emulator):
    proc, urls = emulator
    assert set(urls) == {"moto", "proxy"}
    for u in urls.values():
        assert u.startswith("http://127.0.0.1:")
    assert urls["moto"] != urls["proxy"]
    assert proc.poll() is None


def test_sts_counts_and_assumed(proxy):
    sts = client("sts", proxy)
    ident = sts.get_caller_identity()
    assert ident["Account"]
    for arn in (ROLE_A, ROLE_B):
        creds = sts.assume_role(RoleArn=arn, RoleSessionName="sgguard")["Credentials"]
        assert creds["AccessKeyId"]
    got = control(proxy, "GET", "counts")
    assert got["counts"] == {"sts:GetCallerIdentity": 1, "sts:AssumeRole": 2}
    assert got["assumed"] == [ROLE_A, ROLE_B]

    # The assumed credentials are usable and land in the role's account in moto.
    creds = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="xx")["Credentials"]
    sts_b = boto3.client("sts", endpoint_url=proxy, region_name="us-east-1",
                         aws_access_key_id=creds["AccessKeyId"],
                         aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])
    assert sts_b.get_caller_identity()["Account"] == "222222222222"

    control(proxy, "POST", "reset")
    got = control(proxy, "GET", "counts")
    assert got["counts"] == {} and got["assumed"] == []


def test_requests_carry_forwarding_seconds(proxy):
    sts = client("sts", proxy)
    t0 = time.perf_counter()
    sts.get_caller_identity()
    sts.assume_role(RoleArn=ROLE_A, RoleSessionName="sgguard")
    elapsed = time.perf_counter() - t0
    got = control(proxy, "GET", "counts")
    assert [r["action"] for r in got["requests"]] == ["sts:GetCallerIdentity", "sts:AssumeRole"]
    for r in got["requests"]:
        assert set(r) == {"action", "denied", "status", "seconds", "access_key", "account"}
        assert isinstance(r["seconds"], float)
        assert 0.0 < r["seconds"] <= elapsed
    assert sum(r["seconds"] for r in got["requests"]) <= elapsed
    control(proxy, "POST", "reset")
    assert control(proxy, "GET", "counts")["requests"] == []


def test_latency_delays_forwarded_requests_only(proxy):
    sts = client("sts", proxy)
    control(proxy, "POST", "latency", {"seconds": 0.2})
    try:
        t0 = time.perf_counter()
        sts.get_caller_identity()
        slow = time.perf_counter() - t0
        t0 = time.perf_counter()
        control(proxy, "GET", "counts")
        control_time = time.perf_counter() - t0
    finally:
        control(proxy, "POST", "latency", {"seconds": 0})
    assert slow >= 0.2
    assert control_time < 0.2, "the control API is not delayed"
    # The forwarding time stays moto's own.
    assert control(proxy, "GET", "counts")["requests"][-1]["seconds"] < 0.2
    for bad in ({"seconds": -1}, {"seconds": "x"}, {"seconds": 11}):
        with pytest.raises(urllib.error.HTTPError) as ei:
            control(proxy, "POST", "latency", bad)
        assert ei.value.code == 400


def test_deny_assume_role_for_one_arn(proxy):
    control(proxy, "POST", "deny", {"action": "sts:AssumeRole", "match": ROLE_B})
    sts = client("sts", proxy)
    with pytest.raises(ClientError) as ei:
        sts.assume_role(RoleArn=ROLE_B, RoleSessionName="sgguard")
    err = ei.value.response
    assert err["Error"]["Code"] == "AccessDenied"
    assert err["Error"]["Message"] == (
        f"User is not authorized to perform: sts:AssumeRole on resource: {ROLE_B}")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    # the other role still works, and the denial is permanent
    sts.assume_role(RoleArn=ROLE_A, RoleSessionName="sgguard")
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=ROLE_B, RoleSessionName="sgguard")
    got = control(proxy, "GET", "counts")
    assert got["counts"] == {"sts:AssumeRole": 3}
    assert got["assumed"] == [ROLE_B, ROLE_A, ROLE_B]
    assert [r["denied"] for r in got["requests"]] == [True, False, True]
    # denied requests never reach moto: no forwarding time
    assert [r["seconds"] == 0.0 for r in got["requests"]] == [True, False, True]

    control(proxy, "POST", "allow")
    sts.assume_role(RoleArn=ROLE_B, RoleSessionName="sgguard")


def test_throttling_times(proxy):
    control(proxy, "POST", "deny", {"action": "sts:AssumeRole", "match": ROLE_A,
                                    "code": "Throttling", "status": 400, "times": 2})
    # without retries: two throttles, then success
    sts = client("sts", proxy, attempts=1)
    for _ in range(2):
        with pytest.raises(ClientError) as ei:
            sts.assume_role(RoleArn=ROLE_A, RoleSessionName="sgguard")
        assert ei.value.response["Error"]["Code"] == "Throttling"
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    sts.assume_role(RoleArn=ROLE_A, RoleSessionName="sgguard")
    assert control(proxy, "GET", "counts")["rules"] == []

    # with SDK retries the throttles are absorbed transparently
    control(proxy, "POST", "reset")
    control(proxy, "POST", "deny", {"action": "sts:AssumeRole", "code": "Throttling",
                                    "status": 400, "times": 2})
    client("sts", proxy, attempts=4).assume_role(RoleArn=ROLE_A, RoleSessionName="sgguard")
    got = control(proxy, "GET", "counts")
    assert got["counts"] == {"sts:AssumeRole": 3}
    assert [r["status"] for r in got["requests"]] == [400, 400, 200]


def test_ec2_describe_security_groups_and_deny(proxy):
    ec2 = client("ec2", proxy)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="sgguard-open", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    groups = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"]
    assert groups[0]["IpPermissions"][0]["FromPort"] == 22
    counts = control(proxy, "GET", "counts")["counts"]
    assert counts["ec2:DescribeSecurityGroups"] == 1
    assert counts["ec2:AuthorizeSecurityGroupIngress"] == 1

    control(proxy, "POST", "deny", {"action": "ec2:RevokeSecurityGroupIngress", "match": sg})
    with pytest.raises(ClientError) as ei:
        ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=groups[0]["IpPermissions"])
    assert ei.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # the rule still in place
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]


def test_organizations_json_protocol(proxy):
    org = client("organizations", proxy)
    try:
        org.create_organization(FeatureSet="ALL")
    except ClientError as e:  # module-scoped emulator: may already exist
        assert e.response["Error"]["Code"] == "AlreadyInOrganizationException"
    accounts = org.list_accounts()["Accounts"]
    assert accounts
    counts = control(proxy, "GET", "counts")["counts"]
    assert counts["organizations:ListAccounts"] == 1

    control(proxy, "POST", "deny", {"action": "organizations:ListAccounts"})
    with pytest.raises(ClientError) as ei:
        org.list_accounts()
    assert ei.value.response["Error"]["Code"] == "AccessDeniedException"


def test_large_body_and_keepalive(proxy):
    s3 = boto3.client("s3", endpoint_url=proxy, region_name="us-east-1",
                      aws_access_key_id="AKIDTESTING", aws_secret_access_key="secret",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="sgguard-big")
    blob = os.urandom(3 * 1024 * 1024)
    s3.put_object(Bucket="sgguard-big", Key="k", Body=blob)
    assert s3.get_object(Bucket="sgguard-big", Key="k")["Body"].read() == blob
    head = s3.head_object(Bucket="sgguard-big", Key="k")
    assert head["ContentLength"] == len(blob)
    s3.delete_object(Bucket="sgguard-big", Key="k")  # 204 No Content
    assert s3.list_objects_v2(Bucket="sgguard-big")["KeyCount"] == 0

    # several requests on one HTTP/1.1 connection, each framed by Content-Length
    host, port = proxy.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    for _ in range(3):
        conn.request("GET", "/_sgguard/counts")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Length")
        json.loads(resp.read())
    conn.request("POST", "/", body="Action=GetCallerIdentity&Version=2011-06-15",
                 headers={"Content-Type": "application/x-www-form-urlencoded",
                          "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x"})
    resp = conn.getresponse()
    assert resp.status == 200 and b"GetCallerIdentityResult" in resp.read()
    conn.close()


def test_control_api_errors(proxy):
    for body in ({}, {"action": 3}, {"action": "sts:AssumeRole", "times": 0}):
        with pytest.raises(urllib.error.HTTPError) as ei:
            control(proxy, "POST", "deny", body)
        assert ei.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as ei:
        control(proxy, "GET", "nope")
    assert ei.value.code == 404


def test_exit_on_sigterm():
    proc, _ = start_emulator("--no-stdin")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stdout.read() == b""


def test_exit_on_stdin_eof(emulator):
    # last test: closes the module-scoped emulator
    proc, urls = emulator
    proc.stdin.close()
    t0 = time.monotonic()
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - t0 < 10
    assert proc.stdout.read() == b""  # nothing but the one startup line
