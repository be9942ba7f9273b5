"""People who change security groups in the organization's accounts: IAM users and role
sessions, each with the CloudTrail userIdentity its calls are recorded with."""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import events
from .ec2 import Call
from .org import ADMIN_ROLE, HUB_REGION, Org, WorldError, client


@dataclass
class Actor:
    """Someone working in one account and (for a story) one region."""

    name: str  # for the tables: "alice", "bob (Developer)"
    account: str
    region: str
    credentials: dict  # AssumeRole's Credentials, or an access key as boto3 keyword arguments
    endpoint: str
    identity: dict  # CloudTrail's userIdentity
    user_agent: str
    source_ip: str

    @property
    def arn(self) -> str:
        return self.identity["arn"]

    def client(self, service: str, region: str | None = None):
        return client(service, self.endpoint, region or self.region, self.credentials)

    def record(self, call: Call) -> dict:
        """The CloudTrail record of a call this actor made (shaped as tests/fixtures/cloudtrail)."""
        return events.record(call.name, self.account, self.region, self.identity, call.request, call.response,
                             user_agent=self.user_agent, source_ip=self.source_ip, request_id=call.request_id)


def whoami(org: Org, credentials: dict, account: str) -> dict:
    who = org.client("sts", HUB_REGION, credentials).get_caller_identity()
    if who["Account"] != account:
        raise WorldError(f"{who['Arn']} landed in account {who['Account']}, not {account}")
    return who


def role_session(org: Org, account: str, role: str, session_name: str, region: str, *,
                 user_agent: str = "aws-cli/2.17.60 md/command#ec2") -> Actor:
    """Someone working through a role of the account, which its administrator creates first
    (trusting the account), assumed from the hub."""
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}
    document = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    org.member("iam", account).create_role(RoleName=role, AssumeRolePolicyDocument=document)
    credentials = org.credentials(account, role, session_name)
    who = whoami(org, credentials, account)
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    issuer = {"type": "Role", "principalId": who["UserId"].split(":")[0], "arn": role_arn, "accountId": account}
    identity = {
        "type": "AssumedRole",
        "principalId": who["UserId"],
        "arn": who["Arn"],
        "accountId": account,
        "accessKeyId": credentials["AccessKeyId"],
        "sessionContext": {
            "sessionIssuer": {**issuer, "userName": role},
            "attributes": {"creationDate": events.now(), "mfaAuthenticated": "false"},
        },
    }
    name = f"{session_name} ({role})"
    return Actor(name, account, region, credentials, org.endpoint, identity, user_agent, "198.51.100.23")


def iam_user(org: Org, account: str, name: str, region: str, user_agent: str = "console.ec2.amazonaws.com") -> Actor:
    """An IAM user of the account, with an access key of its own (its administrator creates both)."""
    iam = org.member("iam", account)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    credentials = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    who = whoami(org, credentials, account)
    identity = {
        "type": "IAMUser",
        "principalId": who["UserId"],
        "arn": who["Arn"],
        "accountId": account,
        "accessKeyId": key["AccessKeyId"],
        "userName": name,
    }
    return Actor(name, account, region, credentials, org.endpoint, identity, user_agent, "203.0.113.77")


def admin(org: Org, account: str, region: str = HUB_REGION) -> Actor:
    """The account's administrator (OrganizationAccountAccessRole, assumed from the hub)."""
    credentials = org.credentials(account)
    who = whoami(org, credentials, account)
    identity = {"type": "AssumedRole", "principalId": who["UserId"], "arn": who["Arn"], "accountId": account}
    return Actor(f"admin ({ADMIN_ROLE})", account, region, credentials, org.endpoint, identity,
                 "aws-cli/2.17.60 md/command#ec2", "198.51.100.23")
