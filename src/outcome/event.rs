//! The outcome of one event: the event as told, how it was handled, the groups and the accounts
//! a shared prefix list reaches, and what was done to the list itself (a fix at the source).

use serde::Serialize;

use super::{Counts, FindingOutcome, Mode, Outcome};
use crate::aws::AwsError;

/// The event as the notification tells it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventInfo {
    pub name: String,
    pub id: Option<String>,
    pub time: Option<String>,
    pub actor_arn: Option<String>,
    pub actor_type: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How the event was handled as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The groups were read and judged (findings or not).
    Handled,
    /// Not an event sgguard acts on (failed call, other API, the guard's own change).
    Ignored,
    /// Something went wrong; `errors` says what.
    Failed,
    /// The same CloudTrail event (its `eventID`) was handled before: delivered twice or
    /// replayed. Nothing was read or done again.
    Duplicate,
}

/// A group the event touched.
#[derive(Debug, Clone, Serialize)]
pub struct GroupOutcome {
    /// The group's account, when it is not the event's: an account a changed prefix list is
    /// shared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub group_id: String,
    /// `checked`, `deleted` when the group no longer exists, or `failed` when it could not be
    /// read (the event then failed).
    pub state: &'static str,
    pub rules_evaluated: usize,
}

/// An account a changed prefix list is shared with through AWS RAM, re-checked for the event.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerOutcome {
    pub account_id: String,
    /// Its groups that use the list, re-checked (they are in the event's `groups` too).
    pub groups: usize,
    /// Why the account could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The AWS error behind `error`, kept whole (its code says whether access was denied).
    #[serde(skip)]
    pub aws_error: Option<AwsError>,
}

/// What was done to a shared prefix list whose change opened rules in the accounts it is
/// shared with: one restore in its owner's account instead of a revoke in every account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFix {
    pub prefix_list_id: String,
    pub owner_account_id: String,
    pub action: SourceFixAction,
    /// The version the list was (or would be) restored to: the one before the event's change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_version: Option<i64>,
    /// The version the event's change made, which the restore replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_version: Option<i64>,
    /// Why the list was not restored (its rules were then revoked one by one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether the list was restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SourceFixAction {
    /// Restored: the rules it opened are closed (`fixed_at_source`), none revoked for it.
    Restored,
    /// The owner's account is audited: it would be restored; nothing changed.
    WouldRestore,
    /// Not restored (`reason`): the rules it opened were revoked instead, as without a share.
    NotRestored,
}

/// The outcome of one event: what `handle-event` prints and the notification carries.
#[derive(Debug, Clone, Serialize)]
pub struct EventOutcome {
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub region: Option<String>,
    pub mode: Mode,
    /// What set the mode (staged enforcement): `default`, `account ID` or a unit id; absent
    /// when one mode guards every account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_by: Option<String>,
    pub event: EventInfo,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub groups: Vec<GroupOutcome>,
    /// For a prefix-list change: the accounts the list is shared with through AWS RAM.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ConsumerOutcome>,
    /// For a change to a shared prefix list that opened rules in the accounts it is shared
    /// with: the list restored (or not) to its version before the change, in its owner's
    /// account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_fix: Option<SourceFix>,
    pub rules_evaluated: usize,
    pub findings: Vec<FindingOutcome>,
    pub errors: Vec<String>,
    /// The revocation limit the event reached: the rest were held back (`would_revoke`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<String>,
    /// The message id of the durable record written for this event (its notification failed,
    /// or the event could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
}

impl EventOutcome {
    pub fn new(mode: Mode) -> Self {
        EventOutcome {
            account_id: None,
            account_name: None,
            region: None,
            mode,
            mode_by: None,
            event: EventInfo::default(),
            status: Status::Handled,
            reason: None,
            groups: Vec::new(),
            consumers: Vec::new(),
            source_fix: None,
            rules_evaluated: 0,
            findings: Vec::new(),
            errors: Vec::new(),
            breaker: None,
            recorded: None,
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.findings
            .iter()
            .filter(|f| f.outcome == outcome)
            .count()
    }

    /// The event's counts: groups and rules read, and its findings by outcome.
    pub fn counts(&self) -> Counts {
        Counts {
            groups: self.groups.len(),
            rules: self.rules_evaluated,
            ..Counts::of_findings(&self.findings)
        }
    }
}
