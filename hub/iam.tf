# IAM roles of the hub: the Lambda's execution role (the hub function and the sweep worker) and
# the sweep schedule's role. The sweep state machine's role is in sweep.tf.

resource "aws_iam_role" "lambda" {
  name        = "${local.function_name}-lambda"
  description = "Execution role of the sgguard Lambda; the only principal the spoke remediation roles trust."
  tags        = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_iam_role_policy" "lambda" {
  name = var.name_prefix
  role = aws_iam_role.lambda.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        # Member accounts: only the remediation role (created by the StackSet), and only
        # inside the organization when organization_id is set (null attributes dropped).
        { for k, v in {
          Sid       = "AssumeRemediationRoleInMemberAccounts"
          Effect    = "Allow"
          Action    = "sts:AssumeRole"
          Resource  = "arn:${local.partition}:iam::*:role/${var.remediation_role_name}"
          Condition = var.organization_id == null ? null : { StringEquals = { "aws:ResourceOrgID" = var.organization_id } }
        } : k => v if v != null },
        {
          Sid      = "PublishNotifications"
          Effect   = "Allow"
          Action   = "sns:Publish"
          Resource = compact([aws_sns_topic.notifications.arn, var.chat_topic_arn])
        },
        {
          # Outcomes and sweep summaries as events on the findings bus (source sgguard); the
          # members' hub bus is not sgguard's to write.
          Sid      = "PutFindingEvents"
          Effect   = "Allow"
          Action   = "events:PutEvents"
          Resource = aws_cloudwatch_event_bus.findings.arn
        },
        {
          # Account names for notifications, the sweep's accounts (the whole organization, or
          # below chosen OUs), the OUs above an account up to the root (mode_by_scope) and
          # which account is the management account (coverage: no StackSet instance there).
          # ListAccounts has no resource-level scope; the others' ARNs carry the management
          # account's id, which the module does not know.
          Sid    = "ReadOrganization"
          Effect = "Allow"
          Action = [
            "organizations:DescribeAccount",
            "organizations:DescribeOrganization",
            "organizations:DescribeOrganizationalUnit",
            "organizations:ListAccounts",
            "organizations:ListAccountsForParent",
            "organizations:ListChildren",
            "organizations:ListParents",
            "organizations:ListRoots",
          ]
          Resource = "*"
        },
        {
          # The hub account's own security groups and the RAM shares of its prefix lists (the
          # spoke role's read actions, from spoke-infra/remediation-actions.json).
          # Describe*/Get* have no account scope.
          Sid      = "ReadSecurityGroupsInHubAccount"
          Effect   = "Allow"
          Action   = local.ec2_read_actions
          Resource = "*"
        },
        {
          # The sweep's coverage gaps in the hub account: its forwarding rule in each enabled
          # region but the home region (the spoke's, when the StackSet deploys to it), read as
          # a member's is; a region without it is a gap.
          Sid      = "ReadForwardingRuleInHubAccount"
          Effect   = "Allow"
          Action   = ["events:DescribeRule", "events:ListTargetsByRule"]
          Resource = "arn:${local.partition}:events:*:${local.account_id}:rule/sgguard-forward-sg-changes"
        },
        {
          Sid    = "RevokeSecurityGroupRulesInHubAccount"
          Effect = "Allow"
          Action = local.ec2_revoke_actions
          Resource = [
            "arn:${local.partition}:ec2:*:${local.account_id}:security-group/*",
            "arn:${local.partition}:ec2:*:${local.account_id}:security-group-rule/*",
          ]
        },
        {
          # A change to one of the hub account's shared prefix lists is undone at the source.
          Sid      = "RestorePrefixListVersionInHubAccount"
          Effect   = "Allow"
          Action   = local.ec2_restore_actions
          Resource = "arn:${local.partition}:ec2:*:${local.account_id}:prefix-list/*"
        },
        {
          # How many undelivered events wait in the hub account's own forwarding dead-letter
          # queues (its spoke in hub_account_regions, hub_account.tf): that queue only.
          Sid      = "ReadHubAccountForwardingQueueDepth"
          Effect   = "Allow"
          Action   = local.hub_queue_actions
          Resource = "arn:${local.partition}:sqs:*:${local.account_id}:${local.forwarding_queue_name}"
        },
        {
          # The hub function's and the sweep worker's (same role) log groups.
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = [for arn in concat([aws_cloudwatch_log_group.lambda.arn], aws_cloudwatch_log_group.sweep_worker[*].arn) : "${arn}:*"]
        },
        {
          # The on-failure destination of the asynchronous invocations (lambda.tf), and
          # sgguard's own durable records (SGGUARD_RECORD_QUEUE_URL).
          Sid      = "SendFailedAsyncInvocationsToDlq"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = aws_sqs_queue.dlq.arn
        },
        {
          # The full sweep reports, only under sweeps/ (no read, no list, no delete).
          Sid      = "WriteSweepReports"
          Effect   = "Allow"
          Action   = "s3:PutObject"
          Resource = "${aws_s3_bucket.reports.arn}/${local.report_prefix}*"
        },
        {
          # The hub state table (state.tf, SGGUARD_STATE_TABLE) and nothing else: items read,
          # written, updated under a condition (the breaker's counters), deleted, and queried
          # by partition key. No Scan, no batch or table-level call.
          Sid      = "ReadWriteHubState"
          Effect   = "Allow"
          Action   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
          Resource = aws_dynamodb_table.state.arn
        },
        {
          # The Lambda service (DLQ, logs), S3 (SSE-KMS of the reports, the exemptions file
          # and the mode per scope) and DynamoDB (the state table) use the module's key with these, on the
          # Lambda's behalf.
          Sid      = "UseModuleKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey*"]
          Resource = aws_kms_key.sgguard.arn
        },
      ],
      # Statements filtered by a condition: `[for s in [...] : s if cond]` keeps the tuple
      # type (a `cond ? [...] : []` conditional would need both sides to have one type).
      [for s in [
        {
          Sid      = "WriteXRayTraces"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = "*"
        },
      ] : s if var.tracing_mode == "Active"],
      [for s in [
        {
          # The distributed sweep (sweep.tf) reads back what it wrote under sweeps/runs/: the
          # plan's items, the workers' parts, the Map's manifest and result files.
          Sid      = "ReadSweepRuns"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${aws_s3_bucket.reports.arn}/${local.sweep_runs_prefix}*"
        },
      ] : s if local.sweep_distributed],
      [for s in [
        {
          # The exemptions file and nothing else of the bucket (SGGUARD_EXEMPTIONS_URI).
          Sid      = "ReadExemptions"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${aws_s3_bucket.reports.arn}/${local.exemptions_key}"
        },
      ] : s if var.exemptions_enabled],
      [for s in [
        {
          # The mode per scope and nothing else of the bucket (SGGUARD_MODE_BY_SCOPE_URI), at
          # the version the function's configuration names (SGGUARD_MODE_BY_SCOPE_VERSION:
          # GetObjectVersion; the current one, GetObject, for a command run without it).
          Sid      = "ReadModeByScope"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:GetObjectVersion"]
          Resource = "${aws_s3_bucket.reports.arn}/${local.mode_by_scope_key}"
        },
      ] : s if length(var.mode_by_scope) > 0],
      [for s in [
        {
          # Coverage: the StackSet's stack instances (SGGUARD_STACKSET_NAME).
          Sid      = "ListStackSetInstances"
          Effect   = "Allow"
          Action   = "cloudformation:ListStackInstances"
          Resource = local.stackset_arn_pattern
        },
        {
          # CloudFormation asks Organizations whether the caller is a StackSets delegated
          # administrator when the call is made with CallAs DELEGATED_ADMIN.
          Sid      = "StackSetsDelegatedAdmin"
          Effect   = "Allow"
          Action   = "organizations:ListDelegatedAdministrators"
          Resource = "*"
        },
      ] : s if var.create_stackset && (s.Sid != "StackSetsDelegatedAdmin" || var.stackset_call_as == "DELEGATED_ADMIN")],
    )
  })
}

# EventBridge Scheduler starts the sweep (the state machine, or the Lambda) with this role.
resource "aws_iam_role" "scheduler" {
  name        = "${local.function_name}-scheduler"
  description = "Used by EventBridge Scheduler to start the sgguard sweep."
  tags        = var.tags

  # aws:SourceAccount: EventBridge Scheduler's documented confused-deputy guard.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "scheduler.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name = "${var.name_prefix}-sweep"
  role = aws_iam_role.scheduler.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      # What the schedule targets (schedule.tf): the sweep's state machine, or the function.
      [for s in [
        {
          Sid      = "StartSweepStateMachine"
          Effect   = "Allow"
          Action   = "states:StartExecution"
          Resource = local.sweep_state_machine_arn
        },
      ] : s if local.sweep_distributed],
      [for s in [
        {
          Sid      = "InvokeSgguard"
          Effect   = "Allow"
          Action   = "lambda:InvokeFunction"
          Resource = [aws_lambda_function.sgguard.arn, "${aws_lambda_function.sgguard.arn}:*"]
        },
      ] : s if !local.sweep_distributed],
      [
        {
          Sid      = "SendUndeliverableToDlq"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = aws_sqs_queue.dlq.arn
        },
        {
          Sid      = "UseModuleKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey*"]
          Resource = aws_kms_key.sgguard.arn
        },
      ],
    )
  })
}
