//! The sweep's first phase: each account reached once (its credentials, its mode, the regions
//! to sweep in it, the remediation role checked) and the rules the breaker held back there
//! read, to re-check.

use super::Sweep;
use super::spokes::tampered;
use crate::aws::{AwsError, OrgAccount};
use crate::enforce::journal::Revocation;
use crate::enforce::scope::Regions;
use crate::enforce::staging::Resolved;
use crate::enforce::{HubApi, SecurityGroups};
use crate::outcome::{Mode, Tampering};

/// One account, reached.
pub(super) struct Reached {
    pub(super) account: OrgAccount,
    /// The account's mode (without `remediate`: audit).
    pub(super) mode: Resolved,
    pub(super) regions: Result<Vec<String>, AwsError>,
    pub(super) tampering: Vec<Tampering>,
    /// The account's rules the breaker held back earlier, and the mode they are re-checked in:
    /// the account's own, even when the sweep only reports (they were to be revoked).
    pub(super) held: Held,
}

/// An account's held-back rules, to re-check.
#[derive(Default)]
pub(super) struct Held {
    pub(super) rules: Vec<Revocation>,
    /// The mode they are re-checked in; none when it cannot be told (units unreadable: the
    /// sweep's own mode, and they stay held).
    pub(super) mode: Option<Mode>,
    /// Whether this sweep settles them (it may revoke, in their mode): only then are they
    /// forgotten once re-checked; a sweep that only reports leaves them held.
    pub(super) settles: bool,
    /// Why they could not be read (the report names it; they wait for the next sweep).
    pub(super) error: Option<String>,
}

impl Held {
    /// The held-back rules of `region`.
    pub(super) fn of_region<'h>(
        &'h self,
        region: &'h str,
    ) -> impl Iterator<Item = &'h Revocation> + 'h {
        self.rules
            .iter()
            .filter(move |h| h.rule.region.as_deref() == Some(region))
    }
}

impl<H: HubApi> Sweep<'_, H> {
    /// Reaches one account: its credentials (one AssumeRole, cached for the regions) and the
    /// regions to sweep in it.
    pub(super) async fn reach(&self, account: OrgAccount, regions: &Regions) -> Reached {
        let mode = self.mode_of(&account.id).await;
        let home = self.hub.home_region();
        let result = async {
            // The client carries the account's credentials (AssumeRole for a member, cached).
            let ec2 = self.hub.security_groups(&account.id, home).await?;
            match regions {
                Regions::List(list) => Ok(list.clone()),
                Regions::Enabled => ec2.enabled_regions().await,
            }
        }
        .await;
        let mut tampering = Vec::new();
        match &result {
            Ok(regions) => {
                self.progress.inc_length(regions.len() as u64);
                if let Some(check) = self.member_check(&account.id) {
                    tampering = tampered(
                        &account.id,
                        None,
                        self.role_problems(check, &account.id).await,
                    );
                }
            }
            Err(error) => {
                tracing::warn!(account = %account.id, error = %error, "account not reached")
            }
        }
        let held = match &result {
            Ok(_) => self.held(&account.id).await,
            Err(_) => Held::default(),
        };
        Reached {
            account,
            mode,
            regions: result,
            tampering,
            held,
        }
    }

    /// The account's held-back rules, and the mode they are re-checked in (the account's own,
    /// as the event's handling had it, not the sweep's cap).
    async fn held(&self, account: &str) -> Held {
        match self.state.journal.held(account).await {
            Ok(rules) if rules.is_empty() => Held::default(),
            Ok(rules) => {
                let staging = if self.revoke_held {
                    self.staging.clone()
                } else {
                    self.effective_staging()
                };
                let mode = staging
                    .resolve_with(account, || self.hub.account_units(account))
                    .await;
                tracing::info!(account, held = rules.len(), mode = %mode.mode, "re-checking held-back rules");
                let known = !mode.by.is_problem();
                Held {
                    rules,
                    mode: known.then_some(mode.mode),
                    settles: known && (self.revoke_held || self.remediate),
                    error: None,
                }
            }
            Err(error) => {
                tracing::error!(account, error = %error, "held-back rules not read");
                Held {
                    error: Some(format!(
                        "the rules the circuit breaker held back could not be read ({error}); \
                         the next sweep re-checks them"
                    )),
                    ..Held::default()
                }
            }
        }
    }

    /// The account's mode: its own scope, its nearest unit's, or the default (Organizations is
    /// asked only when a unit's scope could change the answer; unreadable units audit it).
    async fn mode_of(&self, account: &str) -> Resolved {
        self.effective_staging()
            .resolve_with(account, || self.hub.account_units(account))
            .await
    }
}
