# The sgguard Lambda: the same binary as the CLI (`bootstrap`), with the baseline
# `policy.yaml` next to it in the zip.

resource "aws_cloudwatch_log_group" "lambda" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_encryption ? aws_kms_key.sgguard.arn : null
  tags              = var.tags
}

resource "aws_lambda_function" "sgguard" {
  #checkov:skip=CKV_AWS_117:sgguard only calls AWS APIs (STS, EC2, SNS, Organizations); a VPC would add NAT or a set of interface endpoints per region and no protection.
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the dead-letter queue through the on-failure destination of aws_lambda_function_event_invoke_config.sgguard (below), which records the error too; a dead_letter_config as well would send each failure twice.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile that the build does not have; the zip is built from the repository and its hash is pinned by source_code_hash.
  function_name = local.function_name
  description   = "sgguard: revokes security-group rules that break the baseline, across the organization"
  role          = aws_iam_role.lambda.arn

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_seconds

  # Bounded and guaranteed (default 10); -1 = no reservation (the provider's own default).
  reserved_concurrent_executions = var.reserved_concurrency

  kms_key_arn = aws_kms_key.sgguard.arn

  # Every apply that changes the code or the configuration publishes a numbered version; the
  # rules and the schedule invoke the `live` alias, so a rollback is an alias switch.
  publish = true

  environment {
    variables = local.lambda_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  lifecycle {
    # Lambda takes at most 4 KB of environment variables, names and values together. The
    # mode per scope is in S3 (only its URI and version here, whatever its size); what is left
    # to grow is the lists of regions and the names, so a long one fails here, with the reason,
    # rather than in the middle of an apply (checked at plan when the values are known).
    precondition {
      condition     = sum([for name, value in local.lambda_environment : length(name) + length(value)]) <= 4096
      error_message = "The Lambda environment would take more than 4 KB (Lambda's limit for names and values together): shorten sweep_regions, stackset_regions or the names (function_name, report_bucket_name, chat_topic_arn)."
    }
  }

  depends_on = [aws_iam_role_policy.lambda]
}

# What the rules and the schedule invoke: the version this apply published, or `live_version`
# (an earlier version number) to roll back without rebuilding.
resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "The sgguard version the rules and the schedule invoke"
  function_name    = aws_lambda_function.sgguard.function_name
  function_version = coalesce(var.live_version, aws_lambda_function.sgguard.version)
}

# EventBridge and EventBridge Scheduler invoke the function asynchronously: once Lambda has
# accepted an event, a function error is retried by Lambda under this configuration (the
# targets' retry policies only cover the invoke call itself). After the last attempt, or when
# the event is older than the maximum age, Lambda sends an invocation record (the event, the
# error, the attempts) to the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "sgguard" {
  function_name                = aws_lambda_function.sgguard.function_name
  qualifier                    = aws_lambda_alias.live.name
  maximum_retry_attempts       = var.lambda_async_max_retry_attempts
  maximum_event_age_in_seconds = var.lambda_async_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }

  depends_on = [aws_iam_role_policy.lambda]
}
