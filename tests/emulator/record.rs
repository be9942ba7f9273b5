//! The durable record against the emulator: when the notification cannot be published after a
//! revoke, the outcome reaches the record queue (the hub's dead-letter queue), and a retry that
//! finds the rules gone does not take it back; an unreadable event is recorded with its text and
//! answered as handled; a sweep summary that cannot be sent is recorded with the whole report.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{Value, json};
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::disposition::Failure;
use sgguard::enforce::event::{EventHandler, HandleError};
use sgguard::enforce::state::HubState;
use sgguard::lambda::Hub;
use sgguard::outcome::{Mode, Outcome};
use sgguard::policy::Baseline;
use sgguard::settings::Settings;

use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};
use crate::hub::{actor, authorize_event, remediator};

/// A new queue in the hub account: its URL.
async fn record_queue(org: &Org) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&org.emulator.hub_config(HUB_REGION));
    let url = sqs
        .create_queue()
        .queue_name("sgguard-dlq")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (sqs, url)
}

/// Every message in the queue, drained: (body as JSON, `kind` attribute).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<(Value, String)> {
    let mut out = Vec::new();
    loop {
        let page = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let messages = page.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for message in messages {
            let kind = message
                .message_attributes()
                .and_then(|a| a.get("kind"))
                .and_then(|v| v.string_value())
                .unwrap_or_default()
                .to_owned();
            out.push((serde_json::from_str(message.body().unwrap()).unwrap(), kind));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

fn hub(org: &Org, aws: std::sync::Arc<sgguard::aws::Aws>, queue: Option<&str>) -> Hub {
    let topic = org.topic_arn.clone();
    let queue = queue.map(str::to_owned);
    let settings = Settings::from_lookup(|name| match name {
        "SGGUARD_TOPIC_ARN" => Some(topic.clone()),
        "SGGUARD_RECORD_QUEUE_URL" => queue.clone(),
        _ => None,
    })
    .unwrap();
    Hub {
        staging: settings.inline_staging().unwrap(),
        state: HubState::in_process(Limits::default()),
        settings,
        baseline: std::sync::Arc::new(Baseline::default_baseline().unwrap()),
        exemptions: None,
        aws,
        tamper: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_whose_message_fails_is_kept_in_the_record_queue_through_the_retry() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, "web", vec![tcp(22, "0.0.0.0/0")]).await;
    let ssh_rule = rules[0]["securityGroupRuleId"].as_str().unwrap().to_owned();
    let (sqs, queue) = record_queue(&org).await;
    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let handler = EventHandler {
        record_queue: Some(&queue),
        ..remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
    };
    let event = authorize_event(&member, HUB_REGION, "alice", &group, &rules);

    // SNS refuses every message: the revoke stands, the event fails (to be retried), and the
    // record queue holds what was done.
    org.emulator.deny("sns:Publish", "");
    let (outcome, error) = handler.handle(&event).await;
    assert!(
        matches!(error, Some(HandleError::Notification(_))),
        "{error:?}"
    );
    assert_eq!(outcome.counts().revoked, 1);
    assert!(outcome.recorded.is_some());
    assert!(live_rules(&ec2, &group).await.is_empty());

    // The retry (SNS back) finds the rule gone and says so, revoked by this very event's first
    // attempt; it takes nothing back.
    org.emulator.control("allow", None);
    let (retry, error) = handler.handle(&event).await;
    assert_eq!(error, None, "{:?}", retry.errors);
    assert_eq!(retry.counts().revoked, 0, "nothing left to revoke");
    assert_eq!(retry.findings.len(), 1);
    assert_eq!(retry.findings[0].outcome, Outcome::AlreadyGone);
    let removed = retry.findings[0].removed.clone().unwrap();
    assert!(
        removed.contains(&format!(
            "handling event {}",
            retry.event.id.clone().unwrap()
        )),
        "{removed}"
    );
    assert_eq!(retry.recorded, None);

    let records = drain(&sqs, &queue).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let (record, kind) = &records[0];
    assert_eq!(kind, "undelivered-notification");
    assert_eq!(record["kind"], "undelivered-notification");
    assert!(record["error"].as_str().unwrap().contains("Publish"));
    let finding = &record["outcome"]["findings"][0];
    assert_eq!(finding["outcome"], "revoked");
    assert_eq!(finding["rule_id"], ssh_rule.as_str());
    assert_eq!(finding["group_id"], group.as_str());
    assert_eq!(record["outcome"]["account_id"], member.as_str());
    assert_eq!(record["outcome"]["region"], HUB_REGION);
    assert_eq!(
        record["outcome"]["event"]["actor_arn"],
        actor(&member, "alice").as_str()
    );
    assert_eq!(
        outcome.findings[0].outcome,
        Outcome::Revoked,
        "the outcome returned says the same"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_event_is_recorded_and_answered_as_handled_and_a_lost_summary_kept() {
    let org = Org::new().await;
    let (sqs, queue) = record_queue(&org).await;
    let aws = org.aws().await;
    let garbage = json!({"detail-type": "AWS API Call via CloudTrail", "detail": "not a record"});

    // Without a record queue the Lambda fails the invocation: Lambda's on-failure destination
    // keeps the event.
    let without = hub(&org, aws.clone(), None);
    let error = sgguard::lambda::handle(&without, garbage.clone(), None)
        .await
        .unwrap_err();
    assert!(matches!(
        error.0,
        Failure::Handle(HandleError::Malformed(_))
    ));

    // With one, the event is recorded with its text and the invocation succeeds: a retry
    // would read it no better.
    let with = hub(&org, aws, Some(&queue));
    let result = sgguard::lambda::handle(&with, garbage.clone(), None)
        .await
        .unwrap();
    assert_eq!(result["status"], "failed");
    assert!(result["recorded"].is_string(), "{result}");
    let records = drain(&sqs, &queue).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].1, "malformed-event");
    assert_eq!(records[0].0["event"], garbage);
    assert!(
        records[0].0["error"]
            .as_str()
            .unwrap()
            .contains("malformed event")
    );
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);

    // A sweep whose summary cannot be published: the report goes to the queue, the invocation
    // succeeds (a retry would sweep the organization again).
    org.emulator.deny("sns:Publish", "");
    let sweep = json!({"sgguard": "sweep", "regions": [HUB_REGION]});
    let result = sgguard::lambda::handle(&with, sweep, None).await.unwrap();
    assert!(result["recorded"].is_string(), "{result}");
    let records = drain(&sqs, &queue).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].1, "undelivered-sweep-summary");
    let report = &records[0].0["report"];
    assert_eq!(report["accounts"].as_array().unwrap().len(), 4, "{report}");
    assert!(report["findings"].is_array());
}

/// Held back is never dropped: what the breaker held back in an event is in the record queue
/// (`held-back`, beside the critical message) and in the hub state table, and the hub's
/// scheduled sweep, although it only reports, revokes it in the account's mode and forgets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_back_rules_are_recorded_and_the_next_scheduled_sweep_revokes_them() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let (group, rules) = open_rules(
        &ec2,
        "web",
        vec![
            tcp(22, "0.0.0.0/0"),
            tcp(3389, "0.0.0.0/0"),
            tcp(3306, "0.0.0.0/0"),
        ],
    )
    .await;
    let (sqs, queue) = record_queue(&org).await;
    let table = crate::state::table(&org, "sgguard-state").await;
    let aws = org.aws().await;
    let limits = Limits {
        per_event: 1,
        ..Limits::default()
    };
    let state = HubState::shared(limits, aws.state_table(&table));
    let baseline = Baseline::default_baseline().unwrap();
    let handler = EventHandler {
        record_queue: Some(&queue),
        state: &state,
        ..remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn)
    };
    let event = authorize_event(&member, HUB_REGION, "alice", &group, &rules);
    let (outcome, error) = handler.handle(&event).await;
    assert!(
        matches!(error, Some(HandleError::CircuitBreaker(_))),
        "{error:?}"
    );
    assert_eq!(
        (outcome.counts().revoked, outcome.counts().would_revoke),
        (1, 2)
    );
    assert_eq!(live_rules(&ec2, &group).await.len(), 2, "two held back");
    let records = drain(&sqs, &queue).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let (body, kind) = &records[0];
    assert_eq!(kind, "held-back");
    assert_eq!(body["kind"], "held-back");
    let held: Vec<&Value> = body["outcome"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "would_revoke")
        .collect();
    assert_eq!(held.len(), 2);
    assert!(
        held.iter().all(|f| f["error"]
            .as_str()
            .unwrap()
            .contains("kept for the next sweep to re-check")),
        "{held:?}"
    );
    assert_eq!(state.journal.held(&member).await.unwrap().len(), 2);

    // The hub's scheduled sweep (another process: the table carries what was held back),
    // without `remediate`: the held-back rules are revoked in the account's own mode.
    let mut hub = hub(&org, aws.clone(), None);
    hub.state = HubState::shared(Limits::default(), aws.state_table(&table));
    let result = sgguard::lambda::handle(
        &hub,
        json!({"sgguard": "sweep", "regions": [HUB_REGION], "remediate": false}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(result["totals"]["revoked"], 2, "{result}");
    assert!(live_rules(&ec2, &group).await.is_empty());
    assert!(hub.state.journal.held(&member).await.unwrap().is_empty());
    let (_, summary) = org.sweep_summary().await;
    assert_eq!(
        summary["held_back"],
        json!({"rechecked": 2, "revoked": 2, "still_open": 0})
    );
    let rechecked = summary["top_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["attribution"] == "held_back" && f["outcome"] == "revoked")
        .count();
    assert_eq!(rechecked, 2, "{summary}");
}
