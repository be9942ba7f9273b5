//! One event, one verdict: opened rules revoked (SSH, all traffic from IPv6, a split database
//! port in the second region, an edit that opens RDP, an egress rule the policy revokes), audit
//! mode revoking nothing, exempt and protected groups left alone, a rule already gone or a
//! deleted group taken calmly; the `handle-event` command does what the Lambda does.

use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, SecurityGroupRuleRequest, SecurityGroupRuleUpdate,
};
use serde_json::{Value, json};
use sgguard::outcome::{Mode, Outcome, Status};
use sgguard::policy::Baseline;

use super::{actor, authorize_event, event, remediator};
use crate::emulator::{
    HUB_REGION, OTHER_REGION, Org, group_rules, live_rules, new_group, open_rules,
    open_tagged_rules, rule_set_item, tcp,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_opened_in_a_member_is_revoked_and_the_inbox_told() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(
        &ec2,
        "web",
        vec![tcp(22, "0.0.0.0/0"), tcp(443, "0.0.0.0/0")],
    )
    .await;
    let ssh_rule = rules.iter().find(|r| r["fromPort"] == 22).unwrap()["securityGroupRuleId"]
        .as_str()
        .unwrap()
        .to_owned();

    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "alice", &group, &rules,
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].outcome, Outcome::Revoked);
    assert_eq!(
        outcome.findings[0].finding.rule.rule_id.as_deref(),
        Some(ssh_rule.as_str())
    );
    assert_eq!(outcome.account_name.as_deref(), Some("workload-a"));

    // The violating rule is gone; the compliant one beside it is untouched.
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned())]
    );
    // Members are reached only through the remediation role.
    assert!(
        org.emulator
            .assumed()
            .contains(&format!("arn:aws:iam::{member}:role/sgguard-remediation"))
    );

    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1, "one message per event");
    let (subject, document, attributes) = &inbox[0];
    assert!(subject.len() <= 100);
    assert!(
        subject.contains("revoked 1 rule") && subject.contains(&member),
        "{subject}"
    );
    assert_eq!(attributes["account_id"]["Value"], member.as_str());
    assert_eq!(
        attributes["actor_arn"]["Value"],
        actor(&member, "alice").as_str()
    );
    assert_eq!(attributes["region"]["Value"], HUB_REGION);
    assert_eq!(attributes["group_id"]["Value"], group.as_str());
    assert_eq!(attributes["action"]["Value"], "revoked");
    assert_eq!(attributes["severity"]["Value"], "critical");
    assert_eq!(
        document["event"]["actor_arn"],
        actor(&member, "alice").as_str()
    );
    assert_eq!(document["findings"][0]["outcome"], "revoked");
    assert_eq!(
        document["findings"][0]["violations"][0]["policy_rule"],
        "admin-ports-from-internet"
    );
    assert_eq!(document["mode"], "enforce");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_traffic_from_ipv6_and_a_split_database_port_in_the_second_region() {
    let org = Org::new().await;
    let member = org.members[1].clone();
    let ec2 = org.member_ec2(&member, OTHER_REGION).await;
    let all_v6 = IpPermission::builder()
        .ip_protocol("-1")
        .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
        .build();
    let split = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/1").build())
        .ip_ranges(IpRange::builder().cidr_ip("128.0.0.0/1").build())
        .build();
    let (group, rules) = open_rules(&ec2, "db", vec![all_v6, split, tcp(5432, "10.0.0.0/8")]).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member,
            OTHER_REGION,
            "bob",
            &group,
            &rules,
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.region.as_deref(), Some(OTHER_REGION));
    assert_eq!(outcome.count(Outcome::Revoked), 3);
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(5432), "10.0.0.0/8".to_owned())]
    );
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["region"]["Value"], OTHER_REGION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_mode_revokes_nothing_and_says_what_it_would_do() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "audit", vec![tcp(3389, "0.0.0.0/0")]).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Audit, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "carol", &group, &rules,
        ))
        .await;
    assert_eq!(error, None);
    assert_eq!(outcome.findings[0].outcome, Outcome::WouldRevoke);
    assert_eq!(
        live_rules(&ec2, &group).await.len(),
        1,
        "nothing revoked in audit mode"
    );
    let inbox = org.inbox().await;
    assert_eq!(inbox[0].2["action"]["Value"], "would_revoke");
    assert_eq!(inbox[0].1["mode"], "audit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_groups_are_reported_as_exempt_and_left_alone() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "bastion", vec![tcp(22, "0.0.0.0/0")]).await;
    let yaml = format!(
        "{}\nexemptions:\n  - reason: approved bastion SEC-9\n    group_ids: [{group}]\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    let baseline = Baseline::from_yaml(&yaml, "exempt.yaml").unwrap();
    let aws = org.aws().await;
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "dave", &group, &rules,
        ))
        .await;
    assert_eq!(error, None);
    assert_eq!(outcome.findings[0].outcome, Outcome::Exempt);
    assert_eq!(live_rules(&ec2, &group).await.len(), 1);
    let inbox = org.inbox().await;
    assert_eq!(inbox[0].2["action"]["Value"], "exempt");
    assert_eq!(
        inbox[0].1["findings"][0]["exemption"]["reason"],
        "approved bastion SEC-9"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_groups_are_reported_as_protected_and_never_revoked() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_tagged_rules(
        &ec2,
        "payments-edge",
        &[("sgguard-protected", "yes")],
        vec![tcp(22, "0.0.0.0/0")],
    )
    .await;
    let yaml = format!(
        "{}\nprotected:\n  - reason: payments edge, CHG-7\n    tag: {{key: sgguard-protected}}\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    let baseline = Baseline::from_yaml(&yaml, "protected.yaml").unwrap();
    org.emulator.reset();
    let aws = org.aws().await;
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "erin", &group, &rules,
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].outcome, Outcome::Protected);
    assert_eq!(outcome.counts().findings, 1, "still an open finding");
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(22), "0.0.0.0/0".to_owned())],
        "the rule is still live"
    );
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);
    assert!(org.emulator.count("ec2:DescribeSecurityGroupRules") > 0);
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "protected");
    assert_eq!(inbox[0].2["severity"]["Value"], "critical");
    assert_eq!(inbox[0].1["findings"][0]["outcome"], "protected");
    assert_eq!(
        inbox[0].1["findings"][0]["protected"]["matched"],
        "tag sgguard-protected=yes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_already_revoked_and_a_deleted_group_are_not_errors() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "gone", vec![tcp(22, "0.0.0.0/0")]).await;
    ec2.revoke_security_group_ingress()
        .group_id(&group)
        .security_group_rule_ids(rules[0]["securityGroupRuleId"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    org.emulator.reset();
    let (outcome, error) = remediator
        .handle(&authorize_event(
            &member, HUB_REGION, "erin", &group, &rules,
        ))
        .await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Handled);
    // The live state is the truth: nothing to revoke; the event's own rule is told as
    // already gone (this hub did not revoke it: the event is older than any read lag), naming
    // its actor.
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].outcome, Outcome::AlreadyGone);
    assert!(
        outcome.findings[0]
            .removed
            .as_deref()
            .unwrap()
            .contains("this hub did not revoke it")
    );
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "already_gone");
    assert_eq!(
        inbox[0].2["actor_arn"]["Value"],
        actor(&member, "erin").as_str()
    );

    ec2.delete_security_group()
        .group_id(&group)
        .send()
        .await
        .unwrap();
    let (outcome, error) = remediator
        .handle(&authorize_event(
            &member, HUB_REGION, "erin", &group, &rules,
        ))
        .await;
    assert_eq!(error, None);
    assert_eq!(outcome.groups[0].state, "deleted");
    assert!(org.inbox().await.is_empty(), "nothing to tell");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_opens_rdp_is_revoked() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "edited", vec![tcp(3389, "10.1.0.0/16")]).await;
    let rule_id = rules[0]["securityGroupRuleId"].as_str().unwrap().to_owned();
    let update = SecurityGroupRuleRequest::builder()
        .ip_protocol("tcp")
        .from_port(3389)
        .to_port(3389)
        .cidr_ipv4("0.0.0.0/0")
        .build();
    ec2.modify_security_group_rules()
        .group_id(&group)
        .security_group_rules(
            SecurityGroupRuleUpdate::builder()
                .security_group_rule_id(&rule_id)
                .security_group_rule(update)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let request = json!({"ModifySecurityGroupRulesRequest": {"GroupId": group,
        "SecurityGroupRule": {"SecurityGroupRuleId": rule_id, "tag": 1,
            "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIpv4": "0.0.0.0/0"}}}});
    let edit = event(
        &member,
        HUB_REGION,
        "ModifySecurityGroupRules",
        &actor(&member, "gina"),
        request,
        json!({"ModifySecurityGroupRulesResponse": {"return": true}}),
    );
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&edit)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(
        outcome.findings[0].finding.rule.rule_id.as_deref(),
        Some(rule_id.as_str())
    );
    assert_eq!(outcome.findings[0].outcome, Outcome::Revoked);
    assert!(live_rules(&ec2, &group).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_event_command_does_what_the_lambda_does() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(
        &ec2,
        "cli",
        vec![tcp(22, "0.0.0.0/0"), tcp(80, "0.0.0.0/0")],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(
        &path,
        authorize_event(&member, HUB_REGION, "judy", &group, &rules).to_string(),
    )
    .unwrap();
    let output = org
        .cli()
        .env("SGGUARD_TOPIC_ARN", &org.topic_arn)
        .args(["handle-event", "--mode", "enforce"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "findings: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outcome: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(outcome["findings"][0]["outcome"], "revoked");
    assert_eq!(outcome["account_id"], member.as_str());
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(80), "0.0.0.0/0".to_owned())]
    );
    assert_eq!(org.inbox().await.len(), 1);
}

/// Egress too: a policy that revokes outbound SMTP (the stricter fixture policy, its SMTP rule
/// set to revoke) gets the rule an AuthorizeSecurityGroupEgress opened revoked through
/// RevokeSecurityGroupEgress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_egress_rule_the_policy_revokes_is_revoked_as_egress() {
    let strict = std::fs::read_to_string(crate::common::fixture("policy/strict.yaml")).unwrap();
    let smtp = "    action: notify\n    severity: low\n    examples:\n      - egress tcp 25";
    assert!(strict.contains(smtp), "the fixture's SMTP rule changed");
    // An SMTP rule that revokes also revokes the all-traffic egress rule every group starts
    // with: the baseline must say it means it.
    let acknowledged = "acknowledge: [revokes-default-group]";
    assert!(
        strict.contains(acknowledged),
        "the fixture's acknowledgement changed"
    );
    let yaml = strict
        .replacen(smtp, &smtp.replace("notify", "revoke"), 1)
        .replacen(
            acknowledged,
            "acknowledge: [revokes-default-group, revokes-default-egress]",
            1,
        );
    let baseline = Baseline::from_yaml(&yaml, "strict-revoking-smtp.yaml").unwrap();
    let org = Org::with_members(&["workload-mail"]).await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let group = new_group(&ec2, "mail", &[]).await;
    // Only SMTP out: the default all-traffic egress rule goes first.
    let all_out = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(
            aws_sdk_ec2::types::IpRange::builder()
                .cidr_ip("0.0.0.0/0")
                .build(),
        )
        .build();
    ec2.revoke_security_group_egress()
        .group_id(&group)
        .ip_permissions(all_out)
        .send()
        .await
        .unwrap();
    ec2.authorize_security_group_egress()
        .group_id(&group)
        .ip_permissions(tcp(25, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let egress = || async {
        group_rules(&ec2, &group)
            .await
            .into_iter()
            .filter(|r| r.is_egress() == Some(true))
            .collect::<Vec<_>>()
    };
    let out = egress().await;
    assert_eq!(out.len(), 1, "only the SMTP rule goes out");
    let smtp_rule = out[0].security_group_rule_id().unwrap().to_owned();
    let rule_set = json!([rule_set_item(&out[0])]);
    org.emulator.reset();
    let aws = org.aws().await;
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&event(
            &member,
            HUB_REGION,
            "AuthorizeSecurityGroupEgress",
            &actor(&member, "mallory"),
            json!({"groupId": group, "ipPermissions": {"items": []}}),
            json!({"_return": true, "securityGroupRuleSet": {"items": rule_set}}),
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    let revoked: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Revoked)
        .map(|f| f.finding.rule.rule_id.clone())
        .collect();
    assert_eq!(revoked, [Some(smtp_rule.clone())]);
    assert!(egress().await.is_empty(), "the SMTP egress rule is gone");
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupEgress"), 1);
    assert_eq!(org.inbox().await.len(), 1);
}
