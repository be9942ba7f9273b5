//! After the verdict: the exemptions that cover a finding's violations, and the protection of
//! its group, each matched on the group's id, account or tags.

use jiff::civil::Date;

use crate::finding::{ExemptionMatch, Finding, ProtectionMatch, Tags, Violation};
use crate::policy::baseline::parse_date;
use crate::policy::{Baseline, GroupScope};
use crate::rule::SecurityGroupRule;

/// Marks a finding of a protected group (the first protection that matches); an exempt
/// finding is not a violation, so nothing protects it.
pub(super) fn apply_protection(baseline: &Baseline, finding: &mut Finding, tags: &Tags) {
    if finding.exempt {
        return;
    }
    finding.protected = baseline.protected.iter().find_map(|protection| {
        covers(&protection.scope, &finding.rule, tags).map(|matched| ProtectionMatch {
            reason: protection.reason.clone(),
            matched,
        })
    });
}

/// Marks the violations each exemption covers (the first exemption that covers one names the
/// finding's); a finding whose violations are all covered is exempt, else its action is the
/// strongest open one.
pub(super) fn apply_exemptions(
    baseline: &Baseline,
    today: Date,
    finding: &mut Finding,
    tags: &Tags,
) {
    for exemption in &baseline.exemptions {
        let matched = covers(&exemption.scope, &finding.rule, tags);
        let Some(matched) = matched else { continue };
        let expires = match &exemption.scope {
            // The owner's date in the tag; an unreadable date exempts nothing (fail safe).
            GroupScope::Tag {
                key,
                value_is_expiry: true,
                ..
            } => match tags.get(key).and_then(|v| parse_date(v)) {
                Some(date) => Some(date.min(exemption.expires.unwrap_or(date))),
                None => continue,
            },
            _ => exemption.expires,
        };
        if expires.is_some_and(|date| today > date) {
            continue;
        }
        let mut covered_any = false;
        for violation in &mut finding.violations {
            let covered = violation.exemption.is_none()
                && (exemption.rules.is_empty() || exemption.rules.contains(&violation.policy_rule));
            if covered {
                violation.exemption = Some(exemption.reason.clone());
                covered_any = true;
            }
        }
        if covered_any && finding.exemption.is_none() {
            finding.exemption = Some(ExemptionMatch {
                reason: exemption.reason.clone(),
                matched,
                expires: expires.map(|d| d.to_string()),
            });
        }
    }
    let open: Vec<&Violation> = finding
        .violations
        .iter()
        .filter(|v| v.exemption.is_none())
        .collect();
    if let Some(action) = open.iter().map(|v| v.action).max() {
        finding.action = action;
        finding.exempt = false;
    } else {
        finding.exempt = true;
    }
    if !finding.exempt && finding.violations.iter().all(|v| v.exemption.is_none()) {
        finding.exemption = None;
    }
}

/// What of the rule's group `scope` matches (`group sg-…`, `account …`, `tag key=value`),
/// if it matches.
fn covers(scope: &GroupScope, rule: &SecurityGroupRule, tags: &Tags) -> Option<String> {
    match scope {
        GroupScope::Groups(ids) => rule
            .group_id
            .as_ref()
            .filter(|id| ids.contains(id))
            .map(|id| format!("group {id}")),
        GroupScope::Accounts(ids) => rule
            .account_id
            .as_ref()
            .filter(|id| ids.iter().any(|a| a.as_str() == id.as_str()))
            .map(|id| format!("account {id}")),
        GroupScope::Tag { key, value, .. } => tags
            .get(key)
            .filter(|v| value.as_ref().is_none_or(|want| want == *v))
            .map(|v| format!("tag {key}={v}")),
    }
}
