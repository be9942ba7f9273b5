//! What a sweep found of the guard itself rather than of the rules: each account and region's
//! forwarding dead-letter queue (events its forwarding rule could not deliver to the hub), and
//! the places sgguard does not guard in real time (gaps: a deploy step not taken, not a failure
//! of the sweep).

use serde::{Deserialize, Serialize};

/// The spoke's forwarding dead-letter queue (`sgguard-forward-sg-changes-dlq`) in one account
/// and region, as the sweep read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ForwardingQueue {
    /// Read: `messages` undelivered events wait in it (`ApproximateNumberOfMessages`).
    Read { messages: u64 },
    /// There is no such queue: the spoke is not deployed in this account and region.
    Missing,
    /// It could not be read (access denied, throttled, …): why.
    Unreadable { error: String },
}

/// Security-group changes a forwarding rule could not deliver to the hub bus, waiting in its
/// dead-letter queue: the hub never saw them (the sweep catches their rules, not their events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undelivered {
    pub account_id: String,
    pub account_name: Option<String>,
    pub region: String,
    /// The queue's `ApproximateNumberOfMessages`.
    pub messages: u64,
}

/// Why a place is not guarded in real time.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, strum::Display,
)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The management account's remediation role cannot be assumed: the spoke template was
    /// not deployed there as a stack (service-managed StackSets never deploy to it), so the
    /// account is neither swept nor guarded.
    #[strum(serialize = "management account: guard not deployed")]
    ManagementGuardNotDeployed,
}

/// A place sgguard does not guard in real time, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub account_id: String,
    pub account_name: Option<String>,
    /// The region; none for the whole account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub kind: GapKind,
    /// What was found, and the deploy step that closes the gap.
    pub detail: String,
}

impl Gap {
    /// `management account: guard not deployed (account 111122223333, eu-west-1): …`.
    pub fn line(&self) -> String {
        let place = match &self.region {
            Some(region) => format!("account {} region {region}", self.account_id),
            None => format!("account {}", self.account_id),
        };
        format!("{} ({place}): {}", self.kind, self.detail)
    }
}
