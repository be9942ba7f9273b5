# The scheduled sweep: walks every account and region (docs/cli.md "`sgguard scan` and the scheduled sweep").
# Always created; DISABLED until sweep_enabled = true. It starts the sweep's state machine
# (sweep.tf) with the plan payload, or with sweep_engine = "lambda" invokes the hub function
# with the whole sweep.

locals {
  # Accounts without the remediation role would fail every sweep: by default the sweep covers
  # the OUs the StackSet deploys the role to, or only this account when there is no
  # organization (a sweep there cannot list accounts).
  sweep_ou_ids = var.sweep_ou_ids != null ? var.sweep_ou_ids : (var.create_stackset ? var.stackset_ou_ids : [])

  # The payload the Lambda reads (docs/cli.md, "sgguard scan and the scheduled sweep").
  sweep_payload = merge(
    {
      sgguard   = "sweep"
      regions   = local.sweep_regions
      remediate = var.sweep_remediate
    },
    var.organization_id == null ? { accounts = ["self"] } : {},
    var.organization_id != null && length(local.sweep_ou_ids) > 0 ? { ous = local.sweep_ou_ids } : {},
  )

  # The same request as the state machine's first step: the hub function plans the sweep.
  sweep_plan_payload = merge(local.sweep_payload, { sgguard = "sweep-plan" })
}

resource "aws_scheduler_schedule" "sweep" {
  name                         = "${local.function_name}-sweep"
  description                  = "sgguard: sweep every account and region"
  schedule_expression          = var.sweep_schedule_expression
  schedule_expression_timezone = var.sweep_schedule_timezone
  state                        = var.sweep_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = aws_kms_key.sgguard.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.sweep_distributed ? aws_sfn_state_machine.sweep[0].arn : aws_lambda_alias.live.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(local.sweep_distributed ? local.sweep_plan_payload : local.sweep_payload)

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
}
