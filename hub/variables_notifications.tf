# Inputs of the sgguard hub module: notifications and alarms.

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
