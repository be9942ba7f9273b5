# The organization-wide sweep on Step Functions (sweep_engine = "step_functions", the default):
# plan (the hub function lists the accounts into sweeps/runs/<sweep_id>/items.json) → a
# Distributed Map of worker batches (the worker function, `sweep_accounts_per_batch` accounts
# each) → summarize (the hub function merges the parts into one report, one summary, one metrics
# line). The schedule (schedule.tf) starts it. With sweep_engine = "lambda" nothing here is
# created and the schedule invokes the hub function for the whole sweep, as before.

locals {
  sweep_distributed = var.sweep_engine == "step_functions"

  sweep_state_machine_name = "${local.function_name}-sweep"
  # Built from the name, not read from the resource: the role's policy names the state machine
  # (its child workflows) and the state machine needs the role first.
  sweep_state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.sweep_state_machine_name}"
  # The Distributed Map's child workflow executions: execution:<state machine>/<map label>:<id>.
  sweep_child_executions_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.sweep_state_machine_name}/*"

  sweep_worker_function_name  = "${local.function_name}-sweep-worker"
  sweep_worker_log_group_name = "/aws/lambda/${local.sweep_worker_function_name}"
  # The `/aws/vendedlogs/` prefix keeps the CloudWatch Logs resource policy Step Functions
  # writes for its log delivery small (AWS's advice for vended logs).
  sweep_state_machine_log_group_name = "/aws/vendedlogs/states/${local.sweep_state_machine_name}"
  # The log groups the module key's policy lets CloudWatch Logs encrypt (main.tf).
  encrypted_log_group_names = concat(
    [local.log_group_name],
    local.sweep_distributed ? [local.sweep_worker_log_group_name, local.sweep_state_machine_log_group_name] : [],
  )

  # Where a sweep's files live in the report bucket: the plan's items and the workers' parts
  # under sweeps/runs/<sweep_id>/, the Map's result files under sweeps/runs/results/.
  sweep_runs_prefix    = "${local.report_prefix}runs/"
  sweep_results_prefix = "${local.report_prefix}runs/results"

  # Step Functions retries these Lambda service errors (throttling included: the worker's
  # reserved concurrency is a ceiling); a function error (the worker itself failed) is not
  # retried here: the batch fails, counts against the tolerated failures and the summary names it.
  sweep_lambda_retry = [
    {
      ErrorEquals     = ["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"]
      IntervalSeconds = 2
      BackoffRate     = 2
      MaxAttempts     = 6
      MaxDelaySeconds = 60
      JitterStrategy  = "FULL"
    },
  ]

  # The state machine (Amazon States Language, JSONPath). A test renders it from here.
  sweep_definition = {
    Comment = "sgguard: the organization-wide sweep (plan, worker batches, summarize)"
    StartAt = "Plan"
    States = {
      Plan = {
        Type       = "Task"
        Comment    = "The hub function lists the accounts into items.json and answers the batch input"
        Resource   = "arn:${local.partition}:states:::lambda:invoke"
        Parameters = { FunctionName = aws_lambda_alias.live.arn, "Payload.$" = "$" }
        OutputPath = "$.Payload"
        Retry      = local.sweep_lambda_retry
        Next       = "SweepAccounts"
      }
      SweepAccounts = {
        Type  = "Map"
        Label = "SweepAccounts"
        ItemReader = {
          Resource     = "arn:${local.partition}:states:::s3:getObject"
          ReaderConfig = { InputType = "JSON" }
          Parameters   = { "Bucket.$" = "$.bucket", "Key.$" = "$.items_key" }
        }
        ItemBatcher = {
          MaxItemsPerBatch = var.sweep_accounts_per_batch
          "BatchInput.$"   = "$.batch_input"
        }
        MaxConcurrency             = var.sweep_max_concurrency
        ToleratedFailurePercentage = var.sweep_tolerated_failure_percentage
        ItemProcessor = {
          ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" }
          StartAt         = "SweepBatch"
          States = {
            SweepBatch = {
              Type       = "Task"
              Comment    = "The worker function sweeps one batch of accounts and writes its part"
              Resource   = "arn:${local.partition}:states:::lambda:invoke"
              Parameters = { FunctionName = one(aws_lambda_alias.sweep_worker[*].arn), "Payload.$" = "$" }
              OutputPath = "$.Payload"
              # The function's own timeout ends it first; this only bounds a lost invocation.
              TimeoutSeconds = var.sweep_worker_timeout_seconds + 60
              Retry          = local.sweep_lambda_retry
              End            = true
            }
          }
        }
        ResultWriter = {
          Resource   = "arn:${local.partition}:states:::s3:putObject"
          Parameters = { Bucket = aws_s3_bucket.reports.id, Prefix = local.sweep_results_prefix }
        }
        # The Map's output (MapRunArn, ResultWriterDetails = the manifest) goes beside the
        # plan's answer, so that sweep_id and bucket reach Summarize.
        ResultPath = "$.map"
        # Past the tolerated failures (or when the items or the results cannot be read or
        # written) the Map fails; its error carries no manifest. The sweep is still summarized,
        # as failed, and the execution then fails.
        Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.map_error", Next = "SummarizeFailedMap" }]
        Next  = "Summarize"
      }
      Summarize = {
        Type     = "Task"
        Comment  = "The hub function reads the manifest and the parts, stores one report, sends one summary"
        Resource = "arn:${local.partition}:states:::lambda:invoke"
        Parameters = {
          FunctionName = aws_lambda_alias.live.arn
          Payload = {
            sgguard          = "sweep-summarize"
            "sweep_id.$"     = "$.sweep_id"
            "bucket.$"       = "$.bucket"
            "manifest_key.$" = "$.map.ResultWriterDetails.Key"
          }
        }
        OutputPath = "$.Payload"
        Retry      = local.sweep_lambda_retry
        End        = true
      }
      SummarizeFailedMap = {
        Type     = "Task"
        Comment  = "The Map failed: the sweep is summarized as failed with the Map's error"
        Resource = "arn:${local.partition}:states:::lambda:invoke"
        Parameters = {
          FunctionName = aws_lambda_alias.live.arn
          Payload = {
            sgguard       = "sweep-summarize"
            "sweep_id.$"  = "$.sweep_id"
            "bucket.$"    = "$.bucket"
            "map_error.$" = "$.map_error"
          }
        }
        ResultPath = "$.summary"
        Retry      = local.sweep_lambda_retry
        Next       = "SweepFailed"
      }
      SweepFailed = {
        Type  = "Fail"
        Error = "Sgguard.SweepMapFailed"
        Cause = "the Distributed Map failed (see map_error in the execution's history); the sweep was summarized as failed"
      }
    }
  }
}

# ---------------------------------------------------------------------------------------
# The worker function: the same zip, role and environment as the hub function, its own
# reserved concurrency so that a sweep never takes the executions real-time events need.
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "sweep_worker" {
  count             = local.sweep_distributed ? 1 : 0
  name              = local.sweep_worker_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_encryption ? aws_kms_key.sgguard.arn : null
  tags              = var.tags
}

resource "aws_lambda_function" "sweep_worker" {
  #checkov:skip=CKV_AWS_117:sgguard only calls AWS APIs (STS, EC2, SNS, Organizations); a VPC would add NAT or a set of interface endpoints per region and no protection.
  #checkov:skip=CKV_AWS_116:Step Functions invokes the worker synchronously and records a failed batch in the Map's results (FAILED files, read by the summary); there is no asynchronous invocation to send to a dead-letter queue.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile that the build does not have; the zip is built from the repository and its hash is pinned by source_code_hash.
  count         = local.sweep_distributed ? 1 : 0
  function_name = local.sweep_worker_function_name
  description   = "sgguard: sweeps one batch of accounts for the distributed sweep (Step Functions)"
  role          = aws_iam_role.lambda.arn

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.sweep_worker_timeout_seconds

  # A ceiling (and a floor) of its own, apart from the hub function's reserved_concurrency.
  reserved_concurrent_executions = var.sweep_worker_reserved_concurrency

  kms_key_arn = aws_kms_key.sgguard.arn
  publish     = true

  environment {
    variables = local.lambda_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.sweep_worker[0].name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.lambda]
}

# What the state machine invokes: the version this apply published, or
# `sweep_worker_live_version` to roll the worker back with the hub function (`live_version`).
resource "aws_lambda_alias" "sweep_worker" {
  count            = local.sweep_distributed ? 1 : 0
  name             = "live"
  description      = "The sgguard sweep worker version the sweep's state machine invokes"
  function_name    = aws_lambda_function.sweep_worker[0].function_name
  function_version = coalesce(var.sweep_worker_live_version, aws_lambda_function.sweep_worker[0].version)
}

# ---------------------------------------------------------------------------------------
# The state machine, its log group and its role
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "sweep_state_machine" {
  count             = local.sweep_distributed ? 1 : 0
  name              = local.sweep_state_machine_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_encryption ? aws_kms_key.sgguard.arn : null
  tags              = var.tags
}

resource "aws_sfn_state_machine" "sweep" {
  count      = local.sweep_distributed ? 1 : 0
  name       = local.sweep_state_machine_name
  type       = "STANDARD"
  role_arn   = aws_iam_role.sweep_state_machine[0].arn
  definition = jsonencode(local.sweep_definition)
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.sweep_state_machine[0].arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = var.tracing_mode == "Active"
  }

  lifecycle {
    # More batches at once than the worker may run would only be throttled and retried.
    precondition {
      condition     = var.sweep_worker_reserved_concurrency == -1 || var.sweep_max_concurrency <= var.sweep_worker_reserved_concurrency
      error_message = "sweep_max_concurrency (${var.sweep_max_concurrency}) is above sweep_worker_reserved_concurrency (${var.sweep_worker_reserved_concurrency}): the extra batches would only be throttled; lower the one or raise the other."
    }
  }

  depends_on = [aws_iam_role_policy.sweep_state_machine]
}

resource "aws_iam_role" "sweep_state_machine" {
  count       = local.sweep_distributed ? 1 : 0
  name        = "${local.function_name}-sweep-state-machine"
  description = "Runs the sgguard sweep's state machine: invokes the two functions, reads the items, writes the Map's results."
  tags        = var.tags

  # aws:SourceAccount: Step Functions' documented confused-deputy guard.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "states.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "sweep_state_machine" {
  count = local.sweep_distributed ? 1 : 0
  name  = "${var.name_prefix}-sweep"
  role  = aws_iam_role.sweep_state_machine[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # Plan and summarize (the hub function), the batches (the worker): their `live`
          # aliases only.
          Sid      = "InvokeSweepFunctions"
          Effect   = "Allow"
          Action   = "lambda:InvokeFunction"
          Resource = [aws_lambda_alias.live.arn, aws_lambda_alias.sweep_worker[0].arn]
        },
        {
          # The Distributed Map's ItemReader: the plan's items.json.
          Sid      = "ReadSweepItems"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${aws_s3_bucket.reports.arn}/${local.sweep_runs_prefix}*"
        },
        {
          # The Distributed Map's ResultWriter: the manifest and the result files.
          Sid      = "WriteMapResults"
          Effect   = "Allow"
          Action   = ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
          Resource = "${aws_s3_bucket.reports.arn}/${local.sweep_results_prefix}/*"
        },
        {
          # The Distributed Map's child workflows are executions of this state machine.
          Sid      = "StartMapChildWorkflows"
          Effect   = "Allow"
          Action   = "states:StartExecution"
          Resource = local.sweep_state_machine_arn
        },
        {
          Sid      = "ManageMapChildWorkflows"
          Effect   = "Allow"
          Action   = ["states:DescribeExecution", "states:StopExecution"]
          Resource = local.sweep_child_executions_arn
        },
        {
          # S3's SSE-KMS of the report bucket, on the state machine's behalf.
          Sid      = "UseModuleKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = aws_kms_key.sgguard.arn
        },
        {
          # Step Functions' log delivery to CloudWatch Logs: these actions have no resource
          # scope (AWS's documented policy for logging).
          Sid    = "DeliverStateMachineLogs"
          Effect = "Allow"
          Action = [
            "logs:CreateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies",
            "logs:GetLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:UpdateLogDelivery",
          ]
          Resource = "*"
        },
      ],
      [for s in [
        {
          Sid      = "WriteXRayTraces"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
          Resource = "*"
        },
      ] : s if var.tracing_mode == "Active"],
    )
  })
}

# A sweep whose execution failed (the plan, the Map past its tolerance, the summary) or timed
# out: the Scheduler only knows it started one.
resource "aws_cloudwatch_metric_alarm" "sweep_execution_failed" {
  count               = local.sweep_distributed ? 1 : 0
  alarm_name          = "${local.function_name}-sweep-execution-failed"
  alarm_description   = "sgguard: an execution of the sweep's state machine failed, timed out or was aborted; see its history and the sweep summary."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "failed"
    expression  = "failed_executions + timed_out_executions + aborted_executions"
    label       = "sweep executions that did not succeed"
    return_data = true
  }

  # One query per outcome that is not a success, summed above.
  dynamic "metric_query" {
    for_each = { failed_executions = "ExecutionsFailed", timed_out_executions = "ExecutionsTimedOut", aborted_executions = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = aws_sfn_state_machine.sweep[0].arn }
        stat        = "Sum"
        period      = var.alarm_period_seconds
      }
    }
  }
}
