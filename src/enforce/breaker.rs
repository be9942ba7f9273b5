//! The circuit breaker: a bound on how much sgguard revokes, per event, per sweep, and per
//! account within an hour (counted in the hub state table when there is one, so the bound holds
//! across every Lambda instance, sweep and command; else in this process). A baseline gone wrong, a flood of events or a compromised trigger
//! can then cost at most that many rules; past a limit the rest are held back (`would_revoke`),
//! the breaker trips, the message says so as `critical` and the invocation fails so that the
//! errors alarm fires.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::aws::{AwsError, StateTable};

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

/// The hub's breaker: the limits and each account's revocations of the current hour.
pub struct Breaker {
    limits: Limits,
    /// Each account's count, when this process counts (no state table).
    accounts: moka::future::Cache<String, Arc<AtomicUsize>>,
    /// Each distributed sweep's count, when this process counts (no state table): shared by
    /// the workers of one process only.
    sweeps: moka::future::Cache<String, Arc<AtomicUsize>>,
    /// The state table that counts for every process of the hub.
    table: Option<StateTable>,
}

/// Why a revocation was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A limit holds it back (said as the finding's error).
    Limit(String),
    /// The state table could not count it: not revoked uncounted; the handling fails and is
    /// retried.
    Uncounted(AwsError),
}

impl Breaker {
    pub fn new(limits: Limits) -> Breaker {
        Breaker {
            limits,
            accounts: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            sweeps: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            table: None,
        }
    }

    /// Counts each account's hour in `table`, shared by every process of the hub.
    #[must_use]
    pub fn counting_in(self, table: StateTable) -> Breaker {
        Breaker {
            table: Some(table),
            ..self
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

    /// The budget of one sweep whose workers run in many processes (`sweep_id`, the
    /// distributed sweep): with the state table its limit is counted there, once for every
    /// worker; without it each worker counts for itself.
    pub fn shared_sweep(&self, sweep_id: &str) -> Budget<'_> {
        Budget {
            shared: Some(format!("breaker#sweep#{sweep_id}")),
            ..self.budget(self.limits.per_sweep, "for one sweep")
        }
    }

    fn budget(&self, limit: usize, what: &'static str) -> Budget<'_> {
        Budget {
            breaker: self,
            limit,
            what,
            used: AtomicUsize::new(0),
            shared: None,
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
    /// The count that every worker of a distributed sweep shares: its key in the state table,
    /// or in this process without one.
    shared: Option<String>,
    tripped: Mutex<Option<String>>,
}

impl Budget<'_> {
    /// Takes one revocation in `account`; [`Held`] says which limit holds it back, or that the
    /// state table could not count it.
    pub async fn take(&self, account: &str) -> Result<(), Held> {
        if self.used.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.used.fetch_sub(1, Ordering::SeqCst);
            return Err(self.over_limit());
        }
        if let Some(key) = &self.shared {
            if let Err(held) = self.take_shared(key).await {
                self.used.fetch_sub(1, Ordering::SeqCst);
                return Err(held);
            }
        }
        let per_account = self.breaker.limits.per_account_hour;
        let taken = match &self.breaker.table {
            Some(table) => {
                let now = jiff::Timestamp::now();
                let hour = now.strftime("hour#%Y-%m-%dT%H").to_string();
                // Kept an hour past its own, then expired by the table's TTL.
                let expires = now.as_second() + 2 * 3600;
                let limit = u64::try_from(per_account).unwrap_or(u64::MAX);
                match table
                    .count_up(&format!("breaker#{account}"), &hour, limit, expires)
                    .await
                {
                    Ok(taken) => taken,
                    Err(error) => {
                        self.used.fetch_sub(1, Ordering::SeqCst);
                        tracing::error!(account, error = %error, "the breaker could not count; nothing revoked");
                        return Err(Held::Uncounted(error));
                    }
                }
            }
            None => {
                let counter = self
                    .breaker
                    .accounts
                    .get_with(account.to_owned(), async { Arc::new(AtomicUsize::new(0)) })
                    .await;
                let taken = counter.fetch_add(1, Ordering::SeqCst) < per_account;
                if !taken {
                    counter.fetch_sub(1, Ordering::SeqCst);
                }
                taken
            }
        };
        if !taken {
            self.used.fetch_sub(1, Ordering::SeqCst);
            return Err(Held::Limit(self.trip(format!(
                "more than {per_account} revocation(s) in account {account} within an hour"
            ))));
        }
        Ok(())
    }

    /// Takes one from the count `key` that every worker of a distributed sweep shares: in the
    /// state table when there is one, else in this process.
    async fn take_shared(&self, key: &str) -> Result<(), Held> {
        let Some(table) = &self.breaker.table else {
            let counter = self
                .breaker
                .sweeps
                .get_with(key.to_owned(), async { Arc::new(AtomicUsize::new(0)) })
                .await;
            if counter.fetch_add(1, Ordering::SeqCst) >= self.limit {
                counter.fetch_sub(1, Ordering::SeqCst);
                return Err(self.over_limit());
            }
            return Ok(());
        };
        // Kept a day (a sweep ends within hours), then expired by the table's TTL. A
        // revocation the account's limit then holds back stays counted: the sweep's limit
        // errs on the side of revoking less.
        let expires = jiff::Timestamp::now().as_second() + 24 * 3600;
        let limit = u64::try_from(self.limit).unwrap_or(u64::MAX);
        match table.count_up(key, "sweep", limit, expires).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.over_limit()),
            Err(error) => {
                tracing::error!(error = %error, "the sweep's breaker could not count; nothing revoked");
                Err(Held::Uncounted(error))
            }
        }
    }

    fn over_limit(&self) -> Held {
        Held::Limit(self.trip(format!(
            "more than {} revocation(s) {}",
            self.limit, self.what
        )))
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
        let Err(Held::Limit(held)) = first.take("111122223333").await else {
            panic!("the event's limit holds");
        };
        assert!(
            held.contains("more than 2 revocation(s) for one event"),
            "{held}"
        );
        assert!(first.tripped().is_some());
        // A new event has a new budget, but the account has one left this hour.
        let second = breaker.event();
        assert!(second.take("111122223333").await.is_ok());
        let Err(Held::Limit(held)) = second.take("111122223333").await else {
            panic!("the account's limit holds");
        };
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
