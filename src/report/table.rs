//! The table: one line per finding, readable at a glance.

use std::fmt::Write as _;

use crate::finding::{Finding, Report};

fn cell(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn ports(finding: &Finding) -> String {
    finding
        .rule
        .ports
        .map_or_else(|| "-".to_owned(), |ports| ports.to_string())
}

/// The columns that describe a finding, after the first (its action or outcome).
const FINDING_HEADER: [&str; 10] = [
    "SEVERITY", "ACCOUNT", "REGION", "GROUP", "RULE", "DIR", "PROTO", "PORTS", "PEER", "WHY",
];

fn finding_cells(finding: &Finding) -> [String; 10] {
    let top = finding
        .violations
        .iter()
        .find(|v| v.exemption.is_none())
        .or(finding.violations.first());
    let mut why = top
        .map(|v| format!("{}: {}", v.policy_rule, v.reason))
        .unwrap_or_default();
    if finding.violations.len() > 1 {
        let _ = write!(why, " (+{} more)", finding.violations.len() - 1);
    }
    if let Some(exemption) = &finding.exemption {
        let _ = write!(why, " [exempt: {}]", exemption.reason);
    }
    if let Some(protection) = &finding.protected {
        let _ = write!(why, " [protected: {}]", protection.reason);
    }
    [
        finding.severity().to_string(),
        cell(finding.rule.account_id.as_deref()),
        cell(finding.rule.region.as_deref()),
        cell(finding.rule.group_id.as_deref()),
        cell(finding.rule.rule_id.as_deref()),
        match finding.rule.direction {
            crate::rule::Direction::Ingress => "in".to_owned(),
            crate::rule::Direction::Egress => "out".to_owned(),
        },
        finding.rule.protocol.to_string(),
        ports(finding),
        finding.rule.peer.to_string(),
        why,
    ]
}

/// Aligns rows under a header; the last column is not padded. Nothing for no rows.
fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.chars().count());
        }
    }
    let mut line = |values: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (value, width)) in values.zip(&widths).enumerate() {
            if i + 1 == header.len() {
                text.push_str(value);
            } else {
                let _ = write!(text, "{value:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// A finding the baseline would revoke but for its protected group.
fn is_protected(finding: &Finding) -> bool {
    !finding.exempt
        && finding.protected.is_some()
        && finding.action == crate::finding::Action::Revoke
}

/// `, 2 protected` when some findings are in protected groups; nothing otherwise.
fn protected_note(protected: usize) -> String {
    if protected == 0 {
        String::new()
    } else {
        format!(", {protected} protected")
    }
}

/// Renders the report as an aligned table followed by a one-line summary.
pub fn table(report: &Report) -> String {
    // SEVERITY first, as people scan for it, then the baseline's ACTION.
    let mut header = FINDING_HEADER.to_vec();
    header.insert(1, "ACTION");
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|finding| {
            let action = if finding.exempt {
                "exempt".to_owned()
            } else if is_protected(finding) {
                "protected".to_owned()
            } else {
                finding.action.to_string()
            };
            let mut cells = finding_cells(finding).to_vec();
            cells.insert(1, action);
            cells
        })
        .collect();
    let mut out = aligned(&header, &rows);
    let exempt = report.findings.iter().filter(|f| f.exempt).count();
    let protected = report.findings.iter().filter(|f| is_protected(f)).count();
    let revoke = report
        .findings
        .iter()
        .filter(|f| !f.exempt && !is_protected(f) && f.action == crate::finding::Action::Revoke)
        .count();
    let notify = report.findings.len() - exempt - protected - revoke;
    let _ = writeln!(
        out,
        "{} finding{} ({revoke} revoke, {notify} notify, {exempt} exempt{}) in {} rule{} evaluated{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        protected_note(protected),
        report.rules_evaluated,
        if report.rules_evaluated == 1 { "" } else { "s" },
        if report.errors.is_empty() {
            String::new()
        } else {
            format!("; {} input error(s)", report.errors.len())
        }
    );
    out
}

/// Renders a sweep: the findings with what was done, one line per account, the failures, and
/// the totals.
pub fn sweep_table(report: &crate::outcome::SweepReport) -> String {
    let header: Vec<&str> = std::iter::once("OUTCOME").chain(FINDING_HEADER).collect();
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            std::iter::once(f.outcome.as_str().to_owned())
                .chain(finding_cells(&f.finding))
                .collect()
        })
        .collect();
    let mut out = aligned(&header, &rows);
    if !out.is_empty() {
        out.push('\n');
    }
    let enforced = report.remediate && report.mode == crate::outcome::Mode::Enforce;
    let account_rows: Vec<Vec<String>> = report
        .accounts
        .iter()
        .map(|a| {
            let failed_regions = a.regions.iter().filter(|r| r.error.is_some()).count();
            let gap = report
                .gaps
                .iter()
                .find(|g| g.account_id == a.account_id && g.region.is_none());
            let status = match (gap, &a.error, failed_regions) {
                (Some(gap), _, _) => format!("NOT GUARDED: {}", gap.kind),
                (None, Some(error), _) => format!("FAILED: {error}"),
                (None, None, 0) => "ok".to_owned(),
                (None, None, n) => format!("{n} region(s) failed"),
            };
            vec![
                a.account_id.clone(),
                cell(a.account_name.as_deref()),
                a.regions.len().to_string(),
                a.counts.groups.to_string(),
                a.counts.rules.to_string(),
                a.counts.findings.to_string(),
                if enforced {
                    a.counts.revoked.to_string()
                } else {
                    a.counts.would_revoke.to_string()
                },
                a.counts.failed.to_string(),
                status,
            ]
        })
        .collect();
    out.push_str(&aligned(
        &[
            "ACCOUNT",
            "NAME",
            "REGIONS",
            "GROUPS",
            "RULES",
            "FINDINGS",
            if enforced { "REVOKED" } else { "WOULD REVOKE" },
            "FAILED",
            "STATUS",
        ],
        &account_rows,
    ));
    for skipped in &report.skipped_accounts {
        let _ = writeln!(out, "skipped {}: {}", skipped.account_id, skipped.reason);
    }
    for error in &report.errors {
        let _ = writeln!(out, "error: {error}");
    }
    for gap in &report.gaps {
        let _ = writeln!(out, "gap: {}", gap.line());
    }
    for u in &report.undelivered {
        let _ = writeln!(
            out,
            "undelivered: account {} region {}: {} event(s) wait in the forwarding dead-letter \
             queue",
            u.account_id, u.region, u.messages
        );
    }
    for (account, forwarding, regions) in report.gaps_by_account() {
        let _ = writeln!(
            out,
            "coverage gap: {account} {}: no forwarding rule; {}",
            regions.join(","),
            forwarding.advice()
        );
    }
    for (account, region) in report.denied_regions() {
        let _ = writeln!(
            out,
            "denied by policy: {account} {region}: a service control policy denies the region; \
             not swept"
        );
    }
    let t = &report.totals.counts;
    let acted = if enforced {
        format!("{} revoked", t.revoked)
    } else {
        format!("{} would be revoked (nothing changed)", t.would_revoke)
    };
    let _ = writeln!(
        out,
        "{} finding{} ({acted}, {} exempt{}) in {} rule{} of {} account{}{} in {:.1} s",
        t.findings,
        if t.findings == 1 { "" } else { "s" },
        t.exempt,
        protected_note(t.protected),
        t.rules,
        if t.rules == 1 { "" } else { "s" },
        report.accounts.len(),
        if report.accounts.len() == 1 { "" } else { "s" },
        sweep_caveats(report),
        report.seconds,
    );
    out
}

/// What the sweep's last line adds: its failures, coverage gaps and regions denied by policy.
fn sweep_caveats(report: &crate::outcome::SweepReport) -> String {
    let totals = &report.totals;
    [
        (report.errors.len(), "failure(s)"),
        (totals.coverage_gaps, "coverage gap(s)"),
        (totals.regions_denied, "region(s) denied by policy"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("; {n} {what}"))
    .collect()
}
