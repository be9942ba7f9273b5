//! The hub's state: the circuit breaker's counters, the revocation journal, the events already
//! handled and the versions of the exemptions file announced, which every handling and every sweep of one hub share. Built once per
//! process (the Lambda's init, one command) and lent to the event flow and the sweep. With the
//! hub state table (`SGGUARD_STATE_TABLE`) every Lambda instance, sweep and command of the hub
//! counts, remembers and de-duplicates in one place; without it each process keeps its own
//! (docs/configuration.md says what is then lost).

use std::time::Duration;

use super::breaker::{Breaker, Limits};
use super::exemptions::Announcements;
use super::journal::Journal;
use crate::aws::{AwsError, StateTable};

/// How long an event id is remembered as handled (a replay from an archive within it is
/// handled once).
const EVENTS_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// What the hub's handlings and sweeps share.
pub struct HubState {
    pub breaker: Breaker,
    pub journal: Journal,
    pub events: Events,
    /// The versions of the exemptions file announced (none without the table).
    pub announcements: Announcements,
}

impl HubState {
    /// State kept in this process only: each Lambda instance or command counts, remembers and
    /// de-duplicates for itself.
    pub fn in_process(limits: Limits) -> HubState {
        HubState {
            breaker: Breaker::new(limits),
            journal: Journal::default(),
            events: Events::in_process(),
            announcements: Announcements::new(None),
        }
    }

    /// Shared through `table` when the hub has one, else kept in this process.
    pub fn new(limits: Limits, table: Option<StateTable>) -> HubState {
        match table {
            Some(table) => HubState::shared(limits, table),
            None => HubState::in_process(limits),
        }
    }

    /// State kept in the hub state table, shared by every process of the hub.
    pub fn shared(limits: Limits, table: StateTable) -> HubState {
        HubState {
            breaker: Breaker::new(limits).counting_in(table.clone()),
            journal: Journal::in_table(table.clone()),
            events: Events::in_table(table.clone()),
            announcements: Announcements::new(Some(table)),
        }
    }
}

/// Whether an event is handled for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    First,
    /// The same CloudTrail event was handled before (delivered twice, or replayed).
    Duplicate,
}

/// The events already handled, by CloudTrail `eventID` (in the hub state table; without it
/// every event is handled, as before the table).
pub struct Events {
    table: Option<StateTable>,
}

impl Events {
    fn in_process() -> Events {
        Events { table: None }
    }

    fn in_table(table: StateTable) -> Events {
        Events { table: Some(table) }
    }

    /// Claims the event for handling until `until` (when the handling must have ended: the
    /// invocation's deadline): [`Claim::Duplicate`] when it was handled before, or another
    /// handling holds it now. A handling that died without a word (a timeout, a crash) holds it
    /// no longer than its deadline, so the retry that follows is handled. The table
    /// unreachable is an error (the event fails and is retried: it is never handled unclaimed,
    /// nor dropped unhandled).
    pub async fn claim(&self, event_id: &str, until: jiff::Timestamp) -> Result<Claim, AwsError> {
        let Some(table) = &self.table else {
            return Ok(Claim::First);
        };
        let attributes = [("claimed_at".to_owned(), jiff::Timestamp::now().to_string())]
            .into_iter()
            .collect();
        let first = table
            .hold(
                &event_key(event_id),
                "handled",
                &attributes,
                until.as_second(),
                expiry(),
            )
            .await?;
        Ok(if first {
            Claim::First
        } else {
            Claim::Duplicate
        })
    }

    /// Marks the event handled for good (its claim no longer ends). A mark that fails is
    /// logged: the claim then ends at its deadline, and a replay after it is handled again
    /// (the live state decides what that does; nothing is revoked twice).
    pub async fn complete(&self, event_id: &str) {
        let Some(table) = &self.table else {
            return;
        };
        let attributes = [("handled_at".to_owned(), jiff::Timestamp::now().to_string())]
            .into_iter()
            .collect();
        if let Err(error) = table
            .put(
                &event_key(event_id),
                "handled",
                &attributes,
                expiry(),
                false,
            )
            .await
        {
            tracing::error!(event_id, error = %error, "the event could not be marked handled");
        }
    }

    /// Gives the claim back: the event failed and its retry must be handled, not taken for a
    /// duplicate. A release that fails is logged (the claim then ends at its deadline: a retry
    /// after it is handled).
    pub async fn release(&self, event_id: &str) {
        let Some(table) = &self.table else {
            return;
        };
        if let Err(error) = table.delete(&event_key(event_id), "handled").await {
            tracing::error!(event_id, error = %error, "the event's claim could not be released");
        }
    }
}

/// When a handled event's id expires (epoch seconds).
fn expiry() -> i64 {
    jiff::Timestamp::now().as_second() + EVENTS_KEPT.as_secs() as i64
}

fn event_key(event_id: &str) -> String {
    format!("event#{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the table every event is handled, as before it (the emulator tests check the
    /// table's de-duplication).
    #[tokio::test]
    async fn without_the_table_every_event_is_handled() {
        let events = Events::in_process();
        let until = jiff::Timestamp::now();
        assert_eq!(events.claim("ev-1", until).await.unwrap(), Claim::First);
        assert_eq!(events.claim("ev-1", until).await.unwrap(), Claim::First);
    }
}
