//! A change to a shared prefix list fixed at its source (the list's version before the change
//! restored in the owner's account), the rules revoked when it cannot be, and a list judged
//! on what the change added, an entry that is not a CIDR failing the check.

use super::shared_scope_tests::{prefix_list_event, ssh_via_list};
use super::tests::{handle_this, outcomes};
use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{Mode, Outcome, SourceFixAction};
use serde_json::json;

const OWNER: &str = "111122223333";
const FIRST: &str = "222233334444";
const SECOND: &str = "333344445555";
const NARROW: &[&str] = &["203.0.113.0/24"];
const WIDE: &[&str] = &["203.0.113.0/24", "0.0.0.0/0"];

/// A consumer account whose group `sg-<account>` opens SSH to `pl-shared`.
fn consumer(account: &str) -> Fake {
    let group = format!("sg-{account}");
    Fake::default().with_group(
        &group,
        Tags::new(),
        vec![ssh_via_list(account, &group, &format!("sgr-{account}"))],
    )
}

/// The owner's `pl-shared` at these versions (the event made version 2 from version 1), shared
/// with two consumers; the owner's own group uses it too.
fn owner(versions: &[&[&str]]) -> (Fake, [Fake; 2]) {
    let consumers = [consumer(FIRST), consumer(SECOND)];
    let owner = owner_group()
        .with_prefix_list_versions("pl-shared", versions)
        .sharing_with(SECOND, Some(consumers[1].clone()))
        .sharing_with(FIRST, Some(consumers[0].clone()));
    (owner, consumers)
}

async fn handle_in(fake: &Fake, mode: Mode, event: &Value) -> (EventOutcome, Option<HandleError>) {
    let state = HubState::in_process(Limits::default());
    handle_this(
        fake,
        mode,
        &state,
        &Baseline::default_baseline().unwrap(),
        event,
    )
    .await
}

/// The owner's group using `pl-shared`, which holds `entries` and is shared with no one.
fn not_shared(entries: &[&str]) -> Fake {
    owner_group().with_prefix_list("pl-shared", entries)
}

/// The owner's group `sg-owner`, opening SSH to `pl-shared`.
fn owner_group() -> Fake {
    Fake::default().with_group(
        "sg-owner",
        Tags::new(),
        vec![ssh_via_list(OWNER, "sg-owner", "sgr-owner")],
    )
}

fn every(outcome: Outcome) -> Vec<(String, Outcome)> {
    let mut all: Vec<(String, Outcome)> = [FIRST, SECOND, "owner"]
        .iter()
        .map(|a| (format!("sgr-{a}"), outcome))
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn a_shared_list_that_opened_its_consumers_rules_is_restored_at_the_source() {
    let (owner, consumers) = owner(&[NARROW, WIDE]);
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    assert_eq!(error, None, "{:?}", outcome.errors);

    // One restore, in the owner's account, to the version before the change.
    assert_eq!(owner.restores(), [("pl-shared".to_owned(), 1, 2)]);
    assert_eq!(
        owner.prefix_list("pl-shared"),
        Some((3, vec!["203.0.113.0/24".to_owned()]))
    );
    let fix = outcome.source_fix.as_ref().expect("a fix at the source");
    assert_eq!(
        (fix.action, fix.restored_version, fix.replaced_version),
        (SourceFixAction::Restored, Some(1), Some(2))
    );
    assert_eq!(fix.owner_account_id, OWNER);
    // Nothing revoked anywhere: every rule it opened is closed at the source.
    assert_eq!(outcomes(&outcome), every(Outcome::FixedAtSource));
    assert!(owner.revoke_calls().is_empty());
    for (fake, account) in consumers.iter().zip([FIRST, SECOND]) {
        assert!(fake.revoke_calls().is_empty());
        assert_eq!(
            fake.rule_ids(&format!("sg-{account}")),
            [format!("sgr-{account}")]
        );
    }
    // The consumers are told in the order of their ids, each checked.
    let told: Vec<(&str, usize)> = outcome
        .consumers
        .iter()
        .map(|c| (c.account_id.as_str(), c.groups))
        .collect();
    assert_eq!(told, [(FIRST, 1), (SECOND, 1)]);
    let message = &owner.published()[0].text;
    assert!(
        message.contains("restored prefix list pl-shared to version 1"),
        "{message}"
    );
    assert!(message.contains("FIXED_AT_SOURCE"), "{message}");
    assert_eq!(
        super::tests::attribute(&owner.published()[0], "action"),
        "fixed_at_source"
    );
}

#[tokio::test]
async fn a_restore_that_fails_falls_back_to_revoking_the_rules() {
    let (owner, consumers) = owner(&[NARROW, WIDE]);
    let owner = owner.failing_restore("UnauthorizedOperation");
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(owner.restores().len(), 1);
    assert_eq!(outcomes(&outcome), every(Outcome::Revoked));
    assert!(consumers[0].rule_ids(&format!("sg-{FIRST}")).is_empty());
    let fix = outcome.source_fix.unwrap();
    assert_eq!(fix.action, SourceFixAction::NotRestored);
    let reason = fix.reason.unwrap();
    assert!(
        reason.contains("the restore failed") && reason.contains("UnauthorizedOperation"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_list_changed_again_since_the_event_is_not_restored_over() {
    // Someone added another range after the event's change: version 3 is current.
    let later: &[&str] = &["203.0.113.0/24", "0.0.0.0/0", "198.51.100.0/24"];
    let (owner, _) = owner(&[NARROW, WIDE, later]);
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert!(owner.restores().is_empty());
    assert_eq!(owner.prefix_list("pl-shared").unwrap().0, 3);
    assert_eq!(outcomes(&outcome), every(Outcome::Revoked));
    let fix = outcome.source_fix.unwrap();
    assert_eq!(fix.action, SourceFixAction::NotRestored);
    assert!(
        fix.reason.as_deref().unwrap().contains("changed again"),
        "{fix:?}"
    );
}

#[tokio::test]
async fn a_version_before_the_change_that_is_open_too_is_not_restored() {
    let (owner, _) = owner(&[WIDE, WIDE]);
    let (outcome, _) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    assert!(owner.restores().is_empty());
    assert_eq!(outcomes(&outcome), every(Outcome::Revoked));
    let fix = outcome.source_fix.unwrap();
    assert_eq!(fix.action, SourceFixAction::NotRestored);
    assert!(
        fix.reason
            .as_deref()
            .unwrap()
            .contains("opens the same rules"),
        "{fix:?}"
    );
}

#[tokio::test]
async fn an_audited_owner_would_restore_and_changes_nothing() {
    let (owner, consumers) = owner(&[NARROW, WIDE]);
    let (outcome, error) = handle_in(&owner, Mode::Audit, &prefix_list_event()).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert!(owner.restores().is_empty());
    assert_eq!(owner.prefix_list("pl-shared").unwrap().0, 2);
    assert_eq!(
        outcome.source_fix.as_ref().map(|f| f.action),
        Some(SourceFixAction::WouldRestore)
    );
    assert_eq!(outcomes(&outcome), every(Outcome::WouldRevoke));
    assert!(consumers[1].revoke_calls().is_empty());
    assert!(
        owner.published()[0]
            .text
            .contains("would restore prefix list pl-shared to version 1"),
        "{}",
        owner.published()[0].text
    );
}

#[tokio::test]
async fn the_entries_the_event_added_are_judged_before_the_live_read_shows_them() {
    // Not shared; the live read still shows the list before the change.
    let owner = not_shared(NARROW);
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(
        outcomes(&outcome),
        [("sgr-owner".to_owned(), Outcome::Revoked)]
    );
    assert_eq!(outcome.source_fix, None);

    // And an entry the event removed is not judged, though the live read still shows it.
    let owner = not_shared(WIDE);
    let mut removal = prefix_list_event();
    removal["detail"]["requestParameters"] = json!({"ModifyManagedPrefixListRequest": {
        "PrefixListId": "pl-shared", "CurrentVersion": 1, "RemoveEntry": {"Cidr": "0.0.0.0/0"}}});
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &removal).await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert!(outcome.findings.is_empty(), "{:?}", outcomes(&outcome));
}

#[tokio::test]
async fn an_entry_that_is_not_a_cidr_fails_the_check_naming_the_list_and_the_entry() {
    // The changed list holds it: the event fails, to be retried.
    let owner = not_shared(&["203.0.113.0/24", "203.0.113.0/33"]);
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    let Some(HandleError::Aws(error)) = error else {
        panic!("{error:?}");
    };
    assert!(
        error.message.contains("`pl-shared`") && error.message.contains("`203.0.113.0/33`"),
        "{error}"
    );
    assert_eq!(outcome.status, Status::Failed);
    assert!(owner.revoke_calls().is_empty());

    // Another list the group uses holds it: the group's check fails, naming the group too.
    let mut other = ssh_via_list(OWNER, "sg-owner", "sgr-other");
    other.peer = crate::rule::Peer::PrefixList {
        id: "pl-other".to_owned(),
        entries: None,
    };
    let owner = not_shared(NARROW)
        .with_group(
            "sg-owner",
            Tags::new(),
            vec![ssh_via_list(OWNER, "sg-owner", "sgr-owner"), other],
        )
        .with_prefix_list("pl-other", &["office"]);
    let (outcome, error) = handle_in(&owner, Mode::Enforce, &prefix_list_event()).await;
    assert!(matches!(error, Some(HandleError::Aws(_))), "{error:?}");
    assert_eq!(outcome.groups[0].state, "failed");
    assert!(
        outcome
            .errors
            .iter()
            .any(|e| e.contains("group `sg-owner` not checked")
                && e.contains("`pl-other`")
                && e.contains("`office`")),
        "{:?}",
        outcome.errors
    );
}
