"""The hub module's Lambda (hub/*.tf, parsed with python-hcl2): its settings and defaults, the sweep
payload the schedule sends, asynchronous invocations and their DLQ, the alarms and their topic,
the `live` alias, staged enforcement (`mode_by_scope`), the sweep's regions and the StackSet
coverage reads."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from sgguard_world.files import HUB, REPO, SWEEP_PAYLOAD_SCHEMA_FILE, load_hub_actions
from sgguard_world.policies import hub_lambda_policy, hub_locals, module_files, resources

from static_common import first, hub_outputs, hub_variables, lambda_environment, validation_regex


def test_lambda_settings():
    res = resources(module_files(HUB))
    fn = res[("aws_lambda_function", "sgguard")]
    assert fn["runtime"] == "provided.al2023"
    assert fn["handler"] == "bootstrap"
    assert fn["architectures"] == ["${var.lambda_architecture}"]
    env = hub_locals()["lambda_environment"]
    for key in ("SGGUARD_MODE", "SGGUARD_TOPIC_ARN", "SGGUARD_ROLE_NAME", "SGGUARD_POLICY", "SGGUARD_REGIONS",
                "SGGUARD_MAX_REVOKES_PER_EVENT", "SGGUARD_MAX_REVOKES_PER_ACCOUNT_HOUR", "SGGUARD_MAX_REVOKES_PER_SWEEP",
                "SGGUARD_RECORD_QUEUE_URL", "SGGUARD_HUB_BUS_ARN", "SGGUARD_TRUSTED_PRINCIPALS"):
        assert key in env, f"Lambda environment lacks {key}"
    assert "/var/task/policy.yaml" in env
    # sgguard's own records go to the queue the DLQ alarm watches; the tamper check knows the
    # hub bus and the one principal the members' remediation role may trust.
    assert "SGGUARD_RECORD_QUEUE_URL = aws_sqs_queue.dlq.url" in env
    assert "SGGUARD_HUB_BUS_ARN = aws_cloudwatch_event_bus.hub.arn" in env
    assert "SGGUARD_TRUSTED_PRINCIPALS = aws_iam_role.lambda.arn" in env
    variables = hub_variables()
    assert variables["lambda_architecture"]["default"] == "x86_64"
    assert variables["sweep_enabled"]["default"] is False
    assert variables["mode"]["default"] == "audit"
    # The circuit breaker's limits, as the binary's defaults.
    assert [variables[f"max_revokes_per_{n}"]["default"] for n in ("event", "account_hour", "sweep")] == [20, 50, 200]
    # Like mode: the sweep reports until the operator turns remediation on.
    assert variables["sweep_remediate"]["default"] is False
    assert hub_locals()["sweep_payload"].count("remediate = var.sweep_remediate") == 1
    # reserved_concurrency reaches the function as given (-1 = no reservation, the provider's
    # default); its default and validation: test_hub_state.py.
    assert fn["reserved_concurrent_executions"] == "${var.reserved_concurrency}"


def test_the_sweep_payload_uses_only_keys_the_lambda_reads():
    """The Lambda rejects unknown payload keys (serde deny_unknown_fields): every key the
    schedule can send must be a property of hub/sweep-payload.schema.json, the payload's
    contract (the Rust tests check that `SweepRequest` agrees with it)."""
    schedule = (HUB / "schedule.tf").read_text()
    payload = schedule[schedule.index("sweep_payload = merge("):schedule.index('resource "aws_scheduler_schedule"')]
    sent = set(re.findall(r"\b(\w+)\s*=(?!=)", payload))
    sent -= {"sweep_payload", "sweep_plan_payload"}
    schema = json.loads(SWEEP_PAYLOAD_SCHEMA_FILE.read_text())
    fields = set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert fields == {"sgguard", "regions", "remediate", "accounts", "ous", "concurrency"}, fields
    # The whole sweep in one invocation (sweep_engine = "lambda"), or its plan (the state
    # machine's first step; test_hub_sweep.py).
    assert schema["properties"]["sgguard"] == {"enum": ["sweep", "sweep-plan"], "description": schema["properties"]["sgguard"]["description"]}
    assert sent == {"sgguard", "regions", "remediate", "accounts", "ous"}, sent
    assert sent <= fields, f"keys the Lambda would reject: {sent - fields}"


def test_lambda_async_invocations_retry_then_go_to_the_dlq():
    """EventBridge and the Scheduler invoke the Lambda asynchronously: function errors follow the
    function's event invoke config (not the targets' retry policy), whose on-failure destination
    is the DLQ. No dead_letter_config besides it (each failure would be sent twice)."""
    res = resources(module_files(HUB))
    configs = {name: body for (kind, name), body in res.items() if kind == "aws_lambda_function_event_invoke_config"}
    assert list(configs) == ["sgguard"]
    cfg = configs["sgguard"]
    assert cfg["function_name"] == "${aws_lambda_function.sgguard.function_name}"
    # It covers what the rules and the schedule invoke: the `live` alias (a config on the
    # unqualified function would not apply to invocations of the alias).
    assert cfg["qualifier"] == "${aws_lambda_alias.live.name}"
    assert cfg["maximum_retry_attempts"] == "${var.lambda_async_max_retry_attempts}"
    assert cfg["maximum_event_age_in_seconds"] == "${var.lambda_async_max_event_age_seconds}"
    dest = cfg["destination_config"]
    dest = dest[0] if isinstance(dest, list) else dest
    on_failure = dest["on_failure"][0] if isinstance(dest["on_failure"], list) else dest["on_failure"]
    assert on_failure == {"destination": "${aws_sqs_queue.dlq.arn}"}
    assert "on_success" not in dest
    assert "dead_letter_config" not in res[("aws_lambda_function", "sgguard")]
    # The Lambda role may send to that queue (the service sends the records with it) ...
    policy = hub_lambda_policy()
    assert re.search(
        r'\{Sid = "SendFailedAsyncInvocationsToDlq", Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue\.dlq\.arn\}',
        policy,
    ), "the Lambda role cannot send to the DLQ"
    # (and sgguard itself sends its durable records there: SGGUARD_RECORD_QUEUE_URL)
    assert "sqs:SendMessage" in load_hub_actions()["granted"]
    # ... before the config is put (Lambda checks the destination permission then).
    assert cfg["depends_on"] == ["${aws_iam_role_policy.lambda}"]

    variables = hub_variables()
    retries, age = variables["lambda_async_max_retry_attempts"], variables["lambda_async_max_event_age_seconds"]
    assert retries["type"] == "number" and retries["default"] == 2
    assert age["type"] == "number" and age["default"] == 21600
    # Lambda's limits: 0-2 retries, 60-21600 s.
    assert "var.lambda_async_max_retry_attempts >= 0 && var.lambda_async_max_retry_attempts <= 2" in retries["validation"][0]["condition"]
    assert "var.lambda_async_max_event_age_seconds >= 60 && var.lambda_async_max_event_age_seconds <= 21600" in age["validation"][0]["condition"]


def test_the_alarms_have_their_own_topic():
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    alarms = {name: body for (kind, name), body in res.items() if kind == "aws_cloudwatch_metric_alarm"}
    # (and the sweep's state machine's failed executions: test_hub_sweep.py)
    assert set(alarms) == {"lambda_errors", "dlq_messages", "circuit_breaker", "sweep_failures", "undecided",
                           "sweep_execution_failed", "sweep_undelivered_events", "sweep_coverage"}
    # What the Lambda answers as handled (no retry) still alarms, on sgguard's own metrics.
    own = {"circuit_breaker": "BreakerTripped", "sweep_failures": "SweepFailures", "undecided": "Undecided",
           "sweep_undelivered_events": "SweepUndeliveredEvents"}
    for name, metric in own.items():
        assert (alarms[name]["namespace"], alarms[name]["metric_name"]) == ("${local.metrics_namespace}", metric), name
        # The metric the alarm follows is one sgguard prints (src/report/metrics.rs).
        assert f'"{metric}"' in (REPO / "src" / "report" / "metrics.rs").read_text(), name
    for name in (*own, "sweep_coverage"):
        assert "dimensions" not in alarms[name], name
    # Undelivered events in the members' forwarding dead-letter queues, as the sweep read them.
    undelivered = alarms["sweep_undelivered_events"]
    assert (undelivered["comparison_operator"], undelivered["threshold"]) == ("GreaterThanThreshold", 0)
    # Issue #21: a coverage gap always alarms; regions denied by an SCP beyond the expected
    # count (any by default), or never when the operator says so.
    coverage = alarms["sweep_coverage"]
    assert coverage["for_each"] == "${local.sweep_coverage_alarms}"
    assert coverage["alarm_name"] == "${local.function_name}-sweep-${each.key}"
    assert (coverage["namespace"], coverage["metric_name"]) == ("${local.metrics_namespace}", "${each.value.metric}")
    assert (coverage["comparison_operator"], coverage["threshold"]) == ("GreaterThanThreshold", "${each.value.threshold}")
    kinds = locals_["sweep_coverage_alarms"]
    assert '"coverage-gaps" = {metric = "SweepCoverageGaps", threshold = 0,' in kinds, kinds
    assert ('var.sweep_regions_denied_alarm_threshold == null ? {} : {"regions-denied" = {metric = "SweepRegionsDenied", '
            "threshold = var.sweep_regions_denied_alarm_threshold,") in kinds, kinds
    assert hub_variables()["sweep_regions_denied_alarm_threshold"]["default"] == 0
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == ["${local.alarm_topic_arn}"], name
        assert alarm["ok_actions"] == ["${local.alarm_topic_arn}"], name
    assert locals_["create_alarm_topic"] == "${var.alarm_topic_arn == null}"
    assert locals_["alarm_topic_arn"] == "${local.create_alarm_topic ? one(aws_sns_topic.alarms[*].arn) : var.alarm_topic_arn}"
    topic = res[("aws_sns_topic", "alarms")]
    assert topic["count"] == "${local.create_alarm_topic ? 1 : 0}"
    assert topic["name"] == "${local.function_name}-alarms" != res[("aws_sns_topic", "notifications")]["name"]
    assert topic["kms_master_key_id"] == "${aws_kms_key.sgguard.arn}"
    notifications_tf = (HUB / "notifications.tf").read_text()
    # CloudWatch may publish to the alarm topic only, the Lambda to the notification topic only.
    alarm_policy = notifications_tf[notifications_tf.index('resource "aws_sns_topic_policy" "alarms"'):]
    alarm_policy = alarm_policy[: alarm_policy.index('resource "aws_sns_topic_subscription" "alarm_email"')]
    assert 'Principal = { Service = "cloudwatch.amazonaws.com" }' in alarm_policy
    assert "aws_iam_role.lambda" not in alarm_policy
    note_policy = notifications_tf[notifications_tf.index('resource "aws_sns_topic_policy" "notifications"'):]
    note_policy = note_policy[: note_policy.index('resource "aws_sns_topic_subscription" "email"')]
    assert "cloudwatch.amazonaws.com" not in note_policy
    assert "aws_iam_role.lambda.arn" in note_policy
    assert "alarms" not in hub_lambda_policy()
    # Subscriptions: alarm_emails, else the notification addresses; none for a topic brought in.
    sub = res[("aws_sns_topic_subscription", "alarm_email")]
    assert sub["for_each"] == "${local.create_alarm_topic ? toset(local.alarm_emails) : toset([])}"
    assert locals_["alarm_emails"] == "${var.alarm_emails != null ? var.alarm_emails : var.notification_emails}"
    variables = hub_variables()
    assert variables["alarm_topic_arn"]["default"] is None
    assert variables["alarm_emails"]["default"] is None
    outputs = hub_outputs()
    assert outputs["alarm_topic_arn"]["value"] == "${local.alarm_topic_arn}"


def test_the_rules_and_the_schedule_invoke_the_live_alias():
    """Versions are published and invoked through the `live` alias: a rollback is an alias
    switch (`live_version`), not a rebuild."""
    res = resources(module_files(HUB))
    assert res[("aws_lambda_function", "sgguard")]["publish"] is True
    alias = res[("aws_lambda_alias", "live")]
    assert alias["name"] == "live"
    assert alias["function_version"] == "${coalesce(var.live_version, aws_lambda_function.sgguard.version)}"
    for name in ("hub", "hub_default_bus"):
        assert res[("aws_cloudwatch_event_target", name)]["arn"] == "${aws_lambda_alias.live.arn}", name
        assert res[("aws_lambda_permission", f"{name}_rule")]["qualifier"] == "${aws_lambda_alias.live.name}"
    # The schedule: the alias with sweep_engine = "lambda", else the state machine, which
    # invokes the alias (test_hub_sweep.py).
    target = res[("aws_scheduler_schedule", "sweep")]["target"]
    target = target[0] if isinstance(target, list) else target
    assert target["arn"] == "${local.sweep_distributed ? aws_sfn_state_machine.sweep[0].arn : aws_lambda_alias.live.arn}"


@pytest.mark.parametrize("scope, valid", [
    ("ou-ab12-sandbox1", True), ("ou-ab12-3456789012345678", True), ("r-ab12", True), ("111122223333", True),
    ("ou-ab12", False), ("OU-AB12-SANDBOX1", False), ("r-", False), ("11112222333", False), ("1111222233334", False),
    ("o-abcd123456", False), ("arn:aws:organizations::111122223333:ou/o-abcd123456/ou-ab12-sandbox1", False),
    ("sandbox", False), ("", False),
])
def test_mode_by_scope_validation_rejects_a_bad_key(scope: str, valid: bool):
    """Keys: OU, root or account ids. Terraform's regex() searches (RE2); the pattern is anchored,
    and means the same in Python's re."""
    variable = hub_variables()["mode_by_scope"]
    assert variable["type"] == "${map(string)}" and variable["default"] == {}
    keys_condition, values_condition = (v["condition"] for v in variable["validation"])
    assert keys_condition.startswith("${alltrue([for scope in keys(var.mode_by_scope) : can(regex(")
    assert (re.search(validation_regex(keys_condition, "scope"), scope) is not None) == valid
    assert values_condition == '${alltrue([for mode in values(var.mode_by_scope) : contains(["audit", "enforce"], mode)])}'


def test_mode_by_scope_reaches_the_lambda_and_the_readme_example_is_valid():
    # In S3, not in the environment (test_mode_by_scope_is_an_object_in_s3_at_a_named_version).
    assert "SGGUARD_MODE_BY_SCOPE =" not in lambda_environment()
    assert "jsonencode(var.mode_by_scope)" not in lambda_environment()
    assert "SGGUARD_MODE = var.mode" in lambda_environment()
    assert "mode_by_scope" in hub_variables()["mode"]["description"]
    # Finding an account's OUs: ListParents, with the other Organizations reads.
    assert '"organizations:ListParents"' in hub_lambda_policy()
    assert "organizations:ListParents" in load_hub_actions()["granted"]
    pattern = validation_regex(hub_variables()["mode_by_scope"]["validation"][0]["condition"], "scope")
    readme = (HUB / "README.md").read_text()
    example = readme[readme.index("mode_by_scope = {"):]
    example = example[: example.index("}")]
    entries = re.findall(r'^\s*"([^"]+)"\s*=\s*"(\w+)"', example, re.M)
    assert entries and all(re.search(pattern, k) and v in ("audit", "enforce") for k, v in entries), entries


def test_sweep_regions_default_to_every_enabled_region():
    """Issue #21: null sweeps every region enabled in each account (no SGGUARD_REGIONS, empty
    payload `regions`), not the StackSet's; `stackset_regions` says where the spokes forward
    (SGGUARD_FORWARDING_REGIONS), so that an enabled region without them is a coverage gap."""
    variable = hub_variables()["sweep_regions"]
    assert variable["type"] == "${list(string)}" and variable["default"] is None
    assert hub_locals()["sweep_regions"] == "${var.sweep_regions != null ? var.sweep_regions : []}"
    assert "stackset_regions" not in hub_locals()["sweep_regions"]
    # The effective list is what the Lambda and the schedule get ...
    assert 'length(local.sweep_regions) > 0 ? {SGGUARD_REGIONS = join(",", local.sweep_regions)} : {}' in lambda_environment()
    assert hub_locals()["sweep_payload"].count("regions = local.sweep_regions") == 1
    assert ('length(var.stackset_regions) > 0 ? {SGGUARD_FORWARDING_REGIONS = join(",", var.stackset_regions)} : {}'
            in lambda_environment())
    # ... and nothing reads the variable itself but that local (and its validation).
    for path in HUB.glob("*.tf"):
        uses = re.findall(r"var\.sweep_regions\b", path.read_text())
        assert len(uses) == {"variables.tf": 2, "main.tf": 2}.get(path.name, 0), (path.name, uses)


def test_the_lambda_lists_the_stacksets_instances_for_coverage():
    env = lambda_environment()
    assert "var.create_stackset ? {SGGUARD_STACKSET_NAME = local.stackset_name, SGGUARD_STACKSET_CALL_AS = var.stackset_call_as} : {}" in env
    assert ('[for s in [{Sid = "ListStackSetInstances", Effect = "Allow", Action = "cloudformation:ListStackInstances", '
            "Resource = local.stackset_arn_pattern}, "
            '{Sid = "StackSetsDelegatedAdmin", Effect = "Allow", Action = "organizations:ListDelegatedAdministrators", '
            'Resource = "*"}] : s if var.create_stackset && (s.Sid != "StackSetsDelegatedAdmin" || '
            'var.stackset_call_as == "DELEGATED_ADMIN")]') in hub_lambda_policy()
    locals_ = hub_locals()
    assert locals_["stackset_arn_account"] == '${var.stackset_call_as == "SELF" ? local.account_id : "*"}'
    pattern = locals_["stackset_arn_pattern"]
    assert pattern == "arn:${local.partition}:cloudformation:${local.region}:${local.stackset_arn_account}:stackset/${local.stackset_name}:*"
    # The StackSet's ARN (arn:${Partition}:cloudformation:${Region}:${Account}:stackset/${StackSetName}:${Id},
    # IAM's resource type `stackset`) matches, with SELF (this account) and DELEGATED_ADMIN.
    arn = "arn:aws:cloudformation:eu-west-1:111122223333:stackset/sgguard-spoke:0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    for account in ("111122223333", "*"):
        rendered = (pattern.replace("${local.partition}", "aws").replace("${local.region}", "eu-west-1")
                    .replace("${local.stackset_arn_account}", account).replace("${local.stackset_name}", "sgguard-spoke"))
        assert fnmatch.fnmatchcase(arn, rendered), rendered
        assert not fnmatch.fnmatchcase(arn.replace("sgguard-spoke", "other"), rendered)
    assert "cloudformation:ListStackInstances" in load_hub_actions()["granted"]


def test_mode_by_scope_is_an_object_in_s3_at_a_named_version():
    """Issue #23: the map is written to the report bucket (versioned) as `config/mode-by-scope.json`,
    only when it is not empty; the Lambda is told the object and the version written (a change of
    the map changes the function's configuration) and may read that key and nothing else of the
    bucket, under the same condition. The sweep worker has the same environment and role."""
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    assert locals_["mode_by_scope_key"] == "config/mode-by-scope.json"
    when = "length(var.mode_by_scope) > 0"
    obj = res[("aws_s3_object", "mode_by_scope")]
    assert obj["count"] == f"${{{when} ? 1 : 0}}"
    assert (obj["bucket"], obj["key"], obj["content"], obj["content_type"]) == (
        "${aws_s3_bucket.reports.id}", "${local.mode_by_scope_key}", "${jsonencode(var.mode_by_scope)}",
        "application/json")
    assert (obj["server_side_encryption"], obj["kms_key_id"]) == ("aws:kms", "${aws_kms_key.sgguard.arn}")
    # Its version id exists once the bucket is versioned (the versioning resource comes first).
    assert "${aws_s3_bucket_versioning.reports}" in obj["depends_on"]
    versioning = res[("aws_s3_bucket_versioning", "reports")]["versioning_configuration"]
    assert (versioning[0] if isinstance(versioning, list) else versioning)["status"] == "Enabled"

    assert (f'{when} ? {{SGGUARD_MODE_BY_SCOPE_URI = "s3://${{aws_s3_bucket.reports.id}}/${{local.mode_by_scope_key}}", '
            "SGGUARD_MODE_BY_SCOPE_VERSION = one(aws_s3_object.mode_by_scope[*].version_id)} : {}") in lambda_environment()
    assert ('[for s in [{Sid = "ReadModeByScope", Effect = "Allow", Action = ["s3:GetObject", "s3:GetObjectVersion"], '
            f'Resource = "${{aws_s3_bucket.reports.arn}}/${{local.mode_by_scope_key}}"}}] : s if {when}]') in hub_lambda_policy()
    assert {"s3:GetObject", "s3:GetObjectVersion"} <= set(load_hub_actions()["granted"])
    worker = res[("aws_lambda_function", "sweep_worker")]
    assert worker["role"] == res[("aws_lambda_function", "sgguard")]["role"] == "${aws_iam_role.lambda.arn}"
    assert first(worker["environment"])["variables"] == "${local.lambda_environment}"
    # The variable is named by what reads it.
    assert "SGGUARD_MODE_BY_SCOPE_URI" in hub_variables()["mode_by_scope"]["description"]


def test_an_environment_over_lambdas_4_kb_is_refused_before_the_apply():
    """The precondition sums names and values as Lambda counts them. The mode per scope is in S3:
    with the module's other variables at realistic lengths, the environment is the same size for a
    mode_by_scope of 1 account or of 2,000 (its URI and an S3 version id), well under the limit."""
    fn = resources(module_files(HUB))[("aws_lambda_function", "sgguard")]
    precondition = fn["lifecycle"][0]["precondition"][0]
    condition = precondition["condition"]
    assert "sum([for name, value in local.lambda_environment : length(name) + length(value)]) <= 4096" in condition
    assert "mode_by_scope" not in precondition["error_message"]
    assert "sweep_regions" in precondition["error_message"]

    # The formula over a typical environment: the module's other variables at realistic lengths.
    names = re.findall(r"\b(SGGUARD_[A-Z_]+)\s*=", lambda_environment())
    assert len(names) >= 15 and "SGGUARD_MODE_BY_SCOPE" not in names, names
    base = {key: "x" * 90 for key in names}

    def size(accounts: int) -> int:
        scopes = {f"{100000000000 + n:012d}": "enforce" for n in range(accounts)}
        # What reaches the environment of the map: where it is and which version (S3 gives 32
        # characters), never the map itself.
        uri = "s3://sgguard-reports-111122223333-eu-west-1/config/mode-by-scope.json"
        env = dict(base, SGGUARD_MODE_BY_SCOPE_URI=uri, SGGUARD_MODE_BY_SCOPE_VERSION="v" * 32)
        assert json.dumps(scopes) not in env.values()
        return sum(len(name) + len(value) for name, value in env.items())

    assert size(1) == size(2000) <= 4096, (size(1), size(2000))
