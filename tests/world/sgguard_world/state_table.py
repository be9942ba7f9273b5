"""The hub state table as hub/state.tf declares it (parsed with python-hcl2), and the same table
created through the DynamoDB API (the emulator's moto, or an account), so that a test, the demo
or an operator's table has exactly the module's schema (docs/configuration.md, "The hub state
table")."""

from __future__ import annotations

from dataclasses import dataclass

from .files import HUB
from .policies import blocks, parse_tf, resources

STATE_TF = HUB / "state.tf"


def _one(block) -> dict:
    """A nested block as python-hcl2 gives it: a list of one dict (or the dict)."""
    if isinstance(block, list):
        assert len(block) == 1, block
        return block[0]
    return block


@dataclass(frozen=True)
class TableSpec:
    """What hub/state.tf says of the table (the literal values; the name is an expression)."""

    billing_mode: str
    hash_key: str
    range_key: str
    attributes: dict[str, str]  # name -> DynamoDB type (S, N, B)
    ttl_attribute: str
    ttl_enabled: bool
    point_in_time_recovery: bool
    sse_enabled: bool
    sse_key: str  # the Terraform expression of the KMS key


def resource() -> dict:
    """The `aws_dynamodb_table.state` block of hub/state.tf, as parsed."""
    return resources({STATE_TF: parse_tf(STATE_TF)})[("aws_dynamodb_table", "state")]


def table_locals() -> dict[str, str]:
    return {k: v for b in blocks(parse_tf(STATE_TF), "locals") for k, v in b.items()}


def spec() -> TableSpec:
    table = resource()
    attributes = table["attribute"] if isinstance(table["attribute"], list) else [table["attribute"]]
    ttl, pitr, sse = (_one(table[name]) for name in ("ttl", "point_in_time_recovery", "server_side_encryption"))
    return TableSpec(
        billing_mode=table["billing_mode"],
        hash_key=table["hash_key"],
        range_key=table["range_key"],
        attributes={a["name"]: a["type"] for a in attributes},
        ttl_attribute=ttl["attribute_name"],
        ttl_enabled=ttl["enabled"],
        point_in_time_recovery=pitr["enabled"],
        sse_enabled=sse["enabled"],
        sse_key=sse["kms_key_arn"],
    )


def create(dynamodb, name: str, kms_key_arn: str | None = None) -> dict:
    """Creates the table `name` as hub/state.tf does (keys, billing, time to live, point-in-time
    recovery; SSE with `kms_key_arn` when given, else DynamoDB's own key) and waits until it is
    active. Returns DescribeTable's `Table`."""
    s = spec()
    args = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in s.attributes.items()],
        "KeySchema": [{"AttributeName": s.hash_key, "KeyType": "HASH"},
                      {"AttributeName": s.range_key, "KeyType": "RANGE"}],
        "BillingMode": s.billing_mode,
    }
    if kms_key_arn:
        args["SSESpecification"] = {"Enabled": s.sse_enabled, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn}
    dynamodb.create_table(**args)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": s.ttl_enabled, "AttributeName": s.ttl_attribute})
    dynamodb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": s.point_in_time_recovery})
    return dynamodb.describe_table(TableName=name)["Table"]
