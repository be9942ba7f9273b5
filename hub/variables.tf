# Inputs of the sgguard hub module: the Lambda, the events, and the common ones; the others by
# subject in variables_*.tf. Every variable is listed in README.md (tfdocs, in file order).

# ---------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of every name the module gives in the hub account (and of the StackSets): by default the function `<prefix>`, its role, topics, queue, key alias, alarms, state table, state machine, schedule and report bucket `<prefix>-...`, the buses `<prefix>-hub` and `<prefix>-findings`, the StackSet `<prefix>-spoke`, the trail `<prefix>` and its bucket `<prefix>-trail-...`. A second hub in the same account takes another prefix. The default keeps the names of earlier releases."
  type        = string
  default     = "sgguard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-24 characters of a-z, 0-9 and '-', starting with a letter and ending with a letter or digit (S3 bucket names are built from it)."
  }
}

variable "function_name" {
  description = "Name of the Lambda function (also used for the role, topic, queue, key alias, alarms, state table, state machine, schedule and report bucket). null: `name_prefix`."
  type        = string
  default     = null

  validation {
    condition     = var.function_name == null ? true : can(regex("^[A-Za-z0-9_-]{1,48}$", var.function_name))
    error_message = "function_name must be 1-48 characters of letters, digits, '-' or '_' (suffixes are appended to it)."
  }
}

variable "lambda_zip_path" {
  description = "Path of the Lambda deployment zip: `bootstrap` (the sgguard binary built for provided.al2023) and `policy.yaml` at its root."
  type        = string

  validation {
    condition     = can(regex("\\.zip$", var.lambda_zip_path))
    error_message = "lambda_zip_path must point to a .zip file."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the Lambda: x86_64 (default, what `make lambda-zip` builds) or arm64 (`make lambda-zip ARCH=arm64`). Must match how the binary was built."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the Lambda in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout of the Lambda in seconds. A sweep over many accounts and regions needs more than one event does."
  type        = number
  default     = 300

  validation {
    condition     = var.lambda_timeout_seconds >= 10 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be between 10 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the Lambda: at most this many instances run at once (events beyond wait in Lambda's queue and are retried), and they are always available to it. -1: no reservation, the function shares the account's unreserved pool. Lambda keeps 100 executions of the account unreserved: in an account whose concurrency quota is lower than this plus 100, use -1 or raise the quota."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.reserved_concurrency == -1 || (var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency)
    error_message = "reserved_concurrency must be a whole number, at least 1, or -1 for no reservation (0 would stop the guard)."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the Lambda: PassThrough (no traces unless the caller samples) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be \"PassThrough\" or \"Active\"."
  }
}

variable "mode" {
  description = "SGGUARD_MODE: audit (report \"would revoke\", change nothing) or enforce (revoke violating rules), for every account that no entry of `mode_by_scope` covers. Start with audit."
  type        = string
  default     = "audit"

  validation {
    condition     = contains(["audit", "enforce"], var.mode)
    error_message = "mode must be \"audit\" or \"enforce\"."
  }
}

variable "mode_by_scope" {
  description = "Written to `s3://<report bucket>/config/mode-by-scope.json` when not empty, which the Lambda reads when it starts (SGGUARD_MODE_BY_SCOPE_URI, at the version written: SGGUARD_MODE_BY_SCOPE_VERSION): staged enforcement, a mode (\"enforce\" or \"audit\") per OU (`ou-...`), root (`r-...`) or account (12 digits). An account takes the mode of its own entry, else of the nearest OU above it that has one, else of the root's; accounts no entry covers take `mode`."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for scope in keys(var.mode_by_scope) : can(regex("^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32}|[0-9]{12})$", scope))])
    error_message = "mode_by_scope keys must be OU ids (ou-xxxx-xxxxxxxx), root ids (r-xxxx) or 12-digit account ids."
  }

  validation {
    condition     = alltrue([for mode in values(var.mode_by_scope) : contains(["audit", "enforce"], mode)])
    error_message = "mode_by_scope values must be \"audit\" or \"enforce\"."
  }
}

variable "max_revokes_per_event" {
  description = "SGGUARD_MAX_REVOKES_PER_EVENT: the circuit breaker's limit, the most rules one event revokes; past it the rest are held back and the alarm fires."
  type        = number
  default     = 20

  validation {
    condition     = var.max_revokes_per_event >= 1 && floor(var.max_revokes_per_event) == var.max_revokes_per_event
    error_message = "max_revokes_per_event must be a whole number, at least 1."
  }
}

variable "max_revokes_per_account_hour" {
  description = "SGGUARD_MAX_REVOKES_PER_ACCOUNT_HOUR: the circuit breaker's limit, the most rules revoked in one account within an hour (per Lambda instance); past it the rest are held back and the alarm fires."
  type        = number
  default     = 50

  validation {
    condition     = var.max_revokes_per_account_hour >= 1 && floor(var.max_revokes_per_account_hour) == var.max_revokes_per_account_hour
    error_message = "max_revokes_per_account_hour must be a whole number, at least 1."
  }
}

variable "max_revokes_per_sweep" {
  description = "SGGUARD_MAX_REVOKES_PER_SWEEP: the circuit breaker's limit, the most rules one sweep revokes; past it the rest are held back and the alarm fires."
  type        = number
  default     = 200

  validation {
    condition     = var.max_revokes_per_sweep >= 1 && floor(var.max_revokes_per_sweep) == var.max_revokes_per_sweep
    error_message = "max_revokes_per_sweep must be a whole number, at least 1."
  }
}

variable "sweep_regions" {
  description = "Regions the sweep walks (SGGUARD_REGIONS and the schedule payload). null or empty: every region enabled in each account (DescribeRegions through the remediation role); a list narrows it. An enabled region swept without the forwarding rule (outside `stackset_regions`, say) is a coverage gap: reported, counted (`SweepCoverageGaps`) and alarmed, and still swept."
  type        = list(string)
  default     = null

  validation {
    condition     = var.sweep_regions == null ? true : alltrue([for r in var.sweep_regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", r))])
    error_message = "sweep_regions must contain region names such as \"eu-west-1\"."
  }
}

variable "remediation_role_name" {
  description = "Name of the role the Lambda assumes in member accounts (SGGUARD_ROLE_NAME); the StackSet creates it."
  type        = string
  default     = "sgguard-remediation"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.remediation_role_name))
    error_message = "remediation_role_name must be a valid IAM role name (1-64 characters of A-Za-z0-9+=,.@_-)."
  }
}

variable "audit_role_name" {
  description = "Name of the read-only role the StackSet creates in member accounts for `sgguard scan --role-name` (Describe/Get only, no revocation)."
  type        = string
  default     = "sgguard-audit"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.audit_role_name))
    error_message = "audit_role_name must be a valid IAM role name (1-64 characters of A-Za-z0-9+=,.@_-)."
  }
}

variable "audit_trusted_principal_arns" {
  description = "Principals of the organization (e.g. CI or security-team roles) allowed to assume the audit role, besides the hub Lambda's role (always trusted)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.audit_trusted_principal_arns : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+$", arn))])
    error_message = "audit_trusted_principal_arns must be IAM principal ARNs (arn:aws:iam::<account>:role/...)."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda's CloudWatch log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_kms_encryption" {
  description = "Encrypt the Lambda log group with the module's KMS key."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------

variable "event_bus_name" {
  description = "Name of the hub event bus that the spokes forward to (HubEventBusName of the StackSet). null: `<name_prefix>-hub`."
  type        = string
  default     = null

  validation {
    condition     = var.event_bus_name == null ? true : can(regex("^[A-Za-z0-9._-]{1,256}$", var.event_bus_name)) && var.event_bus_name != "default"
    error_message = "event_bus_name must be 1-256 characters of A-Za-z0-9._- and not \"default\"."
  }
}

variable "organization_id" {
  description = "AWS Organizations id (o-...). Allows PutEvents on the hub bus from the organization and scopes the spoke trust. null: single account, no bus policy (required when create_stackset is true)."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must look like \"o-abcd123456\" or be null."
  }
}

variable "hub_default_bus_rule_enabled" {
  description = "Create a rule on the hub account's own default bus (hub region) with the same pattern, so changes in the hub account itself are guarded. Turn off if the hub account is also a StackSet target (its spoke rule forwards them already)."
  type        = bool
  default     = true
}

variable "hub_account_regions" {
  description = "Regions of the hub account itself, besides its home region (which the rule of `hub_default_bus_rule_enabled` guards), where a security-group change must reach the hub in real time: the module deploys the spoke template to this account there, with the SELF_MANAGED StackSet `<stackset_name>-hub` and its administration and execution roles (hub_account.tf); the first region creates the spoke's roles. null: the StackSet's regions (`stackset_regions`) when `create_stackset`, else none. []: none (the sweep then tells each region of the hub account besides the home region as a gap). Set [] when the hub account is in one of `stackset_ou_ids`: the members' StackSet deploys there already, and the stacks' names would collide. Needs `organization_id`."
  type        = list(string)
  default     = null

  validation {
    condition     = var.hub_account_regions == null ? true : alltrue([for r in var.hub_account_regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", r))])
    error_message = "hub_account_regions must contain region names such as \"eu-west-1\"."
  }
}

variable "lambda_async_max_retry_attempts" {
  description = "Retries by Lambda of a failed asynchronous invocation (the rules' events and the sweep), 0-2; then the invocation record goes to the DLQ (on-failure destination)."
  type        = number
  default     = 2

  validation {
    condition     = var.lambda_async_max_retry_attempts >= 0 && var.lambda_async_max_retry_attempts <= 2
    error_message = "lambda_async_max_retry_attempts must be 0, 1 or 2."
  }
}

variable "lambda_async_max_event_age_seconds" {
  description = "Maximum age of an asynchronous invocation waiting in Lambda's queue (throttling, retries) before it goes to the DLQ, 60-21600 seconds."
  type        = number
  default     = 21600

  validation {
    condition     = var.lambda_async_max_event_age_seconds >= 60 && var.lambda_async_max_event_age_seconds <= 21600
    error_message = "lambda_async_max_event_age_seconds must be between 60 and 21600."
  }
}

variable "event_max_retry_attempts" {
  description = "EventBridge retry policy of the Lambda targets: maximum retries of the invoke call itself (throttled, Lambda unavailable); function errors are retried by Lambda (`lambda_async_max_retry_attempts`)."
  type        = number
  default     = 10

  validation {
    condition     = var.event_max_retry_attempts >= 0 && var.event_max_retry_attempts <= 185
    error_message = "event_max_retry_attempts must be between 0 and 185."
  }
}

variable "event_max_age_seconds" {
  description = "EventBridge retry policy of the Lambda targets: maximum age of an event EventBridge could not hand to Lambda before it goes to the DLQ."
  type        = number
  default     = 3600

  validation {
    condition     = var.event_max_age_seconds >= 60 && var.event_max_age_seconds <= 86400
    error_message = "event_max_age_seconds must be between 60 and 86400."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long undeliverable events stay in the dead-letter queue."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}


# ---------------------------------------------------------------------------------------
# Common
# ---------------------------------------------------------------------------------------

variable "tags" {
  description = "Tags added to every taggable resource of the module."
  type        = map(string)
  default     = {}
}

variable "live_version" {
  description = "Version of the function the `live` alias (what the rules and the schedule invoke) points at. null: the version this apply published. Set an earlier version number to roll back; set null again to roll forward."
  type        = string
  default     = null

  validation {
    condition     = var.live_version == null || can(regex("^[0-9]+$", var.live_version))
    error_message = "live_version must be a published version number such as \"7\", or null."
  }
}
