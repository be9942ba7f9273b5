"""CloudTrail records and EventBridge envelopes: what the hub receives.

moto has no CloudTrail: the tests, the demo and the benches build each change's record from what
the EC2 API returned, shaped as the real ones (tests/fixtures/cloudtrail), and wrap it as
EventBridge wraps CloudTrail records ("AWS API Call via CloudTrail").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from .files import CLOUDTRAIL_FIXTURES

SOURCE = "aws.ec2"
DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_SOURCE = "ec2.amazonaws.com"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(name: str, account: str, region: str, identity: dict, request: dict, response: dict, *,
           user_agent: str = "aws-cli/2.17.60 md/command#ec2", source_ip: str = "198.51.100.23",
           request_id: str | None = None, event_id: str | None = None, time: str | None = None) -> dict:
    """The CloudTrail record of an EC2 call (`identity` is its userIdentity)."""
    return {
        "eventVersion": "1.10",
        "userIdentity": identity,
        "eventTime": time or now(),
        "eventSource": EVENT_SOURCE,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": request_id or str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def authorize_ingress(account: str, region: str, group_id: str, rule_set: list[dict], actor_arn: str,
                      **kwargs) -> dict:
    """The record of an AuthorizeSecurityGroupIngress that created `rule_set` (CloudTrail's
    `securityGroupRuleSet` items, see `rule_set_items`), made by an assumed role `actor_arn`."""
    identity = {"type": "AssumedRole", "arn": actor_arn, "accountId": account}
    request = {"groupId": group_id, "ipPermissions": {"items": []}}
    response = {"_return": True, "securityGroupRuleSet": {"items": rule_set}}
    return record("AuthorizeSecurityGroupIngress", account, region, identity, request, response, **kwargs)


def tags(name: str, account: str, region: str, resource_ids: list[str], tag_set: dict[str, str | None],
         actor_arn: str, **kwargs) -> dict:
    """The record of a CreateTags or DeleteTags (`name`) on the resources, made by an assumed role
    `actor_arn`: `tag_set` is key -> value (None: DeleteTags of the key whatever its value)."""
    identity = {"type": "AssumedRole", "arn": actor_arn, "accountId": account}
    items = [{"key": k} if v is None else {"key": k, "value": v} for k, v in tag_set.items()]
    request = {"resourcesSet": {"items": [{"resourceId": r} for r in resource_ids]}, "tagSet": {"items": items}}
    response = {"requestId": str(uuid.uuid4()), "_return": True}
    return record(name, account, region, identity, request, response, **kwargs)


def rule_set_items(rules: Iterable[dict]) -> list[dict]:
    """DescribeSecurityGroupRules' rules (boto3) as CloudTrail's `securityGroupRuleSet` items."""
    keys = ("GroupOwnerId", "GroupId", "SecurityGroupRuleId", "IsEgress", "IpProtocol", "FromPort", "ToPort",
            "CidrIpv4", "CidrIpv6", "PrefixListId")
    return [{k[0].lower() + k[1:]: r[k] for k in keys if k in r} for r in rules]


def envelope(detail: dict, *, event_id: str | None = None) -> dict:
    """The EventBridge event of a CloudTrail record, with the member's account and region."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": detail["recipientAccountId"],
        "time": detail["eventTime"],
        "region": detail["awsRegion"],
        "resources": [],
        "detail": detail,
    }


def entry(detail: dict, source: str = SOURCE, detail_type: str = DETAIL_TYPE, bus: str = "default") -> dict:
    """A PutEvents entry carrying a CloudTrail record, as CloudTrail puts it on a default bus."""
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}


def fixture_records() -> list[tuple[str, dict]]:
    """(file name, CloudTrail record) for every shared fixture, envelope or raw record."""
    assert CLOUDTRAIL_FIXTURES.is_dir(), f"shared CloudTrail fixtures missing at {CLOUDTRAIL_FIXTURES}"
    out = []
    for path in sorted(CLOUDTRAIL_FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and "detail" in doc and "detail-type" in doc:
            records = [doc["detail"]]
        elif isinstance(doc, dict) and "Records" in doc:
            records = doc["Records"]
        elif isinstance(doc, list):
            records = doc
        else:
            records = [doc]
        out += [(path.name, r) for r in records if isinstance(r, dict)]
    return out
