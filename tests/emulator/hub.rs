//! The hub flow against the AWS API emulator (moto server, over HTTP on loopback): an
//! Organization with the hub and member accounts in two regions, members reached only through
//! AssumeRole, notifications read back from an SQS queue subscribed to the topic
//! (`emulator.rs`).

use aws_sdk_ec2::types::{
    AddPrefixListEntry, IpPermission, IpRange, Ipv6Range, PrefixListId, SecurityGroupRuleRequest,
    SecurityGroupRuleUpdate,
};
use serde_json::{Value, json};
use sgguard::aws::Aws;
use sgguard::enforce::breaker::{Breaker, Limits};
use sgguard::enforce::event::{EventHandler, HandleError};
use sgguard::outcome::Mode;
use sgguard::outcome::{Outcome, Status};
use sgguard::policy::Baseline;

use crate::emulator::{
    HUB_REGION, OTHER_REGION, Org, group_rules, live_rules, new_group, open_rules,
    open_tagged_rules, rule_set_item, tcp,
};

pub(crate) fn actor(account: &str, who: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/Developer/{who}")
}

/// An EventBridge event as the hub bus delivers it.
fn event(
    account: &str,
    region: &str,
    name: &str,
    actor_arn: &str,
    request: Value,
    response: Value,
) -> Value {
    json!({
        "version": "0",
        "id": format!("evt-{name}-{account}-{region}"),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": account,
        "time": "2026-11-27T08:00:00Z",
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"type": "AssumedRole", "arn": actor_arn, "accountId": account},
            "eventTime": "2026-11-27T08:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": "198.51.100.23",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": request,
            "responseElements": response,
            "eventID": format!("{name}-{account}"),
            "recipientAccountId": account,
        }
    })
}

pub(crate) fn authorize_event(
    account: &str,
    region: &str,
    who: &str,
    group_id: &str,
    rules: &[Value],
) -> Value {
    event(
        account,
        region,
        "AuthorizeSecurityGroupIngress",
        &actor(account, who),
        json!({"groupId": group_id, "ipPermissions": {"items": []}}),
        json!({"_return": true, "securityGroupRuleSet": {"items": rules}}),
    )
}

pub(crate) fn remediator<'a>(
    aws: &'a Aws,
    baseline: &'a Baseline,
    mode: Mode,
    topic: &'a str,
) -> EventHandler<'a, Aws> {
    EventHandler {
        hub: aws,
        baseline,
        staging: mode.into(),
        topic_arn: Some(topic),
        // Each handler its own breaker with the default limits (a test's process lives briefly).
        breaker: Box::leak(Box::new(Breaker::new(Limits::default()))),
        record_queue: None,
        caveat: None,
        outputs: Default::default(),
    }
}

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
        outcome.findings[0].finding.rule_id.as_deref(),
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
    // already gone (removed by someone else: this hub did not revoke it), naming its actor.
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].outcome, Outcome::AlreadyGone);
    assert!(
        outcome.findings[0]
            .removed
            .as_deref()
            .unwrap()
            .contains("not by this hub")
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
async fn a_denied_assume_role_is_reported_and_returned_as_access_denied() {
    let org = Org::new().await;
    let member = org.members[2].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "denied", vec![tcp(22, "0.0.0.0/0")]).await;
    org.emulator.deny(
        "sts:AssumeRole",
        &format!("arn:aws:iam::{member}:role/sgguard-remediation"),
    );
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "frank", &group, &rules,
        ))
        .await;
    let error = error.expect("a denied AssumeRole fails the invocation");
    assert!(matches!(error, HandleError::AccessDenied(_)), "{error}");
    assert_eq!(error.error_type(), "Sgguard.AccessDenied");
    assert!(error.to_string().contains(&member), "{error}");
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(live_rules(&ec2, &group).await.len(), 1, "nothing changed");
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "failed");
    assert!(inbox[0].0.contains("could not check"), "{}", inbox[0].0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_revoke_is_reported_and_returned_as_access_denied() {
    let org = Org::new().await;
    let member = org.members[1].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "no-revoke", vec![tcp(3389, "0.0.0.0/0")]).await;
    org.emulator.control(
        "deny",
        Some(json!({"action": "ec2:RevokeSecurityGroupIngress", "code": "UnauthorizedOperation"})),
    );
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "grace", &group, &rules,
        ))
        .await;
    let error = error.expect("a denied revoke fails the invocation");
    assert_eq!(error.error_type(), "Sgguard.AccessDenied", "{error}");
    let text = error.to_string();
    assert!(
        text.contains("RevokeSecurityGroupIngress") && text.contains(&member),
        "{text}"
    );
    assert_eq!(text.matches("failed").count(), 1, "said once: {text}");
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(outcome.findings[0].outcome, Outcome::Failed);
    assert_eq!(
        live_rules(&ec2, &group).await.len(),
        1,
        "the rule is still there"
    );
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "failed");
    assert!(
        inbox[0].0.contains("FAILED to revoke 1 rule(s)"),
        "{}",
        inbox[0].0
    );
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
        outcome.findings[0].finding.rule_id.as_deref(),
        Some(rule_id.as_str())
    );
    assert_eq!(outcome.findings[0].outcome, Outcome::Revoked);
    assert!(live_rules(&ec2, &group).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_list_grown_to_the_internet_gets_its_rules_revoked() {
    let org = Org::new().await;
    let member = org.members[1].clone();
    let (list_id, _) = office_list(&org, &member).await;
    let (ec2, group) = ssh_from_the_list(&org, &member, &list_id).await;
    let grown = grow_to_the_internet(&org, &member, &list_id).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.groups.len(), 1);
    assert_eq!(outcome.groups[0].group_id, group);
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_200_events_for_one_account_assumes_the_role_once() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "burst", vec![tcp(443, "0.0.0.0/0")]).await;
    let event = authorize_event(&member, HUB_REGION, "ivan", &group, &rules);
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    org.emulator.reset();
    let outcomes = futures::future::join_all((0..200).map(|_| remediator.handle(&event))).await;
    assert!(
        outcomes
            .iter()
            .all(|(o, e)| e.is_none() && o.status == Status::Handled)
    );
    assert_eq!(
        org.emulator.count("sts:AssumeRole"),
        1,
        "one AssumeRole for 200 events"
    );
    assert_eq!(aws.credentials().assume_calls(), 1);
    assert_eq!(org.emulator.count("ec2:DescribeSecurityGroupRules"), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_failed_events_make_no_aws_call() {
    let org = Org::new().await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    org.emulator.reset();
    let (outcome, error) = remediator.handle(&json!({"hello": "world"})).await;
    assert!(matches!(error, Some(HandleError::Malformed(_))));
    assert_eq!(error.unwrap().error_type(), "Sgguard.MalformedEvent");
    assert_eq!(outcome.status, Status::Failed);

    let member = &org.members[0];
    let mut failed = authorize_event(member, HUB_REGION, "x", "sg-0123456789abcdef0", &[]);
    failed["detail"]["errorCode"] = json!("Client.UnauthorizedOperation");
    let (outcome, error) = remediator.handle(&failed).await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Ignored);

    let counts = org.emulator.control("counts", None)["counts"].clone();
    let aws_calls: Vec<&String> = counts
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with("organizations:"))
        .collect();
    assert!(
        aws_calls.is_empty(),
        "no AWS call for events sgguard does not act on: {counts}"
    );
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
        .map(|f| f.finding.rule_id.clone())
        .collect();
    assert_eq!(revoked, [Some(smtp_rule.clone())]);
    assert!(egress().await.is_empty(), "the SMTP egress rule is gone");
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupEgress"), 1);
    assert_eq!(org.inbox().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tripped_breaker_revokes_no_more_and_the_lambda_answers_it_as_handled() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(
        &ec2,
        "wide-open",
        vec![tcp(22, "0.0.0.0/0"), tcp(3389, "0.0.0.0/0")],
    )
    .await;
    let mut settings = sgguard::settings::Settings::from_lookup(|name| match name {
        "SGGUARD_TOPIC_ARN" => Some(org.topic_arn.clone()),
        "SGGUARD_MAX_REVOKES_PER_EVENT" => Some("1".to_owned()),
        _ => None,
    })
    .unwrap();
    settings.mode = Mode::Enforce;
    let hub = sgguard::lambda::Hub {
        breaker: Breaker::new(settings.limits),
        settings,
        baseline: std::sync::Arc::new(Baseline::default_baseline().unwrap()),
        exemptions: None,
        aws: org.aws().await,
        tamper: None,
    };
    let event = authorize_event(&member, HUB_REGION, "mallory", &group, &rules);
    // Answered as handled: Lambda does not retry it with a fresh budget.
    let result = sgguard::lambda::handle(&hub, event, None).await.unwrap();
    assert!(
        result["breaker"]
            .as_str()
            .unwrap()
            .contains("more than 1 revocation(s) for one event")
    );
    assert_eq!(
        live_rules(&ec2, &group).await.len(),
        1,
        "one revoked, one held"
    );
    let outcomes: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "revoked").count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&"would_revoke"), "{outcomes:?}");
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["severity"]["Value"], "critical");
    assert!(
        inbox[0].0.contains("circuit breaker tripped"),
        "{}",
        inbox[0].0
    );
}

/// A CreateTags or DeleteTags event on `resources`: `tags` are key and value (`None`: DeleteTags
/// of the key whatever its value).
fn tags_event(
    account: &str,
    name: &str,
    who: &str,
    resources: &[&str],
    tags: &[(&str, Option<&str>)],
) -> Value {
    let resources: Vec<Value> = resources
        .iter()
        .map(|id| json!({"resourceId": id}))
        .collect();
    let tags: Vec<Value> = tags
        .iter()
        .map(|(key, value)| match value {
            Some(value) => json!({"key": key, "value": value}),
            None => json!({"key": key}),
        })
        .collect();
    event(
        account,
        HUB_REGION,
        name,
        &actor(account, who),
        json!({"resourcesSet": {"items": resources}, "tagSet": {"items": tags}}),
        json!({"requestId": "5b6c7d8e-0000-4000-8000-000000000001", "_return": true}),
    )
}

/// The default baseline, with owners' dated exemption tags honoured (`sgguard-exempt-until`).
fn tag_exempting_baseline() -> Baseline {
    let yaml = format!(
        "{}\nexemptions:\n  - reason: owners set their own date\n    tag: {{key: sgguard-exempt-until, value_is_expiry: true}}\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "tag-exempt.yaml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_exemption_tag_revokes_the_exempted_rule_at_once() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let exempt = [("sgguard-exempt-until", "2999-12-31")];
    let (bastion, _) =
        open_tagged_rules(&ec2, "bastion", &exempt, vec![tcp(22, "0.0.0.0/0")]).await;
    let (web, _) = open_rules(&ec2, "web", vec![tcp(443, "0.0.0.0/0")]).await;
    let baseline = tag_exempting_baseline();
    let aws = org.aws().await;
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);

    // An unrelated tag on a clean group: the group is re-read and judged, nothing revoked.
    let team = aws_sdk_ec2::types::Tag::builder()
        .key("team")
        .value("platform")
        .build();
    ec2.create_tags()
        .resources(&web)
        .tags(team)
        .send()
        .await
        .unwrap();
    let (outcome, error) = remediator
        .handle(&tags_event(
            &member,
            "CreateTags",
            "kim",
            &[&web],
            &[("team", Some("platform"))],
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    let read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(read, [web.as_str()]);
    assert!(outcome.findings.is_empty());
    assert_eq!(live_rules(&ec2, &web).await.len(), 1);

    // The exemption tag removed: the open SSH rule it covered is revoked by that event.
    let until = aws_sdk_ec2::types::Tag::builder()
        .key("sgguard-exempt-until")
        .build();
    ec2.delete_tags()
        .resources(&bastion)
        .tags(until)
        .send()
        .await
        .unwrap();
    let (outcome, error) = remediator
        .handle(&tags_event(
            &member,
            "DeleteTags",
            "kim",
            &[&bastion],
            &[("sgguard-exempt-until", None)],
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.event.name, "DeleteTags");
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert!(
        live_rules(&ec2, &bastion).await.is_empty(),
        "the SSH rule is gone"
    );
    let inbox = org.inbox().await;
    assert_eq!(
        inbox.len(),
        1,
        "one message: the revocation (none for the clean group)"
    );
    assert_eq!(inbox[0].2["group_id"]["Value"], bastion.as_str());
    assert_eq!(
        inbox[0].2["actor_arn"]["Value"],
        actor(&member, "kim").as_str()
    );

    // Tags of an instance: nothing for sgguard, and no AWS call.
    org.emulator.reset();
    let (outcome, error) = remediator
        .handle(&tags_event(
            &member,
            "DeleteTags",
            "kim",
            &["i-0123456789abcdef0"],
            &[("sgguard-exempt-until", None)],
        ))
        .await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Ignored);
    let counts = org.emulator.control("counts", None)["counts"].clone();
    assert!(
        counts.as_object().unwrap().is_empty(),
        "no AWS call: {counts}"
    );
}

/// A prefix list of `owner` holding an office range: its id and ARN.
async fn office_list(org: &Org, owner: &str) -> (String, String) {
    let ec2 = org.member_ec2(owner, HUB_REGION).await;
    let list = ec2
        .create_managed_prefix_list()
        .prefix_list_name("office")
        .address_family("IPv4")
        .max_entries(5)
        .entries(AddPrefixListEntry::builder().cidr("203.0.113.0/24").build())
        .send()
        .await
        .unwrap();
    let list = list.prefix_list().unwrap();
    (
        list.prefix_list_id().unwrap().to_owned(),
        list.prefix_list_arn().unwrap().to_owned(),
    )
}

/// [`office_list`], shared through AWS RAM with `principal` (an account id or the
/// organization's ARN) by the owner's administrator: the list's id.
async fn shared_office_list(org: &Org, owner: &str, principal: &str) -> String {
    let (id, arn) = office_list(org, owner).await;
    let ram = aws_sdk_ram::Client::new(&org.member_config(owner, HUB_REGION));
    ram.create_resource_share()
        .name("office-ranges")
        .resource_arns(arn)
        .principals(principal)
        .send()
        .await
        .unwrap();
    id
}

/// The owner adds 0.0.0.0/0 to the list: the change and its event.
async fn grow_to_the_internet(org: &Org, owner: &str, list_id: &str) -> Value {
    let ec2 = org.member_ec2(owner, HUB_REGION).await;
    let version = ec2
        .describe_managed_prefix_lists()
        .prefix_list_ids(list_id)
        .send()
        .await
        .unwrap()
        .prefix_lists()[0]
        .version()
        .unwrap();
    ec2.modify_managed_prefix_list()
        .prefix_list_id(list_id)
        .current_version(version)
        .add_entries(AddPrefixListEntry::builder().cidr("0.0.0.0/0").build())
        .send()
        .await
        .unwrap();
    event(
        owner,
        HUB_REGION,
        "ModifyManagedPrefixList",
        &actor(owner, "hank"),
        json!({"ModifyManagedPrefixListRequest": {"PrefixListId": list_id,
            "CurrentVersion": version, "AddEntry": {"Cidr": "0.0.0.0/0", "tag": 1}}}),
        Value::Null,
    )
}

/// A group of `account` that opens SSH to the prefix list and HTTPS to the world.
async fn ssh_from_the_list(
    org: &Org,
    account: &str,
    list_id: &str,
) -> (aws_sdk_ec2::Client, String) {
    let ec2 = org.member_ec2(account, HUB_REGION).await;
    let via_list = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .prefix_list_ids(PrefixListId::builder().prefix_list_id(list_id).build())
        .build();
    let (group, _) = open_rules(&ec2, "office-ssh", vec![via_list, tcp(443, "0.0.0.0/0")]).await;
    (ec2, group)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_list_shared_through_ram_gets_the_consumer_accounts_rules_revoked() {
    let org = Org::new().await;
    let (owner, consumer) = (org.members[1].clone(), org.members[0].clone());
    let list_id = shared_office_list(&org, &owner, &consumer).await;
    let (consumer_ec2, group) = ssh_from_the_list(&org, &consumer, &list_id).await;
    let grown = grow_to_the_internet(&org, &owner, &list_id).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    org.emulator.reset();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    // The consumer's SSH rule is revoked in the consumer's account; HTTPS stays.
    assert_eq!(
        live_rules(&consumer_ec2, &group).await,
        [("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned())]
    );
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    let revoked = &outcome.findings[0].finding;
    assert_eq!(revoked.account_id.as_deref(), Some(consumer.as_str()));
    assert_eq!(revoked.group_id.as_deref(), Some(group.as_str()));
    let consumers: Vec<(&str, usize)> = outcome
        .consumers
        .iter()
        .map(|c| (c.account_id.as_str(), c.groups))
        .collect();
    assert_eq!(consumers, [(consumer.as_str(), 1)]);
    assert_eq!(
        outcome.groups[0].account_id.as_deref(),
        Some(consumer.as_str())
    );
    // The shares are read in the owner's account, through its remediation role.
    assert_eq!(org.emulator.count("ram:GetResourceShareAssociations"), 2);
    let assumed = org.emulator.assumed();
    for account in [&owner, &consumer] {
        let role = format!("arn:aws:iam::{account}:role/sgguard-remediation");
        assert!(assumed.contains(&role), "{assumed:?}");
    }
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].1["consumers"][0]["account_id"], consumer.as_str());
    assert_eq!(inbox[0].2["group_id"]["Value"], group.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_shared_with_the_organization_reaches_every_account_and_names_those_it_cannot_check()
{
    let org = Org::new().await;
    let (owner, consumer, unreachable) = (
        org.members[1].clone(),
        org.members[0].clone(),
        org.members[2].clone(),
    );
    let org_arn = org.organization_arn();
    let list_id = shared_office_list(&org, &owner, &org_arn).await;
    let (consumer_ec2, group) = ssh_from_the_list(&org, &consumer, &list_id).await;
    let grown = grow_to_the_internet(&org, &owner, &list_id).await;
    org.emulator.deny(
        "sts:AssumeRole",
        &format!("arn:aws:iam::{unreachable}:role/sgguard-remediation"),
    );
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    // Every other account of the organization is a consumer: the hub, the consumer and the
    // account whose role cannot be assumed, which is named, never dropped.
    let mut expected = vec![org.hub.clone(), consumer.clone(), unreachable.clone()];
    expected.sort();
    let consumers: Vec<&str> = outcome
        .consumers
        .iter()
        .map(|c| c.account_id.as_str())
        .collect();
    assert_eq!(consumers, expected);
    let failed: Vec<&str> = outcome
        .consumers
        .iter()
        .filter(|c| c.error.is_some())
        .map(|c| c.account_id.as_str())
        .collect();
    assert_eq!(failed, [unreachable.as_str()]);
    let error = error.expect("an account that cannot be checked fails the invocation");
    assert_eq!(error.error_type(), "Sgguard.AccessDenied", "{error}");
    assert!(error.to_string().contains(&unreachable), "{error}");
    assert_eq!(outcome.status, Status::Failed);
    // The reachable consumer is fixed all the same.
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert_eq!(live_rules(&consumer_ec2, &group).await.len(), 1);
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].1["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains(&unreachable)),
        "{}",
        inbox[0].1
    );
}

/// Two groups that let SSH in through one prefix list, and the event of that list grown to the
/// internet: the groups' ids (sorted, as sgguard reads them) and their SSH rule ids.
async fn two_groups_behind_a_grown_prefix_list(
    org: &Org,
    member: &str,
) -> (aws_sdk_ec2::Client, Vec<(String, String)>, Value) {
    let ec2 = org.member_ec2(member, HUB_REGION).await;
    let list = ec2
        .create_managed_prefix_list()
        .prefix_list_name("vpn")
        .address_family("IPv4")
        .max_entries(5)
        .entries(AddPrefixListEntry::builder().cidr("0.0.0.0/0").build())
        .send()
        .await
        .unwrap();
    let list_id = list
        .prefix_list()
        .unwrap()
        .prefix_list_id()
        .unwrap()
        .to_owned();
    let mut groups = Vec::new();
    for name in ["vpn-a", "vpn-b"] {
        let via_list = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .prefix_list_ids(PrefixListId::builder().prefix_list_id(&list_id).build())
            .build();
        let (group, rules) = open_rules(&ec2, name, vec![via_list]).await;
        let rule = rules[0]["securityGroupRuleId"].as_str().unwrap().to_owned();
        groups.push((group, rule));
    }
    groups.sort();
    let request = json!({"ModifyManagedPrefixListRequest": {"PrefixListId": list_id,
        "AddEntry": {"Cidr": "0.0.0.0/0", "tag": 1}}});
    let grown = event(
        member,
        HUB_REGION,
        "ModifyManagedPrefixList",
        &actor(member, "kim"),
        request,
        Value::Null,
    );
    (ec2, groups, grown)
}

/// The prefix list the group's rule lets in.
async fn list_of(ec2: &aws_sdk_ec2::Client, group: &str) -> String {
    live_rules(ec2, group).await[0].2.clone()
}

/// EC2 throttling, as AWS answers it: `RequestLimitExceeded`, HTTP 503.
fn throttle(org: &Org, action: &str, matching: &str, times: Option<u32>) {
    org.emulator.control(
        "deny",
        Some(
            json!({"action": action, "match": matching, "code": "RequestLimitExceeded",
                    "status": 503, "times": times}),
        ),
    );
}

/// The requests the proxy answered for `action`: (denied, status).
fn answered(org: &Org, action: &str) -> Vec<(bool, u64)> {
    org.emulator.control("counts", None)["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action)
        .map(|r| {
            (
                r["denied"].as_bool().unwrap(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_throttled_reads_and_revokes_are_retried_and_the_event_handled() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(
        &ec2,
        "throttled",
        vec![tcp(22, "0.0.0.0/0"), tcp(443, "0.0.0.0/0")],
    )
    .await;
    let aws = org.aws().await;
    org.emulator.reset();
    throttle(&org, "ec2:DescribeSecurityGroupRules", "", Some(2));
    throttle(&org, "ec2:RevokeSecurityGroupIngress", "", Some(2));
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&authorize_event(
            &member, HUB_REGION, "lena", &group, &rules,
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    // Each call was throttled twice and went through on the SDK's third attempt.
    let throttled_twice = vec![(true, 503), (true, 503), (false, 200)];
    assert_eq!(
        answered(&org, "ec2:DescribeSecurityGroupRules"),
        throttled_twice
    );
    assert_eq!(
        answered(&org, "ec2:RevokeSecurityGroupIngress"),
        throttled_twice
    );
    assert_eq!(
        live_rules(&ec2, &group).await,
        [("tcp".to_owned(), Some(443), "0.0.0.0/0".to_owned())]
    );
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_throttled_past_the_retries_fails_the_event_and_reports_what_was_revoked() {
    let org = Org::new().await;
    let member = org.members[1].clone();
    let (ec2, groups, grown) = two_groups_behind_a_grown_prefix_list(&org, &member).await;
    let [(first, first_rule), (second, _)] = [groups[0].clone(), groups[1].clone()];
    let second_list = list_of(&ec2, &second).await;
    let aws = org.aws().await;
    org.emulator.reset();
    // The second group's rules cannot be read, however often the SDK asks.
    throttle(&org, "ec2:DescribeSecurityGroupRules", &second, None);
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    let error = error.expect("persistent throttling fails the invocation");
    assert!(matches!(error, HandleError::Aws(_)), "{error:?}");
    assert_eq!(error.error_type(), "Sgguard.AwsFailure");
    let text = error.to_string();
    assert!(
        text.contains("RequestLimitExceeded") && text.contains(&second),
        "{text}"
    );
    let denied = answered(&org, "ec2:DescribeSecurityGroupRules")
        .iter()
        .filter(|(denied, _)| *denied)
        .count();
    assert_eq!(
        denied, 6,
        "the SDK's 6 attempts (sgguard::aws::MAX_ATTEMPTS, as the README says)"
    );
    // What was done before the failure is in the outcome: the first group's rule is revoked,
    // the second group is named as not checked, and its rule is still there.
    assert_eq!(outcome.status, Status::Failed);
    let states: Vec<(&str, &str)> = outcome
        .groups
        .iter()
        .map(|g| (g.group_id.as_str(), g.state))
        .collect();
    assert_eq!(
        states,
        [(first.as_str(), "checked"), (second.as_str(), "failed")]
    );
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(
        outcome.findings[0].finding.rule_id.as_deref(),
        Some(first_rule.as_str())
    );
    assert_eq!(outcome.findings[0].outcome, Outcome::Revoked);
    org.emulator.control("allow", None);
    assert!(live_rules(&ec2, &first).await.is_empty());
    assert_eq!(
        live_rules(&ec2, &second).await,
        [("tcp".to_owned(), Some(22), second_list.clone())]
    );
    // And in the notification: told as a failure, with the revocation and the reason.
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    let (subject, document, attributes) = &inbox[0];
    assert_eq!(attributes["action"]["Value"], "failed");
    assert!(
        subject.contains("could not check every group, revoked 1 rule(s)"),
        "{subject}"
    );
    assert_eq!(document["status"], "failed");
    assert_eq!(document["findings"][0]["outcome"], "revoked");
    assert_eq!(document["findings"][0]["rule_id"], first_rule.as_str());
    assert!(
        document["errors"][0]
            .as_str()
            .unwrap()
            .contains(&format!("group `{second}` not checked")),
        "{document}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_throttled_past_the_retries_is_reported_failed_beside_what_was_revoked() {
    let org = Org::new().await;
    let member = org.members[2].clone();
    let (ec2, groups, grown) = two_groups_behind_a_grown_prefix_list(&org, &member).await;
    let [(first, first_rule), (second, second_rule)] = [groups[0].clone(), groups[1].clone()];
    let aws = org.aws().await;
    org.emulator.reset();
    throttle(&org, "ec2:RevokeSecurityGroupIngress", &second, None);
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
        .handle(&grown)
        .await;
    let error = error.expect("persistent throttling fails the invocation");
    assert_eq!(error.error_type(), "Sgguard.AwsFailure", "{error}");
    assert!(
        error.to_string().contains("RequestLimitExceeded"),
        "{error}"
    );
    assert_eq!(
        answered(&org, "ec2:RevokeSecurityGroupIngress"),
        [vec![(false, 200)], vec![(true, 503); 6]].concat(),
        "the first group's revoke, then the SDK's attempts for the second"
    );
    assert_eq!(outcome.status, Status::Failed);
    let outcomes: Vec<(String, Outcome)> = outcome
        .findings
        .iter()
        .map(|f| (f.finding.rule_id.clone().unwrap(), f.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (first_rule.clone(), Outcome::Revoked),
            (second_rule.clone(), Outcome::Failed)
        ]
    );
    org.emulator.control("allow", None);
    assert!(live_rules(&ec2, &first).await.is_empty());
    assert_eq!(live_rules(&ec2, &second).await.len(), 1);
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 1);
    let (subject, document, attributes) = &inbox[0];
    assert_eq!(attributes["action"]["Value"], "failed");
    assert!(subject.contains("FAILED to revoke 1 rule(s)"), "{subject}");
    let told: Vec<(&str, &str)> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            (first_rule.as_str(), "revoked"),
            (second_rule.as_str(), "failed")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_named_by_name_is_only_the_one_the_response_names_not_its_namesake() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    // `web` in two VPCs of one account and region, each with SSH open to the world.
    let mut groups = Vec::new();
    for cidr in ["10.1.0.0/16", "10.2.0.0/16"] {
        let vpc = ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
        let group = ec2
            .create_security_group()
            .group_name("web")
            .description("sgguard test")
            .vpc_id(vpc.vpc().unwrap().vpc_id().unwrap())
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_owned();
        ec2.authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(tcp(22, "0.0.0.0/0"))
            .send()
            .await
            .unwrap();
        let ssh: Vec<Value> = group_rules(&ec2, &group)
            .await
            .iter()
            .filter(|r| r.is_egress() == Some(false))
            .map(rule_set_item)
            .collect();
        groups.push((group, ssh));
    }
    let [(changed, changed_rules), (namesake, _)] = [groups[0].clone(), groups[1].clone()];
    // The call named the group by name; its response names the rule it created, in `changed`.
    let by_name = |response: Value| {
        event(
            &member,
            HUB_REGION,
            "AuthorizeSecurityGroupIngress",
            &actor(&member, "nina"),
            json!({"groupName": "web", "ipPermissions": {"items": [{"ipProtocol": "tcp",
                "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
            response,
        )
    };
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    org.emulator.reset();
    let (outcome, error) = remediator
        .handle(&by_name(json!({"_return": true,
            "securityGroupRuleSet": {"items": changed_rules}})))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    let read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(read, [changed.as_str()], "only the group the call changed");
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert_eq!(org.emulator.count("ec2:DescribeSecurityGroupRules"), 1);
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 1);
    assert!(live_rules(&ec2, &changed).await.is_empty());
    assert_eq!(
        live_rules(&ec2, &namesake).await,
        [("tcp".to_owned(), Some(22), "0.0.0.0/0".to_owned())],
        "the other VPC's `web` is not what the event changed"
    );

    // Without the response's ids the name is all there is: every `web` of the region is
    // re-read (EC2's group-name filter, across VPCs), never just the first found.
    let (outcome, error) = remediator.handle(&by_name(json!({"_return": true}))).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    let mut read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    read.sort_unstable();
    let mut both = [changed.as_str(), namesake.as_str()];
    both.sort_unstable();
    assert_eq!(read, both);
    assert!(live_rules(&ec2, &namesake).await.is_empty());
}

/// Two actors, two changes to one group, both events delivered after both changes: bob opens all
/// traffic from `::/0`, carol opens PostgreSQL from `0.0.0.0/1` + `128.0.0.0/1`. Handling
/// bob's event re-reads the whole group and revokes every violating rule, but tells bob's as
/// opened by his change and carol's as found in the group; carol's event then finds her rules
/// gone and still says so, naming her: two messages, each naming its own actor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_actors_two_events_one_group_each_message_names_its_own_actor() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let group = new_group(&ec2, "shared", &[]).await;
    // The rules each call created, as CloudTrail's response lists them.
    let authorize = |permissions: Vec<IpPermission>| {
        let ec2 = ec2.clone();
        let group = group.clone();
        async move {
            let before: Vec<String> = group_rules(&ec2, &group)
                .await
                .iter()
                .filter_map(|r| r.security_group_rule_id().map(str::to_owned))
                .collect();
            ec2.authorize_security_group_ingress()
                .group_id(&group)
                .set_ip_permissions(Some(permissions))
                .send()
                .await
                .unwrap();
            group_rules(&ec2, &group)
                .await
                .iter()
                .filter(|r| {
                    !r.is_egress().unwrap_or(false)
                        && !before
                            .iter()
                            .any(|id| Some(id.as_str()) == r.security_group_rule_id())
                })
                .map(rule_set_item)
                .collect::<Vec<Value>>()
        }
    };
    let bob_rules = authorize(vec![
        IpPermission::builder()
            .ip_protocol("-1")
            .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
            .build(),
    ])
    .await;
    let carol_rules = authorize(vec![tcp(5432, "0.0.0.0/1"), tcp(5432, "128.0.0.0/1")]).await;
    assert_eq!((bob_rules.len(), carol_rules.len()), (1, 2));
    let bob_event = authorize_event(&member, HUB_REGION, "bob", &group, &bob_rules);
    let carol_event = authorize_event(&member, HUB_REGION, "carol", &group, &carol_rules);

    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let handler = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);
    let (bob, error) = handler.handle(&bob_event).await;
    assert_eq!(error, None);
    let (carol, error) = handler.handle(&carol_event).await;
    assert_eq!(error, None);

    let id = |v: &Value| v["securityGroupRuleId"].as_str().unwrap().to_owned();
    let attributed = |outcome: &sgguard::outcome::EventOutcome| {
        let mut found: Vec<(String, String, String)> = outcome
            .findings
            .iter()
            .map(|f| {
                (
                    f.finding.rule_id.clone().unwrap(),
                    f.outcome.to_string(),
                    f.attribution.unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let mut expected_bob = vec![
        (
            id(&bob_rules[0]),
            "revoked".to_owned(),
            "this_change".to_owned(),
        ),
        (
            id(&carol_rules[0]),
            "revoked".to_owned(),
            "found_in_group".to_owned(),
        ),
        (
            id(&carol_rules[1]),
            "revoked".to_owned(),
            "found_in_group".to_owned(),
        ),
    ];
    expected_bob.sort();
    assert_eq!(attributed(&bob), expected_bob);
    let mut expected_carol = vec![
        (
            id(&carol_rules[0]),
            "already_gone".to_owned(),
            "this_change".to_owned(),
        ),
        (
            id(&carol_rules[1]),
            "already_gone".to_owned(),
            "this_change".to_owned(),
        ),
    ];
    expected_carol.sort();
    assert_eq!(attributed(&carol), expected_carol);
    // Carol's rules were removed by the handling of bob's event, and her message says so.
    let bob_event_id = bob.event.id.clone().unwrap();
    for f in &carol.findings {
        let removed = f.removed.as_deref().unwrap();
        assert!(removed.contains(&bob_event_id), "{removed}");
    }

    // Two messages, each naming its own actor.
    let inbox = org.inbox().await;
    assert_eq!(inbox.len(), 2, "{inbox:?}");
    let actors: Vec<String> = inbox
        .iter()
        .map(|(_, _, attributes)| {
            attributes["actor_arn"]["Value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(actors.contains(&actor(&member, "bob")) && actors.contains(&actor(&member, "carol")));
    let carol_message = inbox
        .iter()
        .find(|(_, m, _)| m["event"]["actor_arn"] == actor(&member, "carol").as_str())
        .unwrap();
    assert!(
        carol_message.0.contains("already gone"),
        "{}",
        carol_message.0
    );
    assert_eq!(carol_message.1["findings"][0]["outcome"], "already_gone");
}
