//! The baseline policy: YAML syntax → validated baseline → evaluation, with [`exposure`]
//! deciding how much of the internet a set of addresses reaches and [`Hazard`] what a baseline
//! must not revoke unacknowledged.

mod baseline;
mod breadth;
mod default_group;
pub mod evaluate;
mod example;
mod exemption_diff;
pub mod exposure;
mod hazard;
mod load;
mod syntax;
mod validate;

pub use baseline::{
    Baseline, BaselineRule, Exemption, GroupScope, PolicyError, PortSet, Protection, Protocols,
    Source,
};
pub use breadth::{Breadth, DEFAULT_MAX_DAYS, FileLimits, MOST_MAX_DAYS};
pub use evaluate::{Evaluator, group_rules};
pub use example::{EXAMPLE_GROUP, Example};
pub use exemption_diff::{ExemptionDiff, ScopeChange};
pub use hazard::Hazard;
pub use load::DEFAULT_BASELINE_YAML;

use crate::finding::Tags;

/// An example or negative example whose verdict is not what the baseline rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub example: String,
    pub negative: bool,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negative {
            write!(
                f,
                "rule `{}`: negative example `{}` is a finding of this rule",
                self.rule_id, self.example
            )
        } else {
            write!(
                f,
                "rule `{}`: example `{}` is not a finding of this rule",
                self.rule_id, self.example
            )
        }
    }
}

/// Evaluates every rule's examples (must be findings of that rule) and negative examples (must
/// not be), against the whole baseline without exemptions.
pub fn check_examples(baseline: &Baseline) -> Vec<ExampleFailure> {
    let without_exemptions = Baseline {
        exemptions: Vec::new(),
        ..baseline.clone()
    };
    let evaluator = Evaluator::new(&without_exemptions, Evaluator::today_utc());
    let mut failures = Vec::new();
    for rule in &baseline.rules {
        let cases = rule
            .examples
            .iter()
            .map(|e| (e, false))
            .chain(rule.negative_examples.iter().map(|e| (e, true)));
        for (example, negative) in cases {
            let fires = evaluator
                .evaluate_group(&example.rules, &Tags::new())
                .iter()
                .any(|f| f.violations.iter().any(|v| v.policy_rule == rule.id));
            if fires == negative {
                failures.push(ExampleFailure {
                    rule_id: rule.id.clone(),
                    example: example.text.clone(),
                    negative,
                });
            }
        }
    }
    failures
}
