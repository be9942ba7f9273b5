# Spokes: spoke-infra/sgguard-spoke.yaml rolled out by a SERVICE_MANAGED StackSet to the
# given OUs and regions, with auto-deployment to accounts that join those OUs later.
# Apply in the management account (call_as = SELF) or in a StackSets delegated
# administrator account (call_as = DELEGATED_ADMIN); StackSets never deploys to the
# management account itself.

resource "aws_cloudformation_stack_set" "spoke" {
  count            = var.create_stackset ? 1 : 0
  name             = local.stackset_name
  description      = "sgguard spokes: forwarding rule and its DLQ per region, remediation, audit and forwarder roles in the primary region"
  permission_model = "SERVICE_MANAGED"
  call_as          = var.stackset_call_as
  capabilities     = ["CAPABILITY_NAMED_IAM"]
  template_body    = local.spoke_template
  tags             = var.tags

  # The members' stacks also create the exemption approver role when exemption_approver names
  # one with a principal to trust (tamper_protection.tf); the hub account's and the management
  # account's stacks do not.
  parameters = merge(local.spoke_parameters, local.approver_stack_parameters, { PrimaryRegion = local.stackset_primary_region })

  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = var.stackset_retain_stacks_on_account_removal
  }

  # Lets independent operations (e.g. the per-region instances below) queue instead of failing.
  managed_execution {
    active = true
  }

  operation_preferences {
    max_concurrent_percentage    = var.stackset_max_concurrent_percentage
    failure_tolerance_percentage = var.stackset_failure_tolerance_percentage
    region_concurrency_type      = "SEQUENTIAL"
    region_order                 = concat([local.stackset_primary_region], local.stackset_other_regions)
  }

  lifecycle {
    # The API fills administration_role_arn for SERVICE_MANAGED stack sets; ignore the diff.
    ignore_changes = [administration_role_arn]

    precondition {
      condition     = var.organization_id != null
      error_message = "create_stackset needs organization_id (the spoke remediation role trusts the hub only inside the organization)."
    }
    precondition {
      condition     = local.cross_region_event_routing || alltrue([for r in var.stackset_regions : r == local.region])
      error_message = "EventBridge routes events to an event bus in another Region only between commercial Regions, not in the ${local.partition} partition: set stackset_regions = [\"${local.region}\"] (the hub's Region; the sweep covers the others, each told as a coverage gap)."
    }
    precondition {
      condition     = length(var.stackset_ou_ids) > 0 && contains(var.stackset_regions, local.stackset_primary_region)
      error_message = "create_stackset needs stackset_ou_ids and stackset_regions, and stackset_regions must include the primary region (stackset_primary_region or the hub region)."
    }
  }
}

# The primary region first: its instances create the IAM roles that the rules of the other
# regions use. One resource per (region, OU) so that adding or removing an OU or a region
# creates or deletes only the stacks concerned (deployment_targets cannot change in place).
resource "aws_cloudformation_stack_set_instance" "primary" {
  for_each       = var.create_stackset ? toset(var.stackset_ou_ids) : toset([])
  stack_set_name = aws_cloudformation_stack_set.spoke[0].name
  call_as        = var.stackset_call_as
  region         = local.stackset_primary_region

  deployment_targets {
    organizational_unit_ids = [each.value]
  }

  operation_preferences {
    max_concurrent_percentage    = var.stackset_max_concurrent_percentage
    failure_tolerance_percentage = var.stackset_failure_tolerance_percentage
  }
}

resource "aws_cloudformation_stack_set_instance" "other" {
  for_each = var.create_stackset ? {
    for pair in setproduct(local.stackset_other_regions, var.stackset_ou_ids) : "${pair[0]}/${pair[1]}" => {
      region = pair[0]
      ou_id  = pair[1]
    }
  } : {}
  stack_set_name = aws_cloudformation_stack_set.spoke[0].name
  call_as        = var.stackset_call_as
  region         = each.value.region

  deployment_targets {
    organizational_unit_ids = [each.value.ou_id]
  }

  operation_preferences {
    max_concurrent_percentage    = var.stackset_max_concurrent_percentage
    failure_tolerance_percentage = var.stackset_failure_tolerance_percentage
  }

  depends_on = [aws_cloudformation_stack_set_instance.primary]
}
