//! The circuit breaker: a bound on how much sgguard revokes, per event, per sweep, and per
//! account within an hour. A baseline gone wrong, a flood of events or a compromised trigger
//! can then cost at most that many rules; past a limit the rest are held back (`would_revoke`),
//! the breaker trips, the message says so as `critical` and the invocation fails so that the
//! errors alarm fires.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most revocations allowed (configuration: `SGGUARD_MAX_REVOKES_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_event: usize,
    pub per_account_hour: usize,
    pub per_sweep: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_event: 20,
            per_account_hour: 50,
            per_sweep: 200,
        }
    }
}

/// The process's breaker: the limits and each account's revocations of the last hour (counted
/// by this process: a Lambda instance or one command).
pub struct Breaker {
    limits: Limits,
    accounts: moka::future::Cache<String, Arc<AtomicUsize>>,
}

impl Breaker {
    pub fn new(limits: Limits) -> Breaker {
        Breaker {
            limits,
            accounts: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The budget of one event.
    pub fn event(&self) -> Budget<'_> {
        self.budget(self.limits.per_event, "for one event")
    }

    /// The budget of one sweep.
    pub fn sweep(&self) -> Budget<'_> {
        self.budget(self.limits.per_sweep, "for one sweep")
    }

    fn budget(&self, limit: usize, what: &'static str) -> Budget<'_> {
        Budget {
            breaker: self,
            limit,
            what,
            used: AtomicUsize::new(0),
            tripped: Mutex::new(None),
        }
    }
}

/// What one event or one sweep may still revoke.
pub struct Budget<'a> {
    breaker: &'a Breaker,
    limit: usize,
    what: &'static str,
    used: AtomicUsize,
    tripped: Mutex<Option<String>>,
}

impl Budget<'_> {
    /// Takes one revocation in `account`; `Err` says which limit holds it back.
    pub async fn take(&self, account: &str) -> Result<(), String> {
        if self.used.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.used.fetch_sub(1, Ordering::SeqCst);
            return Err(self.trip(format!(
                "more than {} revocation(s) {}",
                self.limit, self.what
            )));
        }
        let per_account = self.breaker.limits.per_account_hour;
        let counter = self
            .breaker
            .accounts
            .get_with(account.to_owned(), async { Arc::new(AtomicUsize::new(0)) })
            .await;
        if counter.fetch_add(1, Ordering::SeqCst) >= per_account {
            counter.fetch_sub(1, Ordering::SeqCst);
            self.used.fetch_sub(1, Ordering::SeqCst);
            return Err(self.trip(format!(
                "more than {per_account} revocation(s) in account {account} within an hour"
            )));
        }
        Ok(())
    }

    fn trip(&self, reason: String) -> String {
        let mut tripped = self
            .tripped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tripped.get_or_insert_with(|| reason.clone());
        format!("held back by the circuit breaker: {reason}")
    }

    /// The first limit reached, if any was.
    pub fn tripped(&self) -> Option<String> {
        self.tripped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_limit_holds_back_what_is_past_it() {
        let breaker = Breaker::new(Limits {
            per_event: 2,
            per_account_hour: 3,
            per_sweep: 10,
        });
        let first = breaker.event();
        assert!(first.take("111122223333").await.is_ok());
        assert!(first.take("111122223333").await.is_ok());
        let held = first.take("111122223333").await.unwrap_err();
        assert!(
            held.contains("more than 2 revocation(s) for one event"),
            "{held}"
        );
        assert!(first.tripped().is_some());
        // A new event has a new budget, but the account has one left this hour.
        let second = breaker.event();
        assert!(second.take("111122223333").await.is_ok());
        let held = second.take("111122223333").await.unwrap_err();
        assert!(
            held.contains("in account 111122223333 within an hour"),
            "{held}"
        );
        assert!(
            second.take("444455556666").await.is_ok(),
            "other accounts go on"
        );
    }
}
