//! Unit tests of the event flow over the in-memory fake: what is revoked, reported, held back
//! or left alone, and what the message says.

use serde_json::json;

use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{EventOutcome, Mode, Outcome};
use crate::rule::{ApiRule, SecurityGroupRule};

const GROUP: &str = "sg-0123456789abcdef0";
/// The durable record queue of the unit tests.
const QUEUE: Option<&str> = Some("https://sqs.eu-west-1.amazonaws.com/999999999999/sgguard-dlq");

fn rule(id: &str, port: i64, cidr: &str) -> SecurityGroupRule {
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
fn event() -> Value {
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

fn open_group() -> Fake {
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

async fn handle(fake: &Fake, mode: Mode) -> (EventOutcome, Option<HandleError>) {
    handle_within(fake, mode, &Breaker::new(Limits::default())).await
}

async fn handle_within(
    fake: &Fake,
    mode: Mode,
    breaker: &Breaker,
) -> (EventOutcome, Option<HandleError>) {
    handle_under(fake, mode, breaker, &Baseline::default_baseline().unwrap()).await
}

async fn handle_under(
    fake: &Fake,
    mode: Mode,
    breaker: &Breaker,
    baseline: &Baseline,
) -> (EventOutcome, Option<HandleError>) {
    EventHandler {
        hub: fake,
        baseline,
        staging: mode.into(),
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        breaker,
        record_queue: QUEUE,
        caveat: None,
        outputs: Default::default(),
    }
    .handle(&event())
    .await
}

/// The default baseline with these `protected:` entries.
fn protecting(entries: &str) -> Baseline {
    let yaml = format!(
        "{}\nprotected:\n{entries}",
        crate::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "protected.yaml").unwrap()
}

#[tokio::test]
async fn a_group_protected_by_tag_is_reported_and_never_revoked() {
    let baseline =
        protecting("  - reason: payments edge, CHG-7\n    tag: {key: sgguard-protected}\n");
    let tags: Tags = [("sgguard-protected".to_owned(), "yes".to_owned())].into();
    for mode in [Mode::Enforce, Mode::Audit] {
        let fake = Fake::default().with_group(
            GROUP,
            tags.clone(),
            vec![
                rule("sgr-ssh", 22, "0.0.0.0/0"),
                rule("sgr-rdp", 3389, "0.0.0.0/0"),
                rule("sgr-private", 22, "10.0.0.0/8"),
            ],
        );
        let (outcome, error) =
            handle_under(&fake, mode, &Breaker::new(Limits::default()), &baseline).await;
        assert_eq!(error, None, "{mode}");
        assert_eq!(
            outcomes(&outcome),
            [
                ("sgr-rdp".to_owned(), Outcome::Protected),
                ("sgr-ssh".to_owned(), Outcome::Protected)
            ],
            "{mode}"
        );
        let counts = outcome.counts();
        assert_eq!(
            (counts.findings, counts.protected),
            (2, 2),
            "still violations"
        );
        assert!(fake.revoke_calls().is_empty(), "{mode}: no revoke call");
        assert_eq!(fake.rule_ids(GROUP).len(), 3);
        let published = fake.published();
        assert_eq!(published.len(), 1);
        assert_eq!(attribute(&published[0], "action"), "protected");
        assert_eq!(attribute(&published[0], "severity"), "critical");
        assert!(
            published[0]
                .subject
                .contains("2 finding(s) in protected groups, not revoked"),
            "{}",
            published[0].subject
        );
        assert!(published[0].text.contains(
            "protected: payments edge, CHG-7 (tag sgguard-protected=yes): reported, not revoked"
        ));
        assert!(published[0].json.contains("\"outcome\":\"protected\""));
    }
}

#[tokio::test]
async fn protection_by_id_or_tag_value_covers_only_the_groups_it_names() {
    // By group id: protected. A tag with another value: not protected, revoked as ever.
    let by_id = protecting(&format!(
        "  - reason: vendor appliance\n    group_ids: [{GROUP}]\n"
    ));
    let fake = open_group();
    let (outcome, _) = handle_under(
        &fake,
        Mode::Enforce,
        &Breaker::new(Limits::default()),
        &by_id,
    )
    .await;
    assert_eq!(outcome.counts().protected, 2);
    assert!(fake.revoke_calls().is_empty());

    let by_value =
        protecting("  - reason: frozen\n    tag: {key: sgguard-protected, value: \"true\"}\n");
    let tags: Tags = [("sgguard-protected".to_owned(), "no".to_owned())].into();
    let fake = Fake::default().with_group(GROUP, tags, vec![rule("sgr-ssh", 22, "0.0.0.0/0")]);
    let (outcome, _) = handle_under(
        &fake,
        Mode::Enforce,
        &Breaker::new(Limits::default()),
        &by_value,
    )
    .await;
    assert_eq!(
        outcomes(&outcome),
        [("sgr-ssh".to_owned(), Outcome::Revoked)]
    );
    assert!(fake.rule_ids(GROUP).is_empty());
}

fn outcomes(outcome: &EventOutcome) -> Vec<(String, Outcome)> {
    let mut list: Vec<(String, Outcome)> = outcome
        .findings
        .iter()
        .map(|f| (f.finding.rule_id.clone().unwrap_or_default(), f.outcome))
        .collect();
    list.sort();
    list
}

fn attribute(notification: &crate::report::notify::Notification, name: &str) -> String {
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
    let breaker = Breaker::new(Limits {
        per_event: 1,
        ..Limits::default()
    });
    let fake = open_group();
    let (outcome, error) = handle_within(&fake, Mode::Enforce, &breaker).await;
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

async fn handle_value(fake: &Fake, value: &Value) -> (EventOutcome, Option<HandleError>) {
    let baseline = Baseline::default_baseline().unwrap();
    EventHandler {
        hub: fake,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        topic_arn: None,
        breaker: &Breaker::new(Limits::default()),
        record_queue: QUEUE,
        caveat: None,
        outputs: Default::default(),
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

/// A tag call on `resources` as the hub bus delivers it: DeleteTags of `key` or CreateTags of
/// `key` = `value`.
fn tag_event(name: &str, resources: &[&str], key: &str, value: Option<&str>) -> Value {
    let items: Vec<Value> = resources
        .iter()
        .map(|id| json!({"resourceId": id}))
        .collect();
    let tag = match value {
        Some(value) => json!({"key": key, "value": value}),
        None => json!({"key": key}),
    };
    let mut envelope = event();
    envelope["detail"]["eventName"] = json!(name);
    envelope["detail"]["requestParameters"] =
        json!({"resourcesSet": {"items": items}, "tagSet": {"items": [tag]}});
    envelope["detail"]["responseElements"] = json!({"requestId": "r-1", "_return": true});
    envelope
}

/// The default baseline with owners' dated exemption tags honoured.
fn tag_exempting_baseline() -> Baseline {
    let yaml = format!(
        "{}\nexemptions:\n  - reason: owners set their own date\n    tag: {{key: sgguard-exempt-until, value_is_expiry: true}}\n",
        crate::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "tag-exempt.yaml").unwrap()
}

async fn handle_with(
    fake: &Fake,
    baseline: &Baseline,
    value: &Value,
) -> (EventOutcome, Option<HandleError>) {
    EventHandler {
        hub: fake,
        baseline,
        staging: Mode::Enforce.into(),
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        breaker: &Breaker::new(Limits::default()),
        record_queue: QUEUE,
        caveat: None,
        outputs: Default::default(),
    }
    .handle(value)
    .await
}

#[tokio::test]
async fn removing_the_exemption_tag_re_checks_the_group_at_once() {
    let baseline = tag_exempting_baseline();
    // Still tagged: a tag change elsewhere on the group finds the open rules exempt.
    let exempt: Tags = [("sgguard-exempt-until".to_owned(), "2999-12-31".to_owned())].into();
    let fake = Fake::default().with_group(GROUP, exempt, vec![rule("sgr-ssh", 22, "0.0.0.0/0")]);
    let created = tag_event("CreateTags", &[GROUP], "team", Some("platform"));
    let (outcome, error) = handle_with(&fake, &baseline, &created).await;
    assert_eq!(error, None);
    assert_eq!(
        outcomes(&outcome),
        [("sgr-ssh".to_owned(), Outcome::Exempt)]
    );
    assert!(fake.revoke_calls().is_empty());

    // The tag removed (the live group has it no more): the rule is revoked by this event.
    let fake =
        Fake::default().with_group(GROUP, Tags::new(), vec![rule("sgr-ssh", 22, "0.0.0.0/0")]);
    let deleted = tag_event("DeleteTags", &[GROUP], "sgguard-exempt-until", None);
    let (outcome, error) = handle_with(&fake, &baseline, &deleted).await;
    assert_eq!(error, None);
    assert_eq!(outcome.event.name, "DeleteTags");
    assert_eq!(outcome.groups.len(), 1);
    assert_eq!(
        outcomes(&outcome),
        [("sgr-ssh".to_owned(), Outcome::Revoked)]
    );
    assert!(fake.rule_ids(GROUP).is_empty());
    assert_eq!(attribute(&fake.published()[0], "action"), "revoked");
}

#[tokio::test]
async fn tags_of_other_resources_are_ignored() {
    let fake = open_group();
    let value = tag_event(
        "DeleteTags",
        &["i-0123456789abcdef0"],
        "sgguard-exempt-until",
        None,
    );
    let (outcome, error) = handle_with(&fake, &tag_exempting_baseline(), &value).await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Ignored);
    assert!(
        outcome
            .reason
            .as_deref()
            .unwrap()
            .contains("no security group"),
        "{:?}",
        outcome.reason
    );
    assert!(outcome.groups.is_empty() && fake.revoke_calls().is_empty());
    assert!(fake.published().is_empty());
}

/// A rule of `group` in `account` opening tcp 22 to the prefix list `pl-shared`.
fn ssh_via_list(account: &str, group: &str, id: &str) -> SecurityGroupRule {
    SecurityGroupRule::from_api(
        ApiRule {
            rule_id: Some(id),
            group_id: Some(group),
            group_owner_id: Some(account),
            ip_protocol: "tcp",
            from_port: Some(22),
            to_port: Some(22),
            prefix_list_id: Some("pl-shared"),
            ..ApiRule::default()
        },
        Some("eu-west-1"),
    )
    .unwrap()
}

/// The owner grew `pl-shared` to hold the internet.
fn prefix_list_event() -> Value {
    let mut envelope = event();
    envelope["detail"]["eventName"] = json!("ModifyManagedPrefixList");
    envelope["detail"]["requestParameters"] = json!({"ModifyManagedPrefixListRequest": {
        "PrefixListId": "pl-shared", "CurrentVersion": 1, "AddEntry": {"Cidr": "0.0.0.0/0"}}});
    envelope["detail"]["responseElements"] = json!(null);
    envelope
}

#[tokio::test]
async fn a_shared_prefix_list_re_checks_the_accounts_it_is_shared_with() {
    const CONSUMER: &str = "222233334444";
    const UNREACHABLE: &str = "333344445555";
    let consumer = Fake::default().with_group(
        "sg-consumer",
        Tags::new(),
        vec![ssh_via_list(CONSUMER, "sg-consumer", "sgr-consumer")],
    );
    let owner = Fake::default()
        .with_prefix_list("pl-shared", &["203.0.113.0/24", "0.0.0.0/0"])
        .sharing_with(CONSUMER, Some(consumer.clone()))
        .sharing_with(UNREACHABLE, None);
    let (outcome, error) = handle_value(&owner, &prefix_list_event()).await;

    // The consumer's rule is judged with the owner's entries and revoked there.
    assert_eq!(
        outcomes(&outcome),
        [("sgr-consumer".to_owned(), Outcome::Revoked)]
    );
    assert!(consumer.rule_ids("sg-consumer").is_empty());
    let group = &outcome.groups[0];
    assert_eq!(
        (group.account_id.as_deref(), group.group_id.as_str()),
        (Some(CONSUMER), "sg-consumer")
    );
    let consumers: Vec<(&str, usize, bool)> = outcome
        .consumers
        .iter()
        .map(|c| (c.account_id.as_str(), c.groups, c.error.is_some()))
        .collect();
    assert_eq!(consumers, [(CONSUMER, 1, false), (UNREACHABLE, 0, true)]);
    // The account that could not be checked fails the event, named, never dropped.
    assert!(
        matches!(&error, Some(HandleError::AccessDenied(e)) if e.account == UNREACHABLE),
        "{error:?}"
    );
    assert_eq!(outcome.status, Status::Failed);
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.contains(UNREACHABLE) && e.contains("pl-shared")),
        "{:?}",
        outcome.errors
    );
}

/// The event's account (111122223333) guarded as the scopes say.
async fn handle_staged(fake: &Fake, staging: Staging) -> EventOutcome {
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = EventHandler {
        hub: fake,
        baseline: &baseline,
        staging,
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        breaker: &Breaker::new(Limits::default()),
        record_queue: QUEUE,
        caveat: None,
        outputs: Default::default(),
    }
    .handle(&event())
    .await;
    assert_eq!(error, None);
    outcome
}

#[tokio::test]
async fn staged_enforcement_revokes_only_in_the_enforced_unit() {
    let staging = Staging {
        default: Mode::Audit,
        scopes: [("ou-ab12-prod0001".to_owned(), Mode::Enforce)].into(),
    };
    // Below prod (nested in a team unit): enforced by the nearest unit a scope names.
    let prod = open_group().in_units(
        "111122223333",
        &["ou-ab12-team0001", "ou-ab12-prod0001", "r-ab12"],
    );
    let outcome = handle_staged(&prod, staging.clone()).await;
    assert_eq!(outcome.mode, Mode::Enforce);
    assert_eq!(outcome.mode_by.as_deref(), Some("ou-ab12-prod0001"));
    assert_eq!(outcome.count(Outcome::Revoked), 2);
    assert!(
        prod.published()[0]
            .text
            .contains("Mode: enforce (set by ou-ab12-prod0001)"),
        "{}",
        prod.published()[0].text
    );

    // Below dev: the default, audit; nothing revoked.
    let dev = open_group().in_units("111122223333", &["ou-ab12-dev00001", "r-ab12"]);
    let outcome = handle_staged(&dev, staging.clone()).await;
    assert_eq!(
        (outcome.mode, outcome.mode_by.as_deref()),
        (Mode::Audit, Some("default"))
    );
    assert_eq!(outcome.count(Outcome::WouldRevoke), 2);
    assert!(dev.revoke_calls().is_empty());

    // The account named itself wins over its unit.
    let mut named = staging.clone();
    named.scopes.insert("111122223333".to_owned(), Mode::Audit);
    let pinned = open_group().in_units("111122223333", &["ou-ab12-prod0001", "r-ab12"]);
    let outcome = handle_staged(&pinned, named).await;
    assert_eq!(outcome.mode, Mode::Audit);
    assert!(pinned.revoke_calls().is_empty());

    // Organizations cannot tell the unit: audited, and the message says why.
    let unknown = open_group().units_unreadable();
    let outcome = handle_staged(&unknown, staging).await;
    assert_eq!(outcome.mode, Mode::Audit);
    assert!(unknown.revoke_calls().is_empty());
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.contains("organizational unit could not be read")),
        "{:?}",
        outcome.errors
    );
}

/// An event of `who` authorizing `rules` (rule id, CloudTrail rule item) in the group.
fn authorized_by(who: &str, id: &str, items: Value) -> Value {
    json!({
        "version": "0", "id": format!("e-{who}"), "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "111122223333", "region": "eu-west-1",
        "detail": {
            "eventName": "AuthorizeSecurityGroupIngress", "eventID": id,
            "eventTime": "2026-12-01T10:00:00Z", "awsRegion": "eu-west-1",
            "recipientAccountId": "111122223333", "sourceIPAddress": "198.51.100.23",
            "userIdentity": {"type": "AssumedRole",
                             "arn": format!("arn:aws:sts::111122223333:assumed-role/Developer/{who}")},
            "requestParameters": {"groupId": GROUP, "ipPermissions": {"items": []}},
            "responseElements": {"_return": true, "securityGroupRuleSet": {"items": items}}
        }
    })
}

fn api_rule(
    id: &str,
    protocol: &str,
    port: Option<i64>,
    v4: Option<&str>,
    v6: Option<&str>,
    description: &str,
) -> SecurityGroupRule {
    SecurityGroupRule::from_api(
        ApiRule {
            rule_id: Some(id),
            group_id: Some(GROUP),
            group_owner_id: Some("111122223333"),
            ip_protocol: protocol,
            from_port: port,
            to_port: port,
            cidr_ipv4: v4,
            cidr_ipv6: v6,
            description: Some(description),
            ..ApiRule::default()
        },
        Some("eu-west-1"),
    )
    .unwrap()
}

/// The code block after `<!-- example: NAME -->` in `text` (its byte range).
fn example_block(text: &str, name: &str) -> std::ops::Range<usize> {
    let marker = format!("<!-- example: {name} -->");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/notifications.md has no `{marker}`"));
    let open = at + text[at..].find("```").unwrap();
    let start = open + text[open..].find('\n').unwrap() + 1;
    // The closing fence starts a line (a chat message's JSON holds fences inside strings).
    let end = if text[start..].starts_with("```") {
        start
    } else {
        start + text[start..].find("\n```").unwrap() + 1
    };
    start..end
}

/// docs/notifications.md shows messages this code writes, not hand-written ones: two
/// actors change one group, bob's event is handled first (it revokes everything open, carol's
/// rules too), then carol's (her rules are already gone). Shown: bob's email text, carol's JSON
/// document, bob's chat message and carol's EventBridge event. The revocation time is the
/// run's, shown fixed. The test only compares: a difference fails with the text to put there.
#[tokio::test]
async fn the_docs_show_the_messages_this_code_writes() {
    let tags: Tags = [
        ("Owner".to_owned(), "payments".to_owned()),
        ("Team".to_owned(), "orders".to_owned()),
        ("CostCenter".to_owned(), "42".to_owned()),
    ]
    .into();
    let fake = Fake::default()
        .with_group(
            GROUP,
            tags,
            vec![
                api_rule(
                    "sgr-0b0b0000000000001",
                    "-1",
                    None,
                    None,
                    Some("::/0"),
                    "debugging",
                ),
                api_rule(
                    "sgr-0ca70000000000001",
                    "tcp",
                    Some(5432),
                    Some("0.0.0.0/1"),
                    None,
                    "reporting tool",
                ),
                api_rule(
                    "sgr-0ca70000000000002",
                    "tcp",
                    Some(5432),
                    Some("128.0.0.0/1"),
                    None,
                    "reporting tool",
                ),
            ],
        )
        .named(GROUP, "orders-db");
    let bob = authorized_by(
        "bob",
        "2b1c4f9e-bob",
        json!([{"groupId": GROUP, "securityGroupRuleId": "sgr-0b0b0000000000001", "isEgress": false,
                "ipProtocol": "-1", "cidrIpv6": "::/0"}]),
    );
    let carol = authorized_by(
        "carol",
        "7d3e8a10-carol",
        json!([
            {"groupId": GROUP, "securityGroupRuleId": "sgr-0ca70000000000001", "isEgress": false,
             "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "0.0.0.0/1"},
            {"groupId": GROUP, "securityGroupRuleId": "sgr-0ca70000000000002", "isEgress": false,
             "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "128.0.0.0/1"}]),
    );
    let baseline = Baseline::default_baseline().unwrap();
    let breaker = Breaker::new(Limits::default());
    let handler = EventHandler {
        hub: &fake,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        breaker: &breaker,
        record_queue: QUEUE,
        caveat: None,
        outputs: Outputs {
            min_severity: None,
            chat_topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard-chat".to_owned()),
            event_bus_arn: Some(
                "arn:aws:events:eu-west-1:999999999999:event-bus/sgguard-hub".to_owned(),
            ),
            context_tags: vec!["Owner".to_owned(), "Team".to_owned()],
            security_hub: true,
        },
    };
    let (bob_outcome, error) = handler.handle(&bob).await;
    assert_eq!(error, None);
    assert_eq!(bob_outcome.count(Outcome::Revoked), 3);
    let (carol_outcome, error) = handler.handle(&carol).await;
    assert_eq!(error, None);
    assert_eq!(carol_outcome.count(Outcome::AlreadyGone), 2);

    // The revocation time is the run's: shown fixed.
    let removed = carol_outcome.findings[0].removed.clone().unwrap();
    let now = removed
        .split(" at ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_owned();
    let fixed = |text: &str| text.replace(&now, "2026-12-01T10:00:02Z");
    let pretty = |json: &str| {
        let value: Value = serde_json::from_str(&fixed(json)).unwrap();
        serde_json::to_string_pretty(&value).unwrap() + "\n"
    };
    let published = fake.published();
    let is_chat =
        |n: &&crate::report::notify::Notification| n.json.contains("\"source\":\"custom\"");
    let inbox: Vec<_> = published.iter().filter(|n| !is_chat(n)).collect();
    let chat: Vec<_> = published.iter().filter(is_chat).collect();
    assert_eq!((inbox.len(), chat.len()), (2, 2));
    let events = fake.events();
    assert_eq!(events.len(), 2);
    let event = json!({
        "version": "0", "id": "…", "detail-type": events[1].0, "source": "sgguard",
        "account": "999999999999", "time": "…", "region": "eu-west-1", "resources": [],
        "detail": serde_json::from_str::<Value>(&fixed(&events[1].1)).unwrap(),
    });
    // Security Hub: bob's three rules resolved (revoked), then carol's two again (already
    // gone: resolved too), every document valid ASFF.
    let imported = fake.imported();
    assert_eq!(imported.len(), 5);
    let asff: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/asff.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&asff).unwrap();
    for finding in &imported {
        let document = serde_json::to_value(finding).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} {document:#}");
        assert_eq!(finding.workflow.status, "RESOLVED");
    }
    let mut carol_asff = serde_json::to_value(&imported[3]).unwrap();
    for at in ["CreatedAt", "UpdatedAt"] {
        carol_asff[at] = json!("2026-12-01T10:00:02Z");
    }
    let examples = [
        ("email", fixed(&inbox[0].text)),
        ("json", pretty(&inbox[1].json)),
        ("chat", pretty(&chat[0].json)),
        (
            "eventbridge",
            serde_json::to_string_pretty(&event).unwrap() + "\n",
        ),
        (
            "asff",
            serde_json::to_string_pretty(&carol_asff).unwrap() + "\n",
        ),
    ];

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/notifications.md");
    let doc = std::fs::read_to_string(path).unwrap();
    for (name, written) in &examples {
        let shown = &doc[example_block(&doc, name)];
        assert_eq!(
            shown,
            written.as_str(),
            "docs/notifications.md example `{name}` is not what sgguard writes; \
             put this in its place:\n{written}"
        );
    }
}
