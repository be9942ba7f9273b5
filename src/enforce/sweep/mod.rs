//! The organization sweep: every rule in every chosen account and region, read live, judged by
//! the baseline and (with `remediate`) revoked through the same path as the event flow. Events
//! can be lost and rules can predate the guard; the sweep is what catches them.
//!
//! Work is split in two bounded-concurrency phases: each account is reached first (AssumeRole,
//! enabled regions), then every account × region is read and judged. An account that cannot be
//! reached is reported with the reason and the others are still swept. With the spoke check,
//! each account × region's forwarding rule is read once: tampering, or a coverage gap where an
//! enabled region has none (the region is swept all the same).
//!
//! One subject per file: reaching the accounts (`reach`), the spoke check (`spokes`), the
//! guard itself (`guard`: the organization's own accounts, the forwarding dead-letter queues),
//! the report (`assemble`).

mod assemble;
pub(crate) use assemble::in_report_order;
mod guard;
pub use guard::FORWARDING_QUEUE;
#[cfg(test)]
mod guard_tests;
mod reach;
use reach::{Held, Reached};
mod spokes;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use indicatif::ProgressBar;

use super::breaker::Budget;
use super::journal::Revocation;
use super::scope::{Accounts, Regions, Scope, ScopeError};
use super::staging::Staging;
use super::state::HubState;
use super::tamper::TamperCheck;
use super::{HubApi, RevokeSource, SecurityGroups, act, resolve_prefix_lists};
use crate::aws::{AwsError, OrgAccount};
use crate::finding::Finding;
use crate::outcome::{
    Attribution, Counts, CoverageGap, FindingOutcome, GroupContext, Mode, RegionSummary, Skipped,
    SkippedAccount, SweepReport, Tampering,
};
use crate::policy::{Baseline, Evaluator};

/// A sweep through one hub with one baseline; built with [`Sweep::new`] and its setters.
pub struct Sweep<'a, H> {
    hub: &'a H,
    baseline: &'a Baseline,
    /// The breaker that bounds what the sweep (and each account within an hour) may revoke,
    /// and the journal of what was revoked.
    state: &'a HubState,
    /// The mode of each account (staged enforcement): `enforce` revokes; `audit` reports what
    /// would be revoked.
    staging: Staging,
    /// Without it the sweep only reads and reports (as in audit mode).
    remediate: bool,
    /// Accounts (first phase) and account × regions (second phase) worked on at once.
    concurrency: usize,
    /// No new account × region is started after this instant (the Lambda's deadline).
    deadline: Option<Instant>,
    /// Account × regions done; hidden when not on a terminal.
    progress: ProgressBar,
    /// Checks each member's spoke stack (forwarding rule, role trust) when given.
    tamper: Option<&'a TamperCheck>,
    /// The group tags each finding shows (`SGGUARD_CONTEXT_TAGS`).
    context_tags: Vec<String>,
    /// Acts on the rules the breaker held back in each account's own mode, even without
    /// `remediate` (the hub's scheduled sweep: they were to be revoked). Otherwise they are
    /// re-checked in the sweep's mode.
    revoke_held: bool,
}

/// Accounts (and account × regions) a sweep works on at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

impl<'a, H: HubApi> Sweep<'a, H> {
    /// A sweep that only reads and reports (no `remediate`), every account in enforce mode
    /// otherwise, [`DEFAULT_CONCURRENCY`], no deadline, no progress bar, no tamper check.
    pub fn new(hub: &'a H, baseline: &'a Baseline, state: &'a HubState) -> Self {
        Sweep {
            hub,
            baseline,
            state,
            staging: Mode::Enforce.into(),
            remediate: false,
            concurrency: DEFAULT_CONCURRENCY,
            deadline: None,
            progress: ProgressBar::hidden(),
            tamper: None,
            context_tags: Vec::new(),
            revoke_held: false,
        }
    }

    /// Acts on held-back rules in each account's own mode, even without `remediate`.
    #[must_use]
    pub fn revoke_held(self, revoke_held: bool) -> Self {
        Sweep {
            revoke_held,
            ..self
        }
    }

    /// Each account's mode (staged enforcement).
    #[must_use]
    pub fn staging(self, staging: Staging) -> Self {
        Sweep { staging, ..self }
    }

    /// Revoke what the modes allow (without it, nothing is revoked).
    #[must_use]
    pub fn remediate(self, remediate: bool) -> Self {
        Sweep { remediate, ..self }
    }

    /// Accounts and account × regions worked on at once (at least one).
    #[must_use]
    pub fn concurrency(self, concurrency: usize) -> Self {
        Sweep {
            concurrency: concurrency.max(1),
            ..self
        }
    }

    /// No account × region is started after `deadline`.
    #[must_use]
    pub fn deadline(self, deadline: Option<Instant>) -> Self {
        Sweep { deadline, ..self }
    }

    /// Shows progress on this bar.
    #[must_use]
    pub fn progress(self, progress: ProgressBar) -> Self {
        Sweep { progress, ..self }
    }

    /// Checks each member's spoke stack.
    #[must_use]
    pub fn tamper(self, tamper: Option<&'a TamperCheck>) -> Self {
        Sweep { tamper, ..self }
    }

    /// The group tags each finding shows.
    #[must_use]
    pub fn context_tags(self, context_tags: Vec<String>) -> Self {
        Sweep {
            context_tags,
            ..self
        }
    }

    /// The hub the sweep works through.
    pub fn hub(&self) -> &'a H {
        self.hub
    }

    /// The hub state the sweep counts and remembers in.
    pub fn state(&self) -> &'a HubState {
        self.state
    }

    /// The spoke check the sweep makes, if any.
    pub fn tamper_check(&self) -> Option<&'a TamperCheck> {
        self.tamper
    }
}

/// One account × region, swept.
struct Swept {
    account: String,
    summary: RegionSummary,
    findings: Vec<FindingOutcome>,
    tampering: Vec<Tampering>,
    /// The region has no forwarding rule (when the spokes are checked).
    gap: Option<CoverageGap>,
}

impl<H: HubApi> Sweep<'_, H> {
    /// The modes findings are acted on with: without `remediate`, nothing is revoked.
    pub fn effective_staging(&self) -> Staging {
        self.staging.capped(if self.remediate {
            Mode::Enforce
        } else {
            Mode::Audit
        })
    }

    /// The default mode findings are acted on with (each account's may differ).
    pub fn effective_mode(&self) -> Mode {
        self.effective_staging().default
    }

    /// Sweeps the scope. Fails only when the accounts cannot be listed at all; every later
    /// failure is reported in the result and the rest is still swept.
    pub async fn run(&self, scope: &Scope) -> Result<SweepReport, ScopeError> {
        let listed = accounts(self.hub, scope).await?;
        Ok(self
            .run_listed(listed, &scope.regions, self.state.breaker.sweep())
            .await)
    }

    /// Sweeps the accounts already listed (one batch of a distributed sweep, or the scope's),
    /// in `regions`, revoking within `budget`. Every failure is reported in the result.
    pub async fn run_listed(
        &self,
        listed: Vec<OrgAccount>,
        regions: &Regions,
        budget: Budget<'_>,
    ) -> SweepReport {
        let started = Instant::now();
        let (active, inactive): (Vec<OrgAccount>, Vec<OrgAccount>) =
            listed.into_iter().partition(OrgAccount::is_active);
        let skipped_accounts = inactive
            .into_iter()
            .map(|a| SkippedAccount {
                reason: format!(
                    "the account is {}",
                    a.status.to_lowercase().replace('_', " ")
                ),
                account_id: a.id,
                account_name: a.name,
            })
            .collect();
        let concurrency = self.concurrency;
        let total_accounts = active.len();
        self.progress
            .set_message(format!("accounts 0/{total_accounts}"));

        // Phase 1: reach every account (credentials, regions).
        let reached: Vec<Reached> = stream::iter(active)
            .map(|account| self.reach(account, regions))
            .buffer_unordered(concurrency)
            .collect()
            .await;

        // Phase 2: every account × region.
        let mut remaining: HashMap<String, usize> = HashMap::new();
        let mut units = Vec::new();
        for r in &reached {
            if let Ok(regions) = &r.regions {
                remaining.insert(r.account.id.clone(), regions.len());
                units.extend(
                    regions.iter().map(|region| {
                        (r.account.id.as_str(), region.as_str(), r.mode.mode, &r.held)
                    }),
                );
            }
        }
        let mut done_accounts = total_accounts - remaining.values().filter(|n| **n > 0).count();
        self.progress
            .set_message(format!("accounts {done_accounts}/{total_accounts}"));
        let mut results = stream::iter(units)
            .map(|(account, region, mode, held)| {
                self.sweep_region(account, region, mode, held, &budget)
            })
            .buffer_unordered(concurrency);
        let mut by_account: HashMap<String, Vec<Swept>> = HashMap::new();
        while let Some(swept) = results.next().await {
            let account = swept.account.clone();
            self.progress.inc(1);
            if let Some(left) = remaining.get_mut(&account) {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    done_accounts += 1;
                    self.progress
                        .set_message(format!("accounts {done_accounts}/{total_accounts}"));
                    tracing::info!(account = %account, "account swept");
                }
            }
            by_account.entry(account).or_default().push(swept);
        }
        drop(results);
        self.progress.finish_and_clear();

        let management = self.management_if_needed(&reached).await;
        let mut report = self.assemble(
            reached,
            by_account,
            skipped_accounts,
            management.as_deref(),
            started,
        );
        if let Some(reason) = budget.tripped() {
            tracing::error!(reason, "circuit breaker tripped; the rest held back");
            report.errors.push(format!(
                "circuit breaker tripped: {reason}; the rest were held back (would_revoke)"
            ));
            report.breaker = Some(reason);
        }
        report
    }

    /// Reads, judges and (with `remediate`) fixes one region of one account.
    async fn sweep_region(
        &self,
        account: &str,
        region: &str,
        mode: Mode,
        held: &Held,
        budget: &Budget<'_>,
    ) -> Swept {
        let mut swept = Swept {
            account: account.to_owned(),
            summary: RegionSummary {
                region: region.to_owned(),
                counts: Counts::default(),
                error: None,
                skipped: None,
                forwarding_queue: None,
                forwarding_rule: None,
            },
            findings: Vec::new(),
            tampering: Vec::new(),
            gap: None,
        };
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            swept.summary.error = Some("not swept: the sweep ran out of time".to_owned());
            return swept;
        }
        match self.judge_region(account, region, mode, held, budget).await {
            Ok((counts, findings)) => {
                swept.summary.counts = counts;
                swept.findings = findings;
            }
            Err(error) if error.is_denied_by_scp() => {
                tracing::info!(account, region, error = %error, "region denied by a service control policy; skipped");
                swept.summary.skipped = Some(Skipped::DeniedByPolicy);
                return swept;
            }
            Err(error) => {
                tracing::warn!(account, region, error = %error, "region not swept");
                swept.summary.error = Some(error.to_string());
            }
        }
        // The region is swept whatever its forwarding rule: the rule says whether its changes
        // reach the hub between sweeps.
        self.forwarding(&mut swept).await;
        swept.summary.forwarding_queue = self.forwarding_queue(account, region).await;
        swept
    }

    /// Every rule of the region read, every group judged whole, the findings acted on.
    async fn judge_region(
        &self,
        account: &str,
        region: &str,
        mode: Mode,
        held: &Held,
        budget: &Budget<'_>,
    ) -> Result<(Counts, Vec<FindingOutcome>), AwsError> {
        let ec2 = self.hub.security_groups(account, region).await?;
        let groups = ec2.all_groups().await?;
        let mut rules = ec2.all_rules().await?;
        // Every rule read here is of this account and region (the breaker counts by the one,
        // the journal keeps held-back rules by both).
        for rule in &mut rules {
            rule.account_id.get_or_insert_with(|| account.to_owned());
            rule.region.get_or_insert_with(|| region.to_owned());
        }
        resolve_prefix_lists(&ec2, &mut rules, &mut HashMap::new()).await?;
        let evaluator = Evaluator::new(self.baseline, Evaluator::today_utc());
        let findings = evaluator.evaluate_rules(&rules, |rule| {
            rule.group_id
                .as_deref()
                .and_then(|id| groups.get(id))
                .map(|g| &g.tags)
        });
        // The rules held back earlier are re-checked now that the region was read: each is
        // forgotten (gone, no longer breaking the baseline, or acted on below, where one held
        // back again is kept anew).
        let rechecked: HashSet<&str> = held.of_region(region).map(Revocation::rule_id).collect();
        for rule in held.of_region(region).filter(|_| held.settles) {
            if let Err(error) = self.state.journal.release_held(rule).await {
                tracing::warn!(account, region, rule = rule.rule_id(), error = %error, "held-back rule not released");
            }
        }
        let mut by_group: BTreeMap<(String, bool), Vec<Finding>> = BTreeMap::new();
        for finding in findings {
            let group = finding.rule.group_id.clone().unwrap_or_default();
            let was_held = finding
                .rule
                .rule_id
                .as_deref()
                .is_some_and(|id| rechecked.contains(id));
            by_group.entry((group, was_held)).or_default().push(finding);
        }
        let mut out = Vec::new();
        for ((group_id, was_held), findings) in by_group {
            // A held-back rule was to be revoked: the account's own mode, whatever the sweep's.
            let mode = match (was_held, held.mode) {
                (true, Some(own)) => own,
                _ => mode,
            };
            let acted = act(
                &ec2,
                &group_id,
                findings,
                mode,
                &RevokeSource::Sweep,
                budget,
                &self.state.journal,
            )
            .await;
            let context = groups
                .get(&group_id)
                .map(|g| GroupContext::new(&group_id, g, &self.context_tags, Some(region)));
            out.extend(acted.into_iter().map(|f| FindingOutcome {
                group: context.clone(),
                attribution: was_held.then_some(Attribution::HeldBack),
                ..f
            }));
        }
        let counts = Counts {
            groups: groups.len(),
            rules: rules.len(),
            ..Counts::of_findings(&out)
        };
        Ok((counts, out))
    }
}

/// The accounts of the scope, active or not (the sweep skips and reports those that are not);
/// an organization's always with the hub's and the management account.
pub async fn accounts<H: HubApi>(hub: &H, scope: &Scope) -> Result<Vec<OrgAccount>, ScopeError> {
    let named = |id: String, name: Option<String>| OrgAccount {
        id,
        name,
        status: "ACTIVE".to_owned(),
    };
    match &scope.accounts {
        Accounts::Organization if scope.ous.is_empty() => {
            let listed = hub.organization_accounts().await.map_err(|mut e| {
                e.message = format!(
                    "cannot list the organization's accounts ({}); sweep named accounts with \
                     `--accounts ID,...` or the own account with `--accounts self`",
                    e.message
                );
                e
            })?;
            Ok(guard::with_own_accounts(hub, listed).await)
        }
        Accounts::Organization => {
            let listed = hub.accounts_under(&scope.ous).await?;
            Ok(guard::with_own_accounts(hub, listed).await)
        }
        Accounts::Hub => {
            let id = hub.hub_account().to_owned();
            let name = hub.account_name(&id).await;
            Ok(vec![named(id, name)])
        }
        Accounts::List(ids) => {
            let mut accounts = Vec::with_capacity(ids.len());
            for id in ids {
                let name = hub.account_name(id).await;
                accounts.push(named(id.clone(), name));
            }
            Ok(accounts)
        }
    }
}
