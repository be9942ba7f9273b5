# Inputs of the sgguard hub module: the report bucket, the exemptions file and tamper protection.

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
