"""The emulated Organization, built through the AWS APIs the way AWS allows it.

The hub is the organization's management account (access key AKIAHUBTESTING000001); members
are created by Organizations, placed in OUs (nested ones too), and reached only through
AssumeRole into OrganizationAccountAccessRole. On request: the spoke template rolled out to OUs
by a SERVICE_MANAGED StackSet (as hub/stackset.tf does), the hub bus with the organization's
bus policy and the hub rule (hub/events.tf, hub/event-pattern.json) targeting an SQS queue (moto
cannot run a provided.al2023 Lambda as a rule target), and the SNS topic with the security
inbox, an SQS queue subscribed to it (hub/notifications.tf).
"""

from __future__ import annotations

import json
import time
from urllib.parse import unquote
from collections.abc import Iterable, Sequence

import boto3
from botocore.config import Config

from .files import SPOKE_TEMPLATE, load_event_pattern

HUB_KEY = {"aws_access_key_id": "AKIAHUBTESTING000001", "aws_secret_access_key": "hub-secret"}
HUB_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
REGIONS = (HUB_REGION, OTHER_REGION)  # the StackSet's primary region first
ADMIN_ROLE = "OrganizationAccountAccessRole"  # what Organizations creates in a new account
REMEDIATION_ROLE = "sgguard-remediation"
HUB_LAMBDA_ROLE = "sgguard-lambda"
# Its unique id as the hub module passes it to the spokes (HubRoleUniqueId; moto's world does not
# create the role itself).
HUB_LAMBDA_ROLE_ID = "AROAEXAMPLEHUBLAMBDA1"
STACK_SET = "sgguard-spoke"
HUB_BUS = "sgguard-hub"
HUB_RULE = "sgguard-sg-changes"
TOPIC = "sgguard-notifications"
INBOX = "security-inbox"


class WorldError(Exception):
    """The emulated world could not be built as asked."""


def client(service: str, endpoint: str, region: str = HUB_REGION, credentials: dict | None = None,
           config: Config | None = None):
    """A boto3 client on the emulator, with the hub's key or the given credentials (AWS's
    AssumeRole `Credentials`, or boto3 keyword arguments)."""
    keys = dict(HUB_KEY)
    if credentials and "AccessKeyId" in credentials:
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials.get("SessionToken"),
        }
    elif credentials:
        keys = dict(credentials)
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=config, **keys)


def queue(sqs, name: str) -> tuple[str, str]:
    """A new SQS queue: its URL and ARN."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


class Org:
    """An Organization in the emulator at `endpoint`: the hub (management account) and members."""

    def __init__(self, endpoint: str, config: Config | None = None) -> None:
        self.endpoint = endpoint
        self.config = config
        me = self.client("sts").get_caller_identity()
        self.hub = me["Account"]
        # The hub's own key: the operator, an IAM user of the hub account.
        self.operator_arn = me["Arn"].replace(":sts::", ":iam::", 1)
        # Evaluate role trust policies on AssumeRole (sgguard_world.trust), as STS does.
        self.trust = False
        self.org_id = self.root = ""
        self.ous: dict[str, str] = {}  # OU name -> id
        self.accounts: dict[str, str] = {}  # member name -> id, in creation order
        self.names: dict[str, str] = {self.hub: "hub"}  # account id -> name
        self.bus_arn = self.trigger_url = self.topic_arn = self.inbox_url = ""
        self._admin: dict[str, dict] = {}

    def client(self, service: str, region: str = HUB_REGION, credentials: dict | None = None):
        """A client of the hub account (or of whoever the credentials are)."""
        return client(service, self.endpoint, region, credentials, self.config)

    @property
    def members(self) -> list[str]:
        return list(self.accounts.values())

    # -- accounts and OUs ---------------------------------------------------------------------

    def create(self, members: Iterable[str | tuple[str, str | None]],
               ous: Iterable[str | tuple[str, str | None]] = ()) -> Org:
        """The organization (all features), its OUs (name, parent OU name or None for the root),
        created in order, and the members (name, OU name or None), created below the root and
        moved into their OU."""
        organizations = self.client("organizations")
        self.org_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        self.root = organizations.list_roots()["Roots"][0]["Id"]
        for spec in ous:
            name, parent = (spec, None) if isinstance(spec, str) else spec
            parent_id = self.ous[parent] if parent else self.root
            unit = organizations.create_organizational_unit(ParentId=parent_id, Name=name)
            self.ous[name] = unit["OrganizationalUnit"]["Id"]
        for spec in members:
            name, ou = (spec, None) if isinstance(spec, str) else spec
            status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
            status = status["CreateAccountStatus"]
            if status["State"] != "SUCCEEDED":
                raise WorldError(f"creating account {name}: {status}")
            account = self.accounts[name] = status["AccountId"]
            self.names[account] = name
            if ou:
                organizations.move_account(AccountId=account, SourceParentId=self.root,
                                           DestinationParentId=self.ous[ou])
        return self

    def credentials(self, account: str, role: str = ADMIN_ROLE, session: str = "sgguard-world") -> dict:
        """AssumeRole from the hub into `role` of the account (never moto's backdoors); checked to
        land in that account. The administrator's credentials are kept."""
        if role == ADMIN_ROLE and account in self._admin:
            return self._admin[account]
        role_arn = f"arn:aws:iam::{account}:role/{role}"
        credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        who = self.client("sts", credentials=credentials).get_caller_identity()
        if who["Account"] != account:
            raise WorldError(f"AssumeRole into {role_arn} landed in {who['Account']}, not {account}")
        if role == ADMIN_ROLE:
            self._admin[account] = credentials
        return credentials

    def trust_denial(self, caller_arn: str | None, role_arn: str) -> str | None:
        """Why the caller (an STS ARN; None: the hub's own key) may not assume `role_arn`, as
        its trust policy says (read from IAM in the role's account), or None when it may."""
        from .trust import Caller, denial

        caller = Caller.of(caller_arn or self.operator_arn,
                           lambda a: self.org_id if a == self.hub or a in self.names else None)
        account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
        iam = self.in_account("iam", account)
        try:
            policy = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            policy = None
        if isinstance(policy, str):
            policy = json.loads(unquote(policy))
        return denial(policy, caller, role_arn)

    def member(self, service: str, account: str, region: str = HUB_REGION):
        """A client in a member account, as its administrator."""
        return self.client(service, region, self.credentials(account))

    def in_account(self, service: str, account: str, region: str = HUB_REGION):
        """A client in any account of the organization (the hub's own, or a member's
        administrator)."""
        return self.client(service, region) if account == self.hub else self.member(service, account, region)

    def ec2(self, account: str, region: str = HUB_REGION):
        """EC2 in any account of the organization."""
        return self.in_account("ec2", account, region)

    # -- the spoke StackSet ---------------------------------------------------------------------

    def spoke_parameters(self, primary_region: str, role_name: str = REMEDIATION_ROLE,
                         audit_trusted: Sequence[str] = ()) -> list[dict]:
        """The spoke template's parameters as the hub module passes them."""
        parameters = {
            "HubAccountId": self.hub,
            "HubRegion": HUB_REGION,
            "HubEventBusName": HUB_BUS,
            "HubLambdaRoleArn": self.hub_lambda_role_arn,
            "HubRoleUniqueId": HUB_LAMBDA_ROLE_ID,
            "RemediationRoleName": role_name,
            "PrimaryRegion": primary_region,
            "OrganizationId": self.org_id,
            "AuditTrustedPrincipalArns": ",".join(audit_trusted),
        }
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]

    def deploy_spokes(self, ous: Sequence[str], regions: Sequence[str] = REGIONS,
                      role_name: str = REMEDIATION_ROLE, audit_trusted: Sequence[str] = ()) -> None:
        """hub/stackset.tf: the spoke template to the OUs (by name), one region after the other,
        the primary region first."""
        cfn = self.client("cloudformation")
        cfn.create_stack_set(
            StackSetName=STACK_SET,
            TemplateBody=SPOKE_TEMPLATE.read_text(),
            PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            CallAs="SELF",
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=self.spoke_parameters(regions[0], role_name, audit_trusted),
        )
        targets = {"OrganizationalUnitIds": [self.ous[ou] for ou in ous]}
        for region in regions:  # aws_cloudformation_stack_set_instance.primary, then .other
            operation = cfn.create_stack_instances(StackSetName=STACK_SET, DeploymentTargets=targets,
                                                   Regions=[region], CallAs="SELF")
            done = cfn.describe_stack_set_operation(StackSetName=STACK_SET, OperationId=operation["OperationId"])
            if done["StackSetOperation"]["Status"] != "SUCCEEDED":
                raise WorldError(f"StackSet instances in {region}: {done['StackSetOperation']}")

    def deploy_hub_spoke(self, regions: Sequence[str], audit_trusted: Sequence[str] = ()) -> None:
        """hub/hub_account.tf: the spoke template in the hub account itself, in its regions
        besides the home region (the roles in the first of them), as plain stacks."""
        for region in regions:
            self.client("cloudformation", region).create_stack(
                StackName=f"{STACK_SET}-hub", TemplateBody=SPOKE_TEMPLATE.read_text(),
                Capabilities=["CAPABILITY_NAMED_IAM"],
                Parameters=self.spoke_parameters(regions[0], audit_trusted=audit_trusted))

    @property
    def hub_lambda_role_arn(self) -> str:
        return f"arn:aws:iam::{self.hub}:role/{HUB_LAMBDA_ROLE}"

    # -- the hub: bus, rule, topic, inbox ------------------------------------------------------

    def build_hub_bus(self, target_queue: str) -> None:
        """The hub side of hub/events.tf: the bus, the organization's permission to put events on
        it, and the rule (hub/event-pattern.json) with an SQS queue standing in for the Lambda."""
        events, sqs = self.client("events"), self.client("sqs")
        self.bus_arn = events.create_event_bus(Name=HUB_BUS)["EventBusArn"]
        statement = {
            "Sid": "OrganizationPutsEvents",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": self.bus_arn,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": self.org_id}},
        }
        events.put_permission(EventBusName=HUB_BUS, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        self.trigger_url, trigger_arn = queue(sqs, target_queue)
        events.put_rule(Name=HUB_RULE, EventBusName=HUB_BUS, EventPattern=json.dumps(load_event_pattern()))
        events.put_targets(Rule=HUB_RULE, EventBusName=HUB_BUS, Targets=[{"Id": "lambda-stand-in", "Arn": trigger_arn}])

    def notifications(self, topic: str = TOPIC, inbox: str = INBOX) -> None:
        """hub/notifications.tf: the topic, and the security inbox subscribed to it."""
        sns = self.client("sns")
        self.topic_arn = sns.create_topic(Name=topic)["TopicArn"]
        self.inbox_url, inbox_arn = queue(self.client("sqs"), inbox)
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=inbox_arn)

    def drain(self, queue_url: str) -> list[dict]:
        """Every message body waiting in the queue (JSON), deleted once read, oldest first."""
        sqs, bodies = self.client("sqs"), []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def inbox(self) -> list[dict]:
        """Every notification delivered to the security inbox (SNS envelopes), oldest first."""
        return self.drain(self.inbox_url)

    def forwarded(self, event_id: str, seconds: float = 10, checkpoint=lambda: None) -> dict:
        """The event with this CloudTrail eventID, as the hub rule delivered it to its target."""
        sqs = self.client("sqs")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            checkpoint()
            received = sqs.receive_message(QueueUrl=self.trigger_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in received.get("Messages", []):
                sqs.delete_message(QueueUrl=self.trigger_url, ReceiptHandle=message["ReceiptHandle"])
                event = json.loads(message["Body"])
                if event.get("detail", {}).get("eventID") == event_id:
                    return event
        raise WorldError(f"event {event_id} never reached the hub bus's rule")

    # -- for the control API ---------------------------------------------------------------------

    def describe(self) -> dict:
        return {
            "hub": self.hub,
            "operator_arn": self.operator_arn,
            "organization_id": self.org_id,
            "root": self.root,
            "accounts": self.accounts,
            "members": self.members,
            "ous": self.ous,
            "bus_arn": self.bus_arn,
            "trigger_queue_url": self.trigger_url,
            "topic_arn": self.topic_arn,
            "queue_url": self.inbox_url,
        }


def build(endpoint: str, spec: dict) -> Org:
    """The world a control request (POST /_sgguard/world) asks for:

        {"members": ["a", {"name": "b", "ou": "prod"}],
         "ous": ["prod", {"name": "sandbox", "parent": "dev"}],
         "notifications": true,               (topic + inbox; default true)
         "spokes": {"ous": ["prod"], "regions": ["us-east-1", "eu-west-1"]},   (optional)
         "hub_bus": "queue-name",             (optional: the hub bus and rule, SQS target)
         "hub_spoke_regions": ["eu-west-1"],  (optional: the hub account's own spoke stacks)
         "trust": true}                       (optional: AssumeRole checks the role's trust
                                               policy, sgguard_world.trust; off by default)
    """
    def pairs(items, key):
        out = []
        for item in items or ():
            if isinstance(item, str):
                out.append((item, None))
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                out.append((item["name"], item.get(key)))
            else:
                raise WorldError(f"not a name or {{'name', '{key}'}}: {item!r}")
        return out

    org = Org(endpoint).create(pairs(spec.get("members"), "ou"), pairs(spec.get("ous"), "parent"))
    if spec.get("notifications", True):
        org.notifications()
    if spec.get("hub_bus"):
        org.build_hub_bus(str(spec["hub_bus"]))
    if spec.get("spokes"):
        org.deploy_spokes(spec["spokes"].get("ous", []), spec["spokes"].get("regions", REGIONS),
                          audit_trusted=spec["spokes"].get("audit_trusted_principal_arns", []))
    if spec.get("hub_spoke_regions"):
        org.deploy_hub_spoke(spec["hub_spoke_regions"],
                             (spec.get("spokes") or {}).get("audit_trusted_principal_arns", []))
    org.trust = bool(spec.get("trust"))
    return org
