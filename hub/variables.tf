# Inputs of the sgguard hub module. Every variable is listed in README.md.

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
# Notifications and alarms
# ---------------------------------------------------------------------------------------

variable "notification_emails" {
  description = "E-mail addresses subscribed to the SNS topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "notification_emails must contain e-mail addresses."
  }
}

variable "min_severity" {
  description = "SGGUARD_MIN_SEVERITY: messages below this severity (info, low, medium, high, critical) are not published to the topics; the hub bus and the log still get them, and a failure always goes out. null: every message."
  type        = string
  default     = null

  validation {
    condition     = var.min_severity == null || contains(["info", "low", "medium", "high", "critical"], coalesce(var.min_severity, "info"))
    error_message = "min_severity must be info, low, medium, high, critical or null."
  }
}

variable "chat_topic_arn" {
  description = "SGGUARD_CHAT_TOPIC_ARN: an SNS topic that gets every published message in the custom-notification format of Amazon Q Developer in chat applications (AWS Chatbot), for a Slack or Teams channel configured on it. null: none. The Lambda role may publish to it (and must be able to use its KMS key, if any)."
  type        = string
  default     = null

  validation {
    condition     = var.chat_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", coalesce(var.chat_topic_arn, "x")))
    error_message = "chat_topic_arn must be an SNS topic ARN or null."
  }
}

variable "security_hub" {
  description = "SGGUARD_SECURITY_HUB: import every handled event's findings into AWS Security Hub (ASFF) in the member account, through the remediation role (the spoke grants securityhub:BatchImportFindings on the account's default product). Security Hub must be enabled in the accounts. Findings of the hub account itself need that grant on the Lambda role, which the module does not add."
  type        = bool
  default     = false
}

variable "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms (Lambda errors, DLQ depth). null: the module creates its own topic `<function_name>-alarms`, separate from the notification topic. An existing topic must let cloudwatch.amazonaws.com publish (and use its KMS key)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN or null."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the module's alarm topic (each must confirm). null: the `notification_emails`. Ignored with `alarm_topic_arn`."
  type        = list(string)
  default     = null

  validation {
    condition     = var.alarm_emails == null ? true : alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must contain e-mail addresses."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the CloudWatch alarms (Lambda Errors, DLQ depth)."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60, at least 60."
  }
}

variable "sweep_regions_denied_alarm_threshold" {
  description = "The alarm `<function_name>-sweep-regions-denied` fires when a sweep finds more account-regions than this that a service control policy denies to sgguard (metric `SweepRegionsDenied`: sgguard can neither read nor fix rules there). 0: any. Set it to the count an SCP denies on purpose; null: no alarm (the summary still names them)."
  type        = number
  default     = 0

  validation {
    condition     = var.sweep_regions_denied_alarm_threshold == null ? true : var.sweep_regions_denied_alarm_threshold >= 0 && floor(var.sweep_regions_denied_alarm_threshold) == var.sweep_regions_denied_alarm_threshold
    error_message = "sweep_regions_denied_alarm_threshold must be a whole number, at least 0, or null."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the module's KMS key is deleted after a destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

# ---------------------------------------------------------------------------------------
# Sweep schedule
# ---------------------------------------------------------------------------------------

variable "sweep_enabled" {
  description = "Enable the scheduled sweep (the schedule is always created, DISABLED when false)."
  type        = bool
  default     = false
}

variable "sweep_schedule_expression" {
  description = "EventBridge Scheduler expression of the sweep: rate(...), cron(...) or at(...)."
  type        = string
  default     = "rate(1 day)"

  validation {
    condition     = can(regex("^(rate|cron|at)\\(.+\\)$", var.sweep_schedule_expression))
    error_message = "sweep_schedule_expression must be rate(...), cron(...) or at(...)."
  }
}

variable "sweep_schedule_timezone" {
  description = "Time zone (IANA name, e.g. Europe/Paris) of a cron() sweep expression."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z0-9_+/-]+$", var.sweep_schedule_timezone))
    error_message = "sweep_schedule_timezone must be an IANA time zone name such as \"UTC\" or \"Europe/Paris\"."
  }
}

variable "sweep_remediate" {
  description = "`remediate` in the sweep payload: false (default) only reports what the sweep finds; true also revokes it when mode = \"enforce\". Turn it on after reading a few sweep summaries, as with mode."
  type        = bool
  default     = false
}

variable "sweep_ou_ids" {
  description = "OUs (or the root) whose accounts the sweep covers, nested OUs included. null: the StackSet's OUs (`stackset_ou_ids`), where the remediation role exists; the whole organization when those are empty. Without an organization (`organization_id = null`) the sweep covers this account only (`accounts = [\"self\"]`)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.sweep_ou_ids == null ? true : alltrue([for ou in var.sweep_ou_ids : can(regex("^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$", ou))])
    error_message = "sweep_ou_ids must contain OU ids (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)."
  }
}

variable "sweep_engine" {
  description = "How the sweep runs. step_functions (default): the schedule starts the state machine `<function_name>-sweep` (plan, a Distributed Map of worker batches, summarize; sweep.tf), no 15-minute limit on the whole sweep. lambda: the schedule invokes the hub function with the whole sweep in one invocation (at most 15 minutes), for small organizations; nothing of sweep.tf is created."
  type        = string
  default     = "step_functions"
  nullable    = false

  validation {
    condition     = contains(["step_functions", "lambda"], var.sweep_engine)
    error_message = "sweep_engine must be \"step_functions\" or \"lambda\"."
  }
}

variable "sweep_accounts_per_batch" {
  description = "Accounts one sweep worker invocation sweeps (the Distributed Map's ItemBatcher MaxItemsPerBatch), each in every sweep region. With the step_functions engine."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.sweep_accounts_per_batch >= 1 && var.sweep_accounts_per_batch <= 100 && floor(var.sweep_accounts_per_batch) == var.sweep_accounts_per_batch
    error_message = "sweep_accounts_per_batch must be a whole number between 1 and 100."
  }
}

variable "sweep_max_concurrency" {
  description = "Worker batches the Distributed Map runs at once (MaxConcurrency). At most `sweep_worker_reserved_concurrency` (unless that is -1): more would only be throttled. With the step_functions engine."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.sweep_max_concurrency >= 1 && var.sweep_max_concurrency <= 1000 && floor(var.sweep_max_concurrency) == var.sweep_max_concurrency
    error_message = "sweep_max_concurrency must be a whole number between 1 and 1000."
  }
}

variable "sweep_tolerated_failure_percentage" {
  description = "Percentage of worker batches that may fail before the Distributed Map fails (ToleratedFailurePercentage). Failed batches are named in the sweep summary either way; past this the execution fails too (and its alarm fires). With the step_functions engine."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.sweep_tolerated_failure_percentage >= 0 && var.sweep_tolerated_failure_percentage <= 100
    error_message = "sweep_tolerated_failure_percentage must be between 0 and 100."
  }
}

variable "sweep_worker_reserved_concurrency" {
  description = "Reserved concurrent executions of the sweep worker function `<function_name>-sweep-worker`, apart from the hub function's `reserved_concurrency`: a sweep never takes the executions real-time events need. -1: no reservation. The account's concurrency quota must leave 100 unreserved besides both reservations. With the step_functions engine."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.sweep_worker_reserved_concurrency == -1 || (var.sweep_worker_reserved_concurrency >= 1 && floor(var.sweep_worker_reserved_concurrency) == var.sweep_worker_reserved_concurrency)
    error_message = "sweep_worker_reserved_concurrency must be a whole number, at least 1, or -1 for no reservation (0 would stop every sweep)."
  }
}

variable "sweep_worker_timeout_seconds" {
  description = "Timeout of the sweep worker function in seconds (one batch). With the step_functions engine."
  type        = number
  default     = 900
  nullable    = false

  validation {
    condition     = var.sweep_worker_timeout_seconds >= 10 && var.sweep_worker_timeout_seconds <= 900 && floor(var.sweep_worker_timeout_seconds) == var.sweep_worker_timeout_seconds
    error_message = "sweep_worker_timeout_seconds must be a whole number between 10 and 900."
  }
}

variable "sweep_worker_live_version" {
  description = "Version of the sweep worker function its `live` alias (what the state machine invokes) points at. null: the version this apply published. Roll it back together with `live_version`: plan, worker and summary must be one release."
  type        = string
  default     = null

  validation {
    condition     = var.sweep_worker_live_version == null || can(regex("^[0-9]+$", var.sweep_worker_live_version))
    error_message = "sweep_worker_live_version must be a published version number such as \"7\", or null."
  }
}

# ---------------------------------------------------------------------------------------
# Sweep reports and exemptions (one S3 bucket)
# ---------------------------------------------------------------------------------------

variable "report_bucket_name" {
  description = "Name of the S3 bucket of the full sweep reports (SGGUARD_REPORT_BUCKET, under `sweeps/`) and of the exemptions file (`config/exemptions.yaml`). null: `<function_name>-reports-<account id>-<region>`, lowercased, `_` as `-` (at most 63 characters: set a name when function_name is long)."
  type        = string
  default     = null

  # S3's naming rules, and no dots (AWS recommends against them: virtual-hosted-style HTTPS
  # cannot validate the certificate of a dotted bucket name).
  validation {
    condition = var.report_bucket_name == null ? true : (
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.report_bucket_name)) &&
      !can(regex("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$", var.report_bucket_name))
    )
    error_message = "report_bucket_name must be 3-63 characters of a-z, 0-9 and '-', start and end with a letter or digit, and not use a prefix or suffix S3 reserves (xn--, sthree-, amzn-s3-demo-, -s3alias, --ol-s3, --x-s3, --table-s3)."
  }
}

variable "report_retention_days" {
  description = "Days after which sweep reports (`sweeps/`) expire from the report bucket; noncurrent versions of every object expire 30 days after they are replaced."
  type        = number
  default     = 400

  validation {
    condition     = var.report_retention_days >= 1 && var.report_retention_days <= 3650 && floor(var.report_retention_days) == var.report_retention_days
    error_message = "report_retention_days must be a whole number between 1 and 3650."
  }
}

variable "report_bucket_force_destroy" {
  description = "Allow destroying the report bucket while it still holds reports (and the exemptions file)."
  type        = bool
  default     = false
}

variable "exemptions_enabled" {
  description = "Read exemptions from `s3://<report bucket>/config/exemptions.yaml` (SGGUARD_EXEMPTIONS_URI) in addition to the baseline's own, so that they change without a new zip. The file holds `version: 1` and `exemptions:` (the entries of the baseline's `exemptions:` section). Either `exemptions_yaml` gives it, or the object must already be in the bucket: otherwise the plan fails."
  type        = bool
  default     = false
}

variable "exemptions_yaml" {
  description = "Content of the exemptions file, written by Terraform (needs `exemptions_enabled`). null: the object is managed outside Terraform, e.g. `aws s3 cp exemptions.yaml s3://<report bucket>/config/exemptions.yaml`."
  type        = string
  default     = null

  validation {
    condition     = var.exemptions_yaml == null ? true : try(yamldecode(var.exemptions_yaml).version == 1, false)
    error_message = "exemptions_yaml must be YAML with `version: 1` (and the `exemptions:` list)."
  }
}

variable "exemptions_ttl_seconds" {
  description = "SGGUARD_EXEMPTIONS_TTL_SECONDS: how long the Lambda keeps the exemptions file it read before reading it again."
  type        = number
  default     = 300

  validation {
    condition     = var.exemptions_ttl_seconds >= 10 && var.exemptions_ttl_seconds <= 3600 && floor(var.exemptions_ttl_seconds) == var.exemptions_ttl_seconds
    error_message = "exemptions_ttl_seconds must be a whole number between 10 and 3600."
  }
}

variable "exemptions_max_days" {
  description = "SGGUARD_EXEMPTIONS_MAX_DAYS: how many days ahead an exemptions file's entry may expire; every entry must have `expires` (docs/baseline.md, \"The exemptions file\")."
  type        = number
  default     = 365

  validation {
    condition     = var.exemptions_max_days >= 1 && var.exemptions_max_days <= 3650 && floor(var.exemptions_max_days) == var.exemptions_max_days
    error_message = "exemptions_max_days must be a whole number between 1 and 3650."
  }
}

variable "exemptions_writer_arns" {
  description = "IAM principals (role or user ARNs, `*` allowed as in ArnLike) that may write or delete the exemptions file `config/exemptions.yaml` (s3:PutObject, s3:DeleteObject, s3:DeleteObjectVersion), besides the principal applying this module (the issuer role of its session, so that `exemptions_yaml` can be written) and the hub Lambda's role (which is granted only s3:GetObject). The bucket policy (statement `OnlyNamedWritersChangeExemptions`) denies those actions on that key to every other principal, whatever its IAM grants. List whoever approves exemptions and the operator role that runs `sgguard restore` (it writes the exemption after putting the rules back). []: only the applying principal."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition = alltrue([
      for arn in var.exemptions_writer_arns :
      can(regex("^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/*?-]+$", arn))
    ])
    error_message = "exemptions_writer_arns must be IAM role or user ARNs (arn:<partition>:iam::<12-digit account>:role/<path/name> or user/<path/name>; `*` and `?` allowed): aws:PrincipalArn of a role session is the role's ARN, never the assumed-role one."
  }
}

# ---------------------------------------------------------------------------------------
# Tamper protection (the SCP the module renders; tamper_protection.tf)
# ---------------------------------------------------------------------------------------

variable "exemption_approver" {
  description = "The exemption approver of the tamper-protection SCP (output `tamper_protection_scp`): the only principal that may add or remove `sgguard-exempt*`/`sgguard-protected*` tags on the members' security groups. `role_name`: a role under the path `/sgguard-approver/` (only the StackSets execution role may create it); with `trusted_principal_arn` (a role of the organization that may assume it) the members' StackSet creates it in every target account. `permission_set_name`: an IAM Identity Center permission set. At least one of the two. null: the SCP is not rendered."
  type = object({
    role_name             = optional(string)
    permission_set_name   = optional(string)
    trusted_principal_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.exemption_approver == null ? true : var.exemption_approver.role_name != null || var.exemption_approver.permission_set_name != null
    error_message = "exemption_approver needs role_name (a role under /sgguard-approver/), permission_set_name (an IAM Identity Center permission set) or both."
  }
  validation {
    condition     = var.exemption_approver == null ? true : var.exemption_approver.role_name == null ? true : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.exemption_approver.role_name))
    error_message = "exemption_approver.role_name must be an IAM role name: 1-64 characters of A-Z, a-z, 0-9 and +=,.@_- (the path /sgguard-approver/ is added)."
  }
  validation {
    condition     = var.exemption_approver == null ? true : var.exemption_approver.permission_set_name == null ? true : can(regex("^[A-Za-z0-9+=,.@_-]{1,32}$", var.exemption_approver.permission_set_name))
    error_message = "exemption_approver.permission_set_name must be an IAM Identity Center permission set name: 1-32 characters of A-Z, a-z, 0-9 and +=,.@_-."
  }
  validation {
    condition     = var.exemption_approver == null ? true : var.exemption_approver.trusted_principal_arn == null ? true : var.exemption_approver.role_name != null && can(regex("^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.exemption_approver.trusted_principal_arn))
    error_message = "exemption_approver.trusted_principal_arn must be an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<path/name>) and needs role_name."
  }
}

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
