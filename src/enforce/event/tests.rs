//! Unit tests of the event flow over the in-memory fake: what is revoked, reported, held back
//! or left alone, and what the message says.

use serde_json::json;

use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{EventOutcome, Mode, Outcome};
use crate::rule::{ApiRule, SecurityGroupRule};

pub(super) const GROUP: &str = "sg-0123456789abcdef0";
/// The durable record queue of the unit tests.
pub(super) const QUEUE: Option<&str> =
    Some("https://sqs.eu-west-1.amazonaws.com/999999999999/sgguard-dlq");

pub(super) fn rule(id: &str, port: i64, cidr: &str) -> SecurityGroupRule {
    SecurityGroupRule::from_api(
        ApiRule {
            rule_id: Some(id),
            group_id: Some(GROUP),
            group_owner_id: Some("111122223333"),
            ip_protocol: "tcp",
            from_port: Some(port),
            to_port: Some(port),
            cidr_ipv4: Some(cidr),
            ..ApiRule::default()
        },
        Some("eu-west-1"),
    )
    .unwrap()
}

/// Someone opened tcp 22 to the internet in the group.
pub(super) fn event() -> Value {
    json!({
        "version": "0", "id": "e-1", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "111122223333", "region": "eu-west-1",
        "detail": {
            "eventName": "AuthorizeSecurityGroupIngress", "eventID": "ev-1",
            "eventTime": "2026-12-01T10:00:00Z", "awsRegion": "eu-west-1",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "requestParameters": {"groupId": GROUP, "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
            "responseElements": {"_return": true, "securityGroupRuleSet": {"items": [{
                "groupId": GROUP, "securityGroupRuleId": "sgr-ssh", "isEgress": false,
                "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}}
        }
    })
}

pub(super) fn open_group() -> Fake {
    Fake::default().with_group(
        GROUP,
        Tags::new(),
        vec![
            rule("sgr-ssh", 22, "0.0.0.0/0"),
            rule("sgr-rdp", 3389, "0.0.0.0/0"),
            rule("sgr-https", 443, "0.0.0.0/0"),
            rule("sgr-private", 22, "10.0.0.0/8"),
        ],
    )
}

pub(super) async fn handle(fake: &Fake, mode: Mode) -> (EventOutcome, Option<HandleError>) {
    handle_within(fake, mode, &HubState::in_process(Limits::default())).await
}

async fn handle_within(
    fake: &Fake,
    mode: Mode,
    state: &HubState,
) -> (EventOutcome, Option<HandleError>) {
    handle_under(fake, mode, state, &Baseline::default_baseline().unwrap()).await
}

pub(super) async fn handle_under(
    fake: &Fake,
    mode: Mode,
    state: &HubState,
    baseline: &Baseline,
) -> (EventOutcome, Option<HandleError>) {
    handle_this(fake, mode, state, baseline, &event()).await
}

/// Handles `event` with the default test wiring.
pub(super) async fn handle_this(
    fake: &Fake,
    mode: Mode,
    state: &HubState,
    baseline: &Baseline,
    event: &Value,
) -> (EventOutcome, Option<HandleError>) {
    EventHandler {
        hub: fake,
        baseline,
        staging: mode.into(),
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        state,
        record_queue: QUEUE,
        caveat: None,
        unloaded: None,
        outputs: Default::default(),
        deadline: None,
    }
    .handle(event)
    .await
}

pub(super) fn outcomes(outcome: &EventOutcome) -> Vec<(String, Outcome)> {
    let mut list: Vec<(String, Outcome)> = outcome
        .findings
        .iter()
        .map(|f| {
            (
                f.finding.rule.rule_id.clone().unwrap_or_default(),
                f.outcome,
            )
        })
        .collect();
    list.sort();
    list
}

pub(super) fn attribute(notification: &crate::report::notify::Notification, name: &str) -> String {
    notification
        .attributes
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn enforce_revokes_exactly_the_violating_rules_and_notifies_once() {
    let fake = open_group();
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert_eq!(error, None);
    assert_eq!(
        outcomes(&outcome),
        [
            ("sgr-rdp".to_owned(), Outcome::Revoked),
            ("sgr-ssh".to_owned(), Outcome::Revoked)
        ]
    );
    assert_eq!(fake.rule_ids(GROUP), ["sgr-https", "sgr-private"]);
    assert_eq!(fake.revoke_calls().len(), 1, "one call per direction");
    let published = fake.published();
    assert_eq!(published.len(), 1);
    assert_eq!(attribute(&published[0], "action"), "revoked");
    assert_eq!(
        attribute(&published[0], "actor_arn"),
        "arn:aws:iam::111122223333:user/alice"
    );
    assert!(published[0].subject.contains("revoked 2 rule(s)"));
}

#[tokio::test]
async fn audit_changes_nothing_and_says_what_it_would_revoke() {
    let fake = open_group();
    let (outcome, error) = handle(&fake, Mode::Audit).await;
    assert_eq!(error, None);
    assert!(
        outcome
            .findings
            .iter()
            .all(|f| f.outcome == Outcome::WouldRevoke)
    );
    assert!(fake.revoke_calls().is_empty());
    assert_eq!(fake.rule_ids(GROUP).len(), 4);
    assert_eq!(attribute(&fake.published()[0], "action"), "would_revoke");
}

#[tokio::test]
async fn a_rule_removed_by_someone_else_first_is_already_gone_not_a_failure() {
    let fake = open_group().vanishing("sgr-rdp");
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert_eq!(error, None);
    assert_eq!(
        outcomes(&outcome),
        [
            ("sgr-rdp".to_owned(), Outcome::AlreadyGone),
            ("sgr-ssh".to_owned(), Outcome::Revoked)
        ]
    );
    assert_eq!(outcome.counts().findings, 1, "already gone is not open");
}

#[tokio::test]
async fn a_partial_revoke_failure_fails_the_event_with_the_aws_error_and_reports_both() {
    let fake = open_group().failing_revoke("sgr-rdp", "UnauthorizedOperation");
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert!(
        matches!(&error, Some(HandleError::AccessDenied(e)) if e.code.as_deref() == Some("UnauthorizedOperation")),
        "{error:?}"
    );
    assert_eq!(
        outcomes(&outcome),
        [
            ("sgr-rdp".to_owned(), Outcome::Failed),
            ("sgr-ssh".to_owned(), Outcome::Revoked)
        ]
    );
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(
        fake.rule_ids(GROUP),
        ["sgr-rdp", "sgr-https", "sgr-private"]
    );
    let published = fake.published();
    assert_eq!(attribute(&published[0], "action"), "failed");
    assert!(published[0].text.contains("REVOKED: group"));
    assert!(published[0].text.contains("FAILED: group"));
}

#[tokio::test]
async fn a_failed_notification_after_a_revoke_fails_the_event_and_keeps_the_outcome() {
    let fake = open_group().failing_publish();
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert!(
        matches!(error, Some(HandleError::Notification(_))),
        "{error:?}"
    );
    assert_eq!(outcome.counts().revoked, 2, "the revocations stand");
    assert!(outcome.errors.iter().any(|e| e.contains("Publish")));
    assert_eq!(fake.rule_ids(GROUP), ["sgr-https", "sgr-private"]);

    // The record holds what was revoked, by whom, where.
    let recorded = fake.recorded();
    assert_eq!(recorded.len(), 1);
    assert_eq!(outcome.recorded.as_deref(), Some("record-1"));
    let body: Value = serde_json::from_str(&recorded[0].body).unwrap();
    assert_eq!(body["kind"], "undelivered-notification");
    assert!(body["error"].as_str().unwrap().contains("Publish"));
    let revoked: Vec<&str> = body["outcome"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "revoked")
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(revoked.len(), 2, "{body}");
    assert_eq!(
        body["outcome"]["account_id"],
        outcome.account_id.clone().unwrap()
    );
    assert_eq!(
        body["outcome"]["event"]["actor_arn"],
        outcome.event.actor_arn.clone().unwrap()
    );

    // The retry finds the rules gone and says so; the record stays as it was.
    let fake = fake.publishing();
    let (retry, error) = handle(&fake, Mode::Enforce).await;
    assert_eq!(error, None);
    assert_eq!(retry.counts().revoked, 0);
    assert_eq!(fake.recorded().len(), 1);
}

#[tokio::test]
async fn a_record_that_cannot_be_sent_either_is_an_error_of_the_outcome() {
    let fake = open_group().failing_publish().failing_record();
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert!(matches!(error, Some(HandleError::Notification(_))));
    assert_eq!(outcome.recorded, None);
    assert!(outcome.errors.iter().any(|e| e.contains("SendMessage")));
}

#[tokio::test]
async fn a_finding_without_a_rule_id_is_reported_never_guessed_at() {
    let mut unnamed = rule("x", 22, "0.0.0.0/0");
    unnamed.rule_id = None;
    let fake = Fake::default().with_group(GROUP, Tags::new(), vec![unnamed]);
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert_eq!(error, None);
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].outcome, Outcome::Reported);
    assert!(fake.revoke_calls().is_empty());
    assert_eq!(attribute(&fake.published()[0], "action"), "reported");
}

#[tokio::test]
async fn a_deleted_group_is_checked_as_deleted_and_nothing_is_sent() {
    let fake = Fake::default();
    let (outcome, error) = handle(&fake, Mode::Enforce).await;
    assert_eq!(error, None);
    assert_eq!(outcome.groups[0].state, "deleted");
    assert!(fake.published().is_empty());
}

#[tokio::test]
async fn a_change_made_through_sgguards_own_role_is_judged_like_any_other() {
    let fake = open_group();
    let mut value = event();
    value["detail"]["userIdentity"]["arn"] =
        json!("arn:aws:sts::111122223333:assumed-role/sgguard-remediation/hub");
    let (outcome, error) = handle_value(&fake, &value).await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Handled);
    assert_eq!(outcome.counts().revoked, 2);
    assert_eq!(fake.rule_ids(GROUP), ["sgr-https", "sgr-private"]);
}

#[tokio::test]
async fn past_the_limit_the_rest_is_held_back_and_the_breaker_trips() {
    let state = HubState::in_process(Limits {
        per_event: 1,
        ..Limits::default()
    });
    let fake = open_group();
    let (outcome, error) = handle_within(&fake, Mode::Enforce, &state).await;
    assert!(
        matches!(error, Some(HandleError::CircuitBreaker(_))),
        "{error:?}"
    );
    assert_eq!(error.unwrap().error_type(), "Sgguard.CircuitBreakerTripped");
    let counts = outcome.counts();
    assert_eq!((counts.revoked, counts.would_revoke), (1, 1));
    assert_eq!(fake.rule_ids(GROUP).len(), 3, "exactly one rule revoked");
    let held = outcome
        .findings
        .iter()
        .find(|f| f.outcome == Outcome::WouldRevoke)
        .unwrap();
    assert!(held.error.as_deref().unwrap().contains("circuit breaker"));
    let published = fake.published();
    assert_eq!(attribute(&published[0], "severity"), "critical");
    assert!(
        published[0].subject.contains("circuit breaker"),
        "{}",
        published[0].subject
    );
    assert!(published[0].text.contains("Circuit breaker"));
}

#[tokio::test]
async fn an_unreadable_rule_body_still_re_reads_the_group_it_names() {
    let fake = open_group();
    let mut value = event();
    value["detail"]["requestParameters"]["ipPermissions"]["items"][0]["fromPort"] = json!("ssh");
    let (outcome, error) = handle_value(&fake, &value).await;
    assert_eq!(error, None, "the body is a hint; the group is what matters");
    assert_eq!(outcome.status, Status::Handled);
    assert_eq!(outcome.counts().revoked, 2);
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.contains("could not be read"))
    );

    // With neither a group nor a prefix list named, the event is malformed: nothing done.
    let fake = open_group();
    value["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("groupId");
    value["detail"]["responseElements"] = json!(null);
    let (outcome, error) = handle_value(&fake, &value).await;
    assert!(
        matches!(error, Some(HandleError::Malformed(_))),
        "{error:?}"
    );
    assert!(fake.revoke_calls().is_empty());
    // ... and recorded with its text, for someone to look at.
    assert_eq!(outcome.recorded.as_deref(), Some("record-1"));
    let body: Value = serde_json::from_str(&fake.recorded()[0].body).unwrap();
    assert_eq!(body["kind"], "malformed-event");
    assert_eq!(
        body["event"]["detail"]["eventName"],
        value["detail"]["eventName"]
    );
}

pub(super) async fn handle_value(
    fake: &Fake,
    value: &Value,
) -> (EventOutcome, Option<HandleError>) {
    let baseline = Baseline::default_baseline().unwrap();
    EventHandler {
        hub: fake,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        topic_arn: None,
        state: &HubState::in_process(Limits::default()),
        record_queue: QUEUE,
        caveat: None,
        unloaded: None,
        outputs: Default::default(),
        deadline: None,
    }
    .handle(value)
    .await
}

/// The same change made by group name, as old default-VPC calls were logged.
fn by_name(response: bool) -> Value {
    let mut value = event();
    let request = value["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap();
    request.remove("groupId");
    request.insert("groupName".to_owned(), json!("web"));
    if !response {
        value["detail"]["responseElements"] = json!({"_return": true});
    }
    value
}

#[tokio::test]
async fn a_group_named_by_name_is_never_the_first_match_across_vpcs() {
    const OTHER: &str = "sg-0fedcba9876543210";
    let two_vpcs = || {
        open_group()
            .with_group(OTHER, Tags::new(), vec![rule("sgr-other", 22, "0.0.0.0/0")])
            .named(OTHER, "web")
            .named(GROUP, "web")
    };
    // The response's rules name the group the call changed: only that one is read.
    let fake = two_vpcs();
    let (outcome, error) = handle_value(&fake, &by_name(true)).await;
    assert_eq!(error, None);
    let read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(read, [GROUP]);
    assert_eq!(fake.rule_ids(OTHER), ["sgr-other"]);
    // Without them, every group of that name is re-read, not the first found.
    let fake = two_vpcs();
    let (outcome, error) = handle_value(&fake, &by_name(false)).await;
    assert_eq!(error, None);
    let mut read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    read.sort_unstable();
    assert_eq!(read, [GROUP, OTHER]);
    assert!(fake.rule_ids(OTHER).is_empty());
}
