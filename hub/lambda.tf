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
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile that the build does not have; the zip is built from the repository and its hash is pinned by source_code_hash.
  function_name = var.function_name
  description   = "sgguard: revokes security-group rules that break the baseline, across the organization"
  role          = aws_iam_role.lambda.arn

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_seconds

  # -1 = no reservation (the provider's own default).
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency

  kms_key_arn = aws_kms_key.sgguard.arn

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

  # Asynchronous invocations (EventBridge, Scheduler) that fail after Lambda's retries.
  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.lambda]
}
