"""sgguard's emulated AWS world, shared by the pytest suites (tests/hub, tests/infra), the Rust
integration tests (through the emulator's control API), `make demo` and the benches.

    emulator    moto + the counting, fault-injecting proxy; its control API (also builds the
                world for the Rust tests); `python -m sgguard_world.emulator`
    proxy       the emulator's proxy and control API (proxy_state: its counts and deny rules;
                aws_protocol: a request's service and action, AWS-style errors and pages)
    control     the emulator as a child process, and its control API from Python
    org         the Organization: hub and members, OUs, AssumeRole, the spoke StackSet, the hub
                bus and rule, the topic and its SQS inbox
    events      CloudTrail records and their EventBridge envelopes
    ec2         security-group rules as the API returns them and as CloudTrail records them
    lambda_runtime  the binary as the hub Lambda under cargo-lambda
    files       the repository's files the world reads (event pattern, template, action lists)
    iam_check   called actions (tallied by the proxy) against the IAM policies

Importing the package points boto3 at dummy credentials: no real profile, credentials or
instance metadata can be used by anything built on it.
"""

from __future__ import annotations

import os

for _key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_key, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
