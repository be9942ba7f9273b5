"""One event pattern and one action list: hub/event-pattern.json is the designed pattern, the one
the spoke template and both hub rules use; spoke-infra/remediation-actions.json is what the
remediation role grants and the hub Lambda role's EC2 actions; with hub/hub-actions.json it is
everything the Lambda role grants, each scope as narrow as written."""

from __future__ import annotations

import re

from sgguard_world.files import HUB, SPOKE_TEMPLATE, load_event_pattern, load_hub_actions, load_remediation_actions, load_template
from sgguard_world.policies import (
    eval_action_local,
    hub_lambda_policy,
    hub_lambda_role_actions,
    hub_locals,
    module_files,
    resources,
    spoke_remediation_role_actions,
)

# ---------------------------------------------------------------------------------------
# The event pattern
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


# ---------------------------------------------------------------------------------------
# The action lists
# ---------------------------------------------------------------------------------------


def test_remediation_actions_file_is_a_clean_list():
    actions = load_remediation_actions()
    # EC2 (read, revoke), the reads of the sweep's tamper check (the spoke's own rule and role),
    # the Security Hub import of the member's findings, and the depth of the forwarding
    # dead-letter queue.
    assert actions and all(isinstance(a, str) and re.fullmatch(r"(ec2|events|iam|ram|securityhub|sqs):[A-Za-z]+", a)
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
    # EC2, RAM, SQS (the forwarding dead-letter queue's depth) and the forwarding rule's reads
    # (events:, the sweep's coverage gaps) for the hub's own account; the tamper check's reads of
    # the role (iam:) are the spoke's only.
    own = [a for a in load_remediation_actions() if a.startswith(("ec2:", "ram:", "sqs:", "events:"))]
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
    assert sorted(used) == ["ec2_read_actions", "ec2_restore_actions", "ec2_revoke_actions", "hub_queue_actions"], used
    acts = [a for name in used for a in eval_action_local(locals_[name], locals_)]
    assert sorted(acts) == sorted(a for a in load_remediation_actions() if a.startswith(("ec2:", "ram:", "sqs:")))
    assert len(acts) == len(set(acts))
    # The queue read names the forwarding dead-letter queue of the hub account, nothing else.
    assert eval_action_local(locals_["hub_queue_actions"], locals_) == ["sqs:GetQueueAttributes"]
    assert 'Resource = "arn:${local.partition}:sqs:*:${local.account_id}:${local.forwarding_queue_name}"' in policy
    template = load_template(SPOKE_TEMPLATE)["Resources"]
    assert locals_["forwarding_queue_name"] == template["ForwardingDeadLetterQueue"]["Properties"]["QueueName"]


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
