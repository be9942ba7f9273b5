//! The event flow beyond the event's own account: a RAM-shared prefix list re-checks the
//! accounts it is shared with, and staged enforcement gives each account its own mode.

use super::tests::{QUEUE, event, handle_value, open_group, outcomes};
use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{EventOutcome, Mode, Outcome};
use crate::rule::{ApiRule, SecurityGroupRule};
use serde_json::json;

/// A rule of `group` in `account` opening tcp 22 to the prefix list `pl-shared`.
pub(super) fn ssh_via_list(account: &str, group: &str, id: &str) -> SecurityGroupRule {
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
pub(super) fn prefix_list_event() -> Value {
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
    let (outcome, error) = handle_staged_failing(fake, staging).await;
    assert_eq!(error, None);
    outcome
}

/// The same, the handling's error returned.
async fn handle_staged_failing(
    fake: &Fake,
    staging: Staging,
) -> (EventOutcome, Option<HandleError>) {
    let baseline = Baseline::default_baseline().unwrap();
    let (outcome, error) = EventHandler {
        hub: fake,
        baseline: &baseline,
        staging,
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        state: &HubState::in_process(Limits::default()),
        record_queue: QUEUE,
        caveat: None,
        unloaded: None,
        outputs: Default::default(),
        deadline: None,
    }
    .handle(&event())
    .await;
    (outcome, error)
}

#[tokio::test]
async fn staged_enforcement_revokes_only_in_the_enforced_unit() {
    let staging = Staging {
        default: Mode::Audit,
        scopes: [("ou-ab12-prod0001".parse().unwrap(), Mode::Enforce)].into(),
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
    named
        .scopes
        .insert("111122223333".parse().unwrap(), Mode::Audit);
    let pinned = open_group().in_units("111122223333", &["ou-ab12-prod0001", "r-ab12"]);
    let outcome = handle_staged(&pinned, named).await;
    assert_eq!(outcome.mode, Mode::Audit);
    assert!(pinned.revoke_calls().is_empty());

    // Organizations cannot tell the unit: nothing judged on a guess, the event fails for a
    // retry (Undecided, counted and alarmed), and the message says why.
    let unknown = open_group().units_unreadable();
    let (outcome, error) = handle_staged_failing(&unknown, staging).await;
    assert!(
        matches!(&error, Some(HandleError::Undecided(why)) if why.contains("111122223333")),
        "{error:?}"
    );
    assert_eq!(error.as_ref().unwrap().error_type(), "Sgguard.Undecided");
    assert!(!error.unwrap().answered_as_handled());
    assert_eq!(outcome.status, Status::Failed);
    assert!(outcome.findings.is_empty());
    assert!(unknown.revoke_calls().is_empty());
    assert!(
        outcome.errors.iter().any(
            |e| e.contains("the organizational unit of account 111122223333 could not be read")
        ),
        "{:?}",
        outcome.errors
    );
}
