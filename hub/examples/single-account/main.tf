# sgguard for one account (no Organization, no StackSet): the original use case.
# The account's own trail feeds EventBridge; the rule on the default bus invokes the
# Lambda, which uses its own credentials (no AssumeRole) and mails the topic.
# Real-time coverage is the hub region; the sweep covers every other region.

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
  region = var.region
}

module "sgguard" {
  source = "../.."

  lambda_zip_path = var.lambda_zip_path
  mode            = var.mode

  organization_id              = null
  create_stackset              = false
  hub_default_bus_rule_enabled = true

  create_trail          = true
  is_organization_trail = false

  notification_emails = [var.notification_email]
  sweep_enabled       = true
}

output "sns_topic_arn" {
  description = "Topic of the sgguard notifications."
  value       = module.sgguard.sns_topic_arn
}

output "trail_bucket_name" {
  description = "Bucket of the account's trail."
  value       = module.sgguard.trail_bucket_name
}
