//! The table: one line per finding, readable at a glance.

use std::fmt::Write as _;

use crate::finding::{Finding, Report};

fn cell(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn ports(finding: &Finding) -> String {
    match (finding.from_port, finding.to_port) {
        (Some(from), Some(to)) if from == to => from.to_string(),
        (Some(from), Some(to)) => format!("{from}-{to}"),
        _ => "-".to_owned(),
    }
}

/// Renders the report as an aligned table followed by a one-line summary.
pub fn table(report: &Report) -> String {
    let header = [
        "SEVERITY", "ACTION", "ACCOUNT", "REGION", "GROUP", "RULE", "DIR", "PROTO", "PORTS",
        "PEER", "WHY",
    ];
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(report.findings.len());
    for finding in &report.findings {
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
        let action = if finding.exempt {
            "exempt".to_owned()
        } else {
            finding.action.to_string()
        };
        rows.push(vec![
            finding.severity().to_string(),
            action,
            cell(finding.account_id.as_deref()),
            cell(finding.region.as_deref()),
            cell(finding.group_id.as_deref()),
            cell(finding.rule_id.as_deref()),
            match finding.direction {
                crate::rule::Direction::Ingress => "in".to_owned(),
                crate::rule::Direction::Egress => "out".to_owned(),
            },
            finding.protocol.to_string(),
            ports(finding),
            finding.peer.to_string(),
            why,
        ]);
    }
    let mut out = String::new();
    if !rows.is_empty() {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in &rows {
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
        for row in &rows {
            line(&mut row.iter().map(String::as_str));
        }
    }
    let exempt = report.findings.iter().filter(|f| f.exempt).count();
    let revoke = report
        .findings
        .iter()
        .filter(|f| !f.exempt && f.action == crate::policy::Action::Revoke)
        .count();
    let notify = report.findings.len() - exempt - revoke;
    let _ = writeln!(
        out,
        "{} finding{} ({revoke} revoke, {notify} notify, {exempt} exempt) in {} rule{} evaluated{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
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
