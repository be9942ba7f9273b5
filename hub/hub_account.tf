# The hub account's own spoke: spoke-infra/sgguard-spoke.yaml deployed to this account in its
# regions besides the home region (where the rule on the default bus, events.tf, invokes the
# Lambda), so that a change there reaches the hub bus in real time as a member's does, and its
# undelivered events wait in that region's forwarding dead-letter queue, which the sweep reads.
# The members' StackSet is SERVICE_MANAGED: it reaches this account only through an OU of
# stackset_ou_ids, and never when this is the management account. So this one is SELF_MANAGED,
# with its own administration role and an execution role that may create only the spoke's
# resources in this account (the actions are those of the template's resource types'
# CloudFormation handlers; tests/infra/test_hub_account.py checks them against the registry
# schemas that cfn-lint ships).

locals {
  hub_account_regions_asked = var.hub_account_regions != null ? var.hub_account_regions : (var.create_stackset ? var.stackset_regions : [])
  hub_account_regions       = [for r in local.hub_account_regions_asked : r if r != local.region]
  hub_spoke                 = length(local.hub_account_regions) > 0
  # Its first region creates the spoke's (global) roles, as the members' primary region does.
  hub_spoke_primary_region = try(local.hub_account_regions[0], null)
  hub_spoke_other_regions  = [for r in local.hub_account_regions : r if r != local.hub_spoke_primary_region]
  hub_stackset_name        = "${local.stackset_name}-hub"

  # What the spoke stack holds in this account (spoke-infra/sgguard-spoke.yaml): its three roles
  # (the template's name defaults, as the module passes them), the forwarding rule, its
  # dead-letter queue and the two alarms of the rule.
  hub_spoke_role_arns = [
    for name in [var.remediation_role_name, var.audit_role_name, "sgguard-event-forwarder"] :
    "arn:${local.partition}:iam::${local.account_id}:role/${name}"
  ]
  hub_spoke_rule_arn   = "arn:${local.partition}:events:*:${local.account_id}:rule/sgguard-forward-sg-changes"
  hub_spoke_queue_arn  = "arn:${local.partition}:sqs:*:${local.account_id}:${local.forwarding_queue_name}"
  hub_spoke_alarm_arn  = "arn:${local.partition}:cloudwatch:*:${local.account_id}:alarm:sgguard-forward-sg-changes-*"
  hub_spoke_stacks_arn = "arn:${local.partition}:cloudformation:*:${local.account_id}:stack/StackSet-${local.hub_stackset_name}*"

  # The create, read, update and delete handlers' permissions of each resource type.
  hub_spoke_role_actions = [
    "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole", "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
    "iam:UpdateRoleDescription",
  ]
  hub_spoke_rule_actions = [
    "events:DeleteRule", "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule",
    "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource",
  ]
  hub_spoke_queue_actions = [
    "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags",
    "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
  ]
  hub_spoke_alarm_actions = [
    "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource",
  ]
}

# CloudFormation assumes it for this StackSet only, and it may only assume the execution role.
resource "aws_iam_role" "hub_spoke_administration" {
  count       = local.hub_spoke ? 1 : 0
  name        = "${local.function_name}-hub-spoke-administration"
  description = "StackSets administration role of the sgguard spoke in the hub account (${local.hub_stackset_name}): may only assume its execution role."
  tags        = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "cloudformation.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          StringLike   = { "aws:SourceArn" = "arn:${local.partition}:cloudformation:*:${local.account_id}:stackset/${local.hub_stackset_name}:*" }
        }
      },
    ]
  })
}

resource "aws_iam_role_policy" "hub_spoke_administration" {
  count = local.hub_spoke ? 1 : 0
  name  = "assume-execution-role"
  role  = aws_iam_role.hub_spoke_administration[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "AssumeHubSpokeExecutionRole"
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = aws_iam_role.hub_spoke_execution[0].arn
      },
    ]
  })
}

# What CloudFormation creates the spoke's stacks in this account as: the spoke's resources and
# nothing else.
resource "aws_iam_role" "hub_spoke_execution" {
  count       = local.hub_spoke ? 1 : 0
  name        = "${local.function_name}-hub-spoke-execution"
  description = "StackSets execution role of the sgguard spoke in the hub account (${local.hub_stackset_name}): creates only the spoke's roles, rule, dead-letter queue and alarms."
  tags        = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.hub_spoke_administration[0].arn }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_iam_role_policy" "hub_spoke_execution" {
  count = local.hub_spoke ? 1 : 0
  name  = "${var.name_prefix}-spoke-resources"
  role  = aws_iam_role.hub_spoke_execution[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The StackSet's own stacks in this account.
        Sid      = "ManageHubSpokeStacks"
        Effect   = "Allow"
        Action   = "cloudformation:*"
        Resource = local.hub_spoke_stacks_arn
      },
      {
        Sid      = "ManageSpokeRoles"
        Effect   = "Allow"
        Action   = local.hub_spoke_role_actions
        Resource = local.hub_spoke_role_arns
      },
      {
        # The forwarding rule sends as the forwarder role; EventBridge alone may be given it.
        Sid       = "PassForwarderRoleToEventBridge"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = "arn:${local.partition}:iam::${local.account_id}:role/sgguard-event-forwarder"
        Condition = { StringEquals = { "iam:PassedToService" = "events.amazonaws.com" } }
      },
      {
        Sid      = "ManageForwardingRule"
        Effect   = "Allow"
        Action   = local.hub_spoke_rule_actions
        Resource = local.hub_spoke_rule_arn
      },
      {
        Sid      = "ManageForwardingDeadLetterQueue"
        Effect   = "Allow"
        Action   = local.hub_spoke_queue_actions
        Resource = local.hub_spoke_queue_arn
      },
      {
        Sid      = "ManageForwardingAlarms"
        Effect   = "Allow"
        Action   = local.hub_spoke_alarm_actions
        Resource = local.hub_spoke_alarm_arn
      },
    ]
  })
}

resource "aws_cloudformation_stack_set" "hub_account" {
  count                   = local.hub_spoke ? 1 : 0
  name                    = local.hub_stackset_name
  description             = "sgguard spoke in the hub account's regions besides its home region: forwarding rule and its DLQ per region, the roles in the first"
  permission_model        = "SELF_MANAGED"
  administration_role_arn = aws_iam_role.hub_spoke_administration[0].arn
  execution_role_name     = aws_iam_role.hub_spoke_execution[0].name
  capabilities            = ["CAPABILITY_NAMED_IAM"]
  template_body           = local.spoke_template
  tags                    = var.tags

  parameters = merge(local.spoke_parameters, { PrimaryRegion = local.hub_spoke_primary_region })

  operation_preferences {
    failure_tolerance_count = 0
    max_concurrent_count    = 1
    region_concurrency_type = "SEQUENTIAL"
    region_order            = local.hub_account_regions
  }

  # The roles' policies exist before CloudFormation uses them, and outlive its last stack.
  depends_on = [aws_iam_role_policy.hub_spoke_administration, aws_iam_role_policy.hub_spoke_execution]

  lifecycle {
    precondition {
      condition     = var.organization_id != null
      error_message = "hub_account_regions needs organization_id (the spoke's roles trust the hub only inside the organization); set hub_account_regions = [] without one."
    }
    precondition {
      condition     = local.cross_region_event_routing
      error_message = "EventBridge routes events to an event bus in another Region only between commercial Regions, not in the ${local.partition} partition: set hub_account_regions = [] (the sweep covers the hub account's other Regions)."
    }
  }
}

# The first region first: its stack creates the roles the rules of the others send as.
resource "aws_cloudformation_stack_set_instance" "hub_account_primary" {
  count          = local.hub_spoke ? 1 : 0
  stack_set_name = aws_cloudformation_stack_set.hub_account[0].name
  account_id     = local.account_id
  region         = local.hub_spoke_primary_region
}

resource "aws_cloudformation_stack_set_instance" "hub_account_other" {
  for_each       = toset(local.hub_spoke_other_regions)
  stack_set_name = aws_cloudformation_stack_set.hub_account[0].name
  account_id     = local.account_id
  region         = each.value

  depends_on = [aws_cloudformation_stack_set_instance.hub_account_primary]
}
