//! What the hub meets besides a plain change: a denied AssumeRole or revoke (reported, returned
//! as access denied), a burst of events for one account (one AssumeRole), malformed and failed
//! events (no AWS call), a tripped circuit breaker.

use serde_json::json;
use sgguard::enforce::event::HandleError;
use sgguard::enforce::state::HubState;
use sgguard::outcome::{Mode, Outcome, Status};
use sgguard::policy::Baseline;

use super::{authorize_event, remediator};
use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};

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
        staging: settings.inline_staging().unwrap(),
        state: HubState::in_process(settings.limits),
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
