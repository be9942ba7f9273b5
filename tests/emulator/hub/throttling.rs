//! EC2 throttling (`RequestLimitExceeded`, HTTP 503) injected by the emulator's proxy: a few
//! throttled reads and revokes are retried; past the retries the event fails and its report
//! says what was revoked and what failed.

use aws_sdk_ec2::types::{AddPrefixListEntry, IpPermission, PrefixListId};
use serde_json::{Value, json};
use sgguard::enforce::event::HandleError;
use sgguard::outcome::{Mode, Outcome, Status};
use sgguard::policy::Baseline;

use super::{actor, authorize_event, event, remediator};
use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};

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
        outcome.findings[0].finding.rule.rule_id.as_deref(),
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
        .map(|f| (f.finding.rule.rule_id.clone().unwrap(), f.outcome))
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
