//! The default baseline's semantics, one behaviour a test: ports, protocols, IPv6, thresholds,
//! split ranges, special-purpose ranges, prefix lists, group references, egress, exemptions.
//! Here: how a test asks for a verdict; the tests, by subject, in `baseline/`.

mod exemptions;
mod files;
mod public_ranges;
mod rules;

use jiff::civil::date;
use sgguard::finding::Tags;
use sgguard::policy::{Baseline, Evaluator, Example};

fn default_baseline() -> Baseline {
    Baseline::default_baseline().unwrap()
}

/// The baseline rule ids each rule of the example group breaks, in rule order.
fn verdict_with(baseline: &Baseline, example: &str) -> Vec<Vec<String>> {
    let example = Example::parse(example).unwrap();
    let evaluator = Evaluator::new(baseline, date(2026, 11, 27));
    let findings = evaluator.evaluate_group(&example.rules, &Tags::new());
    example
        .rules
        .iter()
        .map(|rule| {
            findings
                .iter()
                .find(|f| f.rule.rule_id == rule.rule_id)
                .map(|f| f.violations.iter().map(|v| v.policy_rule.clone()).collect())
                .unwrap_or_default()
        })
        .collect()
}

fn fires(example: &str, policy_rule: &str) -> bool {
    verdict_with(&default_baseline(), example)
        .iter()
        .any(|ids| ids.iter().any(|id| id == policy_rule))
}

/// The error a baseline file named `bad.yaml` holding `yaml` is refused with.
fn policy_error(yaml: &str) -> String {
    Baseline::from_yaml(yaml, "bad.yaml")
        .unwrap_err()
        .to_string()
}

const ADMIN: &str = "admin-ports-from-internet";
const ALL: &str = "all-traffic-from-internet";
const RISKY: &str = "risky-ports-from-internet";
const UNAPPROVED: &str = "unapproved-ports-from-internet";
const OTHER: &str = "other-protocols-from-internet";
const ADMIN_PUBLIC: &str = "admin-ports-from-public-range";
const RISKY_PUBLIC: &str = "risky-ports-from-public-range";
