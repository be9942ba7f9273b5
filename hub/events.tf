# Hub event bus (spokes forward to it), the findings bus (sgguard's own events), the rules that
# invoke the Lambda, and the DLQ.

resource "aws_cloudwatch_event_bus" "hub" {
  name = local.event_bus_name
  tags = var.tags
}

# Member accounts of the organization may put events on the hub bus (their forwarder
# role calls events:PutEvents); nobody outside the organization can.
resource "aws_cloudwatch_event_bus_policy" "hub" {
  count          = var.organization_id == null ? 0 : 1
  event_bus_name = aws_cloudwatch_event_bus.hub.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "OrganizationPutsEvents"
        Effect    = "Allow"
        Principal = "*"
        Action    = "events:PutEvents"
        Resource  = aws_cloudwatch_event_bus.hub.arn
        Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }
      },
    ]
  })
}

# sgguard's own events (`Security Group Finding`, `Sweep Summary`, source `sgguard`): on a bus
# of their own that only the hub's sgguard role may write. Never the hub bus, which every
# principal of the organization may write: a finding there could be forged by a member admin
# and then fed to `sgguard restore`. Consumers route from this bus with rules of the hub account.
resource "aws_cloudwatch_event_bus" "findings" {
  name = local.findings_bus_name
  tags = var.tags
}

# Only the Lambda role (the hub function and the sweep worker) puts events on the findings bus:
# allowed by name, and denied to every other principal, of the members and of the hub account.
resource "aws_cloudwatch_event_bus_policy" "findings" {
  event_bus_name = aws_cloudwatch_event_bus.findings.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "OnlySgguardPutsFindings"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.lambda.arn }
        Action    = "events:PutEvents"
        Resource  = aws_cloudwatch_event_bus.findings.arn
      },
      {
        Sid       = "NobodyElsePutsFindings"
        Effect    = "Deny"
        Principal = "*"
        Action    = "events:PutEvents"
        Resource  = aws_cloudwatch_event_bus.findings.arn
        Condition = { ArnNotEquals = { "aws:PrincipalArn" = aws_iam_role.lambda.arn } }
      },
    ]
  })
}

# Forwarded security-group changes from every spoke account and region.
resource "aws_cloudwatch_event_rule" "hub" {
  name           = "${local.function_name}-sg-changes"
  description    = "sgguard: security-group changes forwarded by the spokes"
  event_bus_name = aws_cloudwatch_event_bus.hub.name
  event_pattern  = local.event_pattern
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "hub" {
  rule           = aws_cloudwatch_event_rule.hub.name
  event_bus_name = aws_cloudwatch_event_bus.hub.name
  target_id      = "sgguard-lambda"
  arn            = aws_lambda_alias.live.arn

  retry_policy {
    maximum_retry_attempts       = var.event_max_retry_attempts
    maximum_event_age_in_seconds = var.event_max_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

# Changes made in the hub account itself, in the hub region (its default bus).
resource "aws_cloudwatch_event_rule" "hub_default_bus" {
  count          = var.hub_default_bus_rule_enabled ? 1 : 0
  name           = "${local.function_name}-sg-changes-local"
  description    = "sgguard: security-group changes in the hub account"
  event_bus_name = "default"
  event_pattern  = local.event_pattern
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "hub_default_bus" {
  count          = var.hub_default_bus_rule_enabled ? 1 : 0
  rule           = aws_cloudwatch_event_rule.hub_default_bus[0].name
  event_bus_name = "default"
  target_id      = "sgguard-lambda"
  arn            = aws_lambda_alias.live.arn

  retry_policy {
    maximum_retry_attempts       = var.event_max_retry_attempts
    maximum_event_age_in_seconds = var.event_max_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_lambda_permission" "hub_rule" {
  statement_id  = "AllowHubBusRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.sgguard.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.hub.arn
}

resource "aws_lambda_permission" "hub_default_bus_rule" {
  count         = var.hub_default_bus_rule_enabled ? 1 : 0
  statement_id  = "AllowHubDefaultBusRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.sgguard.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.hub_default_bus[0].arn
}

# Dead-letter queue of: the EventBridge targets (events they could not hand to Lambda, after
# their retry policy), the Lambda's failed asynchronous invocations (the on-failure destination
# of lambda.tf, after Lambda's retries) and the sweep schedule (invocations it could not make).
resource "aws_sqs_queue" "dlq" {
  name                              = "${local.function_name}-dlq"
  message_retention_seconds         = var.dlq_message_retention_seconds
  kms_master_key_id                 = aws_kms_key.sgguard.arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgeRulesSendUndeliverableEvents"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.dlq.arn
        Condition = {
          ArnEquals = {
            "aws:SourceArn" = concat(
              [aws_cloudwatch_event_rule.hub.arn],
              aws_cloudwatch_event_rule.hub_default_bus[*].arn,
            )
          }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.dlq.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}
