# SNS topic for sgguard's notifications (one message per event, see docs/notifications.md), and the
# CloudWatch alarms that tell when the guard itself is failing, on their own topic: a topic
# that is broken (deleted, its policy or subscriptions changed) silences one of the two only.

locals {
  # What the account itself may do with either topic (through IAM).
  sns_topic_owner_actions = [
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:DeleteTopic",
    "sns:Subscribe",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
  ]
}

resource "aws_sns_topic" "notifications" {
  name              = local.function_name
  display_name      = "sgguard"
  kms_master_key_id = aws_kms_key.sgguard.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "notifications" {
  arn = aws_sns_topic.notifications.arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountManagesTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = local.sns_topic_owner_actions
        Resource  = aws_sns_topic.notifications.arn
      },
      {
        Sid       = "SgguardLambdaPublishes"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.lambda.arn }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.notifications.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.notification_emails)
  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = each.value
}

# The alarms' topic: the module's own (alarm_topic_arn = null) or one the operator brings.
locals {
  create_alarm_topic = var.alarm_topic_arn == null
  alarm_topic_arn    = local.create_alarm_topic ? one(aws_sns_topic.alarms[*].arn) : var.alarm_topic_arn
  alarm_emails       = var.alarm_emails != null ? var.alarm_emails : var.notification_emails
}

resource "aws_sns_topic" "alarms" {
  count             = local.create_alarm_topic ? 1 : 0
  name              = "${local.function_name}-alarms"
  display_name      = "sgguard alarms"
  kms_master_key_id = aws_kms_key.sgguard.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  count = local.create_alarm_topic ? 1 : 0
  arn   = aws_sns_topic.alarms[0].arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountManagesTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = local.sns_topic_owner_actions
        Resource  = aws_sns_topic.alarms[0].arn
      },
      {
        Sid       = "SgguardAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms[0].arn
        Condition = {
          ArnLike = {
            "aws:SourceArn" = local.alarm_arn_pattern
          }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms[0].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each  = local.create_alarm_topic ? toset(local.alarm_emails) : toset([])
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# Any failed invocation (a failed event or sweep, after sgguard reported what it could).
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${local.function_name}-lambda-errors"
  alarm_description   = "sgguard: the Lambda reported errors; events may not have been remediated. See its log group."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.sgguard.function_name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

# Events that could not be delivered to (or processed by) the Lambda.
# sgguard's own metrics (EMF lines in its log, namespace local.metrics_namespace, the
# function's name, no dimension): what the
# Lambda answers as handled so that it is not retried, but a person must still look at.
resource "aws_cloudwatch_metric_alarm" "circuit_breaker" {
  alarm_name          = "${local.function_name}-circuit-breaker"
  alarm_description   = "sgguard: the circuit breaker held revocations back (see the critical message); check the baseline and the changes."
  namespace           = local.metrics_namespace
  metric_name         = "BreakerTripped"
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

# Events that failed because what decides their mode could not be read (the exemptions file
# never loaded, an account's organizational unit unreadable): nothing was done, Lambda retries
# them; an alarm so that a lasting cause (a deleted file, a denied Organizations call) is seen.
resource "aws_cloudwatch_metric_alarm" "undecided" {
  alarm_name          = "${local.function_name}-undecided"
  alarm_description   = "sgguard: events could not be decided (exemptions file or organizational unit unreadable) and wait for a retry; see the message's errors."
  namespace           = local.metrics_namespace
  metric_name         = "Undecided"
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "sweep_failures" {
  alarm_name          = "${local.function_name}-sweep-failures"
  alarm_description   = "sgguard: a sweep could not cover some accounts or regions, or its breaker tripped (see its summary)."
  namespace           = local.metrics_namespace
  metric_name         = "SweepFailures"
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

# Security-group changes the members' forwarding rules could not put on the hub bus, found by
# the sweep waiting in their dead-letter queues (sgguard-forward-sg-changes-dlq of each account
# and region): the hub never received them; the sweep's summary names the places.
resource "aws_cloudwatch_metric_alarm" "sweep_undelivered_events" {
  alarm_name          = "${local.function_name}-sweep-undelivered-events"
  alarm_description   = "sgguard: the sweep found security-group change events waiting in forwarding dead-letter queues of the members (the hub never received them); its summary names the accounts and regions."
  namespace           = local.metrics_namespace
  metric_name         = "SweepUndeliveredEvents"
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

# What a sweep could not guard whole, though nothing failed (docs/operations.md): enabled
# account-regions without the sgguard forwarding rule (a change there reaches sgguard only at the
# next sweep; they are swept), and account-regions a service control policy denies to sgguard
# (not swept) beyond the count the operator expects. Both are named in the sweep's summary.
locals {
  sweep_coverage_alarms = merge(
    {
      "coverage-gaps" = {
        metric      = "SweepCoverageGaps"
        threshold   = 0
        description = "sgguard: a sweep found enabled regions without the forwarding rule (coverage gaps, listed in its summary); add them to stackset_regions or deny them with an SCP."
      }
    },
    var.sweep_regions_denied_alarm_threshold == null ? {} : {
      "regions-denied" = {
        metric      = "SweepRegionsDenied"
        threshold   = var.sweep_regions_denied_alarm_threshold
        description = "sgguard: a sweep found more regions denied by a service control policy than expected (named in its summary); sgguard can neither read nor fix rules there."
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "sweep_coverage" {
  for_each            = local.sweep_coverage_alarms
  alarm_name          = "${local.function_name}-sweep-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.metrics_namespace
  metric_name         = each.value.metric
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_messages" {
  alarm_name          = "${local.function_name}-dlq-messages"
  alarm_description   = "sgguard: undelivered events are waiting in the dead-letter queue; inspect and re-drive them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
  tags                = var.tags
}
