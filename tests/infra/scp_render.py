"""The tamper-protection SCP as the hub module renders it (hub/tamper_protection.tf): the
module's own replace() chain evaluated on the real policy file (sgguard_world.hcl_value), then
its approver statement's filter, whose HCL is checked to be the one mirrored here."""

from __future__ import annotations

import json

from sgguard_world.files import HUB
from sgguard_world.hcl_value import hcl_value
from sgguard_world.policies import hub_locals

# The one statement the module changes beyond the replacements, as hub/tamper_protection.tf
# writes it (python-hcl2's rendering): the ArnNotLike patterns still holding a placeholder
# (an approver kind not given) are left out.
FILTER = (
    '${var.exemption_approver == null ? null : jsonencode({Version = local.tamper_protection_scp_source.Version, '
    'Statement = [for s in local.tamper_protection_scp_source.Statement : merge(s, [for approver in [s] : '
    '{Condition = merge(approver.Condition, {ArnNotLike = {"aws:PrincipalArn" = [for p in '
    'approver.Condition.ArnNotLike["aws:PrincipalArn"] : p if !strcontains(p, "EXEMPTION_APPROVER_")]}})} '
    'if s.Sid == "OnlySecurityTagsSecurityGroupsExempt"] ...)]})}'
)


def _coalesce(*values):
    return next(v for v in values if v not in (None, ""))


def rendered_scp(role_name: str | None = None, permission_set_name: str | None = None, partition: str = "aws",
                 remediation_role_name: str = "sgguard-remediation", audit_role_name: str = "sgguard-audit",
                 stackset_name: str = "sgguard-spoke") -> tuple[dict, str]:
    """The rendered policy and its text as jsonencode writes it (minified)."""
    locals_ = hub_locals()
    assert locals_["approver_role_name"] == "${var.exemption_approver == null ? null : var.exemption_approver.role_name}"
    assert locals_["approver_permission_set"] == (
        "${var.exemption_approver == null ? null : var.exemption_approver.permission_set_name}")
    assert locals_["tamper_protection_scp_source"] == "${jsondecode(local.tamper_protection_scp_text)}"
    assert locals_["tamper_protection_scp"] == FILTER
    text = hcl_value(locals_["tamper_protection_scp_text"], {
        "path.module": str(HUB),
        "local.partition": partition,
        "var.remediation_role_name": remediation_role_name,
        "var.audit_role_name": audit_role_name,
        "local.stackset_name": stackset_name,
        "local.approver_role_name": role_name,
        "local.approver_permission_set": permission_set_name,
    }, {"replace": lambda s, old, new: s.replace(old, new), "coalesce": _coalesce,
        "file": lambda path: open(path).read()})
    source = json.loads(text)
    for s in source["Statement"]:
        if s["Sid"] == "OnlySecurityTagsSecurityGroupsExempt":
            patterns = s["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
            s["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = [p for p in patterns if "EXEMPTION_APPROVER_" not in p]
    return source, json.dumps(source, separators=(",", ":"))
