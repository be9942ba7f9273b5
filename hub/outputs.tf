# Outputs of the sgguard hub module. Every output is listed in README.md.

output "event_bus_name" {
  description = "Name of the hub event bus (HubEventBusName of the spokes)."
  value       = aws_cloudwatch_event_bus.hub.name
}

output "event_bus_arn" {
  description = "ARN of the hub event bus."
  value       = aws_cloudwatch_event_bus.hub.arn
}

output "findings_bus_name" {
  description = "Name of the findings bus: sgguard's own events (source sgguard), written only by the Lambda role; route them from here."
  value       = aws_cloudwatch_event_bus.findings.name
}

output "findings_bus_arn" {
  description = "ARN of the findings bus (SGGUARD_EVENT_BUS_ARN of the Lambda and the sweep worker)."
  value       = aws_cloudwatch_event_bus.findings.arn
}

output "event_pattern" {
  description = "The security-group change pattern shared by the hub and spoke rules (hub/event-pattern.json)."
  value       = local.event_pattern
}

output "hub_rule_arn" {
  description = "ARN of the rule on the hub bus that invokes the Lambda."
  value       = aws_cloudwatch_event_rule.hub.arn
}

output "hub_default_bus_rule_arn" {
  description = "ARN of the rule on the hub account's default bus (null when hub_default_bus_rule_enabled is false)."
  value       = one(aws_cloudwatch_event_rule.hub_default_bus[*].arn)
}

output "lambda_function_name" {
  description = "Name of the sgguard Lambda."
  value       = aws_lambda_function.sgguard.function_name
}

output "lambda_function_arn" {
  description = "ARN of the sgguard Lambda."
  value       = aws_lambda_function.sgguard.arn
}

output "lambda_role_arn" {
  description = "ARN of the Lambda's execution role (HubLambdaRoleArn of the spokes: the principal the remediation roles trust)."
  value       = aws_iam_role.lambda.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the Lambda."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "sns_topic_arn" {
  description = "ARN of the notification topic (SGGUARD_TOPIC_ARN); subscribe more endpoints to it."
  value       = aws_sns_topic.notifications.arn
}

output "alarm_topic_arn" {
  description = "ARN of the topic the CloudWatch alarms publish to (the module's `<function_name>-alarms`, or `alarm_topic_arn`)."
  value       = local.alarm_topic_arn
}

output "kms_key_arn" {
  description = "ARN of the module's KMS key (topic, DLQ, Lambda environment and logs, report bucket, trail)."
  value       = aws_kms_key.sgguard.arn
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue (to inspect and re-drive undelivered events)."
  value       = aws_sqs_queue.dlq.id
}

output "sweep_schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule of the sweep."
  value       = aws_scheduler_schedule.sweep.arn
}

output "sweep_state_machine_arn" {
  description = "ARN of the sweep's state machine (null with sweep_engine = \"lambda\")."
  value       = one(aws_sfn_state_machine.sweep[*].arn)
}

output "sweep_worker_function_name" {
  description = "Name of the sweep worker function (null with sweep_engine = \"lambda\")."
  value       = one(aws_lambda_function.sweep_worker[*].function_name)
}

output "stackset_name" {
  description = "Name of the spoke StackSet (null when create_stackset is false)."
  value       = one(aws_cloudformation_stack_set.spoke[*].name)
}

output "stackset_id" {
  description = "Id of the spoke StackSet (null when create_stackset is false)."
  value       = one(aws_cloudformation_stack_set.spoke[*].stack_set_id)
}

output "remediation_role_name" {
  description = "Name of the role the Lambda assumes in member accounts (SGGUARD_ROLE_NAME)."
  value       = var.remediation_role_name
}

output "trail_arn" {
  description = "ARN of the trail (null when create_trail is false)."
  value       = one(aws_cloudtrail.sgguard[*].arn)
}

output "trail_bucket_name" {
  description = "Name of the trail's S3 bucket (null when create_trail is false)."
  value       = one(aws_s3_bucket.trail[*].id)
}

output "report_bucket_name" {
  description = "Name of the S3 bucket of the sweep reports (`sweeps/`) and the exemptions file (`config/exemptions.yaml`)."
  value       = aws_s3_bucket.reports.id
}

output "report_bucket_arn" {
  description = "ARN of the report bucket."
  value       = aws_s3_bucket.reports.arn
}

output "state_table_name" {
  description = "Name of the hub state table (SGGUARD_STATE_TABLE): partition key `pk` (S), sort key `sk` (S), TTL attribute `expires_at` (N)."
  value       = aws_dynamodb_table.state.name
}

output "state_table_arn" {
  description = "ARN of the hub state table."
  value       = aws_dynamodb_table.state.arn
}

output "live_alias_arn" {
  description = "ARN of the `live` alias: what the rules and the schedule invoke."
  value       = aws_lambda_alias.live.arn
}

output "function_version" {
  description = "The version this apply published (the `live` alias points at it unless live_version is set)."
  value       = aws_lambda_function.sgguard.version
}

output "spoke_stack_parameters" {
  description = "The spoke template's parameters as this hub's stacks of it take them, but PrimaryRegion: the management account's plain stacks (docs/deploy.md, \"The management account\") pass these, and PrimaryRegion = the one region whose stack creates the roles."
  value       = local.spoke_parameters
}

output "hub_account_stackset_name" {
  description = "Name of the SELF_MANAGED StackSet that deploys the spoke to the hub account's own regions besides the home region (`hub_account_regions`); null when there are none."
  value       = one(aws_cloudformation_stack_set.hub_account[*].name)
}

output "tamper_protection_rcp" {
  description = "The remediation-role RCP (spoke-infra/policies/sgguard-remediation-role-rcp.json) rendered for this hub: this partition, the hub account id in place of HUB_ACCOUNT_ID, the module's remediation and Lambda role names. Attach it in the management account to the OUs of `stackset_ou_ids`."
  value       = local.tamper_protection_rcp
}

output "tamper_protection_scp" {
  description = "The tamper-protection SCP (spoke-infra/policies/sgguard-tamper-protection-scp.json) rendered for this hub: the exemption approver of `exemption_approver`, this partition, the module's role and StackSet names. Attach it in the management account to the OUs of `stackset_ou_ids`. null without `exemption_approver`."
  value       = local.tamper_protection_scp
}
