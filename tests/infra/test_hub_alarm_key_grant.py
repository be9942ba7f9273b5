"""CloudWatch's use of the module key (hub/main.tf, statement `CloudWatchAlarmsPublishEncrypted`)
is limited to this account's alarms of this module (issue #23): `aws:SourceAccount` and an
`aws:SourceArn` pattern that every alarm the module creates matches and others do not, the same
pattern the alarm topic's policy allows (`local.alarm_arn_pattern`, one place)."""

from __future__ import annotations

import re

from sgguard_world.files import HUB
from sgguard_world.hcl_value import hcl_value, object_with
from sgguard_world.policies import hub_locals, module_files, resources
from sgguard_world.scp_eval import arn_like

ACCOUNT, REGION = "111122223333", "eu-west-1"
REFS = {"local.partition": "aws", "local.region": REGION, "local.account_id": ACCOUNT, "local.function_name": "sgguard"}


def pattern() -> str:
    return hcl_value(f'"{hub_locals()["alarm_arn_pattern"]}"', REFS)


def test_cloudwatch_uses_the_key_for_this_module_s_alarms_only():
    statement = hcl_value(object_with(hub_locals()["kms_key_statements"], 'Sid = "CloudWatchAlarmsPublishEncrypted"'),
                          {**REFS, "local.alarm_arn_pattern": pattern()})
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                      "ArnLike": {"aws:SourceArn": pattern()}}
    # Every alarm the module creates is named <function_name>-...: each matches, others do not.
    text = "".join(p.read_text() for p in sorted(HUB.glob("*.tf")))
    names = re.findall(r'alarm_name\s+= "([^"]+)"', text)
    assert len(names) >= 8
    for name in names:
        arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:" + name.replace("${local.function_name}", "sgguard").replace(
            "${each.key}", "coverage-gaps")
        assert arn_like(arn, pattern()), arn
    for other in (f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing", f"arn:aws:cloudwatch:{REGION}:444455556666:alarm:sgguard-x",
                  f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:sgguard-x"):
        assert not arn_like(other, pattern()), other


def test_the_alarm_topic_allows_the_same_alarms():
    policy = resources(module_files(HUB))[("aws_sns_topic_policy", "alarms")]["policy"]
    statement = object_with(policy, 'Sid = "SgguardAlarmsPublish"')
    assert 'ArnLike = {"aws:SourceArn" = local.alarm_arn_pattern}' in statement
