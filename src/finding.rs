//! Findings: what the baseline says about a rule, in the shape of the finding JSON contract,
//! with the words the baseline speaks in (actions, severities) and the group tags exemptions
//! match on. The policy produces these; enforcement and reports consume them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rule::{Direction, Peer, Protocol, SecurityGroupRule};

/// Tags of a security group, where the input carries them.
pub type Tags = BTreeMap<String, String>;

/// What a baseline rule does with a violation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Action {
    Notify,
    Revoke,
}

/// How bad a violation is; ordered, so the most severe is the maximum.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// One baseline rule that a security-group rule breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub policy_rule: String,
    pub severity: Severity,
    pub action: Action,
    pub reason: String,
    /// The reason of the exemption that covers this violation, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<String>,
}

/// Why a finding is exempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptionMatch {
    pub reason: String,
    /// What matched: `group sg-…`, `account 1111…`, `tag key=value`.
    pub matched: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Why a finding's group is protected: its finding is reported, never revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectionMatch {
    pub reason: String,
    /// What matched: `group sg-…`, `account 1111…`, `tag key=value`.
    pub matched: String,
}

/// A security group as messages name it: its name, VPC and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub tags: Tags,
}

/// A security-group rule that breaks the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub group_id: Option<String>,
    pub rule_id: Option<String>,
    pub direction: Direction,
    pub protocol: Protocol,
    pub from_port: Option<u16>,
    pub to_port: Option<u16>,
    pub peer: Peer,
    /// The rule's own description, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Strongest action and severity first; ties in baseline order.
    pub violations: Vec<Violation>,
    /// The strongest action of the violations.
    pub action: Action,
    pub exempt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<ExemptionMatch>,
    /// The baseline protects the group: the finding is reported, never revoked (it is still a
    /// violation, unlike an exempt one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<ProtectionMatch>,
    /// The input (file, `-`, or `live`) the rule was read from.
    pub source: Option<String>,
}

impl Finding {
    pub fn new(rule: &SecurityGroupRule, mut violations: Vec<Violation>) -> Finding {
        // Stable: equally strong violations keep the baseline's order.
        violations.sort_by_key(|v| std::cmp::Reverse((v.action, v.severity)));
        let action = violations
            .iter()
            .map(|v| v.action)
            .max()
            .unwrap_or(Action::Notify);
        Finding {
            account_id: rule.account_id.clone(),
            region: rule.region.clone(),
            group_id: rule.group_id.clone(),
            rule_id: rule.rule_id.clone(),
            direction: rule.direction,
            protocol: rule.protocol,
            from_port: rule.ports.map(|p| p.from),
            to_port: rule.ports.map(|p| p.to),
            peer: rule.peer.clone(),
            description: rule.description.clone().filter(|d| !d.is_empty()),
            violations,
            action,
            exempt: false,
            exemption: None,
            protected: None,
            source: None,
        }
    }

    /// The most severe violation's severity.
    pub fn severity(&self) -> Severity {
        self.violations
            .iter()
            .map(|v| v.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

/// The finding document of `sgguard check --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub rules_evaluated: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<ReportError>,
}

/// A non-fatal error: one input that could not be read; the others are still reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportError {
    pub source: String,
    pub error: String,
}

#[cfg(test)]
impl Finding {
    /// A test finding: tcp 22 open to the internet in `group`, rule `rule_id`, with `action`.
    pub(crate) fn ssh_open(
        account: &str,
        group: &str,
        rule_id: Option<&str>,
        action: Action,
    ) -> Finding {
        Finding {
            account_id: Some(account.to_owned()),
            region: Some("eu-west-1".to_owned()),
            group_id: Some(group.to_owned()),
            rule_id: rule_id.map(str::to_owned),
            direction: Direction::Ingress,
            protocol: Protocol::Tcp,
            from_port: Some(22),
            to_port: Some(22),
            peer: Peer::Ipv4("0.0.0.0/0".parse().unwrap()),
            description: None,
            violations: vec![Violation {
                policy_rule: "admin-ports-from-internet".to_owned(),
                severity: Severity::Critical,
                action,
                reason: "tcp 22 is open to the internet".to_owned(),
                exemption: None,
            }],
            action,
            exempt: false,
            exemption: None,
            protected: None,
            source: None,
        }
    }
}

// The AWS Security Finding Format (Security Hub), as sgguard fills it (built by
// `report::asff`, imported by `aws`).

/// One ASFF finding (the attributes sgguard fills).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffStatus,
    pub workflow: AsffStatus,
    pub record_state: String,
    pub product_fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    #[serde(rename = "Type")]
    pub kind: String,
    pub id: String,
    pub partition: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffStatus {
    pub status: String,
}
