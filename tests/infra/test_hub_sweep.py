"""The hub module's distributed sweep (hub/sweep.tf, hub/schedule.tf, parsed with python-hcl2): the
state machine's definition rendered from the module and checked as a Distributed Map over the plan's
items (and created in the emulator, whose Amazon States Language parser must accept it), its role,
the worker function and its reserved concurrency, and what the schedule starts with each
`sweep_engine`."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from botocore.exceptions import ClientError

from sgguard_world.files import HUB, SWEEP_PAYLOAD_SCHEMA_FILE
from sgguard_world.org import client
from sgguard_world.policies import ACTION, hub_lambda_policy, hub_locals, module_files, resources

from static_common import first, hub_outputs, hub_variables, lambda_environment, validation_regex

HERE = Path(__file__).resolve().parent
ACCOUNT, REGION = "111122223333", "eu-west-1"
BUCKET = f"sgguard-reports-{ACCOUNT}-{REGION}"
HUB_ALIAS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sgguard:live"
WORKER_ALIAS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sgguard-sweep-worker:live"
LAMBDA_SERVICE_ERRORS = {"Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
                         "Lambda.SdkClientException"}


def render(value, locals_: dict, variables: dict, known: dict):
    """The value as Terraform would render it with the variables' defaults: `${var.x}` (and
    `${var.x + N}`), `${local.x}` (recursively) and the `known` references replaced. Anything
    else left in it fails the test, so that a new reference is seen, not passed through."""
    if isinstance(value, dict):
        return {k: render(v, locals_, variables, known) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, locals_, variables, known) for v in value]
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{([^{}]+)\}", value)
    if whole:
        expr = whole.group(1)
        if expr in known:
            return known[expr]
        m = re.fullmatch(r"var\.(\w+)(?: \+ (\d+))?", expr)
        if m:
            return variables[m.group(1)]["default"] + int(m.group(2) or 0)
        m = re.fullmatch(r"local\.(\w+)", expr)
        if m:
            return render(locals_[m.group(1)], locals_, variables, known)

    def one(m: re.Match) -> str:
        expr = m.group(1)
        if expr in known:
            return str(known[expr])
        name = re.fullmatch(r"local\.(\w+)", expr)
        assert name, f"cannot render `${{{expr}}}` in {value!r} (extend render())"
        out = render(locals_[name.group(1)], locals_, variables, known)
        assert isinstance(out, str), (expr, out)
        return out

    out = re.sub(r"\$\{([^{}]+)\}", one, value)
    assert "${" not in out, out
    return out


KNOWN = {
    "local.partition": "aws", "local.region": REGION, "local.account_id": ACCOUNT,
    "local.function_name": "sgguard",
    "aws_lambda_alias.live.arn": HUB_ALIAS,
    "one(aws_lambda_alias.sweep_worker[*].arn)": WORKER_ALIAS,
    "aws_s3_bucket.reports.id": BUCKET,
}


def rendered_definition() -> dict:
    return render(hub_locals()["sweep_definition"], hub_locals(), hub_variables(), KNOWN)


def reachable(states: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        assert name in states, f"`{name}` is named as a next state but is not a state"
        seen.add(name)
        state = states[name]
        todo += [state["Next"]] if "Next" in state else []
        todo += [c["Next"] for c in state.get("Catch", [])]
    return seen


def test_the_state_machine_plans_maps_the_batches_and_summarizes():
    definition = rendered_definition()
    states = definition["States"]
    assert definition["StartAt"] == "Plan"
    assert reachable(states, "Plan") == set(states), "every state is reached"
    # Plan: the hub function gets the execution's input (the schedule's sweep-plan payload) and
    # its answer (sweep_id, bucket, items_key, batch_input) becomes the state.
    plan = states["Plan"]
    assert (plan["Type"], plan["Resource"]) == ("Task", "arn:aws:states:::lambda:invoke")
    assert plan["Parameters"] == {"FunctionName": HUB_ALIAS, "Payload.$": "$"}
    assert plan["OutputPath"] == "$.Payload" and plan["Next"] == "SweepAccounts"

    sweep = states["SweepAccounts"]
    assert sweep["Type"] == "Map"
    assert sweep["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert sweep["ItemReader"] == {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                                   "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.items_key"}}
    # Each worker gets {"BatchInput": <the plan's batch_input>, "Items": [<accounts>]}.
    assert sweep["ItemBatcher"] == {"MaxItemsPerBatch": 10, "BatchInput.$": "$.batch_input"}
    assert (sweep["MaxConcurrency"], sweep["ToleratedFailurePercentage"]) == (20, 10)
    assert sweep["ResultWriter"] == {"Resource": "arn:aws:states:::s3:putObject",
                                     "Parameters": {"Bucket": BUCKET, "Prefix": "sweeps/runs/results"}}
    assert "ItemsPath" not in sweep and "ItemSelector" not in sweep
    # The Map's output beside the plan's answer: sweep_id and bucket survive it.
    assert sweep["ResultPath"] == "$.map" and sweep["Next"] == "Summarize"

    processor = sweep["ItemProcessor"]
    batch = processor["States"][processor["StartAt"]]
    assert list(processor["States"]) == ["SweepBatch"] and batch["End"] is True
    assert (batch["Type"], batch["Resource"]) == ("Task", "arn:aws:states:::lambda:invoke")
    assert batch["Parameters"] == {"FunctionName": WORKER_ALIAS, "Payload.$": "$"}
    assert batch["OutputPath"] == "$.Payload"
    assert batch["TimeoutSeconds"] == 900 + 60

    # Lambda's own service errors and throttling are retried with backoff and jitter, in
    # every Task; a function error is not (the batch fails and is counted).
    for name in ("Plan", "Summarize", "SummarizeFailedMap"):
        assert states[name]["Retry"] == batch["Retry"], name
    (retry,) = batch["Retry"]
    assert set(retry["ErrorEquals"]) == LAMBDA_SERVICE_ERRORS
    assert retry["BackoffRate"] > 1 and retry["JitterStrategy"] == "FULL" and retry["MaxAttempts"] >= 3

    # Summarize: the manifest the ResultWriter wrote, where the Map's ResultPath put it.
    summarize = states["Summarize"]
    assert summarize["Parameters"] == {"FunctionName": HUB_ALIAS, "Payload": {
        "sgguard": "sweep-summarize", "sweep_id.$": "$.sweep_id", "bucket.$": "$.bucket",
        "manifest_key.$": sweep["ResultPath"] + ".ResultWriterDetails.Key"}}
    assert summarize["End"] is True

    # A failed Map (tolerance exceeded, items or results unreadable) is still summarized, with
    # its error instead of a manifest, and the execution then fails (its alarm).
    (catch,) = sweep["Catch"]
    assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.map_error", "Next": "SummarizeFailedMap"}
    failed = states["SummarizeFailedMap"]
    assert failed["Parameters"] == {"FunctionName": HUB_ALIAS, "Payload": {
        "sgguard": "sweep-summarize", "sweep_id.$": "$.sweep_id", "bucket.$": "$.bucket",
        "map_error.$": catch["ResultPath"]}}
    assert states[failed["Next"]]["Type"] == "Fail"


def test_the_maps_settings_are_the_variables():
    raw = hub_locals()["sweep_definition"]["States"]["SweepAccounts"]
    assert raw["ItemBatcher"]["MaxItemsPerBatch"] == "${var.sweep_accounts_per_batch}"
    assert raw["MaxConcurrency"] == "${var.sweep_max_concurrency}"
    assert raw["ToleratedFailurePercentage"] == "${var.sweep_tolerated_failure_percentage}"
    variables = hub_variables()
    defaults = {name: variables[name]["default"] for name in (
        "sweep_engine", "sweep_accounts_per_batch", "sweep_max_concurrency", "sweep_tolerated_failure_percentage",
        "sweep_worker_reserved_concurrency", "sweep_worker_timeout_seconds", "sweep_worker_live_version")}
    assert defaults == {"sweep_engine": "step_functions", "sweep_accounts_per_batch": 10, "sweep_max_concurrency": 20,
                        "sweep_tolerated_failure_percentage": 10, "sweep_worker_reserved_concurrency": 20,
                        "sweep_worker_timeout_seconds": 900, "sweep_worker_live_version": None}
    assert variables["sweep_engine"]["validation"][0]["condition"] == (
        '${contains(["step_functions", "lambda"], var.sweep_engine)}')
    # The defaults do not ask for more batches at once than the worker may run.
    assert defaults["sweep_max_concurrency"] <= defaults["sweep_worker_reserved_concurrency"]
    machine = resources(module_files(HUB))[("aws_sfn_state_machine", "sweep")]
    (precondition,) = first(machine["lifecycle"])["precondition"]
    assert precondition["condition"] == (
        "${var.sweep_worker_reserved_concurrency == -1 || var.sweep_max_concurrency <= var.sweep_worker_reserved_concurrency}")


@pytest.mark.parametrize("reserved, valid", [(-1, True), (1, True), (20, True), (0, False), (-2, False), (2.5, False)])
def test_the_workers_reserved_concurrency_is_validated(reserved, valid: bool):
    """0 would stop every sweep; evaluated on the condition's own terms."""
    condition = hub_variables()["sweep_worker_reserved_concurrency"]["validation"][0]["condition"]
    assert condition == ("${var.sweep_worker_reserved_concurrency == -1 || (var.sweep_worker_reserved_concurrency >= 1 "
                         "&& floor(var.sweep_worker_reserved_concurrency) == var.sweep_worker_reserved_concurrency)}")
    assert (reserved == -1 or (reserved >= 1 and int(reserved) == reserved)) == valid


def test_the_state_machine_is_standard_logged_and_only_with_the_step_functions_engine():
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    assert locals_["sweep_distributed"] == '${var.sweep_engine == "step_functions"}'
    for key in [("aws_sfn_state_machine", "sweep"), ("aws_iam_role", "sweep_state_machine"),
                ("aws_iam_role_policy", "sweep_state_machine"), ("aws_lambda_function", "sweep_worker"),
                ("aws_lambda_alias", "sweep_worker"), ("aws_cloudwatch_log_group", "sweep_worker"),
                ("aws_cloudwatch_log_group", "sweep_state_machine"), ("aws_cloudwatch_metric_alarm", "sweep_execution_failed")]:
        assert res[key]["count"] == "${local.sweep_distributed ? 1 : 0}", key
    machine = res[("aws_sfn_state_machine", "sweep")]
    assert machine["type"] == "STANDARD"
    assert machine["name"] == "${local.sweep_state_machine_name}" and locals_["sweep_state_machine_name"] == "${local.function_name}-sweep"
    assert machine["definition"] == "${jsonencode(local.sweep_definition)}"
    assert machine["role_arn"] == "${aws_iam_role.sweep_state_machine[0].arn}"
    logging = first(machine["logging_configuration"])
    assert logging["log_destination"] == "${aws_cloudwatch_log_group.sweep_state_machine[0].arn}:*"
    assert logging["level"] == "ERROR"
    assert first(machine["tracing_configuration"]) == {"enabled": '${var.tracing_mode == "Active"}'}
    # Both new log groups: the module key (with log_kms_encryption), which lets CloudWatch Logs
    # use it for exactly these log groups and the hub function's.
    for name in ("sweep_state_machine", "sweep_worker"):
        group = res[("aws_cloudwatch_log_group", name)]
        assert group["kms_key_id"] == "${var.log_kms_encryption ? aws_kms_key.sgguard.arn : null}", name
        assert group["retention_in_days"] == "${var.log_retention_days}", name
    assert locals_["sweep_state_machine_log_group_name"] == "/aws/vendedlogs/states/${local.sweep_state_machine_name}"
    assert locals_["encrypted_log_group_names"] == (
        "${concat([local.log_group_name], local.sweep_distributed ? [local.sweep_worker_log_group_name, "
        "local.sweep_state_machine_log_group_name] : [])}")
    assert ('"kms:EncryptionContext:aws:logs:arn" = [for name in local.encrypted_log_group_names : '
            '"arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}"]') in locals_["kms_key_statements"]
    # A failed, timed-out or aborted execution alarms (the Scheduler only knows it started one).
    alarm = res[("aws_cloudwatch_metric_alarm", "sweep_execution_failed")]
    assert alarm["alarm_actions"] == ["${local.alarm_topic_arn}"] == alarm["ok_actions"]
    (total,) = alarm["metric_query"]
    assert total["expression"] == "failed_executions + timed_out_executions + aborted_executions"
    assert total["return_data"] is True
    (dynamic,) = [d["metric_query"] for d in alarm["dynamic"]]
    assert dynamic["for_each"] == {"failed_executions": "ExecutionsFailed", "timed_out_executions": "ExecutionsTimedOut",
                                   "aborted_executions": "ExecutionsAborted"}
    content = first(dynamic["content"])
    assert content["id"] == "${metric_query.key}"
    assert first(content["metric"]) == {
        "namespace": "AWS/States", "metric_name": "${metric_query.value}", "stat": "Sum",
        "dimensions": {"StateMachineArn": "${aws_sfn_state_machine.sweep[0].arn}"}, "period": "${var.alarm_period_seconds}"}
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    outputs = hub_outputs()
    assert outputs["sweep_state_machine_arn"]["value"] == "${one(aws_sfn_state_machine.sweep[*].arn)}"
    assert outputs["sweep_worker_function_name"]["value"] == "${one(aws_lambda_function.sweep_worker[*].function_name)}"


def test_the_state_machine_role_grants_exactly_what_the_sweep_needs():
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    policy = res[("aws_iam_role_policy", "sweep_state_machine")]["policy"]
    assert sorted(set(ACTION.findall(policy))) == sorted({
        "lambda:InvokeFunction", "s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload",
        "states:StartExecution", "states:DescribeExecution", "states:StopExecution", "kms:Decrypt", "kms:GenerateDataKey",
        "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"})
    for statement in (
        '{Sid = "InvokeSweepFunctions", Effect = "Allow", Action = "lambda:InvokeFunction", '
        "Resource = [aws_lambda_alias.live.arn, aws_lambda_alias.sweep_worker[0].arn]}",
        '{Sid = "ReadSweepItems", Effect = "Allow", Action = "s3:GetObject", '
        'Resource = "${aws_s3_bucket.reports.arn}/${local.sweep_runs_prefix}*"}',
        '{Sid = "WriteMapResults", Effect = "Allow", Action = ["s3:PutObject", "s3:ListMultipartUploadParts", '
        '"s3:AbortMultipartUpload"], Resource = "${aws_s3_bucket.reports.arn}/${local.sweep_results_prefix}/*"}',
        '{Sid = "StartMapChildWorkflows", Effect = "Allow", Action = "states:StartExecution", '
        "Resource = local.sweep_state_machine_arn}",
        '{Sid = "ManageMapChildWorkflows", Effect = "Allow", Action = ["states:DescribeExecution", "states:StopExecution"], '
        "Resource = local.sweep_child_executions_arn}",
        '{Sid = "UseModuleKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], '
        "Resource = aws_kms_key.sgguard.arn}",
        '[for s in [{Sid = "WriteXRayTraces", Effect = "Allow", Action = ["xray:PutTraceSegments", '
        '"xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], Resource = "*"}] '
        ': s if var.tracing_mode == "Active"]',
    ):
        assert statement in policy, statement
    # Only the log delivery actions (which have no resource scope) and X-Ray take "*".
    assert policy.count('Resource = "*"') == 2
    # The ARNs the policy names, rendered: the state machine itself (its child workflows) and
    # its executions below the Map's label; the items and parts under sweeps/runs/, the
    # results under sweeps/runs/results/.
    values = {name: render(f"${{local.{name}}}", locals_, hub_variables(), KNOWN) for name in (
        "sweep_state_machine_arn", "sweep_child_executions_arn", "sweep_runs_prefix", "sweep_results_prefix")}
    assert values == {
        "sweep_state_machine_arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:sgguard-sweep",
        "sweep_child_executions_arn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:sgguard-sweep/*",
        "sweep_runs_prefix": "sweeps/runs/", "sweep_results_prefix": "sweeps/runs/results"}
    # Only Step Functions of this account may assume the role.
    trust = res[("aws_iam_role", "sweep_state_machine")]["assume_role_policy"]
    assert 'Principal = {Service = "states.amazonaws.com"}' in trust
    assert 'Condition = {StringEquals = {"aws:SourceAccount" = local.account_id}}' in trust


def test_the_worker_is_the_hub_function_with_its_own_concurrency_and_timeout():
    res = resources(module_files(HUB))
    hub, worker = res[("aws_lambda_function", "sgguard")], res[("aws_lambda_function", "sweep_worker")]
    for same in ("role", "filename", "source_code_hash", "runtime", "handler", "architectures", "memory_size",
                 "kms_key_arn", "publish", "environment", "tracing_config", "tags", "depends_on"):
        assert worker[same] == hub[same], same
    assert first(worker["environment"])["variables"] == "${local.lambda_environment}"
    assert "SGGUARD_REPORT_BUCKET = aws_s3_bucket.reports.id" in lambda_environment()
    assert worker["function_name"] == "${local.sweep_worker_function_name}"
    assert hub_locals()["sweep_worker_function_name"] == "${local.function_name}-sweep-worker"
    assert worker["reserved_concurrent_executions"] == "${var.sweep_worker_reserved_concurrency}"
    assert hub["reserved_concurrent_executions"] == "${var.reserved_concurrency}"
    assert worker["timeout"] == "${var.sweep_worker_timeout_seconds}"
    assert first(worker["logging_config"])["log_group"] == "${aws_cloudwatch_log_group.sweep_worker[0].name}"
    alias = res[("aws_lambda_alias", "sweep_worker")]
    assert alias["name"] == "live"
    assert alias["function_version"] == "${coalesce(var.sweep_worker_live_version, aws_lambda_function.sweep_worker[0].version)}"
    # Step Functions invokes it synchronously: no asynchronous invoke config.
    configs = [name for (kind, name) in res if kind == "aws_lambda_function_event_invoke_config"]
    assert configs == ["sgguard"]
    # The shared role writes both log groups and reads back the sweep's runs.
    policy = hub_lambda_policy()
    assert ('{Sid = "WriteOwnLogs", Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], '
            'Resource = [for arn in concat([aws_cloudwatch_log_group.lambda.arn], aws_cloudwatch_log_group.sweep_worker[*].arn) '
            ': "${arn}:*"]}') in policy
    assert ('[for s in [{Sid = "ReadSweepRuns", Effect = "Allow", Action = "s3:GetObject", '
            'Resource = "${aws_s3_bucket.reports.arn}/${local.sweep_runs_prefix}*"}] : s if local.sweep_distributed]') in policy


def sweep_payload_for(locals_: dict, organization: bool) -> dict:
    """hub/schedule.tf's sweep_payload, evaluated for an organization with the StackSet's OUs."""
    text = locals_["sweep_payload"]
    assert text == ('${merge({sgguard = "sweep", regions = local.sweep_regions, remediate = var.sweep_remediate}, '
                    'var.organization_id == null ? {accounts = ["self"]} : {}, '
                    'var.organization_id != null && length(local.sweep_ou_ids) > 0 ? {ous = local.sweep_ou_ids} : {})}')
    payload = {"sgguard": "sweep", "regions": ["eu-west-1", "us-east-1"], "remediate": False}
    return payload | ({"ous": ["ou-ab12-11111111"]} if organization else {"accounts": ["self"]})


@pytest.mark.parametrize("engine", ["step_functions", "lambda"])
def test_the_schedule_starts_the_state_machine_with_the_plan_or_invokes_the_lambda(engine: str):
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    target = first(res[("aws_scheduler_schedule", "sweep")]["target"])
    distributed = engine == "step_functions"
    pick = re.fullmatch(r"\$\{local\.sweep_distributed \? (.+) : (.+)\}", target["arn"])
    assert pick and pick.group(1 if distributed else 2) == (
        "aws_sfn_state_machine.sweep[0].arn" if distributed else "aws_lambda_alias.live.arn")
    pick = re.fullmatch(r"\$\{jsonencode\(local\.sweep_distributed \? (.+) : (.+)\)\}", target["input"])
    assert pick and pick.group(1 if distributed else 2) == ("local.sweep_plan_payload" if distributed else "local.sweep_payload")
    assert locals_["sweep_plan_payload"] == '${merge(local.sweep_payload, {sgguard = "sweep-plan"})}'
    # What is sent, for an organization and for a single account: a request the schema takes.
    schema = json.loads(SWEEP_PAYLOAD_SCHEMA_FILE.read_text())
    for organization in (True, False):
        payload = sweep_payload_for(locals_, organization)
        sent = payload | {"sgguard": "sweep-plan"} if distributed else payload
        jsonschema.validate(sent, schema)
        assert sent["sgguard"] == ("sweep-plan" if distributed else "sweep")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload | {"sgguard": "sweep-worker"}, schema)
    # The Scheduler's role: StartExecution on the state machine, or InvokeFunction on the
    # function, never both.
    policy = res[("aws_iam_role_policy", "scheduler")]["policy"]
    assert ('[for s in [{Sid = "StartSweepStateMachine", Effect = "Allow", Action = "states:StartExecution", '
            "Resource = local.sweep_state_machine_arn}] : s if local.sweep_distributed]") in policy
    assert ('[for s in [{Sid = "InvokeSgguard", Effect = "Allow", Action = "lambda:InvokeFunction", '
            'Resource = [aws_lambda_function.sgguard.arn, "${aws_lambda_function.sgguard.arn}:*"]}] '
            ": s if !local.sweep_distributed]") in policy
    assert sorted(ACTION.findall(policy)) == sorted(["states:StartExecution", "lambda:InvokeFunction", "sqs:SendMessage",
                                                     "kms:Decrypt", "kms:GenerateDataKey*"])


@pytest.fixture
def asl_checking_moto(moto_endpoint):
    """The emulator's moto with its Step Functions parser backend on: CreateStateMachine then
    parses the definition with its Amazon States Language grammar (moto runs no Distributed Map;
    only the definition's syntax is checked). Turned off again afterwards."""
    def configure(on: bool):
        body = json.dumps({"stepfunctions": {"execute_state_machine": on}}).encode()
        request = urllib.request.Request(f"{moto_endpoint}/moto-api/config", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        # (moto's answer does not echo this setting: the broken definitions below show it is on.)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

    configure(True)
    try:
        yield client("stepfunctions", moto_endpoint, REGION)
    finally:
        configure(False)


def asl_verdicts(definitions: list[dict]) -> list[dict]:
    """asl-validator's verdicts (aslvalidate/validate.js) on the definitions."""
    node = shutil.which("node")
    modules = Path(sys.prefix) / "aslvalidate" / "node_modules"
    if not node or not (modules / "asl-validator").is_dir():
        pytest.fail(f"asl-validator needs Node.js and {modules}: run tests/infra/run.sh VENV_DIR (npm ci of tests/infra/aslvalidate)")
    proc = subprocess.run([node, str(HERE / "aslvalidate" / "validate.js")], input=json.dumps(definitions),
                          capture_output=True, text=True, env={**os.environ, "NODE_PATH": str(modules)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def broken_copies(definition: dict) -> list[tuple[str, dict]]:
    """The definition with one mistake each in the Distributed Map, and what it is."""
    out = []
    for what, path, value in (
            ("a batch size that is not a number", ("ItemBatcher", "MaxItemsPerBatch"), "ten"),
            ("a processor mode that does not exist", ("ItemProcessor", "ProcessorConfig", "Mode"), "DISTRIBUTE"),
            ("a reader without its resource", ("ItemReader", "Resource"), None),
            ("a tolerance above 100%", ("ToleratedFailurePercentage",), 101),
            ("a next state that is not there", ("Next",), "Summarise")):
        broken = copy.deepcopy(definition)
        node = broken["States"]["SweepAccounts"]
        for key in path[:-1]:
            node = node[key]
        if value is None:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        out.append((what, broken))
    return out


def test_asl_validator_accepts_the_definition_and_refuses_broken_ones():
    definition = rendered_definition()
    broken = broken_copies(definition)
    verdicts = asl_verdicts([definition] + [b for _, b in broken])
    assert verdicts[0] == {"isValid": True, "errorsText": ""}, verdicts[0]["errorsText"]
    for (what, _), verdict in zip(broken, verdicts[1:], strict=True):
        assert verdict["isValid"] is False, f"asl-validator took {what}"


def for_motos_grammar(definition: dict) -> dict:
    """The definition as moto 5.2.5's grammar (tests/infra/requirements.txt) takes it: without
    ItemBatcher, which it does not know (AWS documents it: "ItemBatcher (Map)"; asl-validator
    checks it above), and with the tolerance written as a decimal (its grammar refuses the
    integer `10`, which AWS takes)."""
    out = copy.deepcopy(definition)
    sweep = out["States"]["SweepAccounts"]
    del sweep["ItemBatcher"]
    sweep["ToleratedFailurePercentage"] = float(sweep["ToleratedFailurePercentage"])
    return out


def test_the_emulator_accepts_the_definition_and_refuses_broken_ones(asl_checking_moto):
    """CreateStateMachine in the emulator, its grammar on. The canary fails once moto takes the
    definition as it is: then drop for_motos_grammar."""
    sfn = asl_checking_moto
    definition = rendered_definition()
    role = f"arn:aws:iam::{ACCOUNT}:role/sgguard-sweep-state-machine"
    # (moto answers its InvalidDefinition without an error code: matched on the message.)
    with pytest.raises(ClientError, match='ASLParserException.*at "ItemBatcher", mismatched input'):
        sfn.create_state_machine(name="sgguard-sweep", definition=json.dumps(definition), roleArn=role)
    checked = for_motos_grammar(definition)
    arn = sfn.create_state_machine(name="sgguard-sweep", definition=json.dumps(checked), roleArn=role,
                                   type="STANDARD")["stateMachineArn"]
    try:
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == checked
    finally:
        sfn.delete_state_machine(stateMachineArn=arn)
    # (moto's grammar neither knows the batcher nor bounds the tolerance, nor follows Next.)
    unchecked = {"a batch size that is not a number", "a tolerance above 100%", "a next state that is not there"}
    for what, broken in broken_copies(definition):
        if what not in unchecked:
            with pytest.raises(ClientError, match=r"CreateStateMachine operation: (ASLParserException|Error=\w+Error)"):
                sfn.create_state_machine(name="sgguard-sweep-broken", definition=json.dumps(for_motos_grammar(broken)),
                                         roleArn=role)
                pytest.fail(f"the emulator took {what}")
