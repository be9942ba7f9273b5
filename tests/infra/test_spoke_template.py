"""The spoke template's structure (spoke-infra/sgguard-spoke.yaml): its roles exist in the primary
region only, trust the hub Lambda inside the organization and grant the least (the audit role:
reads only); the forwarding rule retries, keeps undelivered events in a member DLQ and alarms only
a topic that is given."""

from __future__ import annotations

import re

from sgguard_world.files import HUB, SPOKE_TEMPLATE, load_remediation_actions, load_template
from sgguard_world.policies import stack_set_parameters

from static_common import hub_variables


def test_spoke_roles_are_primary_region_only_and_least_privilege():
    t = load_template(SPOKE_TEMPLATE)
    res = t["Resources"]
    assert t["Conditions"]["IsPrimaryRegion"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "PrimaryRegion"}]}
    roles = {n for n, r in res.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles == {"RemediationRole", "EventForwarderRole", "AuditRole", "ApproverRole"}
    for n in roles - {"ApproverRole"}:
        assert res[n].get("Condition") == "IsPrimaryRegion", f"{n} must exist in the primary region only"
    # The optional approver role: primary region and a name (test_tamper_protection_scp.py).
    assert {"Condition": "IsPrimaryRegion"} in t["Conditions"][res["ApproverRole"]["Condition"]]["Fn::And"]
    rules = [n for n, r in res.items() if r["Type"] == "AWS::Events::Rule"]
    assert rules == ["SecurityGroupChangeRule"] and "Condition" not in res["SecurityGroupChangeRule"]

    trust = res["RemediationRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Sid": {"Fn::Sub": "TrustSgguardHubLambdaInOrganization${HubRoleUniqueId}"},
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
    Revoke or Restore, nothing that writes; scoped like the remediation role's reads."""
    t = load_template(SPOKE_TEMPLATE)
    res = t["Resources"]
    audit = res["AuditRole"]
    assert audit["Condition"] == "IsPrimaryRegion"
    assert audit["Properties"]["RoleName"] == {"Ref": "AuditRoleName"}
    assert t["Parameters"]["AuditRoleName"]["Default"] == "sgguard-audit"
    # Reads only: no Revoke, no prefix-list Restore, and not the Security Hub import (writes).
    reads = [a for a in load_remediation_actions()
             if not a.split(":")[1].startswith(("Revoke", "Restore")) and not a.startswith("securityhub:")]
    assert len(reads) < len(load_remediation_actions()), "the file lost its Revoke actions"
    actions = _policy_actions(audit)
    assert sorted(actions) == sorted(reads)
    assert all(re.fullmatch(r"\w+:(Describe|Get|List)\w+", a) for a in actions), actions
    assert not audit["Properties"].get("ManagedPolicyArns")
    statements = {s["Sid"]: s for p in audit["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]}
    remediation = {s["Sid"]: s for p in res["RemediationRole"]["Properties"]["Policies"]
                   for s in p["PolicyDocument"]["Statement"]}
    for sid in ("ReadSecurityGroupsAndPrefixLists", "ReadResourceSharesOfPrefixLists", "ReadForwardingRuleForTamperCheck",
                "ReadPoliciesForTamperCheck", "ReadForwardingDeadLetterQueueDepth"):
        assert statements[sid] == remediation[sid], sid
    # The tamper check reads the remediation role's trust and permissions, not the audit role's.
    own = remediation["ReadOwnRoleForTamperCheck"]
    assert own["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RemediationRoleName}"}
    assert statements["ReadRemediationRoleForTamperCheck"] == {**own, "Sid": "ReadRemediationRoleForTamperCheck"}


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
        "Sid": {"Fn::Sub": "TrustSgguardHubLambdaInOrganization${HubRoleUniqueId}"},
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
    params = stack_set_parameters("spoke")
    assert params["AuditRoleName"] == "${var.audit_role_name}"
    assert params["AuditTrustedPrincipalArns"] == '${join(",", var.audit_trusted_principal_arns)}'
    variables = hub_variables()
    assert variables["audit_role_name"]["default"] == "sgguard-audit"
    assert variables["audit_trusted_principal_arns"]["default"] == []


def test_forwarding_rule_retries_then_keeps_undelivered_events_in_a_member_dlq():
    t = load_template(SPOKE_TEMPLATE)
    res, params = t["Resources"], t["Parameters"]
    (target,) = res["SecurityGroupChangeRule"]["Properties"]["Targets"]
    # Only when the parameters differ from their defaults (EventBridge's own policy).
    assert target["RetryPolicy"] == {"Fn::If": [
        "HasCustomForwardingRetryPolicy",
        {"MaximumRetryAttempts": {"Ref": "ForwardingMaxRetryAttempts"},
         "MaximumEventAgeInSeconds": {"Ref": "ForwardingMaxEventAgeSeconds"}},
        {"Ref": "AWS::NoValue"},
    ]}
    retries, age = params["ForwardingMaxRetryAttempts"], params["ForwardingMaxEventAgeSeconds"]
    assert t["Conditions"]["HasCustomForwardingRetryPolicy"] == {"Fn::Not": [{"Fn::And": [
        {"Fn::Equals": [{"Ref": "ForwardingMaxRetryAttempts"}, str(retries["Default"])]},
        {"Fn::Equals": [{"Ref": "ForwardingMaxEventAgeSeconds"}, str(age["Default"])]},
    ]}]}
    # EventBridge's limits, and its own defaults.
    assert (retries["Default"], retries["MinValue"], retries["MaxValue"]) == (185, 0, 185)
    assert (age["Default"], age["MinValue"], age["MaxValue"]) == (86400, 60, 86400)
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


def test_both_roles_read_the_depth_of_exactly_the_forwarding_dead_letter_queue():
    """The sweep reads `ApproximateNumberOfMessages` of this account's forwarding DLQ in each
    region: `sqs:GetQueueAttributes` on that queue's name in this account, no other SQS action,
    in the remediation role and the read-only audit role alike."""
    res = load_template(SPOKE_TEMPLATE)["Resources"]
    queue = res["ForwardingDeadLetterQueue"]["Properties"]["QueueName"]
    assert queue == "sgguard-forward-sg-changes-dlq"
    for role in ("RemediationRole", "AuditRole"):
        statements = [s for p in res[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        sqs = [s for s in statements
               if any(a.startswith("sqs:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
        assert sqs == [{
            "Sid": "ReadForwardingDeadLetterQueueDepth",
            "Effect": "Allow",
            "Action": ["sqs:GetQueueAttributes"],
            "Resource": {"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:*:${{AWS::AccountId}}:{queue}"},
        }], role


def test_a_recreated_hub_role_changes_the_trust_statements():
    """IAM stores a trust policy's role principal as the role's unique id: the hub module passes
    the Lambda role's id (HubRoleUniqueId) to every stack of the template, and the template
    writes it into both trust statements' Sid, so a new role (new id) changes the documents and
    the StackSet update puts them again (the ARN resolved to the new role)."""
    t = load_template(SPOKE_TEMPLATE)
    param = t["Parameters"]["HubRoleUniqueId"]
    assert param["Type"] == "String" and param["Default"] == ""
    pattern = param["AllowedPattern"]
    assert re.fullmatch(pattern, "AROAEXAMPLEHUBLAMBDA1") and re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, "AIDAEXAMPLEUSERID0001") and not re.fullmatch(pattern, "arn:aws:iam::1:role/x")
    hub_statements = [s for r in ("RemediationRole", "AuditRole")
                      for s in t["Resources"][r]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
                      if s.get("Principal") == {"AWS": {"Ref": "HubLambdaRoleArn"}}]
    assert len(hub_statements) == 2
    assert {str(s["Sid"]) for s in hub_statements} == {str({"Fn::Sub": "TrustSgguardHubLambdaInOrganization${HubRoleUniqueId}"})}
    # Every stack of the template gets it: the members', the hub account's, the management account's.
    assert stack_set_parameters("spoke")["HubRoleUniqueId"] == "${aws_iam_role.lambda.unique_id}"

