//! Findings in the AWS Security Finding Format (ASFF) for AWS Security Hub, in the member
//! account where the rule is: one finding per security-group rule (its `Id` stays the same, so
//! a later import updates it), `NEW` and `FAILED` while the rule is open, `RESOLVED` and
//! `PASSED` once it is revoked. `docs/asff.schema.json` holds the format's required attributes;
//! the tests check every document against it.

use crate::finding::Severity;
pub use crate::finding::{AsffFinding, AsffResource, AsffSeverity, AsffStatus};
use crate::outcome::{FindingOutcome, Outcome};

/// ASFF's schema version.
pub const SCHEMA_VERSION: &str = "2018-10-08";

/// The ASFF finding of one finding outcome in `account` and `region` (`partition`: `aws`,
/// `aws-us-gov`, `aws-cn`), at `now` (RFC 3339); `None` for a finding without a rule id or
/// group (nothing Security Hub could track).
pub fn asff_finding(entry: &FindingOutcome, partition: &str, now: &str) -> Option<AsffFinding> {
    let f = &entry.finding;
    let (account, region) = (f.rule.account_id.as_deref()?, f.rule.region.as_deref()?);
    let (group, rule) = (f.rule.group_id.as_deref()?, f.rule.rule_id.as_deref()?);
    let first = f.violations.first()?;
    let resolved = matches!(
        entry.outcome,
        Outcome::Revoked | Outcome::AlreadyGone | Outcome::FixedAtSource
    );
    let label = match f.severity() {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    };
    let ports = f.rule.ports.map(|p| format!(" {p}")).unwrap_or_default();
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("sgguard/outcome".to_owned(), entry.outcome.to_string());
    fields.insert("sgguard/rule_id".to_owned(), rule.to_owned());
    fields.insert("sgguard/peer".to_owned(), f.rule.peer.to_string());
    if let Some(source) = &f.source {
        fields.insert("sgguard/source".to_owned(), source.clone());
    }
    Some(AsffFinding {
        schema_version: SCHEMA_VERSION.to_owned(),
        id: format!("sgguard/{account}/{region}/{rule}"),
        product_arn: format!(
            "arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
        ),
        generator_id: format!("sgguard/{}", first.policy_rule),
        aws_account_id: account.to_owned(),
        types: vec![
            "Software and Configuration Checks/AWS Security Best Practices/Network Reachability"
                .to_owned(),
        ],
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
        severity: AsffSeverity {
            label: label.to_owned(),
        },
        title: format!(
            "{} {}{ports} open to {} in {group}",
            f.rule.direction, f.rule.protocol, f.rule.peer
        )
        .chars()
        .take(256)
        .collect(),
        description: format!(
            "Security-group rule {rule} breaks the sgguard baseline rule {}: {}. sgguard: {}.",
            first.policy_rule, first.reason, entry.outcome
        )
        .chars()
        .take(1024)
        .collect(),
        resources: vec![AsffResource {
            kind: "AwsEc2SecurityGroup".to_owned(),
            id: format!("arn:{partition}:ec2:{region}:{account}:security-group/{group}"),
            partition: partition.to_owned(),
            region: region.to_owned(),
        }],
        compliance: AsffStatus {
            status: if resolved { "PASSED" } else { "FAILED" }.to_owned(),
        },
        workflow: AsffStatus {
            status: if resolved { "RESOLVED" } else { "NEW" }.to_owned(),
        },
        record_state: "ACTIVE".to_owned(),
        product_fields: fields,
    })
}
