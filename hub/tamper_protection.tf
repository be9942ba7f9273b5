# The tamper-protection SCP (../spoke-infra/policies/sgguard-tamper-protection-scp.json)
# rendered for this hub: the exemption approver of exemption_approver in place of its
# placeholders (the pattern of a kind not given left out), the partition, the role names and the
# StackSet's stacks as this module names them. The module does not attach it: SCPs are attached
# in the management account (docs/deploy.md, "Tamper protection"); output tamper_protection_scp.

locals {
  approver_role_name      = var.exemption_approver == null ? null : var.exemption_approver.role_name
  approver_permission_set = var.exemption_approver == null ? null : var.exemption_approver.permission_set_name
  approver_trusted_arn    = var.exemption_approver == null ? null : var.exemption_approver.trusted_principal_arn

  # The file's defaults and placeholders, replaced one after the other; a placeholder of a kind
  # not given stays, and its patterns are left out below.
  tamper_protection_scp_text = replace(replace(replace(replace(replace(replace(
    file("${path.module}/../spoke-infra/policies/sgguard-tamper-protection-scp.json"),
    "arn:aws:", "arn:${local.partition}:"),
    ":role/sgguard-remediation\"", ":role/${var.remediation_role_name}\""),
    ":role/sgguard-audit\"", ":role/${var.audit_role_name}\""),
    ":stack/StackSet-sgguard-spoke-*\"", ":stack/StackSet-${local.stackset_name}-*\""),
    "EXEMPTION_APPROVER_ROLE_NAME", coalesce(local.approver_role_name, "EXEMPTION_APPROVER_ROLE_NAME")),
    "EXEMPTION_APPROVER_PERMISSION_SET", coalesce(local.approver_permission_set, "EXEMPTION_APPROVER_PERMISSION_SET"),
  )
  tamper_protection_scp_source = jsondecode(local.tamper_protection_scp_text)

  # The approver statement keeps the patterns whose placeholder was filled (merge() with an
  # empty expansion leaves every other statement as it is).
  tamper_protection_scp = var.exemption_approver == null ? null : jsonencode({
    Version = local.tamper_protection_scp_source.Version
    Statement = [
      for s in local.tamper_protection_scp_source.Statement : merge(s, [
        for approver in [s] : {
          Condition = merge(approver.Condition, {
            ArnNotLike = {
              "aws:PrincipalArn" = [for p in approver.Condition.ArnNotLike["aws:PrincipalArn"] : p if !strcontains(p, "EXEMPTION_APPROVER_")]
            }
          })
        } if s.Sid == "OnlySecurityTagsSecurityGroupsExempt"
      ]...)
    ]
  })

  # The members' StackSet creates the approver role when it has a name and a principal to trust.
  approver_stack_parameters = local.approver_role_name != null && local.approver_trusted_arn != null ? {
    ApproverRoleName            = local.approver_role_name
    ApproverTrustedPrincipalArn = local.approver_trusted_arn
  } : {}
}

# The remediation-role RCP (../spoke-infra/policies/sgguard-remediation-role-rcp.json) rendered
# for this hub: this partition, the hub account in place of HUB_ACCOUNT_ID, the module's
# remediation and Lambda role names. Like the SCP, attached by hand in the management account;
# output tamper_protection_rcp.
locals {
  tamper_protection_rcp = jsonencode(jsondecode(replace(replace(replace(replace(
    file("${path.module}/../spoke-infra/policies/sgguard-remediation-role-rcp.json"),
    "arn:aws:", "arn:${local.partition}:"),
    ":role/sgguard-remediation\"", ":role/${var.remediation_role_name}\""),
    ":role/sgguard-lambda\"", ":role/${aws_iam_role.lambda.name}\""),
  "HUB_ACCOUNT_ID", local.account_id)))
}
