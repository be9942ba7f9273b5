# Inputs of the sgguard hub module: the spokes' StackSet and the optional trail.

# ---------------------------------------------------------------------------------------
# StackSet (spokes)
# ---------------------------------------------------------------------------------------

variable "create_stackset" {
  description = "Create the service-managed StackSet that rolls spoke-infra/sgguard-spoke.yaml out to the organization."
  type        = bool
  default     = true
}

variable "stackset_name" {
  description = "Name of the StackSet. null: `<name_prefix>-spoke`."
  type        = string
  default     = null

  validation {
    condition     = var.stackset_name == null ? true : can(regex("^[A-Za-z][A-Za-z0-9-]{0,127}$", var.stackset_name))
    error_message = "stackset_name must start with a letter and contain only letters, digits and '-' (max 128)."
  }
}

variable "stackset_call_as" {
  description = "SELF when applying in the management account, DELEGATED_ADMIN when applying in a StackSets delegated administrator account."
  type        = string
  default     = "SELF"

  validation {
    condition     = contains(["SELF", "DELEGATED_ADMIN"], var.stackset_call_as)
    error_message = "stackset_call_as must be \"SELF\" or \"DELEGATED_ADMIN\"."
  }
}

variable "stackset_ou_ids" {
  description = "Organizational unit ids (ou-...) or the root id (r-...) the StackSet deploys to; auto-deployment covers accounts that join them later."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for ou in var.stackset_ou_ids : can(regex("^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$", ou))])
    error_message = "stackset_ou_ids must contain OU ids (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)."
  }
}

variable "stackset_regions" {
  description = "Regions with spoke stack instances (one EventBridge rule each). Must include the primary region. Also SGGUARD_FORWARDING_REGIONS: where a missing forwarding rule is tampering; elsewhere a region without it is a coverage gap (`not_deployed`)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.stackset_regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", r))])
    error_message = "stackset_regions must contain region names such as \"eu-west-1\"."
  }
}

variable "stackset_primary_region" {
  description = "Region whose stack instance creates the spoke IAM roles (PrimaryRegion). null: the hub region."
  type        = string
  default     = null

  validation {
    condition     = var.stackset_primary_region == null || can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.stackset_primary_region))
    error_message = "stackset_primary_region must be a region name or null."
  }
}

variable "stackset_max_concurrent_percentage" {
  description = "Percentage of accounts per region deployed at once by StackSet operations (MaxConcurrentPercentage). With CloudFormation's default concurrency mode (strict failure tolerance) the operation starts at the lower of this and the failure tolerance plus one account, so with `stackset_failure_tolerance_percentage = 0` it deploys one account at a time per region; this bounds it when the tolerance is raised."
  type        = number
  default     = 25

  validation {
    condition     = var.stackset_max_concurrent_percentage >= 1 && var.stackset_max_concurrent_percentage <= 100
    error_message = "stackset_max_concurrent_percentage must be between 1 and 100."
  }
}

variable "stackset_failure_tolerance_percentage" {
  description = "Percentage of accounts per region that may fail before a StackSet operation stops in that region (and skips the regions after it). 0 (default): the first failed account stops the rollout, so a broken template or parameter never spreads through the organization and leaves as few accounts as possible with a broken spoke; raise it to deploy faster in a large organization, knowing that that many accounts may end without a working guard."
  type        = number
  default     = 0

  validation {
    condition     = var.stackset_failure_tolerance_percentage >= 0 && var.stackset_failure_tolerance_percentage <= 100
    error_message = "stackset_failure_tolerance_percentage must be between 0 and 100."
  }
}

variable "stackset_retain_stacks_on_account_removal" {
  description = "Keep the spoke stacks in an account that leaves the target OUs (false: they are deleted)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# CloudTrail (optional)
# ---------------------------------------------------------------------------------------

variable "create_trail" {
  description = "Create a multi-region CloudTrail trail (and its S3 bucket). EventBridge only sees \"AWS API Call via CloudTrail\" events where a trail logs management events."
  type        = bool
  default     = false
}

variable "is_organization_trail" {
  description = "Make the trail an organization trail (apply in the management account or a CloudTrail delegated administrator). false: a trail of this account only."
  type        = bool
  default     = true
}

variable "organization_trail_owner_account_id" {
  description = "The account that owns the organization trail: the management account's id when this module is applied in a CloudTrail delegated administrator account (the management account remains the owner of the organization trails a delegated administrator creates, so the trail's ARN, which the trail bucket's and the key's `aws:SourceArn` conditions name, holds its id, and it writes its own logs under `AWSLogs/<its id>/`). null: this account (applying in the management account). Only with `is_organization_trail`."
  type        = string
  default     = null

  validation {
    condition     = var.organization_trail_owner_account_id == null ? true : can(regex("^[0-9]{12}$", var.organization_trail_owner_account_id))
    error_message = "organization_trail_owner_account_id must be a 12-digit account id (the management account's) or null."
  }
}

variable "trail_name" {
  description = "Name of the trail. null: `name_prefix`."
  type        = string
  default     = null

  validation {
    condition     = var.trail_name == null ? true : can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", var.trail_name))
    error_message = "trail_name must be 3-128 characters of A-Za-z0-9._- starting with a letter or digit."
  }
}

variable "trail_bucket_name" {
  description = "Name of the trail's S3 bucket. null: <name_prefix>-trail-<account id>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.trail_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.trail_bucket_name))
    error_message = "trail_bucket_name must be a valid S3 bucket name or null."
  }
}

variable "trail_log_retention_days" {
  description = "Days after which trail log objects (and noncurrent versions) expire from the bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.trail_log_retention_days >= 1
    error_message = "trail_log_retention_days must be at least 1."
  }
}

variable "trail_bucket_force_destroy" {
  description = "Allow destroying the trail bucket while it still holds logs."
  type        = bool
  default     = false
}
