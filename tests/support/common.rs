//! Helpers shared by the integration tests.

use std::path::PathBuf;

use sgguard::rule::SecurityGroupRule;

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(name: &str) -> String {
    fixture_dir().join(name).display().to_string()
}

/// One line per rule: what the assertions compare.
pub fn summary(rule: &SecurityGroupRule) -> String {
    format!(
        "{} {} {} {} group={} rule={} account={} region={}",
        rule.direction,
        rule.protocol,
        rule.ports.map_or("-".to_owned(), |p| p.to_string()),
        rule.peer,
        rule.group_id.as_deref().unwrap_or("-"),
        rule.rule_id.as_deref().unwrap_or("-"),
        rule.account_id.as_deref().unwrap_or("-"),
        rule.region.as_deref().unwrap_or("-"),
    )
}

pub fn summaries(rules: &[SecurityGroupRule]) -> Vec<String> {
    rules.iter().map(summary).collect()
}
