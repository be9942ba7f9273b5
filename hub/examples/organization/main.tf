# sgguard across an AWS Organization: hub in a security/tooling account that is the
# StackSets delegated administrator, spokes in the Workloads and Sandbox OUs, two regions.
# Run in the hub account; see hub/README.md for the deployment order.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.50, < 7.0"
    }
  }
}

provider "aws" {
  region = var.hub_region
}

module "sgguard" {
  source = "../.."

  lambda_zip_path     = var.lambda_zip_path
  lambda_architecture = "x86_64" # as `make lambda-zip` builds; "arm64" with ARCH=arm64
  mode                = "audit"  # audit first (docs/deploy.md step 3); "enforce" once the findings look right
  # Staged enforcement: enforce in some OUs (or accounts) first, `mode` everywhere else.
  # mode_by_scope = {
  #   "ou-ab12-sandbox1" = "enforce"
  # }

  # Exemptions approved without a new zip: upload s3://<report_bucket_name>/config/exemptions.yaml
  # first (the plan fails while it is missing), or let Terraform write it with
  # exemptions_yaml = file("exemptions.yaml").
  # exemptions_enabled = true

  organization_id  = var.organization_id
  stackset_call_as = "DELEGATED_ADMIN"
  stackset_ou_ids  = var.ou_ids
  stackset_regions = var.regions
  # Roles (IAM is global) come from the hub region's stack instances.
  stackset_primary_region = var.hub_region

  # The organization trail is usually created by the management account; set true only
  # when applying there (or as CloudTrail delegated administrator, with
  # organization_trail_owner_account_id = "<management account id>") and no trail exists.
  create_trail          = false
  is_organization_trail = true

  # Who may assume the read-only audit role besides the hub Lambda (e.g. the CI that runs
  # `sgguard scan --role-name sgguard-audit` before anything is turned on: docs/deploy.md,
  # "Audit first").
  audit_trusted_principal_arns = var.audit_trusted_principal_arns

  notification_emails = var.notification_emails
  # Off at first (docs/deploy.md step 3): turn it on at step 10, after the audit sweep. It then
  # runs in every enabled region (sweep_regions = null, the default). Each worker batch may take
  # sweep_worker_timeout_seconds = 900 (the default); with sweep_engine = "lambda" the whole sweep
  # is one invocation: set lambda_timeout_seconds = 900.
  sweep_enabled             = false
  sweep_schedule_expression = "cron(0 6 * * ? *)"
  sweep_remediate           = false # report only; true (with mode = "enforce") to revoke what the sweep finds
  # The sweep runs on Step Functions (sweep_engine = "step_functions", the default): batches of
  # 10 accounts, 20 at once on the worker function. For about 10,000 accounts × 30 regions in
  # under 10 minutes (≈ 5 by docs/performance.md's model), with a Lambda concurrency quota of
  # at least 160, and enough CPU per worker for the API's time to dominate:
  # sweep_max_concurrency             = 50
  # sweep_worker_reserved_concurrency = 50
  # lambda_memory_mb                  = 512

  tags = { project = "sgguard" }
}

output "sns_topic_arn" {
  description = "Topic of the sgguard notifications."
  value       = module.sgguard.sns_topic_arn
}

output "lambda_role_arn" {
  description = "Principal trusted by the spoke remediation roles."
  value       = module.sgguard.lambda_role_arn
}

output "report_bucket_name" {
  description = "Bucket of the full sweep reports (sweeps/) and the exemptions file (config/exemptions.yaml)."
  value       = module.sgguard.report_bucket_name
}

output "alarm_topic_arn" {
  description = "Topic of the alarms about sgguard itself (separate from the notifications)."
  value       = module.sgguard.alarm_topic_arn
}
