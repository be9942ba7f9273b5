//! The hub state table against the emulator's DynamoDB: the breaker's account-hour limit held
//! across several hubs at once, a replayed event handled once (by two `handle-event` processes
//! at once too) while a failed handling's retry is handled, the journal read by another hub,
//! and an unreachable table failing the event with nothing revoked.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use futures_util::future::join_all;
use serde_json::{Value, json};
use sgguard::enforce::RevokeSource;
use sgguard::enforce::breaker::{Held, Limits};
use sgguard::enforce::journal::Revocation;
use sgguard::enforce::state::{Claim, HubState};
use sgguard::finding::{Action, Finding, Severity, Violation};
use sgguard::rule::{ApiRule, SecurityGroupRule};

use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};
use crate::hub::authorize_event;

/// Creates the table with the documented schema (`pk` S, `sk` S); its name.
pub(crate) async fn table(org: &Org, name: &str) -> String {
    let client = aws_sdk_dynamodb::Client::new(&org.emulator.hub_config(HUB_REGION));
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
    name.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_hour_limit_holds_across_hubs_counting_at_once() {
    let org = Org::new().await;
    let name = table(&org, "sgguard-state-limit").await;
    let aws = org.aws().await;
    let limits = Limits {
        per_account_hour: 5,
        ..Limits::default()
    };
    // Three hubs (Lambda instances) sharing the table, each taking four at once.
    let hubs: Vec<HubState> = (0..3)
        .map(|_| HubState::shared(limits, aws.state_table(&name)))
        .collect();
    let budgets: Vec<_> = hubs.iter().map(|h| h.breaker.event()).collect();
    let takes = budgets
        .iter()
        .flat_map(|b| (0..4).map(move |_| b.take("111122223333")));
    let results = join_all(takes).await;
    let taken = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(taken, 5, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(Held::Limit(_)))),
        "{results:?}"
    );
    // Another account has its own hour.
    assert!(hubs[0].breaker.event().take("444455556666").await.is_ok());

    // What one hub revoked, another reads from the journal.
    let finding = Finding::new(
        &SecurityGroupRule::from_api(
            ApiRule {
                rule_id: Some("sgr-0a"),
                group_id: Some("sg-0a"),
                group_owner_id: Some("111122223333"),
                ip_protocol: "tcp",
                from_port: Some(22),
                to_port: Some(22),
                cidr_ipv4: Some("0.0.0.0/0"),
                ..ApiRule::default()
            },
            Some(HUB_REGION),
        )
        .unwrap(),
        vec![Violation {
            policy_rule: "admin-ports-from-internet".to_owned(),
            severity: Severity::Critical,
            action: Action::Revoke,
            reason: "tcp 22 is open to the internet".to_owned(),
            exemption: None,
        }],
    );
    let revocation = Revocation::of(
        &finding,
        &RevokeSource::Event {
            id: "ev-1".to_owned(),
            actor: Some("arn:aws:iam::111122223333:user/judy".to_owned()),
        },
    );
    hubs[0].journal.note(revocation.clone()).await.unwrap();
    let read = hubs[1].journal.revoked("sgr-0a").await.unwrap();
    assert_eq!(*read, revocation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_event_is_handled_once_and_an_unreachable_table_revokes_nothing() {
    let org = Org::new().await;
    let name = table(&org, "sgguard-state-replay").await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "replay", vec![tcp(22, "0.0.0.0/0")]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(
        &path,
        authorize_event(&member, HUB_REGION, "judy", &group, &rules).to_string(),
    )
    .unwrap();
    let run = |table: &str| {
        org.cli()
            .env("SGGUARD_TOPIC_ARN", &org.topic_arn)
            .env("SGGUARD_STATE_TABLE", table)
            .args(["handle-event", "--mode", "enforce"])
            .arg(&path)
            .output()
            .unwrap()
    };

    // A table that does not exist: the event fails (exit 2), nothing is revoked.
    let missing = run("sgguard-state-missing");
    let stdout = String::from_utf8_lossy(&missing.stdout);
    assert_eq!(missing.status.code(), Some(2), "{stdout}");
    let outcome: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(outcome["status"], "failed");
    assert!(
        outcome["errors"][0]
            .as_str()
            .unwrap()
            .contains("sgguard-state-missing"),
        "the error names the table: {outcome}"
    );
    assert_eq!(live_rules(&ec2, &group).await.len(), 1, "nothing revoked");

    // A handling that fails (the revoke denied, once) gives its claim back: the retry is
    // handled, not taken for a duplicate.
    org.emulator.control(
        "deny",
        Some(
            json!({"action": "ec2:RevokeSecurityGroupIngress", "code": "UnauthorizedOperation",
                    "times": 1}),
        ),
    );
    let denied = run(&name);
    let outcome: Value = serde_json::from_str(
        String::from_utf8_lossy(&denied.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(outcome["status"], "failed", "{outcome}");
    assert_eq!(live_rules(&ec2, &group).await.len(), 1, "nothing revoked");

    // Two processes handle the same event at once: one revokes, the other is a duplicate.
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| run(&name));
        let b = s.spawn(|| run(&name));
        (a.join().unwrap(), b.join().unwrap())
    });
    let statuses: Vec<String> = [&first, &second]
        .iter()
        .map(|o| {
            let out: Value =
                serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap())
                    .unwrap();
            out["status"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, ["duplicate", "handled"], "{statuses:?}");
    assert!(live_rules(&ec2, &group).await.is_empty());
    // Replayed later: still a duplicate, and no second message.
    org.inbox().await;
    let replay = run(&name);
    let outcome: Value = serde_json::from_str(
        String::from_utf8_lossy(&replay.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(outcome["status"], "duplicate");
    assert!(org.inbox().await.is_empty());
}

/// A handling that died without a word (a timeout, a crash: no release, no mark) holds its
/// event only until its deadline: the retry after it is handled, one before it is a duplicate,
/// and an event marked handled stays handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_ends_with_its_handling_s_deadline_unless_the_event_was_handled() {
    let org = Org::new().await;
    let name = table(&org, "sgguard-state-lease").await;
    let aws = org.aws().await;
    let state = HubState::shared(Limits::default(), aws.state_table(&name));
    let now = jiff::Timestamp::now();
    let later = now + jiff::SignedDuration::from_secs(600);
    let earlier = now - jiff::SignedDuration::from_secs(5);

    // Claimed by a handling still running: a duplicate.
    assert_eq!(
        state.events.claim("ev-running", later).await.unwrap(),
        Claim::First
    );
    assert_eq!(
        state.events.claim("ev-running", later).await.unwrap(),
        Claim::Duplicate
    );
    // Claimed by a handling whose deadline passed without a word: the retry takes it.
    assert_eq!(
        state.events.claim("ev-died", earlier).await.unwrap(),
        Claim::First
    );
    assert_eq!(
        state.events.claim("ev-died", later).await.unwrap(),
        Claim::First
    );
    // Handled: a duplicate for good, whatever the deadline was.
    assert_eq!(
        state.events.claim("ev-done", earlier).await.unwrap(),
        Claim::First
    );
    state.events.complete("ev-done").await;
    assert_eq!(
        state.events.claim("ev-done", later).await.unwrap(),
        Claim::Duplicate
    );
    // Released after a failure: the retry is handled.
    state.events.release("ev-running").await;
    assert_eq!(
        state.events.claim("ev-running", later).await.unwrap(),
        Claim::First
    );
}
