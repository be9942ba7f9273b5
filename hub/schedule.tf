# The scheduled sweep: walks every account and region (DESIGN.md "Data flow", step 5).
# Always created; DISABLED until sweep_enabled = true.

resource "aws_scheduler_schedule" "sweep" {
  name                         = "${var.function_name}-sweep"
  description                  = "sgguard: sweep every account and region"
  schedule_expression          = var.sweep_schedule_expression
  schedule_expression_timezone = var.sweep_schedule_timezone
  state                        = var.sweep_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = aws_kms_key.sgguard.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.sgguard.arn
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      sgguard   = "sweep"
      regions   = var.sweep_regions
      remediate = var.sweep_remediate
    })

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
}
