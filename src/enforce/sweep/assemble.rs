//! The sweep's report: every account's regions in the order asked, findings sorted, every
//! failure, tampering and revoke error listed once in `errors`, the coverage gaps by account
//! and region, the guard's gaps and undelivered events apart, totals added up (regions denied
//! by policy and coverage gaps counted too).

use std::collections::HashMap;
use std::time::Instant;

use super::guard::Guard;
use super::{HubApi, Reached, Sweep, Swept};
use crate::outcome::{
    AccountSummary, Counts, FindingOutcome, Outcome, SkippedAccount, SweepReport, SweepTotals,
};

impl<H: HubApi> Sweep<'_, H> {
    /// The report of the accounts reached and the regions swept.
    pub(super) fn assemble(
        &self,
        reached: Vec<Reached>,
        mut by_account: HashMap<String, Vec<Swept>>,
        skipped_accounts: Vec<SkippedAccount>,
        management: Option<&str>,
        started: Instant,
    ) -> SweepReport {
        let guard = Guard { management };
        let mut report = SweepReport {
            version: 1,
            mode: self.effective_mode(),
            remediate: self.remediate,
            rules_evaluated: 0,
            totals: SweepTotals::default(),
            accounts: Vec::with_capacity(reached.len()),
            skipped_accounts,
            findings: Vec::new(),
            errors: Vec::new(),
            tampering: Vec::new(),
            undelivered: Vec::new(),
            gaps: Vec::new(),
            coverage_gaps: Vec::new(),
            breaker: None,
            seconds: 0.0,
            stored: None,
            coverage: None,
        };
        let staged = !self.effective_staging().scopes.is_empty();
        for Reached {
            account,
            mode,
            regions,
            tampering,
            held,
        } in reached
        {
            report.tampering.extend(tampering);
            if let Some(error) = held.error {
                report
                    .errors
                    .push(format!("account {}: {error}", account.id));
            }
            if mode.by.is_problem() {
                report
                    .errors
                    .push(format!("account {} {}", account.id, mode.by));
            }
            let mut summary = AccountSummary {
                account_id: account.id.clone(),
                account_name: account.name.clone(),
                mode: mode.mode,
                mode_by: staged.then(|| mode.by.to_string()),
                counts: Counts::default(),
                regions: Vec::new(),
                error: None,
            };
            match regions {
                Err(error) => match guard.unreached(&account, &error) {
                    // A deploy step not taken, told as such: not a failure of the sweep.
                    Some(gap) => {
                        summary.error = Some(gap.line());
                        report.gaps.push(gap);
                    }
                    None => {
                        report
                            .errors
                            .push(format!("account {}: {error}", account.id));
                        summary.error = Some(error.to_string());
                    }
                },
                Ok(order) => {
                    let mut swept = by_account.remove(&account.id).unwrap_or_default();
                    // Regions in the order asked (or DescribeRegions' sorted order).
                    swept.sort_by_key(|s| order.iter().position(|o| *o == s.summary.region));
                    for Swept {
                        summary: region,
                        findings,
                        tampering,
                        gap,
                        ..
                    } in swept
                    {
                        report.tampering.extend(tampering);
                        guard.tell_queue(
                            &mut report,
                            &account,
                            &region.region,
                            region.forwarding_queue.as_ref(),
                        );
                        report.coverage_gaps.extend(gap);
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
                                failed.finding.rule.rule_id.as_deref().unwrap_or("-"),
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
            report.totals.counts.add(&summary.counts);
            report.accounts.push(summary);
        }
        in_report_order(&mut report);
        report.totals.coverage_gaps = report.coverage_gaps.len();
        report.totals.regions_denied = report.denied_regions().count();
        // Tampering is a failure: the summary lists it and the failures alarm fires.
        for t in &report.tampering {
            let place = match &t.region {
                Some(region) => format!("account {} region {region}", t.account_id),
                None => format!("account {}", t.account_id),
            };
            report
                .errors
                .push(format!("{place}: tampering: {}", t.problem));
        }
        report.rules_evaluated = report.totals.counts.rules;
        report.seconds = started.elapsed().as_secs_f64();
        report
    }
}

/// The report's order, the same for one sweep and for a distributed sweep's merged parts:
/// accounts (and those skipped) by id, coverage gaps, the guard's gaps and undelivered events
/// by account and region, findings by account, region, group and rule.
pub(crate) fn in_report_order(report: &mut SweepReport) {
    report
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    report
        .skipped_accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    report
        .coverage_gaps
        .sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    report
        .gaps
        .sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    report
        .undelivered
        .sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    report.findings.sort_by(|a, b| {
        let key = |f: &FindingOutcome| {
            (
                f.finding.rule.account_id.clone(),
                f.finding.rule.region.clone(),
                f.finding.rule.group_id.clone(),
                f.finding.rule.rule_id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}
