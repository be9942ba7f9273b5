//! The organization sweep: every rule in every chosen account and region, read live, judged by
//! the baseline and (with `remediate`) revoked through the same path as the event flow. Events
//! can be lost and rules can predate the guard; the sweep is what catches them.
//!
//! Work is split in two bounded-concurrency phases: each account is reached first (AssumeRole,
//! enabled regions), then every account × region is read and judged. An account that cannot be
//! reached is reported with the reason and the others are still swept.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::aws::{Aws, AwsError, Notification, OrgAccount};
use crate::finding::Finding;
use crate::policy::{Baseline, Evaluator, Severity};
use crate::remediate::{FindingOutcome, Outcome, Remediator, resolve_prefix_lists};
use crate::settings::Mode;

/// Which accounts to sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    /// Every active account of the organization (or below `ous`).
    Organization,
    /// The account of the credentials sgguard runs with.
    Hub,
    /// These accounts.
    List(Vec<String>),
}

/// Which regions to sweep in each account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// Every region enabled in the account (DescribeRegions).
    Enabled,
    List(Vec<String>),
}

/// What a sweep covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub accounts: Accounts,
    /// Organizational units (or roots) whose accounts, nested units included, are swept; only
    /// with [`Accounts::Organization`].
    pub ous: Vec<String>,
    pub regions: Regions,
}

/// Why a scope cannot be swept as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("`{0}` is not an account id (12 digits), `org` or `self`")]
    BadAccount(String),
    #[error("`{0}` is not a region name (such as `eu-west-1`)")]
    BadRegion(String),
    #[error("`{0}` is not an organizational unit or root id (`ou-…`, `r-…`)")]
    BadUnit(String),
    #[error(
        "`--ou` selects accounts of the organization: it cannot be combined with `--accounts {0}`"
    )]
    UnitsWithoutOrganization(String),
    #[error("{0}")]
    Aws(#[from] AwsError),
}

impl Scope {
    /// Parses the command line's (and the schedule payload's) words: `accounts` is `org`,
    /// `self` or account ids; `regions` is `all` or region names.
    pub fn parse(
        accounts: &[String],
        ous: &[String],
        regions: &[String],
    ) -> Result<Scope, ScopeError> {
        let accounts = match accounts {
            [] => Accounts::Organization,
            [one] if one == "org" => Accounts::Organization,
            [one] if one == "self" => Accounts::Hub,
            ids => {
                for id in ids {
                    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ScopeError::BadAccount(id.clone()));
                    }
                }
                let mut ids = ids.to_vec();
                ids.sort();
                ids.dedup();
                Accounts::List(ids)
            }
        };
        if !ous.is_empty() && accounts != Accounts::Organization {
            let given = match &accounts {
                Accounts::Hub => "self".to_owned(),
                Accounts::List(ids) => ids.join(","),
                Accounts::Organization => String::new(),
            };
            return Err(ScopeError::UnitsWithoutOrganization(given));
        }
        for ou in ous {
            let valid = (ou.starts_with("ou-") || ou.starts_with("r-"))
                && ou.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !valid {
                return Err(ScopeError::BadUnit(ou.clone()));
            }
        }
        let regions = match regions {
            [] => Regions::Enabled,
            [one] if one == "all" => Regions::Enabled,
            names => {
                for name in names {
                    let valid = name.split('-').count() >= 3
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        && name.ends_with(|c: char| c.is_ascii_digit());
                    if !valid {
                        return Err(ScopeError::BadRegion(name.clone()));
                    }
                }
                let mut unique: Vec<String> = Vec::with_capacity(names.len());
                for name in names {
                    if !unique.contains(name) {
                        unique.push(name.clone());
                    }
                }
                Regions::List(unique)
            }
        };
        Ok(Scope {
            accounts,
            ous: ous.to_vec(),
            regions,
        })
    }
}

/// Counts of one region, one account or the whole sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Security groups read.
    pub groups: usize,
    /// Rules evaluated.
    pub rules: usize,
    /// Findings that are not exempt.
    pub findings: usize,
    pub exempt: usize,
    pub revoked: usize,
    pub would_revoke: usize,
    /// Revocations that failed.
    pub failed: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.groups += other.groups;
        self.rules += other.rules;
        self.findings += other.findings;
        self.exempt += other.exempt;
        self.revoked += other.revoked;
        self.would_revoke += other.would_revoke;
        self.failed += other.failed;
    }

    fn of_findings(findings: &[FindingOutcome]) -> Counts {
        let count = |outcome: Outcome| findings.iter().filter(|f| f.outcome == outcome).count();
        Counts {
            findings: findings
                .iter()
                .filter(|f| f.outcome != Outcome::Exempt)
                .count(),
            exempt: count(Outcome::Exempt),
            revoked: count(Outcome::Revoked),
            would_revoke: count(Outcome::WouldRevoke),
            failed: count(Outcome::Failed),
            ..Counts::default()
        }
    }
}

/// One region of one account.
#[derive(Debug, Clone, Serialize)]
pub struct RegionSummary {
    pub region: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// Why the region could not be swept (or not completely).
    pub error: Option<String>,
}

/// One account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub account_id: String,
    pub account_name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    pub regions: Vec<RegionSummary>,
    /// Why the account could not be reached (no role, denied, no regions).
    pub error: Option<String>,
}

/// An account the sweep left out on purpose.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedAccount {
    pub account_id: String,
    pub account_name: Option<String>,
    pub reason: String,
}

/// Everything a sweep found and did: what `scan --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub version: u32,
    pub mode: Mode,
    pub remediate: bool,
    pub rules_evaluated: usize,
    #[serde(flatten)]
    pub totals: Counts,
    pub accounts: Vec<AccountSummary>,
    pub skipped_accounts: Vec<SkippedAccount>,
    pub findings: Vec<FindingOutcome>,
    /// One line per account or region that failed, naming it.
    pub errors: Vec<String>,
    pub seconds: f64,
}

impl SweepReport {
    /// True when some account, region or revocation failed.
    pub fn incomplete(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// A sweep with one AWS context and one baseline.
pub struct Sweep<'a> {
    pub aws: &'a Aws,
    pub baseline: &'a Baseline,
    /// `enforce` revokes; `audit` reports what would be revoked.
    pub mode: Mode,
    /// Without it the sweep only reads and reports (as in audit mode).
    pub remediate: bool,
    /// Accounts (first phase) and account × regions (second phase) worked on at once.
    pub concurrency: usize,
    /// No new account × region is started after this instant (the Lambda's deadline).
    pub deadline: Option<Instant>,
    /// Account × regions done; hidden when not on a terminal.
    pub progress: ProgressBar,
}

/// One account, reached.
struct Reached {
    account: OrgAccount,
    regions: Result<Vec<String>, AwsError>,
}

impl Sweep<'_> {
    /// The mode findings are acted on with: without `remediate`, nothing is revoked.
    pub fn effective_mode(&self) -> Mode {
        if self.remediate {
            self.mode
        } else {
            Mode::Audit
        }
    }

    /// Sweeps the scope. Fails only when the accounts cannot be listed at all; every later
    /// failure is reported in the result and the rest is still swept.
    pub async fn run(&self, scope: &Scope) -> Result<SweepReport, ScopeError> {
        let started = Instant::now();
        let listed = self.accounts(scope).await?;
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
        let concurrency = self.concurrency.max(1);
        let total_accounts = active.len();
        self.progress
            .set_message(format!("accounts 0/{total_accounts}"));

        // Phase 1: reach every account (credentials, regions).
        let reached: Vec<Reached> = stream::iter(active)
            .map(|account| self.reach(account, &scope.regions))
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
                    regions
                        .iter()
                        .map(|region| (r.account.id.as_str(), region.as_str())),
                );
            }
        }
        let mut done_accounts = total_accounts - remaining.values().filter(|n| **n > 0).count();
        self.progress
            .set_message(format!("accounts {done_accounts}/{total_accounts}"));
        let mut results = stream::iter(units)
            .map(|(account, region)| self.sweep_region(account, region))
            .buffer_unordered(concurrency);
        let mut by_account: HashMap<String, Vec<(RegionSummary, Vec<FindingOutcome>)>> =
            HashMap::new();
        while let Some((account, summary, findings)) = results.next().await {
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
            by_account
                .entry(account)
                .or_default()
                .push((summary, findings));
        }
        drop(results);
        self.progress.finish_and_clear();

        Ok(self.assemble(reached, by_account, skipped_accounts, started))
    }

    async fn accounts(&self, scope: &Scope) -> Result<Vec<OrgAccount>, ScopeError> {
        let named = |id: String, name: Option<String>| OrgAccount {
            id,
            name,
            status: "ACTIVE".to_owned(),
        };
        match &scope.accounts {
            Accounts::Organization if scope.ous.is_empty() => {
                Ok(self.aws.organization_accounts().await.map_err(|mut e| {
                    e.message = format!(
                        "cannot list the organization's accounts ({}); sweep named accounts with \
                         `--accounts ID,...` or the own account with `--accounts self`",
                        e.message
                    );
                    e
                })?)
            }
            Accounts::Organization => Ok(self.aws.accounts_under(&scope.ous).await?),
            Accounts::Hub => {
                let id = self.aws.hub_account().to_owned();
                let name = self.aws.account_name(&id).await;
                Ok(vec![named(id, name)])
            }
            Accounts::List(ids) => {
                let mut accounts = Vec::with_capacity(ids.len());
                for id in ids {
                    let name = self.aws.account_name(id).await;
                    accounts.push(named(id.clone(), name));
                }
                Ok(accounts)
            }
        }
    }

    /// Reaches one account: its credentials (one AssumeRole, cached for the regions) and the
    /// regions to sweep in it.
    async fn reach(&self, account: OrgAccount, regions: &Regions) -> Reached {
        let home = self.aws.home_region();
        let result = async {
            // The client carries the account's credentials (AssumeRole for a member, cached).
            let ec2 = self.aws.ec2(&account.id, home).await?;
            match regions {
                Regions::List(list) => Ok(list.clone()),
                Regions::Enabled => ec2.enabled_regions().await,
            }
        }
        .await;
        match &result {
            Ok(regions) => self.progress.inc_length(regions.len() as u64),
            Err(error) => {
                tracing::warn!(account = %account.id, error = %error, "account not reached")
            }
        }
        Reached {
            account,
            regions: result,
        }
    }

    /// Reads, judges and (with `remediate`) fixes one region of one account.
    async fn sweep_region(
        &self,
        account: &str,
        region: &str,
    ) -> (String, RegionSummary, Vec<FindingOutcome>) {
        let mut summary = RegionSummary {
            region: region.to_owned(),
            counts: Counts::default(),
            error: None,
        };
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            summary.error = Some("not swept: the sweep ran out of time".to_owned());
            return (account.to_owned(), summary, Vec::new());
        }
        match self.judge_region(account, region).await {
            Ok((counts, findings)) => {
                summary.counts = counts;
                (account.to_owned(), summary, findings)
            }
            Err(error) => {
                tracing::warn!(account, region, error = %error, "region not swept");
                summary.error = Some(error.to_string());
                (account.to_owned(), summary, Vec::new())
            }
        }
    }

    /// Every rule of the region read, every group judged whole, the findings acted on.
    async fn judge_region(
        &self,
        account: &str,
        region: &str,
    ) -> Result<(Counts, Vec<FindingOutcome>), AwsError> {
        let ec2 = self.aws.ec2(account, region).await?;
        let tags = ec2.all_group_tags().await?;
        let mut rules = ec2.all_rules().await?;
        resolve_prefix_lists(&ec2, &mut rules, &mut HashMap::new()).await?;
        let evaluator = Evaluator::new(self.baseline, Evaluator::today_utc());
        let findings = evaluator.evaluate_rules(&rules, |rule| {
            rule.group_id.as_deref().and_then(|id| tags.get(id))
        });
        let mut by_group: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
        for finding in findings {
            let group = finding.group_id.clone().unwrap_or_default();
            by_group.entry(group).or_default().push(finding);
        }
        let remediator = Remediator {
            aws: self.aws,
            baseline: self.baseline,
            mode: self.effective_mode(),
            topic_arn: None,
        };
        let mut out = Vec::new();
        for (group_id, findings) in by_group {
            out.extend(remediator.act(&ec2, &group_id, findings, "sweep").await);
        }
        let counts = Counts {
            groups: tags.len(),
            rules: rules.len(),
            ..Counts::of_findings(&out)
        };
        Ok((counts, out))
    }

    fn assemble(
        &self,
        reached: Vec<Reached>,
        mut by_account: HashMap<String, Vec<(RegionSummary, Vec<FindingOutcome>)>>,
        skipped_accounts: Vec<SkippedAccount>,
        started: Instant,
    ) -> SweepReport {
        let mut report = SweepReport {
            version: 1,
            mode: self.effective_mode(),
            remediate: self.remediate,
            rules_evaluated: 0,
            totals: Counts::default(),
            accounts: Vec::with_capacity(reached.len()),
            skipped_accounts,
            findings: Vec::new(),
            errors: Vec::new(),
            seconds: 0.0,
        };
        for Reached { account, regions } in reached {
            let mut summary = AccountSummary {
                account_id: account.id.clone(),
                account_name: account.name,
                counts: Counts::default(),
                regions: Vec::new(),
                error: None,
            };
            match regions {
                Err(error) => {
                    report
                        .errors
                        .push(format!("account {}: {error}", account.id));
                    summary.error = Some(error.to_string());
                }
                Ok(order) => {
                    let mut swept = by_account.remove(&account.id).unwrap_or_default();
                    // Regions in the order asked (or DescribeRegions' sorted order).
                    swept.sort_by_key(|(r, _)| order.iter().position(|o| *o == r.region));
                    for (region, findings) in swept {
                        summary.counts.add(&region.counts);
                        if let Some(error) = &region.error {
                            report.errors.push(format!(
                                "account {} region {}: {error}",
                                account.id, region.region
                            ));
                        }
                        for failed in findings.iter().filter(|f| f.outcome == Outcome::Failed) {
                            report.errors.push(format!(
                                "account {} region {}: revoking {} failed: {}",
                                account.id,
                                region.region,
                                failed.finding.rule_id.as_deref().unwrap_or("-"),
                                failed.error.as_deref().unwrap_or("unknown error")
                            ));
                        }
                        report.findings.extend(findings);
                        summary.regions.push(region);
                    }
                    if order.is_empty() {
                        summary.error = Some("no region to sweep: none is enabled".to_owned());
                        report
                            .errors
                            .push(format!("account {}: no region is enabled", account.id));
                    }
                }
            }
            report.totals.add(&summary.counts);
            report.accounts.push(summary);
        }
        report
            .accounts
            .sort_by(|a, b| a.account_id.cmp(&b.account_id));
        report.findings.sort_by(|a, b| {
            let key = |f: &FindingOutcome| {
                (
                    f.finding.account_id.clone(),
                    f.finding.region.clone(),
                    f.finding.group_id.clone(),
                    f.finding.rule_id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        report.rules_evaluated = report.totals.rules;
        report.seconds = started.elapsed().as_secs_f64();
        report
    }
}

/// The CloudWatch Embedded Metric Format document of a sweep (printed by the Lambda): the
/// counts an alarm or a dashboard follows, in the namespace of the per-event metrics.
pub fn sweep_metrics_line(report: &SweepReport, timestamp_ms: u128) -> String {
    let t = &report.totals;
    crate::report::emf_line(
        timestamp_ms,
        report.mode,
        &[
            ("SweepAccounts", "Count", report.accounts.len().into()),
            ("SweepRules", "Count", t.rules.into()),
            ("SweepFindings", "Count", t.findings.into()),
            ("SweepRevoked", "Count", t.revoked.into()),
            ("SweepFailures", "Count", report.errors.len().into()),
            ("SweepSeconds", "Seconds", report.seconds.into()),
        ],
        serde_json::Map::new(),
    )
}

/// Most findings a sweep notification lists (SNS messages are at most 256 KB).
const NOTIFIED_FINDINGS: usize = 25;
/// Most accounts a sweep notification lists one by one.
const NOTIFIED_ACCOUNTS: usize = 100;

/// The one SNS message a scheduled sweep publishes: totals, the accounts with findings or
/// failures, the most severe findings, and every failure (capped to fit SNS's size limit).
pub fn sweep_notification(report: &SweepReport, hub_account: &str) -> Notification {
    let t = &report.totals;
    let regions: usize = report.accounts.iter().map(|a| a.regions.len()).sum();
    let failed_parts = report.errors.len();
    let action = if failed_parts > 0 {
        "failed"
    } else if t.revoked > 0 {
        "revoked"
    } else if t.would_revoke > 0 {
        "would_revoke"
    } else if t.findings > 0 {
        "reported"
    } else {
        "clean"
    };
    let what = match action {
        "failed" => format!("{failed_parts} failure(s), {} revoked", t.revoked),
        "revoked" => format!("revoked {} rule(s)", t.revoked),
        "would_revoke" => format!("would revoke {} rule(s)", t.would_revoke),
        "reported" => format!("{} finding(s)", t.findings),
        _ => "no findings".to_owned(),
    };
    let mut subject = format!(
        "sgguard sweep: {what} in {} account(s), {regions} region(s)",
        report.accounts.len()
    );
    if subject.chars().count() > 100 {
        subject = subject.chars().take(99).collect::<String>() + "…";
    }
    let notable: Vec<&AccountSummary> = report
        .accounts
        .iter()
        .filter(|a| {
            a.counts.findings > 0
                || a.error.is_some()
                || a.regions.iter().any(|r| r.error.is_some())
        })
        .collect();
    let mut top: Vec<&FindingOutcome> = report
        .findings
        .iter()
        .filter(|f| f.outcome != Outcome::Exempt)
        .collect();
    top.sort_by_key(|f| std::cmp::Reverse(f.finding.severity()));
    top.truncate(NOTIFIED_FINDINGS);

    let mut text = format!(
        "Sweep of {} account(s) and {regions} account-region(s) in {:.1} s, mode {}{}.\n\
         Groups {}, rules {}, findings {}, revoked {}, would revoke {}, failed {}, exempt {}.\n",
        report.accounts.len(),
        report.seconds,
        report.mode,
        if report.remediate {
            ""
        } else {
            " (report only)"
        },
        t.groups,
        t.rules,
        t.findings,
        t.revoked,
        t.would_revoke,
        t.failed,
        t.exempt,
    );
    if !notable.is_empty() {
        text.push_str("\nAccounts with findings or failures:\n");
        for a in notable.iter().take(NOTIFIED_ACCOUNTS) {
            text.push_str(&format!(
                "- {}{}: findings {}, revoked {}, would revoke {}, failed {}{}\n",
                a.account_id,
                a.account_name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                a.counts.findings,
                a.counts.revoked,
                a.counts.would_revoke,
                a.counts.failed,
                a.error
                    .as_deref()
                    .map(|e| format!(" — {e}"))
                    .unwrap_or_default(),
            ));
        }
        if notable.len() > NOTIFIED_ACCOUNTS {
            text.push_str(&format!(
                "- … and {} more\n",
                notable.len() - NOTIFIED_ACCOUNTS
            ));
        }
    }
    if !top.is_empty() {
        text.push_str("\nMost severe findings:\n");
        for f in &top {
            let v = f.finding.violations.first();
            text.push_str(&format!(
                "- {}: {} {} group {} rule {} ({} {} {}): {}\n",
                f.outcome.as_str().to_uppercase(),
                f.finding.account_id.as_deref().unwrap_or("-"),
                f.finding.region.as_deref().unwrap_or("-"),
                f.finding.group_id.as_deref().unwrap_or("-"),
                f.finding.rule_id.as_deref().unwrap_or("-"),
                f.finding.direction,
                f.finding.protocol,
                f.finding.peer,
                v.map(|v| v.policy_rule.as_str()).unwrap_or("-"),
            ));
        }
    }
    if !report.errors.is_empty() {
        text.push_str("\nFailures:\n");
        for error in report.errors.iter().take(NOTIFIED_ACCOUNTS) {
            text.push_str(&format!("- {error}\n"));
        }
        if report.errors.len() > NOTIFIED_ACCOUNTS {
            text.push_str(&format!(
                "- … and {} more\n",
                report.errors.len() - NOTIFIED_ACCOUNTS
            ));
        }
    }
    let accounts: Vec<serde_json::Value> = notable
        .iter()
        .take(NOTIFIED_ACCOUNTS)
        .map(|a| {
            serde_json::json!({
                "account_id": a.account_id,
                "account_name": a.account_name,
                "counts": a.counts,
                "error": a.error,
                "regions_failed": a.regions.iter().filter(|r| r.error.is_some()).map(|r| &r.region).collect::<Vec<_>>(),
            })
        })
        .collect();
    let json = serde_json::json!({
        "kind": "sweep",
        "version": report.version,
        "mode": report.mode,
        "remediate": report.remediate,
        "seconds": report.seconds,
        "accounts_swept": report.accounts.len(),
        "regions_swept": regions,
        "totals": report.totals,
        "accounts": accounts,
        "accounts_listed": notable.len().min(NOTIFIED_ACCOUNTS),
        "accounts_with_findings_or_failures": notable.len(),
        "top_findings": top,
        "errors": report.errors.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        "errors_total": report.errors.len(),
        "skipped_accounts": report.skipped_accounts,
    });
    let severity = top.first().map_or(Severity::Info, |f| f.finding.severity());
    let affected: Vec<&str> = notable.iter().map(|a| a.account_id.as_str()).collect();
    let account_ids = if affected.is_empty() {
        hub_account.to_owned()
    } else if affected.len() <= 20 {
        affected.join(",")
    } else {
        "multiple".to_owned()
    };
    Notification {
        subject,
        text,
        json: json.to_string(),
        attributes: vec![
            ("account_id", account_ids),
            ("actor_arn", "sgguard:sweep".to_owned()),
            ("region", "multiple".to_owned()),
            ("action", action.to_owned()),
            ("severity", severity.to_string()),
            ("kind", "sweep".to_owned()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Violation};
    use crate::policy::Action;
    use crate::rule::{Direction, Peer, Protocol};

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn scopes_parse_and_bad_words_are_named() {
        let scope = Scope::parse(&words(&["org"]), &[], &words(&["all"])).unwrap();
        assert_eq!(
            (scope.accounts, scope.regions),
            (Accounts::Organization, Regions::Enabled)
        );
        let scope = Scope::parse(
            &words(&["222233334444", "111122223333", "222233334444"]),
            &[],
            &words(&["eu-west-1", "us-gov-west-1", "eu-west-1"]),
        )
        .unwrap();
        assert_eq!(
            scope.accounts,
            Accounts::List(words(&["111122223333", "222233334444"]))
        );
        assert_eq!(
            scope.regions,
            Regions::List(words(&["eu-west-1", "us-gov-west-1"]))
        );
        let error = Scope::parse(&words(&["1111"]), &[], &[]).unwrap_err();
        assert!(error.to_string().contains("`1111`"), "{error}");
        let error = Scope::parse(&[], &[], &words(&["EU-WEST-1"])).unwrap_err();
        assert!(error.to_string().contains("`EU-WEST-1`"), "{error}");
        let error = Scope::parse(&[], &words(&["sandbox"]), &[]).unwrap_err();
        assert!(error.to_string().contains("`sandbox`"), "{error}");
        assert!(Scope::parse(&words(&["self"]), &words(&["ou-ab12-cdef3456"]), &[]).is_err());
    }

    fn finding(account: &str, n: usize) -> FindingOutcome {
        FindingOutcome {
            finding: Finding {
                account_id: Some(account.to_owned()),
                region: Some("eu-west-1".to_owned()),
                group_id: Some(format!("sg-{n:017x}")),
                rule_id: Some(format!("sgr-{n:017x}")),
                direction: Direction::Ingress,
                protocol: Protocol::Tcp,
                from_port: Some(22),
                to_port: Some(22),
                peer: Peer::Ipv4("0.0.0.0/0".parse().unwrap()),
                violations: vec![Violation {
                    policy_rule: "admin-ports-from-internet".to_owned(),
                    severity: Severity::Critical,
                    action: Action::Revoke,
                    reason: "tcp 22 is open to the internet".to_owned(),
                    exemption: None,
                }],
                action: Action::Revoke,
                exempt: false,
                exemption: None,
                source: Some("sweep".to_owned()),
            },
            outcome: Outcome::Revoked,
            error: None,
            aws_error: None,
        }
    }

    /// 40 accounts with 100 revoked findings each, and one failed account.
    fn big_report() -> SweepReport {
        let mut report = SweepReport {
            version: 1,
            mode: Mode::Enforce,
            remediate: true,
            rules_evaluated: 0,
            totals: Counts::default(),
            accounts: Vec::new(),
            skipped_accounts: Vec::new(),
            findings: Vec::new(),
            errors: vec!["account 999999999999: AssumeRole failed: AccessDenied".to_owned()],
            seconds: 12.5,
        };
        for a in 0..40 {
            let account = format!("{:012}", 100_000_000_000_u64 + a);
            let findings: Vec<FindingOutcome> = (0..100).map(|n| finding(&account, n)).collect();
            let counts = Counts {
                groups: 100,
                rules: 1000,
                ..Counts::of_findings(&findings)
            };
            report.totals.add(&counts);
            report.accounts.push(AccountSummary {
                account_id: account,
                account_name: None,
                counts,
                regions: vec![RegionSummary {
                    region: "eu-west-1".to_owned(),
                    counts,
                    error: None,
                }],
                error: None,
            });
            report.findings.extend(findings);
        }
        report
    }

    #[test]
    fn the_summary_notification_fits_sns_and_says_what_failed() {
        let report = big_report();
        let notification = sweep_notification(&report, "123456789012");
        assert!(notification.subject.chars().count() <= 100);
        assert!(
            notification
                .subject
                .starts_with("sgguard sweep: 1 failure(s), 4000 revoked")
        );
        // SNS takes at most 256 KB for the whole message (text and JSON are both sent).
        assert!(notification.text.len() + 2 * notification.json.len() < 200_000);
        let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
        assert_eq!(json["totals"]["revoked"], 4000);
        assert_eq!(
            json["top_findings"].as_array().unwrap().len(),
            NOTIFIED_FINDINGS
        );
        assert_eq!(json["errors_total"], 1);
        assert!(notification.text.contains("account 999999999999"));
        let attribute = |name: &str| {
            notification
                .attributes
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(attribute("account_id"), "multiple", "40 accounts");
        assert_eq!(attribute("action"), "failed");
        assert_eq!(attribute("kind"), "sweep");
    }

    #[test]
    fn the_metrics_line_is_embedded_metric_format() {
        let line: serde_json::Value =
            serde_json::from_str(&sweep_metrics_line(&big_report(), 1_700_000_000_000)).unwrap();
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "sgguard");
        assert_eq!(line["SweepAccounts"], 40);
        assert_eq!(line["SweepRevoked"], 4000);
        assert_eq!(line["SweepFailures"], 1);
        assert_eq!(line["Mode"], "enforce");
    }
}
