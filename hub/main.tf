# sgguard hub: shared lookups, locals and the module's customer managed KMS key.
#
# Files: events.tf (bus, bus policy, rules, DLQ), lambda.tf (function, log group),
# iam.tf (Lambda and Scheduler roles), notifications.tf (SNS topics, alarms),
# reports.tf (sweep report bucket, exemptions file), schedule.tf (sweep schedule),
# sweep.tf (the sweep's state machine and worker function),
# stackset.tf (spokes), state.tf (hub state table), tamper_protection.tf (the rendered SCP),
# trail.tf (optional CloudTrail).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # Every name the module gives (name_prefix): the four that can be set apart default to it.
  function_name  = coalesce(var.function_name, var.name_prefix)
  event_bus_name = coalesce(var.event_bus_name, "${var.name_prefix}-hub")
  stackset_name  = coalesce(var.stackset_name, "${var.name_prefix}-spoke")
  trail_name     = coalesce(var.trail_name, var.name_prefix)

  # The CloudWatch namespace of sgguard's own metrics (SGGUARD_METRICS_NAMESPACE), one per hub.
  metrics_namespace = local.function_name

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # ONE event pattern for the hub rules and the spoke rules (the spoke template carries a
  # copy that tests/infra compares with this file).
  event_pattern = file("${path.module}/event-pattern.json")

  # The spoke template and the actions of the remediation role live in spoke-infra/. The
  # Lambda role gets the same EC2, RAM and SQS actions for the hub's own account, not the tamper
  # check's reads of the spoke stack (events:, iam:), which the hub account does not have, nor
  # the members' Security Hub import (securityhub:).
  spoke_template      = file("${path.module}/../spoke-infra/sgguard-spoke.yaml")
  remediation_actions = jsondecode(file("${path.module}/../spoke-infra/remediation-actions.json"))
  without_events      = [for a in local.remediation_actions : a if !startswith(a, "events:")]
  without_iam         = [for a in local.without_events : a if !startswith(a, "iam:")]
  hub_own_actions     = [for a in local.without_iam : a if !startswith(a, "securityhub:")]
  # The depth of the hub account's own forwarding dead-letter queues (its spoke, hub_account.tf),
  # scoped to that queue; the rest are EC2 and RAM.
  hub_queue_actions   = [for a in local.hub_own_actions : a if startswith(a, "sqs:")]
  hub_ec2_ram_actions = [for a in local.hub_own_actions : a if !startswith(a, "sqs:")]
  # Revocations are scoped to this account's security groups, restores of a prefix list's
  # version to its prefix lists; reads need "*".
  ec2_revoke_actions  = [for a in local.hub_ec2_ram_actions : a if startswith(a, "ec2:Revoke")]
  ec2_restore_actions = [for a in local.hub_ec2_ram_actions : a if startswith(a, "ec2:Restore")]
  ec2_read_actions = [
    for a in local.hub_ec2_ram_actions : a
    if !startswith(a, "ec2:Revoke") && !startswith(a, "ec2:Restore")
  ]
  # The spoke's forwarding dead-letter queue, one per region (spoke-infra/sgguard-spoke.yaml).
  forwarding_queue_name = "sgguard-forward-sg-changes-dlq"

  # The spoke template's parameters, as every stack of it in this organization takes them
  # (the StackSet of the members, the hub account's own, the management account's stacks:
  # output spoke_stack_parameters); only PrimaryRegion differs.
  spoke_parameters = {
    HubAccountId     = local.account_id
    HubRegion        = local.region
    HubEventBusName  = aws_cloudwatch_event_bus.hub.name
    HubLambdaRoleArn = aws_iam_role.lambda.arn
    # A recreated Lambda role has a new unique id: the parameter changes, the StackSet update
    # puts the members' trust policies again (IAM resolved the old ARN to the old id).
    HubRoleUniqueId           = aws_iam_role.lambda.unique_id
    RemediationRoleName       = var.remediation_role_name
    AuditRoleName             = var.audit_role_name
    AuditTrustedPrincipalArns = join(",", var.audit_trusted_principal_arns)
    OrganizationId            = var.organization_id
  }

  # Every alarm of the module is named <function_name>-...: what CloudWatch may publish to the
  # alarm topic (notifications.tf) and use the key for (below) on behalf of.
  alarm_arn_pattern = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.function_name}-*"

  log_group_name          = "/aws/lambda/${local.function_name}"
  findings_bus_name       = "${local.function_name}-findings"
  stackset_primary_region = coalesce(var.stackset_primary_region, local.region)
  stackset_other_regions  = [for r in var.stackset_regions : r if r != local.stackset_primary_region]
  trail_bucket_name       = coalesce(var.trail_bucket_name, "${var.name_prefix}-trail-${local.account_id}-${local.region}")
  # An organization trail belongs to the management account, also when a CloudTrail delegated
  # administrator creates it: its ARN holds the owner's id (organization_trail_owner_account_id).
  trail_owner_account_id = var.is_organization_trail ? coalesce(var.organization_trail_owner_account_id, local.account_id) : local.account_id
  trail_arn              = "arn:${local.partition}:cloudtrail:${local.region}:${local.trail_owner_account_id}:trail/${local.trail_name}"

  # EventBridge routes events to an event bus of another Region only between commercial
  # Regions (the aws partition), not in AWS GovCloud (US) or China: there a spoke can forward to
  # the hub bus from the hub's Region only, and the sweep covers the others. The StackSets'
  # preconditions (stackset.tf, hub_account.tf) refuse forwarding rules elsewhere.
  cross_region_event_routing = local.partition == "aws"

  # The StackSet's ARN is arn:...:stackset/<name>:<id>. Service-managed StackSets live in the
  # management account, also those a delegated administrator creates: with DELEGATED_ADMIN
  # the account in the ARN is not this one, and the module does not know it.
  stackset_arn_account = var.stackset_call_as == "SELF" ? local.account_id : "*"
  stackset_arn_pattern = "arn:${local.partition}:cloudformation:${local.region}:${local.stackset_arn_account}:stackset/${local.stackset_name}:*"

  # The regions the sweep walks: sweep_regions, else none named (every region enabled in each
  # account). Where the spokes forward events is stackset_regions: an enabled region swept
  # without the forwarding rule is a coverage gap (SGGUARD_FORWARDING_REGIONS tells the kind).
  sweep_regions = var.sweep_regions != null ? var.sweep_regions : []

  # The report bucket (reports.tf); S3 names are lowercase, without `_`.
  report_bucket_name = coalesce(var.report_bucket_name, replace(lower("${local.function_name}-reports-${local.account_id}-${local.region}"), "_", "-"))
  report_prefix      = "sweeps/"
  exemptions_key     = "config/exemptions.yaml"
  # mode_by_scope as a JSON object (reports.tf): a Lambda environment holds 4 KB.
  mode_by_scope_key = "config/mode-by-scope.json"

  # Lambda environment = CLI environment (docs/configuration.md). SGGUARD_REGIONS is
  # left out when empty so that the binary's default (all enabled regions) applies, and
  # SGGUARD_FORWARDING_REGIONS when there are no stackset_regions (gaps of unknown kind); the
  # optional features' variables are set only when they are on.
  lambda_environment = merge(
    {
      SGGUARD_MODE      = var.mode
      SGGUARD_TOPIC_ARN = aws_sns_topic.notifications.arn
      SGGUARD_ROLE_NAME = var.remediation_role_name
      SGGUARD_POLICY    = "/var/task/policy.yaml"
      # The circuit breaker (docs/configuration.md, "The circuit breaker").
      SGGUARD_MAX_REVOKES_PER_EVENT        = tostring(var.max_revokes_per_event)
      SGGUARD_MAX_REVOKES_PER_ACCOUNT_HOUR = tostring(var.max_revokes_per_account_hour)
      SGGUARD_MAX_REVOKES_PER_SWEEP        = tostring(var.max_revokes_per_sweep)
      # The durable record of an outcome whose notification failed, and of an unreadable
      # event (docs/operations.md, "Failures, retries, the DLQ and the alarms").
      SGGUARD_RECORD_QUEUE_URL = aws_sqs_queue.dlq.url
      # The sweep's tamper check (docs/security-model.md, "Tamper protection"): where the members' forwarding
      # rules must send, and the one principal their remediation role may trust.
      SGGUARD_HUB_BUS_ARN        = aws_cloudwatch_event_bus.hub.arn
      SGGUARD_TRUSTED_PRINCIPALS = aws_iam_role.lambda.arn
      # The full sweep reports go to s3://<bucket>/sweeps/ (reports.tf).
      SGGUARD_REPORT_BUCKET = aws_s3_bucket.reports.id
      # Every outcome and sweep summary is also an event on the findings bus (source sgguard),
      # which only the Lambda role may write (events.tf); never the members' hub bus.
      SGGUARD_EVENT_BUS_ARN = aws_cloudwatch_event_bus.findings.arn
      # The state every instance shares: breaker counters, revocation journal, handled
      # eventIDs (state.tf).
      SGGUARD_STATE_TABLE = aws_dynamodb_table.state.name
      # sgguard's metrics in a namespace of this hub's own, which its alarms read
      # (notifications.tf): a second hub in the account (name_prefix) counts apart.
      SGGUARD_METRICS_NAMESPACE = local.metrics_namespace
    },
    var.min_severity == null ? {} : { SGGUARD_MIN_SEVERITY = var.min_severity },
    var.chat_topic_arn == null ? {} : { SGGUARD_CHAT_TOPIC_ARN = var.chat_topic_arn },
    var.security_hub ? { SGGUARD_SECURITY_HUB = "true" } : {},
    length(local.sweep_regions) > 0 ? { SGGUARD_REGIONS = join(",", local.sweep_regions) } : {},
    length(var.stackset_regions) > 0 ? { SGGUARD_FORWARDING_REGIONS = join(",", var.stackset_regions) } : {},
    # Exemptions read from S3, kept SGGUARD_EXEMPTIONS_TTL_SECONDS before the next read; every
    # entry must expire within SGGUARD_EXEMPTIONS_MAX_DAYS.
    var.exemptions_enabled ? {
      SGGUARD_EXEMPTIONS_URI         = "s3://${aws_s3_bucket.reports.id}/${local.exemptions_key}"
      SGGUARD_EXEMPTIONS_TTL_SECONDS = tostring(var.exemptions_ttl_seconds)
      SGGUARD_EXEMPTIONS_MAX_DAYS    = tostring(var.exemptions_max_days)
    } : {},
    # Staged enforcement: the mode per OU, root or account, read from S3 when the function starts
    # (reports.tf), at the version this apply wrote: a change of the map changes the function's
    # configuration, so new instances read it. SGGUARD_MODE for the rest.
    length(var.mode_by_scope) > 0 ? {
      SGGUARD_MODE_BY_SCOPE_URI     = "s3://${aws_s3_bucket.reports.id}/${local.mode_by_scope_key}"
      SGGUARD_MODE_BY_SCOPE_VERSION = one(aws_s3_object.mode_by_scope[*].version_id)
    } : {},
    # Coverage: the StackSet whose stack instances say which accounts and regions have a
    # spoke.
    var.create_stackset ? {
      SGGUARD_STACKSET_NAME    = local.stackset_name
      SGGUARD_STACKSET_CALL_AS = var.stackset_call_as
    } : {},
  )
}

# Key policy statements (a local: checkov cannot render the concat inline in `policy`).
locals {
  kms_key_statements = concat(
    [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # Also S3's SSE-KMS on the Lambda's behalf (the reports it writes, the exemptions it
        # reads) and DynamoDB's (the state table).
        Sid       = "SgguardLambdaPublishesAndSendsEncrypted"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.lambda.arn }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
      {
        # EventBridge writes undeliverable events to the encrypted DLQ.
        Sid       = "EventBridgeWritesEncryptedDlq"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        # CloudWatch alarms publish to the encrypted alarm topic: on behalf of this module's
        # alarms only (CloudWatch's KMS requests carry aws:SourceAccount and aws:SourceArn, the
        # alarm's ARN; SNS documents it for encrypted topics).
        Sid       = "CloudWatchAlarmsPublishEncrypted"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = local.alarm_arn_pattern }
        }
      },
      {
        # The hub function's log group, and the sweep worker's and state machine's (sweep.tf).
        Sid       = "CloudWatchLogsEncryptsLambdaLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = [for name in local.encrypted_log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}"]
          }
        }
      },
    ],
    # Only with create_trail (see iam.tf for the `[for ... if]` form).
    [for s in [
      {
        Sid       = "CloudTrailEncryptsLogs"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "kms:GenerateDataKey*"
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceArn" = local.trail_arn }
          StringLike = {
            "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${local.partition}:cloudtrail:*:${local.trail_owner_account_id}:trail/*"
          }
        }
      },
      {
        Sid       = "CloudTrailDescribesKey"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "kms:DescribeKey"
        Resource  = "*"
      },
    ] : s if var.create_trail],
  )
}

# One customer managed key for everything the hub stores: SNS topic, DLQ, Lambda
# environment, the Lambda log group (log_kms_encryption), the report bucket, the state table
# and the trail (create_trail).
resource "aws_kms_key" "sgguard" {
  description             = "sgguard hub: SNS topic, dead-letter queue, Lambda environment and logs, report bucket, state table, optional trail"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  tags                    = var.tags

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.kms_key_statements
  })
}

resource "aws_kms_alias" "sgguard" {
  name          = "alias/${local.function_name}"
  target_key_id = aws_kms_key.sgguard.key_id
}
