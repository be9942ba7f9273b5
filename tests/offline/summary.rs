//! One line per rule: what the decoder and fixture tests compare.

use sgguard::rule::SecurityGroupRule;

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
