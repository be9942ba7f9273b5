"""Static checks of hub/ (Terraform) and spoke-infra/ (CloudFormation).

No Terraform binary is available offline (`terraform validate` needs the provider plugin
from the Terraform registry), so the Terraform is checked by parsing it with python-hcl2
and by checkov; the CloudFormation by cfn-lint, checkov and the moto deployment test.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sgguard_world.files import (
    REPO,
    HUB,
    SPOKE,
    SPOKE_TEMPLATE,
    SWEEP_PAYLOAD_SCHEMA_FILE,
    load_event_pattern,
    load_hub_actions,
    load_remediation_actions,
    load_template,
    spoke_templates,
)
from sgguard_world.policies import (
    blocks,
    eval_action_local,
    hub_lambda_policy,
    hub_lambda_role_actions,
    hub_locals,
    module_files,
    parse_tf,
    resources,
    spoke_remediation_role_actions,
    unquote,
)

# cfn-lint warnings accepted on purpose, as {(file name, rule id): reason}. Empty: none.
JUSTIFIED_CFN_LINT_WARNINGS: dict[tuple[str, str], str] = {}

TERRAFORM_MODULES = [HUB, HUB / "examples" / "organization", HUB / "examples" / "single-account"]

# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def tool(name: str) -> str:
    """A console script of this venv (cfn-lint) or, for checkov, its isolated venv."""
    if name == "checkov" and os.environ.get("SGGUARD_CHECKOV"):
        return os.environ["SGGUARD_CHECKOV"]
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` not found: run tests/infra/run.sh VENV_DIR, which installs it")
    return found


def strings(node) -> list[str]:
    """Every string (expression or literal) anywhere in a parsed HCL structure, keys included."""
    out = []
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for k, v in node.items():
            out.append(k)
            out.extend(strings(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(strings(v))
    return out


# ---------------------------------------------------------------------------------------
# CloudFormation: cfn-lint
# ---------------------------------------------------------------------------------------


def test_spoke_templates_are_found():
    assert spoke_templates() == [SPOKE_TEMPLATE]


@pytest.mark.parametrize("template", spoke_templates(), ids=lambda p: p.name)
def test_cfn_lint(template: Path):
    proc = subprocess.run(
        [tool("cfn-lint"), "--format", "parseable", str(template)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    findings = [line for line in proc.stdout.splitlines() if line.strip()]
    errors, unjustified = [], []
    for line in findings:
        # parseable: file:line:col:line:col:RULE:message
        rule = line.split(":")[5] if line.count(":") >= 6 else line
        if rule.startswith("E") or not rule[:1].isalpha():
            errors.append(line)
        elif (template.name, rule) not in JUSTIFIED_CFN_LINT_WARNINGS:
            unjustified.append(line)
    assert proc.returncode in (0, 4, 8, 12), f"cfn-lint failed to run:\n{proc.stderr}"
    assert not errors, "cfn-lint errors:\n" + "\n".join(errors)
    assert not unjustified, "cfn-lint warnings without a justification:\n" + "\n".join(unjustified)


# ---------------------------------------------------------------------------------------
# checkov (one run per folder: it is the slow part)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["hub", "spoke-infra"])
def test_checkov(folder: str):
    proc = subprocess.run(
        [
            tool("checkov"),
            "-d",
            folder,
            "--quiet",
            "--compact",
            "--skip-download",  # offline: no Prisma Cloud guidelines/mappings download
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "CHECKOV_SKIP_VERSION_CHECK": "1", "BC_SKIP_MAPPING": "TRUE"},
        timeout=300,
    )
    assert proc.stdout.strip(), f"checkov printed nothing (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    # `--quiet` + no resource at all gives {"passed": 0, ...}; every folder has resources.
    ran = [r for r in reports if isinstance(r, dict) and "results" in r]
    assert ran, f"checkov scanned nothing in {folder}: {proc.stdout[:500]}"
    failed, bad_skips = [], []
    for r in ran:
        for check in r["results"].get("failed_checks", []):
            failed.append(f"{check['check_id']} {check['resource']} ({check['file_path']}:{check['file_line_range']})")
        for check in r["results"].get("skipped_checks", []):
            reason = (check.get("check_result") or {}).get("suppress_comment", "")
            if len(reason.strip()) < 20 or reason.strip().lower() == "no comment provided":
                bad_skips.append(f"{check['check_id']} {check['resource']}: {reason!r}")
    assert proc.returncode == 0 and not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert not bad_skips, "checkov skips need a written reason:\n" + "\n".join(bad_skips)


def test_checkov_skips_are_inline_with_reasons():
    """Terraform skips are `#checkov:skip=CKV_...:reason`; CFN skips are Metadata with a comment."""
    pattern = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")
    for tf in HUB.rglob("*.tf"):
        for n, line in enumerate(tf.read_text().splitlines(), 1):
            m = pattern.search(line)
            if m:
                assert m.group(1).startswith("CKV"), f"{tf}:{n}: skip of an unknown id"
                assert m.group(2) and len(m.group(2).strip()) >= 20, f"{tf}:{n}: skip without a real reason"
    for template in spoke_templates():
        for name, res in load_template(template)["Resources"].items():
            for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
                assert skip.get("id", "").startswith("CKV"), f"{template.name}:{name}: bad skip id"
                assert len(str(skip.get("comment", "")).strip()) >= 20, f"{template.name}:{name}: skip without a reason"


# ---------------------------------------------------------------------------------------
# Terraform, parsed with python-hcl2
# ---------------------------------------------------------------------------------------


REF = re.compile(r"(?<![\w.])(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)")
FILE_CALL = re.compile(r"\b(?:file|filebase64sha256|filebase64|templatefile|filemd5|filesha256)\(\s*\"([^\"]+)\"")


@pytest.mark.parametrize("module", TERRAFORM_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_variable_and_local_reference_is_declared(module: Path):
    files = module_files(module)
    assert (module / "variables.tf").exists(), f"{module} has no variables.tf"
    declared_vars = {unquote(name) for b in blocks(files[module / "variables.tf"], "variable") for name in b}
    declared_locals = {k for p in files.values() for b in blocks(p, "locals") for k in b}
    for path, parsed in files.items():
        for text in strings(parsed):
            if "${" not in text and not text.startswith(("var.", "local.")):
                continue
            for kind, name in REF.findall(text):
                if kind == "var":
                    assert name in declared_vars, f"{path.relative_to(REPO)}: var.{name} is not declared in variables.tf"
                else:
                    assert name in declared_locals, f"{path.relative_to(REPO)}: local.{name} is not declared"
    for b in blocks(files[module / "variables.tf"], "variable"):
        for name, body in b.items():
            assert body.get("description"), f"variable {name} in {module} has no description"


@pytest.mark.parametrize("module", TERRAFORM_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_file_function_target_exists(module: Path):
    targets = []
    for path, parsed in module_files(module).items():
        for text in strings(parsed):
            for arg in FILE_CALL.findall(text):
                resolved = arg.replace("${path.module}", str(module))
                if "${" in resolved:  # a variable path (e.g. var.lambda_zip_path): not a repo file
                    continue
                targets.append(resolved)
                assert Path(resolved).is_file(), f"{path.relative_to(REPO)}: file({arg!r}) does not exist"
    if module == HUB:
        names = sorted(Path(t).name for t in targets)
        assert names == ["event-pattern.json", "remediation-actions.json", "sgguard-spoke.yaml"], names


def test_examples_call_the_hub_module_with_declared_inputs():
    hub_vars = {}
    for b in blocks(parse_tf(HUB / "variables.tf"), "variable"):
        for name, body in b.items():
            hub_vars[unquote(name)] = body
    required = {n for n, body in hub_vars.items() if "default" not in body}
    hub_outputs = {unquote(n) for p in module_files(HUB).values() for b in blocks(p, "output") for n in b}
    for example in TERRAFORM_MODULES[1:]:
        files = module_files(example)
        calls = [body for p in files.values() for b in blocks(p, "module") for body in b.values()]
        assert len(calls) == 1, f"{example}: expected one module call"
        call = calls[0]
        assert call["source"] == "../..", f"{example}: source must be ../.."
        args = {k for k in call if k not in ("source", "version", "providers", "depends_on", "count", "for_each")}
        assert not args - set(hub_vars), f"{example}: unknown inputs {sorted(args - set(hub_vars))}"
        assert required <= args, f"{example}: missing required inputs {sorted(required - args)}"
        for text in strings(list(files.values())):
            for out in re.findall(r"module\.sgguard\.([A-Za-z_][A-Za-z0-9_]*)", text):
                assert out in hub_outputs, f"{example}: module.sgguard.{out} is not an output of hub/"


def test_hub_readme_lists_every_input_and_output():
    readme = (HUB / "README.md").read_text()
    names = [unquote(n) for b in blocks(parse_tf(HUB / "variables.tf"), "variable") for n in b]
    names += [unquote(n) for b in blocks(parse_tf(HUB / "outputs.tf"), "output") for n in b]
    missing = [n for n in names if f"`{n}`" not in readme]
    assert not missing, f"hub/README.md does not list: {missing}"


def test_spoke_readme_lists_every_parameter():
    readme = (SPOKE / "README.md").read_text()
    missing = [p for p in load_template(SPOKE_TEMPLATE)["Parameters"] if f"`{p}`" not in readme]
    assert not missing, f"spoke-infra/README.md does not list: {missing}"


def test_lambda_settings():
    res = resources(module_files(HUB))
    fn = res[("aws_lambda_function", "sgguard")]
    assert fn["runtime"] == "provided.al2023"
    assert fn["handler"] == "bootstrap"
    assert fn["architectures"] == ["${var.lambda_architecture}"]
    env = hub_locals()["lambda_environment"]
    for key in ("SGGUARD_MODE", "SGGUARD_TOPIC_ARN", "SGGUARD_ROLE_NAME", "SGGUARD_POLICY", "SGGUARD_REGIONS",
                "SGGUARD_MAX_REVOKES_PER_EVENT", "SGGUARD_MAX_REVOKES_PER_ACCOUNT_HOUR", "SGGUARD_MAX_REVOKES_PER_SWEEP",
                "SGGUARD_RECORD_QUEUE_URL", "SGGUARD_HUB_BUS_ARN", "SGGUARD_TRUSTED_PRINCIPALS"):
        assert key in env, f"Lambda environment lacks {key}"
    assert "/var/task/policy.yaml" in env
    # sgguard's own records go to the queue the DLQ alarm watches; the tamper check knows the
    # hub bus and the one principal the members' remediation role may trust.
    assert "SGGUARD_RECORD_QUEUE_URL = aws_sqs_queue.dlq.url" in env
    assert "SGGUARD_HUB_BUS_ARN = aws_cloudwatch_event_bus.hub.arn" in env
    assert "SGGUARD_TRUSTED_PRINCIPALS = aws_iam_role.lambda.arn" in env
    variables = {unquote(n): body for b in blocks(parse_tf(HUB / "variables.tf"), "variable") for n, body in b.items()}
    assert variables["lambda_architecture"]["default"] == "x86_64"
    assert variables["sweep_enabled"]["default"] is False
    assert variables["mode"]["default"] == "audit"
    # The circuit breaker's limits, as the binary's defaults.
    assert [variables[f"max_revokes_per_{n}"]["default"] for n in ("event", "account_hour", "sweep")] == [20, 50, 200]
    # Like mode: the sweep reports until the operator turns remediation on.
    assert variables["sweep_remediate"]["default"] is False
    assert hub_locals()["sweep_payload"].count("remediate = var.sweep_remediate") == 1
    # reserved_concurrency reaches the function (-1 = no reservation, the provider's default).
    assert variables["reserved_concurrency"]["default"] is None
    assert fn["reserved_concurrent_executions"] == "${var.reserved_concurrency == null ? -1 : var.reserved_concurrency}"


def test_stackset_passes_exactly_the_template_parameters():
    res = resources(module_files(HUB))
    stackset = res[("aws_cloudformation_stack_set", "spoke")]
    assert stackset["permission_model"] == "SERVICE_MANAGED"
    assert "sgguard-spoke.yaml" in hub_locals()["spoke_template"]
    assert stackset["template_body"] == "${local.spoke_template}"
    params = stackset["parameters"]
    passed = set(params if isinstance(params, dict) else {})
    cfn_params = load_template(SPOKE_TEMPLATE)["Parameters"]
    required = {n for n, p in cfn_params.items() if "Default" not in p}
    assert passed <= set(cfn_params), f"unknown StackSet parameters: {passed - set(cfn_params)}"
    assert required <= passed, f"StackSet does not pass {required - passed}"


# ---------------------------------------------------------------------------------------
# One event pattern, one action list
# ---------------------------------------------------------------------------------------


def test_event_pattern_is_the_designed_one():
    pattern = load_event_pattern()
    assert pattern == {
        "source": ["aws.ec2"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["ec2.amazonaws.com"],
            "errorCode": [{"exists": False}],
            "$or": [
                {
                    "eventName": [
                        "AuthorizeSecurityGroupIngress",
                        "AuthorizeSecurityGroupEgress",
                        "ModifySecurityGroupRules",
                        "ModifyManagedPrefixList",
                        "RestoreManagedPrefixListVersion",
                    ]
                },
                # Tag changes only of security groups: an exemption tag may come or go.
                {
                    "eventName": ["CreateTags", "DeleteTags"],
                    "requestParameters": {"resourcesSet": {"items": {"resourceId": [{"prefix": "sg-"}]}}},
                },
            ],
        },
    }


def test_spoke_template_carries_the_same_event_pattern():
    rule = load_template(SPOKE_TEMPLATE)["Resources"]["SecurityGroupChangeRule"]
    assert rule["Properties"]["EventPattern"] == load_event_pattern()


def test_hub_rules_read_the_pattern_file():
    assert hub_locals()["event_pattern"] == '${file("${path.module}/event-pattern.json")}'
    res = resources(module_files(HUB))
    for name in ("hub", "hub_default_bus"):
        assert res[("aws_cloudwatch_event_rule", name)]["event_pattern"] == "${local.event_pattern}"


def test_remediation_actions_file_is_a_clean_list():
    actions = load_remediation_actions()
    # EC2 (read, revoke), the reads of the sweep's tamper check (the spoke's own rule and role),
    # and the Security Hub import of the member's findings.
    assert actions and all(isinstance(a, str) and re.fullmatch(r"(ec2|events|iam|ram|securityhub):[A-Za-z]+", a)
                           for a in actions)
    assert len(actions) == len(set(actions)), "duplicate actions"


def test_spoke_remediation_role_actions_equal_the_file():
    assert sorted(spoke_remediation_role_actions()) == sorted(load_remediation_actions())


def test_hub_lambda_role_grants_the_hub_actions_file_and_the_lambda_services_needs():
    """hub/hub-actions.json: `granted` (sgguard's own calls) and `for_the_lambda_service` are,
    with the EC2 actions of remediation-actions.json, everything the Lambda role grants."""
    hub = load_hub_actions()
    assert set(hub) == {"granted", "needs_no_grant", "by_the_operators_role", "not_reached_in_the_emulator",
                        "for_the_lambda_service"}
    for section in ("needs_no_grant", "by_the_operators_role", "not_reached_in_the_emulator", "for_the_lambda_service"):
        assert all(isinstance(why, str) and why.strip() for why in hub[section].values()), section
    # EC2 and RAM for the hub's own account; the tamper check's reads (events:, iam:) are the
    # spoke's only.
    own = [a for a in load_remediation_actions() if a.startswith(("ec2:", "ram:"))]
    granted = sorted(hub["granted"]) + sorted(hub["for_the_lambda_service"]) + sorted(own)
    assert sorted(set(hub_lambda_role_actions())) == sorted(granted)
    assert not set(hub["needs_no_grant"]) & set(granted)
    # What `sgguard restore` does through the operator's role, no role of sgguard's grants.
    assert not set(hub["by_the_operators_role"]) & (set(granted) | set(spoke_remediation_role_actions()))


def test_hub_lambda_role_ec2_actions_equal_the_file():
    locals_ = hub_locals()
    assert "spoke-infra/remediation-actions.json" in locals_["remediation_actions"]
    policy = hub_lambda_policy()
    # No EC2 action may be written literally in the Lambda policy: they all come from the file.
    assert not re.findall(r'"ec2:', policy), "literal EC2 actions in the Lambda role policy"
    used = re.findall(r"Action = local\.(\w+)", policy)
    assert sorted(used) == ["ec2_read_actions", "ec2_revoke_actions"], used
    acts = [a for name in used for a in eval_action_local(locals_[name], locals_)]
    assert sorted(acts) == sorted(a for a in load_remediation_actions() if a.startswith(("ec2:", "ram:")))
    assert len(acts) == len(set(acts))


def test_hub_lambda_role_scopes():
    policy = hub_lambda_policy()
    assert 'Resource = "arn:${local.partition}:iam::*:role/${var.remediation_role_name}"' in policy
    for action in (
        "organizations:DescribeAccount",
        "organizations:ListAccounts",
        "organizations:ListAccountsForParent",
        "organizations:ListChildren",
        "sns:Publish",
        "sqs:SendMessage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ):
        assert f'"{action}"' in policy, f"Lambda role lacks {action}"
    assert "aws_cloudwatch_log_group.lambda.arn" in policy
    assert not re.search(r'"(ec2|sts|sns|sqs|logs|iam|organizations):\*"', policy), "wildcard action"


def test_spoke_roles_are_primary_region_only_and_least_privilege():
    t = load_template(SPOKE_TEMPLATE)
    res = t["Resources"]
    assert t["Conditions"]["IsPrimaryRegion"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "PrimaryRegion"}]}
    roles = {n for n, r in res.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles == {"RemediationRole", "EventForwarderRole", "AuditRole"}
    for n in roles:
        assert res[n].get("Condition") == "IsPrimaryRegion", f"{n} must exist in the primary region only"
    rules = [n for n, r in res.items() if r["Type"] == "AWS::Events::Rule"]
    assert rules == ["SecurityGroupChangeRule"] and "Condition" not in res["SecurityGroupChangeRule"]

    trust = res["RemediationRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Sid": "TrustSgguardHubLambdaInOrganization",
            "Effect": "Allow",
            "Principal": {"AWS": {"Ref": "HubLambdaRoleArn"}},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}},
        }
    ]
    fwd = res["EventForwarderRole"]["Properties"]
    assert fwd["RoleName"] == {"Ref": "EventForwarderRoleName"}
    assert t["Parameters"]["EventForwarderRoleName"]["Default"] == "sgguard-event-forwarder"
    assert t["Parameters"]["RemediationRoleName"]["Default"] == "sgguard-remediation"
    statements = [s for p in fwd["Policies"] for s in p["PolicyDocument"]["Statement"]]
    hub_bus = {"Fn::Sub": "arn:${AWS::Partition}:events:${HubRegion}:${HubAccountId}:event-bus/${HubEventBusName}"}
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [("Allow", "events:PutEvents", hub_bus)]
    target = res["SecurityGroupChangeRule"]["Properties"]["Targets"]
    assert len(target) == 1 and target[0]["Arn"] == hub_bus
    assert res["SecurityGroupChangeRule"]["Properties"]["EventBusName"] == "default"


def _policy_actions(role: dict) -> list[str]:
    out = []
    for policy in role["Properties"]["Policies"]:
        for s in policy["PolicyDocument"]["Statement"]:
            assert s["Effect"] == "Allow"
            out.extend(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    return out


def test_audit_role_reads_exactly_the_non_revoke_actions_and_nothing_else():
    """`sgguard scan --role-name sgguard-audit`: every read of remediation-actions.json, no
    Revoke, nothing that writes; scoped like the remediation role's reads."""
    t = load_template(SPOKE_TEMPLATE)
    res = t["Resources"]
    audit = res["AuditRole"]
    assert audit["Condition"] == "IsPrimaryRegion"
    assert audit["Properties"]["RoleName"] == {"Ref": "AuditRoleName"}
    assert t["Parameters"]["AuditRoleName"]["Default"] == "sgguard-audit"
    # Reads only: no Revoke, and not the Security Hub import (a write).
    reads = [a for a in load_remediation_actions()
             if not a.split(":")[1].startswith("Revoke") and not a.startswith("securityhub:")]
    assert len(reads) < len(load_remediation_actions()), "the file lost its Revoke actions"
    actions = _policy_actions(audit)
    assert sorted(actions) == sorted(reads)
    assert all(re.fullmatch(r"\w+:(Describe|Get|List)\w+", a) for a in actions), actions
    assert not audit["Properties"].get("ManagedPolicyArns")
    statements = {s["Sid"]: s for p in audit["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]}
    remediation = {s["Sid"]: s for p in res["RemediationRole"]["Properties"]["Policies"]
                   for s in p["PolicyDocument"]["Statement"]}
    for sid in ("ReadSecurityGroupsAndPrefixLists", "ReadResourceSharesOfPrefixLists", "ReadForwardingRuleForTamperCheck"):
        assert statements[sid] == remediation[sid], sid
    # The tamper check reads the remediation role's trust, not the audit role's.
    assert statements["ReadRemediationRoleTrustForTamperCheck"]["Resource"] == remediation["ReadOwnTrustForTamperCheck"]["Resource"]


def test_audit_role_trusts_the_hub_lambda_and_the_listed_principals_in_the_organization():
    t = load_template(SPOKE_TEMPLATE)
    param = t["Parameters"]["AuditTrustedPrincipalArns"]
    assert param["Type"] == "CommaDelimitedList" and param["Default"] == ""
    assert t["Conditions"]["HasAuditTrustedPrincipals"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "AuditTrustedPrincipalArns"}]}, ""]}]
    }
    in_org = {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    hub, optional = t["Resources"]["AuditRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert hub == {
        "Sid": "TrustSgguardHubLambdaInOrganization",
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "HubLambdaRoleArn"}},
        "Action": "sts:AssumeRole",
        "Condition": in_org,
    }
    assert optional == {
        "Fn::If": [
            "HasAuditTrustedPrincipals",
            {
                "Sid": "TrustAuditPrincipalsInOrganization",
                "Effect": "Allow",
                "Principal": {"AWS": {"Ref": "AuditTrustedPrincipalArns"}},
                "Action": "sts:AssumeRole",
                "Condition": in_org,
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    # The hub module passes the names (a list joined for the CommaDelimitedList).
    params = resources(module_files(HUB))[("aws_cloudformation_stack_set", "spoke")]["parameters"]
    assert params["AuditRoleName"] == "${var.audit_role_name}"
    assert params["AuditTrustedPrincipalArns"] == '${join(",", var.audit_trusted_principal_arns)}'
    variables = hub_variables()
    assert variables["audit_role_name"]["default"] == "sgguard-audit"
    assert variables["audit_trusted_principal_arns"]["default"] == []


def test_forwarding_rule_retries_then_keeps_undelivered_events_in_a_member_dlq():
    t = load_template(SPOKE_TEMPLATE)
    res, params = t["Resources"], t["Parameters"]
    (target,) = res["SecurityGroupChangeRule"]["Properties"]["Targets"]
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": {"Ref": "ForwardingMaxRetryAttempts"},
        "MaximumEventAgeInSeconds": {"Ref": "ForwardingMaxEventAgeSeconds"},
    }
    # EventBridge's limits, and its own defaults.
    assert (params["ForwardingMaxRetryAttempts"]["Default"], params["ForwardingMaxRetryAttempts"]["MinValue"],
            params["ForwardingMaxRetryAttempts"]["MaxValue"]) == (185, 0, 185)
    assert (params["ForwardingMaxEventAgeSeconds"]["Default"], params["ForwardingMaxEventAgeSeconds"]["MinValue"],
            params["ForwardingMaxEventAgeSeconds"]["MaxValue"]) == (86400, 60, 86400)
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ForwardingDeadLetterQueue", "Arn"]}}
    queue = res["ForwardingDeadLetterQueue"]
    assert queue["Type"] == "AWS::SQS::Queue" and "Condition" not in queue
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    queues = [n for n, r in res.items() if r["Type"] == "AWS::SQS::Queue"]
    assert queues == ["ForwardingDeadLetterQueue"]
    policy = res["ForwardingDeadLetterQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "ForwardingDeadLetterQueue"}]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "ForwardingRuleSendsUndeliveredEvents",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["ForwardingDeadLetterQueue", "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["SecurityGroupChangeRule", "Arn"]}}},
        }
    ]


def test_forwarding_alarms_notify_only_a_given_topic():
    t = load_template(SPOKE_TEMPLATE)
    res = t["Resources"]
    alarms = {n: r["Properties"] for n, r in res.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == {"ForwardingFailedInvocationsAlarm", "ForwardingDeadLetterQueueAlarm"}
    failed, dlq = alarms["ForwardingFailedInvocationsAlarm"], alarms["ForwardingDeadLetterQueueAlarm"]
    rule_name = res["SecurityGroupChangeRule"]["Properties"]["Name"]
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/Events", "FailedInvocations")
    assert failed["Dimensions"] == [{"Name": "RuleName", "Value": rule_name}]
    assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ForwardingDeadLetterQueue", "QueueName"]}}]
    assert t["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert t["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    for name, alarm in alarms.items():
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0), name
        for key in ("AlarmActions", "OKActions"):
            assert alarm[key] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], []]}, (name, key)


def test_the_sweep_payload_uses_only_keys_the_lambda_reads():
    """The Lambda rejects unknown payload keys (serde deny_unknown_fields): every key the
    schedule can send must be a property of hub/sweep-payload.schema.json, the payload's
    contract (the Rust tests check that `SweepRequest` agrees with it)."""
    schedule = (HUB / "schedule.tf").read_text()
    payload = schedule[schedule.index("sweep_payload = merge("):schedule.index('resource "aws_scheduler_schedule"')]
    sent = set(re.findall(r"\b(\w+)\s*=(?!=)", payload))
    sent -= {"sweep_payload"}
    schema = json.loads(SWEEP_PAYLOAD_SCHEMA_FILE.read_text())
    fields = set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert fields == {"sgguard", "regions", "remediate", "accounts", "ous", "concurrency"}, fields
    assert schema["properties"]["sgguard"] == {"const": "sweep", "description": schema["properties"]["sgguard"]["description"]}
    assert sent == {"sgguard", "regions", "remediate", "accounts", "ous"}, sent
    assert sent <= fields, f"keys the Lambda would reject: {sent - fields}"


def hub_variables() -> dict[str, dict]:
    return {unquote(n): body for b in blocks(parse_tf(HUB / "variables.tf"), "variable") for n, body in b.items()}


def test_lambda_async_invocations_retry_then_go_to_the_dlq():
    """EventBridge and the Scheduler invoke the Lambda asynchronously: function errors follow the
    function's event invoke config (not the targets' retry policy), whose on-failure destination
    is the DLQ. No dead_letter_config besides it (each failure would be sent twice)."""
    res = resources(module_files(HUB))
    configs = {name: body for (kind, name), body in res.items() if kind == "aws_lambda_function_event_invoke_config"}
    assert list(configs) == ["sgguard"]
    cfg = configs["sgguard"]
    assert cfg["function_name"] == "${aws_lambda_function.sgguard.function_name}"
    # It covers what the rules and the schedule invoke: the `live` alias (a config on the
    # unqualified function would not apply to invocations of the alias).
    assert cfg["qualifier"] == "${aws_lambda_alias.live.name}"
    assert cfg["maximum_retry_attempts"] == "${var.lambda_async_max_retry_attempts}"
    assert cfg["maximum_event_age_in_seconds"] == "${var.lambda_async_max_event_age_seconds}"
    dest = cfg["destination_config"]
    dest = dest[0] if isinstance(dest, list) else dest
    on_failure = dest["on_failure"][0] if isinstance(dest["on_failure"], list) else dest["on_failure"]
    assert on_failure == {"destination": "${aws_sqs_queue.dlq.arn}"}
    assert "on_success" not in dest
    assert "dead_letter_config" not in res[("aws_lambda_function", "sgguard")]
    # The Lambda role may send to that queue (the service sends the records with it) ...
    policy = hub_lambda_policy()
    assert re.search(
        r'\{Sid = "SendFailedAsyncInvocationsToDlq", Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue\.dlq\.arn\}',
        policy,
    ), "the Lambda role cannot send to the DLQ"
    # (and sgguard itself sends its durable records there: SGGUARD_RECORD_QUEUE_URL)
    assert "sqs:SendMessage" in load_hub_actions()["granted"]
    # ... before the config is put (Lambda checks the destination permission then).
    assert cfg["depends_on"] == ["${aws_iam_role_policy.lambda}"]

    variables = hub_variables()
    retries, age = variables["lambda_async_max_retry_attempts"], variables["lambda_async_max_event_age_seconds"]
    assert retries["type"] == "number" and retries["default"] == 2
    assert age["type"] == "number" and age["default"] == 21600
    # Lambda's limits: 0-2 retries, 60-21600 s.
    assert "var.lambda_async_max_retry_attempts >= 0 && var.lambda_async_max_retry_attempts <= 2" in retries["validation"][0]["condition"]
    assert "var.lambda_async_max_event_age_seconds >= 60 && var.lambda_async_max_event_age_seconds <= 21600" in age["validation"][0]["condition"]


def test_the_alarms_have_their_own_topic():
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    alarms = {name: body for (kind, name), body in res.items() if kind == "aws_cloudwatch_metric_alarm"}
    assert set(alarms) == {"lambda_errors", "dlq_messages", "circuit_breaker", "sweep_failures"}
    # What the Lambda answers as handled (no retry) still alarms, on sgguard's own metrics.
    assert (alarms["circuit_breaker"]["namespace"], alarms["circuit_breaker"]["metric_name"]) == ("sgguard", "BreakerTripped")
    assert (alarms["sweep_failures"]["namespace"], alarms["sweep_failures"]["metric_name"]) == ("sgguard", "SweepFailures")
    for name in ("circuit_breaker", "sweep_failures"):
        assert "dimensions" not in alarms[name], name
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == ["${local.alarm_topic_arn}"], name
        assert alarm["ok_actions"] == ["${local.alarm_topic_arn}"], name
    assert locals_["create_alarm_topic"] == "${var.alarm_topic_arn == null}"
    assert locals_["alarm_topic_arn"] == "${local.create_alarm_topic ? one(aws_sns_topic.alarms[*].arn) : var.alarm_topic_arn}"
    topic = res[("aws_sns_topic", "alarms")]
    assert topic["count"] == "${local.create_alarm_topic ? 1 : 0}"
    assert topic["name"] == "${var.function_name}-alarms" != res[("aws_sns_topic", "notifications")]["name"]
    assert topic["kms_master_key_id"] == "${aws_kms_key.sgguard.arn}"
    notifications_tf = (HUB / "notifications.tf").read_text()
    # CloudWatch may publish to the alarm topic only, the Lambda to the notification topic only.
    alarm_policy = notifications_tf[notifications_tf.index('resource "aws_sns_topic_policy" "alarms"'):]
    alarm_policy = alarm_policy[: alarm_policy.index('resource "aws_sns_topic_subscription" "alarm_email"')]
    assert 'Principal = { Service = "cloudwatch.amazonaws.com" }' in alarm_policy
    assert "aws_iam_role.lambda" not in alarm_policy
    note_policy = notifications_tf[notifications_tf.index('resource "aws_sns_topic_policy" "notifications"'):]
    note_policy = note_policy[: note_policy.index('resource "aws_sns_topic_subscription" "email"')]
    assert "cloudwatch.amazonaws.com" not in note_policy
    assert "aws_iam_role.lambda.arn" in note_policy
    assert "alarms" not in hub_lambda_policy()
    # Subscriptions: alarm_emails, else the notification addresses; none for a topic brought in.
    sub = res[("aws_sns_topic_subscription", "alarm_email")]
    assert sub["for_each"] == "${local.create_alarm_topic ? toset(local.alarm_emails) : toset([])}"
    assert locals_["alarm_emails"] == "${var.alarm_emails != null ? var.alarm_emails : var.notification_emails}"
    variables = hub_variables()
    assert variables["alarm_topic_arn"]["default"] is None
    assert variables["alarm_emails"]["default"] is None
    outputs = {unquote(n): body for b in blocks(parse_tf(HUB / "outputs.tf"), "output") for n, body in b.items()}
    assert outputs["alarm_topic_arn"]["value"] == "${local.alarm_topic_arn}"


def test_one_artifact_path_from_make_lambda_zip_to_the_module():
    """`make lambda-zip` builds ARCH (default) into dist/sgguard-$(ARCH).zip
    (scripts/lambda_zip.sh); the hub module's default architecture is that ARCH, and each
    example's lambda_zip_path default resolves, from the example's folder, to that file."""
    makefile = (REPO / "Makefile").read_text()
    arch = re.search(r"^ARCH \?= (\S+)$", makefile, re.M).group(1)
    script = (REPO / "scripts" / "lambda_zip.sh").read_text()
    assert re.search(r"^arch=\$\{2:-" + re.escape(arch) + r"\}$", script, re.M), "lambda_zip.sh's default arch"
    assert 'zip="dist/sgguard-$arch.zip"' in script
    built = (REPO / "dist" / f"sgguard-{arch}.zip").resolve()
    variables = {unquote(n): body for b in blocks(parse_tf(HUB / "variables.tf"), "variable") for n, body in b.items()}
    assert variables["lambda_architecture"]["default"] == arch
    examples = sorted((HUB / "examples").iterdir())
    assert examples
    for example in examples:
        example_vars = {unquote(n): body for b in blocks(parse_tf(example / "variables.tf"), "variable")
                        for n, body in b.items()}
        default = example_vars["lambda_zip_path"]["default"]
        assert (example / default).resolve() == built, f"{example.name}: lambda_zip_path {default} is not {built}"
        module = blocks(parse_tf(example / "main.tf"), "module")[0]
        settings = next(iter(module.values()))
        assert settings.get("lambda_architecture", arch) == arch, f"{example.name}: lambda_architecture"


def test_the_rules_and_the_schedule_invoke_the_live_alias():
    """Versions are published and invoked through the `live` alias: a rollback is an alias
    switch (`live_version`), not a rebuild."""
    res = resources(module_files(HUB))
    assert res[("aws_lambda_function", "sgguard")]["publish"] is True
    alias = res[("aws_lambda_alias", "live")]
    assert alias["name"] == "live"
    assert alias["function_version"] == "${coalesce(var.live_version, aws_lambda_function.sgguard.version)}"
    for name in ("hub", "hub_default_bus"):
        assert res[("aws_cloudwatch_event_target", name)]["arn"] == "${aws_lambda_alias.live.arn}", name
        assert res[("aws_lambda_permission", f"{name}_rule")]["qualifier"] == "${aws_lambda_alias.live.name}"
    target = res[("aws_scheduler_schedule", "sweep")]["target"]
    target = target[0] if isinstance(target, list) else target
    assert target["arn"] == "${aws_lambda_alias.live.arn}"


# ---------------------------------------------------------------------------------------
# The report bucket, external exemptions, staged enforcement, coverage, sweep regions
# ---------------------------------------------------------------------------------------


def first(block):
    """A nested block as python-hcl2 gives it: a list of one dict (or the dict)."""
    return block[0] if isinstance(block, list) else block


def hcl_string(text: str) -> str:
    """The value of an HCL string literal's body (the escapes the module uses: \\\\ and \\")."""
    return text.replace('\\"', '"').replace("\\\\", "\\")


def validation_regex(condition: str, subject: str) -> str:
    """The pattern of `regex("...", SUBJECT)` in a validation condition."""
    m = re.search(r'regex\("((?:[^"\\]|\\.)*)", ' + re.escape(subject) + r"\)", condition)
    assert m, f"no regex(..., {subject}) in {condition}"
    return hcl_string(m.group(1))


def lambda_environment() -> str:
    return hub_locals()["lambda_environment"]


def test_report_bucket_is_encrypted_versioned_private_tls_only_and_expires_reports():
    res = resources(module_files(HUB))
    locals_ = hub_locals()
    bucket = res[("aws_s3_bucket", "reports")]
    assert "count" not in bucket, "the report bucket is always created"
    assert bucket["bucket"] == "${local.report_bucket_name}"
    assert locals_["report_bucket_name"] == (
        '${coalesce(var.report_bucket_name, replace(lower("${var.function_name}-reports-${local.account_id}-'
        '${local.region}"), "_", "-"))}')
    # Every setting resource of the bucket names it.
    settings = {kind for (kind, name), body in res.items() if name == "reports" and kind.startswith("aws_s3_bucket_")}
    assert settings == {"aws_s3_bucket_ownership_controls", "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
                        "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_lifecycle_configuration",
                        "aws_s3_bucket_policy"}, settings
    for kind in settings:
        assert res[(kind, "reports")]["bucket"] == "${aws_s3_bucket.reports.id}", kind

    # SSE-KMS with the module's key (the key of the DLQ and the logs), bucket key on.
    sse = first(res[("aws_s3_bucket_server_side_encryption_configuration", "reports")]["rule"])
    assert first(sse["apply_server_side_encryption_by_default"]) == {
        "sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.sgguard.arn}"}
    assert sse["bucket_key_enabled"] is True
    assert res[("aws_sqs_queue", "dlq")]["kms_master_key_id"] == "${aws_kms_key.sgguard.arn}"
    # Versioned, no public access, no ACLs.
    assert first(res[("aws_s3_bucket_versioning", "reports")]["versioning_configuration"]) == {"status": "Enabled"}
    block = res[("aws_s3_bucket_public_access_block", "reports")]
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[flag] is True, flag
    assert first(res[("aws_s3_bucket_ownership_controls", "reports")]["rule"]) == {"object_ownership": "BucketOwnerEnforced"}
    # TLS only.
    policy = res[("aws_s3_bucket_policy", "reports")]["policy"]
    assert ('{Sid = "DenyInsecureTransport", Effect = "Deny", Principal = "*", Action = "s3:*", '
            'Resource = [aws_s3_bucket.reports.arn, "${aws_s3_bucket.reports.arn}/*"], '
            'Condition = {Bool = {"aws:SecureTransport" = "false"}}}') in policy
    assert "Allow" not in policy, "the bucket policy only denies; access comes from IAM"

    # Lifecycle: reports under sweeps/ expire after report_retention_days; for every object,
    # noncurrent versions after 30 days and unfinished uploads after 7.
    lifecycle = res[("aws_s3_bucket_lifecycle_configuration", "reports")]
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    assert set(rules) == {"expire-sweep-reports", "clean-up-versions-and-uploads"}
    assert all(rule["status"] == "Enabled" for rule in rules.values())
    reports = rules["expire-sweep-reports"]
    assert first(reports["filter"]) == {"prefix": "${local.report_prefix}"} and locals_["report_prefix"] == "sweeps/"
    assert first(reports["expiration"]) == {"days": "${var.report_retention_days}"}
    everything = rules["clean-up-versions-and-uploads"]
    assert first(everything["filter"]) == {}
    assert first(everything["noncurrent_version_expiration"]) == {"noncurrent_days": 30}
    assert first(everything["abort_incomplete_multipart_upload"]) == {"days_after_initiation": 7}
    # Overlapping filters (sweeps/ and everything): each action in one rule only.
    assert "expiration" not in everything
    assert not {"noncurrent_version_expiration", "abort_incomplete_multipart_upload"} & set(reports)
    assert lifecycle["depends_on"] == ["${aws_s3_bucket_versioning.reports}"]
    retention = hub_variables()["report_retention_days"]
    assert retention["type"] == "number" and retention["default"] == 400
    assert "var.report_retention_days >= 1 && var.report_retention_days <= 3650" in retention["validation"][0]["condition"]

    # The Lambda is told the bucket; the module gives its name and ARN.
    assert "SGGUARD_REPORT_BUCKET = aws_s3_bucket.reports.id" in lambda_environment()
    outputs = {unquote(n): body for b in blocks(parse_tf(HUB / "outputs.tf"), "output") for n, body in b.items()}
    assert outputs["report_bucket_name"]["value"] == "${aws_s3_bucket.reports.id}"
    assert outputs["report_bucket_arn"]["value"] == "${aws_s3_bucket.reports.arn}"


@pytest.mark.parametrize("name, valid", [
    ("sgguard-reports-111122223333-eu-west-1", True), ("abc", True), ("a" * 63, True),
    ("ab", False), ("a" * 64, False), ("Reports", False), ("my_reports", False), ("my.reports", False),
    ("-reports", False), ("reports-", False), ("xn--reports", False), ("reports-s3alias", False),
])
def test_report_bucket_name_validation(name: str, valid: bool):
    """Both the variable's validation and the precondition on the effective name (the default
    one too) hold the same S3 rules. Evaluated with Python's re: Terraform's regex() is RE2,
    the same for these patterns."""
    variable = hub_variables()["report_bucket_name"]
    assert variable["default"] is None
    condition = variable["validation"][0]["condition"]
    assert condition.startswith("${var.report_bucket_name == null ? true : (")
    allowed = validation_regex(condition, "var.report_bucket_name")
    reserved = re.search(r'!can\(regex\("((?:[^"\\]|\\.)*)", var\.report_bucket_name\)\)', condition).group(1)
    assert (re.search(allowed, name) is not None and re.search(hcl_string(reserved), name) is None) == valid
    lifecycle = first(resources(module_files(HUB))[("aws_s3_bucket", "reports")]["lifecycle"])
    conditions = [p["condition"] for p in lifecycle["precondition"] if "local.report_bucket_name" in p["condition"]]
    assert len(conditions) == 1, lifecycle
    assert validation_regex(conditions[0], "local.report_bucket_name") == allowed
    assert f'!can(regex("{reserved}", local.report_bucket_name))' in conditions[0]


def test_the_lambda_reads_the_exemptions_file_and_writes_reports_only_under_sweeps():
    policy = hub_lambda_policy()
    locals_ = hub_locals()
    assert locals_["exemptions_key"] == "config/exemptions.yaml"
    assert sorted(a for a in hub_lambda_role_actions() if a.startswith("s3:")) == ["s3:GetObject", "s3:PutObject"]
    # Writes: under sweeps/ only (no read, list or delete of the reports).
    assert ('{Sid = "WriteSweepReports", Effect = "Allow", Action = "s3:PutObject", '
            'Resource = "${aws_s3_bucket.reports.arn}/${local.report_prefix}*"}') in policy
    # Reads: the exemptions object and nothing else, only with exemptions_enabled.
    assert ('[for s in [{Sid = "ReadExemptions", Effect = "Allow", Action = "s3:GetObject", '
            'Resource = "${aws_s3_bucket.reports.arn}/${local.exemptions_key}"}] : s if var.exemptions_enabled]') in policy
    assert policy.count('"s3:') == 2
    # S3's SSE-KMS on the Lambda's behalf: the role may use the bucket's key.
    assert '{Sid = "UseModuleKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey*"], Resource = aws_kms_key.sgguard.arn}' in policy
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(load_hub_actions()["for_the_lambda_service"])

    # The Lambda is told where the file is and how long to keep it, only with exemptions_enabled.
    assert ('var.exemptions_enabled ? {SGGUARD_EXEMPTIONS_URI = "s3://${aws_s3_bucket.reports.id}/${local.exemptions_key}", '
            "SGGUARD_EXEMPTIONS_TTL_SECONDS = tostring(var.exemptions_ttl_seconds)} : {}") in lambda_environment()
    variables = hub_variables()
    assert variables["exemptions_enabled"]["default"] is False
    assert variables["exemptions_yaml"]["default"] is None
    ttl = variables["exemptions_ttl_seconds"]
    assert ttl["default"] == 300 and "var.exemptions_ttl_seconds >= 10 && var.exemptions_ttl_seconds <= 3600" in ttl["validation"][0]["condition"]
    # Terraform writes the object only when given its content.
    obj = resources(module_files(HUB))[("aws_s3_object", "exemptions")]
    assert obj["count"] == "${var.exemptions_enabled && var.exemptions_yaml != null ? 1 : 0}"
    assert (obj["bucket"], obj["key"], obj["content"], obj["content_type"]) == (
        "${aws_s3_bucket.reports.id}", "${local.exemptions_key}", "${var.exemptions_yaml}", "application/yaml")
    assert (obj["server_side_encryption"], obj["kms_key_id"]) == ("aws:kms", "${aws_kms_key.sgguard.arn}")


@pytest.mark.parametrize("scope, valid", [
    ("ou-ab12-sandbox1", True), ("ou-ab12-3456789012345678", True), ("r-ab12", True), ("111122223333", True),
    ("ou-ab12", False), ("OU-AB12-SANDBOX1", False), ("r-", False), ("11112222333", False), ("1111222233334", False),
    ("o-abcd123456", False), ("arn:aws:organizations::111122223333:ou/o-abcd123456/ou-ab12-sandbox1", False),
    ("sandbox", False), ("", False),
])
def test_mode_by_scope_validation_rejects_a_bad_key(scope: str, valid: bool):
    """Keys: OU, root or account ids. Terraform's regex() searches (RE2); the pattern is anchored,
    and means the same in Python's re."""
    variable = hub_variables()["mode_by_scope"]
    assert variable["type"] == "${map(string)}" and variable["default"] == {}
    keys_condition, values_condition = (v["condition"] for v in variable["validation"])
    assert keys_condition.startswith("${alltrue([for scope in keys(var.mode_by_scope) : can(regex(")
    assert (re.search(validation_regex(keys_condition, "scope"), scope) is not None) == valid
    assert values_condition == '${alltrue([for mode in values(var.mode_by_scope) : contains(["audit", "enforce"], mode)])}'


def test_mode_by_scope_reaches_the_lambda_and_the_readme_example_is_valid():
    assert "length(var.mode_by_scope) > 0 ? {SGGUARD_MODE_BY_SCOPE = jsonencode(var.mode_by_scope)} : {}" in lambda_environment()
    assert "SGGUARD_MODE = var.mode" in lambda_environment()
    assert "mode_by_scope" in hub_variables()["mode"]["description"]
    # Finding an account's OUs: ListParents, with the other Organizations reads.
    assert '"organizations:ListParents"' in hub_lambda_policy()
    assert "organizations:ListParents" in load_hub_actions()["granted"]
    pattern = validation_regex(hub_variables()["mode_by_scope"]["validation"][0]["condition"], "scope")
    readme = (HUB / "README.md").read_text()
    example = readme[readme.index("mode_by_scope = {"):]
    example = example[: example.index("}")]
    entries = re.findall(r'^\s*"([^"]+)"\s*=\s*"(\w+)"', example, re.M)
    assert entries and all(re.search(pattern, k) and v in ("audit", "enforce") for k, v in entries), entries


def test_sweep_regions_default_to_the_stackset_regions():
    variable = hub_variables()["sweep_regions"]
    assert variable["type"] == "${list(string)}" and variable["default"] is None
    assert hub_locals()["sweep_regions"] == (
        "${var.sweep_regions != null ? var.sweep_regions : (var.create_stackset ? var.stackset_regions : [])}")
    # The effective list is what the Lambda and the schedule get ...
    assert 'length(local.sweep_regions) > 0 ? {SGGUARD_REGIONS = join(",", local.sweep_regions)} : {}' in lambda_environment()
    assert hub_locals()["sweep_payload"].count("regions = local.sweep_regions") == 1
    # ... and nothing reads the variable itself but that local (and its validation).
    for path in HUB.glob("*.tf"):
        uses = re.findall(r"var\.sweep_regions\b", path.read_text())
        assert len(uses) == {"variables.tf": 2, "main.tf": 2}.get(path.name, 0), (path.name, uses)


def test_the_lambda_lists_the_stacksets_instances_for_coverage():
    env = lambda_environment()
    assert "var.create_stackset ? {SGGUARD_STACKSET_NAME = var.stackset_name, SGGUARD_STACKSET_CALL_AS = var.stackset_call_as} : {}" in env
    assert ('[for s in [{Sid = "ListStackSetInstances", Effect = "Allow", Action = "cloudformation:ListStackInstances", '
            "Resource = local.stackset_arn_pattern}, "
            '{Sid = "StackSetsDelegatedAdmin", Effect = "Allow", Action = "organizations:ListDelegatedAdministrators", '
            'Resource = "*"}] : s if var.create_stackset && (s.Sid != "StackSetsDelegatedAdmin" || '
            'var.stackset_call_as == "DELEGATED_ADMIN")]') in hub_lambda_policy()
    locals_ = hub_locals()
    assert locals_["stackset_arn_account"] == '${var.stackset_call_as == "SELF" ? local.account_id : "*"}'
    pattern = locals_["stackset_arn_pattern"]
    assert pattern == "arn:${local.partition}:cloudformation:${local.region}:${local.stackset_arn_account}:stackset/${var.stackset_name}:*"
    # The StackSet's ARN (arn:${Partition}:cloudformation:${Region}:${Account}:stackset/${StackSetName}:${Id},
    # IAM's resource type `stackset`) matches, with SELF (this account) and DELEGATED_ADMIN.
    arn = "arn:aws:cloudformation:eu-west-1:111122223333:stackset/sgguard-spoke:0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    for account in ("111122223333", "*"):
        rendered = (pattern.replace("${local.partition}", "aws").replace("${local.region}", "eu-west-1")
                    .replace("${local.stackset_arn_account}", account).replace("${var.stackset_name}", "sgguard-spoke"))
        assert fnmatch.fnmatchcase(arn, rendered), rendered
        assert not fnmatch.fnmatchcase(arn.replace("sgguard-spoke", "other"), rendered)
    assert "cloudformation:ListStackInstances" in load_hub_actions()["granted"]
