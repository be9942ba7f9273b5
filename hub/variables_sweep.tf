# Inputs of the sgguard hub module: the scheduled sweep.

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
