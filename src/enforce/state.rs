//! The hub's state: the circuit breaker's counters and the revocation journal, the two things
//! every handling and every sweep of one hub share. One value, built once per process (the
//! Lambda's init, one command) and lent to the event flow and the sweep.

use super::breaker::{Breaker, Limits};
use super::journal::Journal;

/// What the hub's handlings and sweeps share.
pub struct HubState {
    pub breaker: Breaker,
    pub journal: Journal,
}

impl HubState {
    /// State kept in this process only: each Lambda instance or command counts and remembers
    /// for itself.
    pub fn in_process(limits: Limits) -> HubState {
        HubState {
            breaker: Breaker::new(limits),
            journal: Journal::default(),
        }
    }
}
