"""The hub's shared state and the limits around it (issue #20): the DynamoDB state table of
hub/state.tf (schema, billing, point-in-time recovery, the module's key, time to live) as the docs
describe it, the Lambda told its name and allowed exactly the item calls on it, the reserved
concurrency's default and validation, `exemptions_enabled` refused at plan without its file, and
the RCP denying every way into the remediation role. Then the documented table created in the
emulator's moto, its conditional counter and de-duplication, and the counter held under
concurrent requests through the emulator's proxy."""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from parliament import iam_definition

from sgguard_world import state_table
from sgguard_world.files import HUB, REPO, SPOKE, load_hub_actions
from sgguard_world.org import client
from sgguard_world.policies import blocks, hub_lambda_policy, hub_lambda_role_actions, hub_locals, module_files, resources

from static_common import first, hub_outputs, hub_variables, lambda_environment

RCP = SPOKE / "policies" / "sgguard-remediation-role-rcp.json"
STATE_ACTIONS = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]


def hcl_eval(expr: str, var: dict | None = None, local: dict | None = None, self_: dict | None = None):
    """Evaluates the few HCL forms the module's conditions use (`var.`, `local.`, `self.`, `&&`,
    `||`, `==`, `>=`, one `c ? a : b`, `null`, `floor()`, `contains()`) with Python, so that a
    test runs the condition the module writes rather than a copy of it."""
    text = re.fullmatch(r"\$\{(.*)\}", expr, re.S).group(1)
    ternary = re.fullmatch(r"(.+?) \? (.+) : (.+)", text)
    if ternary:
        text = f"({ternary.group(2)}) if ({ternary.group(1)}) else ({ternary.group(3)})"
    for scope in ("var", "local", "self"):
        text = re.sub(rf"\b{scope}\.(\w+)", rf"{scope}_['\1']", text)
    text = text.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"\bnull\b", "None", text)
    namespace = {"var_": var or {}, "local_": local or {}, "self_": self_ or {}, "floor": math.floor,
                 "contains": lambda items, value: value in items}
    return eval(text, {"__builtins__": {}}, namespace)  # noqa: S307 - the module's own expressions


@functools.cache
def hub_files() -> dict:
    """hub/*.tf parsed once for this file's tests (python-hcl2 takes a second or two)."""
    return module_files(HUB)


def hub_blocks(kind: str) -> dict[tuple[str, str], dict]:
    """The module's `resource` or `data` blocks by (type, name)."""
    if kind == "resource":
        return resources(hub_files())
    return {(t, n): body for parsed in hub_files().values() for b in blocks(parsed, kind)
            for t, named in b.items() for n, body in named.items()}


def hub_local(name: str) -> str:
    return next(b[name] for parsed in hub_files().values() for b in blocks(parsed, "locals") if name in b)


def table() -> dict:
    return hub_blocks("resource")[("aws_dynamodb_table", "state")]


def doc_section(path, heading: str) -> str:
    text = path.read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


# ---------------------------------------------------------------------------------------
# The table, as Terraform writes it and as the docs describe it
# ---------------------------------------------------------------------------------------


def test_the_state_table_has_the_documented_schema_and_protections():
    tables = [name for (kind, name) in hub_blocks("resource") if kind == "aws_dynamodb_table"]
    assert tables == ["state"], tables
    t = table()
    assert "count" not in t and "for_each" not in t, "the state table is always created"
    assert t["name"] == "${local.state_table_name}"
    assert hub_local("state_table_name") == "${local.function_name}-state"
    s = state_table.spec()
    assert (s.hash_key, s.range_key) == ("pk", "sk")
    assert s.attributes == {"pk": "S", "sk": "S"}, "only the keys are declared (no index)"
    assert s.billing_mode == "PAY_PER_REQUEST"
    assert (s.ttl_attribute, s.ttl_enabled) == ("expires_at", True)
    assert s.point_in_time_recovery is True
    assert (s.sse_enabled, s.sse_key) == (True, "${aws_kms_key.sgguard.arn}")
    for absent in ("global_secondary_index", "local_secondary_index", "stream_enabled", "read_capacity",
                   "write_capacity", "replica"):
        assert absent not in t, absent
    assert t["tags"] == "${var.tags}"
    outputs = hub_outputs()
    assert outputs["state_table_name"]["value"] == "${aws_dynamodb_table.state.name}"
    assert outputs["state_table_arn"]["value"] == "${aws_dynamodb_table.state.arn}"


def test_the_configuration_page_documents_the_schema_the_module_creates():
    section = doc_section(REPO / "docs" / "configuration.md", "## The hub state table")
    rows = re.findall(r"^\| `(\w+)` \| \w+ \(`([SNB])`\)[^|]* \| ([^|]+) \|$", section, re.M)
    documented = {name: (kind, role.strip()) for name, kind, role in rows}
    s = state_table.spec()
    assert set(documented) == {s.hash_key, s.range_key, s.ttl_attribute}, documented
    assert documented[s.hash_key] == (s.attributes[s.hash_key], "partition key")
    assert documented[s.range_key] == (s.attributes[s.range_key], "sort key")
    assert documented[s.ttl_attribute][0] == "N" and "time-to-live" in documented[s.ttl_attribute][1]
    for word in ("PAY_PER_REQUEST", "point-in-time", "KMS key"):
        assert word in section, word
    for action in STATE_ACTIONS:
        assert f"`{action.split(':')[1]}`" in section or f"`{action}`" in section, action
    # The variables table names the variable (the settings parser is tied to that table).
    page = (REPO / "docs" / "configuration.md").read_text()
    assert re.search(r"^\| `SGGUARD_STATE_TABLE` \| — \| ", page, re.M)


def test_the_deploy_page_creates_the_same_table():
    """The commands an operator runs for a table of their own make the module's table."""
    commands = [line for line in (REPO / "docs" / "deploy.md").read_text().splitlines()
                if line.startswith("aws dynamodb ")]
    by_op = {c.split()[2]: c for c in commands}
    assert set(by_op) == {"create-table", "update-time-to-live", "update-continuous-backups"}, by_op

    def option(command: str, name: str) -> list[str]:
        words = command.split()
        i = words.index(f"--{name}")
        values = []
        for w in words[i + 1:]:
            if w.startswith("--"):
                break
            values.append(w)
        return values

    def pairs(word: str) -> dict:
        return dict(kv.split("=", 1) for kv in word.split(","))

    s = state_table.spec()
    create = by_op["create-table"]
    names = {option(c, "table-name")[0] for c in commands}
    assert len(names) == 1, names
    attributes = {p["AttributeName"]: p["AttributeType"] for p in map(pairs, option(create, "attribute-definitions"))}
    assert attributes == s.attributes
    keys = {p["KeyType"]: p["AttributeName"] for p in map(pairs, option(create, "key-schema"))}
    assert keys == {"HASH": s.hash_key, "RANGE": s.range_key}
    assert option(create, "billing-mode") == [s.billing_mode]
    ttl = pairs(option(by_op["update-time-to-live"], "time-to-live-specification")[0])
    assert ttl == {"Enabled": "true", "AttributeName": s.ttl_attribute}
    pitr = pairs(option(by_op["update-continuous-backups"], "point-in-time-recovery-specification")[0])
    assert pitr == {"PointInTimeRecoveryEnabled": "true"}


def test_the_lambda_is_told_the_table_always():
    env = lambda_environment()
    always = env[: env.index("},")]  # the first map of the merge: set whatever the options
    assert always.startswith("${merge({")
    assert "SGGUARD_STATE_TABLE = aws_dynamodb_table.state.name" in always
    assert env.count("SGGUARD_STATE_TABLE") == 1


def test_the_lambda_role_may_use_only_the_items_of_the_table():
    policy = hub_lambda_policy()
    statement = ('{Sid = "ReadWriteHubState", Effect = "Allow", Action = ['
                 + ", ".join(f'"{a}"' for a in STATE_ACTIONS) + '], Resource = aws_dynamodb_table.state.arn}')
    assert statement in policy
    assert policy.count('"dynamodb:') == len(STATE_ACTIONS), "DynamoDB actions outside ReadWriteHubState"
    assert sorted(a for a in hub_lambda_role_actions() if a.startswith("dynamodb:")) == STATE_ACTIONS
    # The action file says the same (the IAM tally check holds sgguard's calls to it).
    assert sorted(a for a in load_hub_actions()["granted"] if a.startswith("dynamodb:")) == STATE_ACTIONS
    # DynamoDB uses the module key on the Lambda's behalf: the role and the key policy allow it.
    assert ('{Sid = "UseModuleKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey*"], '
            "Resource = aws_kms_key.sgguard.arn}") in policy
    assert ('{Sid = "SgguardLambdaPublishesAndSendsEncrypted", Effect = "Allow", Principal = {AWS = aws_iam_role.lambda.arn}, '
            'Action = ["kms:Decrypt", "kms:GenerateDataKey*"], Resource = "*"}') in hub_locals()["kms_key_statements"]
    assert "DynamoDB" in load_hub_actions()["for_the_lambda_service"]["kms:Decrypt"]


# ---------------------------------------------------------------------------------------
# Reserved concurrency, exemptions, the RCP
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, valid", [
    (10, True), (1, True), (1000, True), (-1, True),
    (0, False), (-2, False), (2.5, False), (-0.5, False),
])
def test_reserved_concurrency_defaults_to_a_reservation(value, valid):
    variable = hub_variables()["reserved_concurrency"]
    assert variable["type"] == "number" and variable["default"] == 10
    assert variable["nullable"] is False, "null would silently mean the provider's default"
    (validation,) = variable["validation"]
    assert hcl_eval(validation["condition"], var={"reserved_concurrency": value}) == valid
    fn = hub_blocks("resource")[("aws_lambda_function", "sgguard")]
    assert fn["reserved_concurrent_executions"] == "${var.reserved_concurrency}"


def exemptions_plan_fails(enabled: bool, yaml: str | None, keys: list[str]) -> bool:
    """Whether a plan fails, by the module's own preconditions: the report bucket's (no
    exemptions_yaml without exemptions_enabled) and the data source's (the file exists)."""
    var = {"exemptions_enabled": enabled, "exemptions_yaml": yaml}
    local = {"exemptions_key": hub_local("exemptions_key")}
    bucket = first(hub_blocks("resource")[("aws_s3_bucket", "reports")]["lifecycle"])
    exemptions = [p for p in bucket["precondition"] if "exemptions" in p["condition"]]
    assert len(exemptions) == 1
    if not hcl_eval(exemptions[0]["condition"], var=var):
        return True
    data = hub_blocks("data")[("aws_s3_objects", "exemptions")]
    if hcl_eval(data["count"], var=var) == 0:
        return False
    (check,) = first(data["lifecycle"])["postcondition"]
    return not hcl_eval(check["condition"], local=local, self_={"keys": keys})


@pytest.mark.parametrize("enabled, yaml, keys, fails", [
    (False, None, [], False),
    (False, "version: 1", [], True),  # written but never read
    (True, "version: 1", [], False),  # Terraform writes it
    (True, None, ["config/exemptions.yaml"], False),  # uploaded before
    (True, None, [], True),  # nothing to read: every event would fail
    (True, None, ["config/exemptions.yaml.bak"], True),  # only a neighbour under the prefix
])
def test_exemptions_enabled_without_a_file_fails_the_plan(enabled, yaml, keys, fails):
    assert exemptions_plan_fails(enabled, yaml, keys) == fails


def test_the_exemptions_file_is_looked_up_at_plan_time():
    data = hub_blocks("data")[("aws_s3_objects", "exemptions")]
    # Known at plan (no attribute of a resource this apply creates): Terraform reads it then.
    assert data["bucket"] == "${local.report_bucket_name}"
    assert data["prefix"] == "${local.exemptions_key}"
    (check,) = first(data["lifecycle"])["postcondition"]
    assert "s3://${local.report_bucket_name}/${local.exemptions_key}" in check["error_message"]
    assert "exemptions_yaml" in check["error_message"]
    assert "otherwise the plan fails" in hub_variables()["exemptions_enabled"]["description"]


def role_actions_of_sts() -> set[str]:
    """Every STS action whose resource can be a role, in parliament's copy of the IAM database:
    the ways into a role (AssumeRole*) and what a trust policy also decides of the session."""
    (sts,) = [s for s in iam_definition if s["prefix"] == "sts"]
    return {f"sts:{p['privilege']}" for p in sts["privileges"]
            if any(r["resource_type"].rstrip("*") == "role" for r in p["resource_types"])}


def test_the_rcp_denies_every_way_into_the_remediation_role():
    (s,) = json.loads(RCP.read_text())["Statement"]
    actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    ways_in = role_actions_of_sts()
    assert {"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"} <= ways_in
    assert sorted(actions) == sorted(ways_in)
    # A SAML or web-identity caller carries no aws:PrincipalArn: only a negated operator denies
    # it (a missing key makes ArnNotLike true).
    ((operator, keys),) = s["Condition"].items()
    assert operator == "ArnNotLike" and list(keys) == ["aws:PrincipalArn"]
    for page in (REPO / "docs" / "security-model.md", SPOKE / "README.md"):
        text = page.read_text()
        for action in ("sts:AssumeRole`", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"):
            assert action in text, f"{page.relative_to(REPO)} does not name {action}"


# ---------------------------------------------------------------------------------------
# The documented table in the emulator
# ---------------------------------------------------------------------------------------


def new_table(endpoint: str) -> tuple[object, str, str]:
    dynamodb = client("dynamodb", endpoint)
    key = client("kms", endpoint).create_key(Description="stands for the module's key")["KeyMetadata"]["Arn"]
    name = f"sgguard-state-{uuid.uuid4().hex[:8]}"
    state_table.create(dynamodb, name, key)
    return dynamodb, name, key


def take(dynamodb, name: str, pk: str, limit: int, expires_at: int = 1_900_000_000) -> bool:
    """One count under `limit`, as the breaker takes it: a conditional atomic update."""
    try:
        dynamodb.update_item(
            TableName=name, Key={"pk": {"S": pk}, "sk": {"S": "count"}},
            UpdateExpression="ADD taken :one SET expires_at = if_not_exists(expires_at, :expires)",
            ConditionExpression="attribute_not_exists(taken) OR taken < :limit",
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}, ":expires": {"N": str(expires_at)}})
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False


def taken(dynamodb, name: str, pk: str) -> dict:
    return dynamodb.get_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"S": "count"}}, ConsistentRead=True)["Item"]


def test_the_documented_table_is_what_dynamodb_describes(moto_endpoint):
    dynamodb, name, key = new_table(moto_endpoint)
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in described["AttributeDefinitions"]) == [("pk", "S"), ("sk", "S")]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (described["SSEDescription"]["SSEType"], described["SSEDescription"]["KMSMasterKeyArn"]) == ("KMS", key)
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    # The keys are strings: anything else is refused.
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=name, Item={"pk": {"N": "1"}, "sk": {"S": "x"}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_a_conditional_counter_stops_at_its_limit(moto_endpoint):
    dynamodb, name, _ = new_table(moto_endpoint)
    hour = "breaker#111122223333#2026-07-18T10"
    assert [take(dynamodb, name, hour, limit=3) for _ in range(5)] == [True, True, True, False, False]
    item = taken(dynamodb, name, hour)
    assert item["taken"] == {"N": "3"}
    assert item["expires_at"] == {"N": "1900000000"}, "the time-to-live attribute is a Number"
    # Another hour (another partition key) has its own count.
    assert take(dynamodb, name, "breaker#111122223333#2026-07-18T11", limit=3)


def test_an_event_id_is_recorded_once(moto_endpoint):
    dynamodb, name, _ = new_table(moto_endpoint)
    item = {"pk": {"S": "event#0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"}, "sk": {"S": "handled"},
            "expires_at": {"N": "1900000000"}}
    dynamodb.put_item(TableName=name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as again:
        dynamodb.put_item(TableName=name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert again.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    found = dynamodb.query(TableName=name, KeyConditionExpression="pk = :pk",
                           ExpressionAttributeValues={":pk": item["pk"]})["Items"]
    assert found == [item]


def test_concurrent_counters_hold_their_limit_through_the_emulator(proxy_endpoint):
    """Many writers at once, as many Lambda instances are: through the proxy (what sgguard talks
    to) exactly `limit` counts are taken. Straight on moto this can exceed the limit (moto's
    conditional updates are not atomic); the proxy forwards DynamoDB's requests one at a time."""
    dynamodb, name, _ = new_table(proxy_endpoint)
    writers = [client("dynamodb", proxy_endpoint) for _ in range(24)]
    for round_ in range(3):
        pk = f"breaker#sweep#{round_}"
        with ThreadPoolExecutor(len(writers)) as pool:
            results = list(pool.map(lambda i: take(writers[i % len(writers)], name, pk, limit=50), range(200)))
        assert sum(results) == 50
        assert taken(dynamodb, name, pk)["taken"] == {"N": "50"}
