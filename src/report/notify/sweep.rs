//! The summary message of a sweep: totals, accounts with findings or failures, the most severe
//! findings, every failure, the coverage gaps and the regions denied by policy, each capped to
//! fit SNS.

use std::fmt::Write as _;

use serde_json::json;

use super::guard::{guard_document, guard_text};
use super::{
    Headline, Kind, NOTIFIED_ACCOUNTS, NOTIFIED_FINDINGS, Notification, Told, VERSION,
    breaker_text, finding_line, max_severity, more,
};
use crate::outcome::{AccountSummary, Attribution, FindingOutcome, Outcome, SweepReport};

/// The one message a scheduled sweep publishes: totals, the accounts with findings or
/// failures, the most severe findings, and every failure (capped to fit SNS's size limit).
pub fn sweep_notification(report: &SweepReport, hub_account: &str) -> Notification {
    let t = &report.totals.counts;
    let gaps = report.totals.coverage_gaps;
    let regions: usize = report.accounts.iter().map(|a| a.regions.len()).sum();
    let failed_parts = report.errors.len();
    let headline = Headline::of(failed_parts > 0, t, t.findings, Headline::Clean);
    let what = match headline {
        Headline::Failed => format!("{failed_parts} failure(s), {} revoked", t.revoked),
        Headline::Revoked => format!("revoked {} rule(s)", t.revoked),
        Headline::WouldRevoke => format!("would revoke {} rule(s)", t.would_revoke),
        Headline::Protected => format!(
            "{} finding(s), {} in protected groups (not revoked)",
            t.findings, t.protected
        ),
        Headline::Reported => format!("{} finding(s)", t.findings),
        _ => "no findings".to_owned(),
    };
    let what = match &report.breaker {
        Some(_) => format!("circuit breaker tripped, {what}"),
        None => what,
    };
    let what = if gaps > 0 {
        format!("{what}, {gaps} coverage gap(s)")
    } else {
        what
    };
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
         Groups {}, rules {}, findings {}, revoked {}, would revoke {}, protected {}, failed {}, \
         exempt {}.\n",
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
        t.protected,
        t.failed,
        t.exempt,
    );
    breaker_text(&mut text, report.breaker.as_deref());
    let tampered: std::collections::BTreeSet<&str> = report
        .tampering
        .iter()
        .map(|t| t.account_id.as_str())
        .collect();
    if !tampered.is_empty() {
        let _ = writeln!(
            text,
            "\nTAMPERING: {} change(s) to the sgguard spoke in {} account(s) (listed under \
             Failures): events there may not reach sgguard, or someone else may act as it.",
            report.tampering.len(),
            tampered.len()
        );
    }
    if !notable.is_empty() {
        text.push_str("\nAccounts with findings or failures:\n");
        for a in notable.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(
                text,
                "- {}{}{}: findings {}, revoked {}, would revoke {}, failed {}{}",
                a.account_id,
                a.account_name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                a.mode_by
                    .as_deref()
                    .map(|by| format!(" [{} by {by}]", a.mode))
                    .unwrap_or_default(),
                a.counts.findings,
                a.counts.revoked,
                a.counts.would_revoke,
                a.counts.failed,
                a.error
                    .as_deref()
                    .map(|e| format!(" — {e}"))
                    .unwrap_or_default(),
            );
        }
        more(&mut text, notable.len());
    }
    let held: Vec<&FindingOutcome> = report
        .findings
        .iter()
        .filter(|f| f.attribution == Some(Attribution::HeldBack))
        .collect();
    let (rechecked, revoked, still_open) = (
        held.len(),
        held.iter()
            .filter(|f| f.outcome == Outcome::Revoked)
            .count(),
        held.iter()
            .filter(|f| matches!(f.outcome, Outcome::WouldRevoke | Outcome::Failed))
            .count(),
    );
    if rechecked > 0 {
        let _ = writeln!(
            text,
            "\nHeld back earlier by the circuit breaker and re-checked: {rechecked} (revoked \
             {revoked}, still open {still_open})."
        );
    }
    if !top.is_empty() {
        text.push_str("\nMost severe findings:\n");
        for f in &top {
            let _ = writeln!(
                text,
                "- {} {}: {}{}: {}",
                f.finding.rule.account_id.as_deref().unwrap_or("-"),
                f.finding.rule.region.as_deref().unwrap_or("-"),
                finding_line(f),
                f.group
                    .as_ref()
                    .and_then(|g| g.group_name.as_deref())
                    .map(|name| format!(" in `{name}`"))
                    .unwrap_or_default(),
                f.finding
                    .violations
                    .first()
                    .map_or("-", |v| v.policy_rule.as_str()),
            );
        }
    }
    if !report.errors.is_empty() {
        text.push_str("\nFailures:\n");
        for error in report.errors.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(text, "- {error}");
        }
        more(&mut text, report.errors.len());
    }
    let accounts: Vec<serde_json::Value> = notable
        .iter()
        .take(NOTIFIED_ACCOUNTS)
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "account_name": a.account_name,
                "mode": a.mode,
                "mode_by": a.mode_by,
                "counts": a.counts,
                "error": a.error,
                "regions_failed": a.regions.iter().filter(|r| r.error.is_some()).map(|r| &r.region).collect::<Vec<_>>(),
            })
        })
        .collect();
    let gaps_by_account = report.gaps_by_account();
    if gaps > 0 {
        let _ = writeln!(
            text,
            "\nCOVERAGE GAPS: {gaps} enabled account-region(s) without the sgguard forwarding \
             rule: a change there reaches sgguard only at the next sweep (they were swept)."
        );
        for (account, forwarding, regions) in gaps_by_account.iter().take(NOTIFIED_ACCOUNTS) {
            let name = report
                .accounts
                .iter()
                .find(|a| a.account_id == *account)
                .and_then(|a| a.account_name.as_deref())
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "- {account}{name}: {} — {}",
                regions.join(", "),
                forwarding.advice()
            );
        }
        more(&mut text, gaps_by_account.len());
    }
    let denied: Vec<(&str, &str)> = report.denied_regions().collect();
    if !denied.is_empty() {
        let _ = writeln!(
            text,
            "\nDenied by policy: {} account-region(s) a service control policy denies (not \
             swept: sgguard can neither read nor fix rules there): {}{}",
            denied.len(),
            denied
                .iter()
                .take(NOTIFIED_ACCOUNTS)
                .map(|(account, region)| format!("{account} {region}"))
                .collect::<Vec<_>>()
                .join(", "),
            if denied.len() > NOTIFIED_ACCOUNTS {
                ", …"
            } else {
                ""
            }
        );
    }
    guard_text(&mut text, report);
    if let Some(coverage) = &report.coverage {
        let _ = writeln!(text, "\nCoverage: {}", coverage.headline());
        let uncovered: Vec<_> = coverage.uncovered().collect();
        for p in uncovered.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(
                text,
                "- {} {}: {}",
                p.account_id,
                p.region,
                p.problems.join("; ")
            );
        }
        more(&mut text, uncovered.len());
    }
    if let Some(stored) = &report.stored {
        let _ = writeln!(
            text,
            "\nFull report: {}\n{}",
            stored.uri, stored.console_url
        );
    }
    let _ = writeln!(text, "\nsgguard {VERSION}");
    let (undelivered, gaps) = guard_document(report);
    let document = json!({
        "undelivered": undelivered,
        "gaps": gaps,
        "report": report.stored,
        "coverage": report.coverage.as_ref().map(|c| json!({
            "covered": c.covered,
            "not_covered": c.not_covered,
            "skipped": c.skipped,
            "uncovered": c.uncovered().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        })),
        "regions_skipped": denied.len(),
        "regions_denied": denied
            .iter()
            .take(NOTIFIED_ACCOUNTS)
            .map(|(account, region)| json!({"account_id": account, "region": region}))
            .collect::<Vec<_>>(),
        "coverage_gaps": gaps_by_account
            .iter()
            .take(NOTIFIED_ACCOUNTS)
            .map(|(account, forwarding, regions)| {
                json!({"account_id": account, "forwarding": forwarding, "regions": regions})
            })
            .collect::<Vec<_>>(),
        "kind": "sweep",
        "sgguard_version": VERSION,
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
        "held_back": {"rechecked": rechecked, "revoked": revoked, "still_open": still_open},
        "errors": report.errors.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        "errors_total": report.errors.len(),
        "tampering_total": report.tampering.len(),
        "tampered_accounts": tampered.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        "skipped_accounts": report.skipped_accounts,
    });
    let affected: Vec<&str> = notable.iter().map(|a| a.account_id.as_str()).collect();
    let account_ids = if affected.is_empty() {
        hub_account.to_owned()
    } else if affected.len() <= 20 {
        affected.join(",")
    } else {
        "multiple".to_owned()
    };
    let told = Told {
        kind: Kind::Sweep,
        headline,
        found: max_severity(top.iter().copied()),
        breaker: report.breaker.is_some(),
        place: vec![
            ("account_id", account_ids),
            ("actor_arn", "sgguard:sweep".to_owned()),
            ("region", "multiple".to_owned()),
        ],
    };
    let subject = format!(
        "sgguard sweep: {what} in {} account(s), {regions} region(s)",
        report.accounts.len()
    );
    Notification::new(told, subject, text, document.to_string())
}
