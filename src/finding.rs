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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub policy_rule: String,
    pub severity: Severity,
    pub action: Action,
    pub reason: String,
    /// The reason of the exemption that covers this violation, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<String>,
}

/// Why a finding is exempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemptionMatch {
    pub reason: String,
    /// What matched: `group sg-…`, `account 1111…`, `tag key=value`.
    pub matched: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Why a finding's group is protected: its finding is reported, never revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A security-group rule that breaks the baseline: the rule itself and the baseline's verdict.
/// Its JSON (the finding contract, docs/finding-event.schema.json) writes the rule's fields
/// flat, then the verdict; see [`FindingJson`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule, its empty description dropped.
    pub rule: SecurityGroupRule,
    /// Strongest action and severity first; ties in baseline order.
    pub violations: Vec<Violation>,
    /// The strongest action of the violations.
    pub action: Action,
    pub exempt: bool,
    pub exemption: Option<ExemptionMatch>,
    /// The baseline protects the group: the finding is reported, never revoked (it is still a
    /// violation, unlike an exempt one).
    pub protected: Option<ProtectionMatch>,
    /// The input (file, `-`, or `live`) the rule was read from.
    pub source: Option<String>,
}

/// A finding as the contract writes it: the rule's fields (ports as `from_port`, `to_port`),
/// then the verdict, in this order.
#[derive(Serialize)]
struct FindingJson<'a> {
    account_id: &'a Option<String>,
    region: &'a Option<String>,
    group_id: &'a Option<String>,
    rule_id: &'a Option<String>,
    direction: Direction,
    protocol: Protocol,
    from_port: Option<u16>,
    to_port: Option<u16>,
    peer: &'a Peer,
    /// The rule's own description, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: &'a Option<String>,
    violations: &'a [Violation],
    action: Action,
    exempt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption: &'a Option<ExemptionMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protected: &'a Option<ProtectionMatch>,
    source: &'a Option<String>,
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rule = &self.rule;
        FindingJson {
            account_id: &rule.account_id,
            region: &rule.region,
            group_id: &rule.group_id,
            rule_id: &rule.rule_id,
            direction: rule.direction,
            protocol: rule.protocol,
            from_port: rule.ports.map(|p| p.from),
            to_port: rule.ports.map(|p| p.to),
            peer: &rule.peer,
            description: &rule.description,
            violations: &self.violations,
            action: self.action,
            exempt: self.exempt,
            exemption: &self.exemption,
            protected: &self.protected,
            source: &self.source,
        }
        .serialize(serializer)
    }
}

/// A finding as the contract writes it, read back (a sweep worker's part, read by the step
/// that merges the sweep's report). A prefix list's entries and a referenced group's owner
/// are not in the contract, so they do not come back.
#[derive(Deserialize)]
struct FindingRead {
    account_id: Option<String>,
    region: Option<String>,
    group_id: Option<String>,
    rule_id: Option<String>,
    direction: Direction,
    protocol: Protocol,
    from_port: Option<u16>,
    to_port: Option<u16>,
    peer: Peer,
    #[serde(default)]
    description: Option<String>,
    violations: Vec<Violation>,
    action: Action,
    exempt: bool,
    #[serde(default)]
    exemption: Option<ExemptionMatch>,
    #[serde(default)]
    protected: Option<ProtectionMatch>,
    source: Option<String>,
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = FindingRead::deserialize(deserializer)?;
        let ports = match (read.from_port, read.to_port) {
            (Some(from), Some(to)) => {
                Some(crate::rule::PortRange::new(from, to).ok_or_else(|| {
                    serde::de::Error::custom(format!("`from_port` {from} is above `to_port` {to}"))
                })?)
            }
            (None, None) => None,
            _ => {
                return Err(serde::de::Error::custom(
                    "`from_port` and `to_port` come together",
                ));
            }
        };
        Ok(Finding {
            rule: SecurityGroupRule {
                account_id: read.account_id,
                region: read.region,
                group_id: read.group_id,
                rule_id: read.rule_id,
                direction: read.direction,
                protocol: read.protocol,
                ports,
                peer: read.peer,
                description: read.description,
            },
            violations: read.violations,
            action: read.action,
            exempt: read.exempt,
            exemption: read.exemption,
            protected: read.protected,
            source: read.source,
        })
    }
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
        let mut rule = rule.clone();
        rule.description = rule.description.filter(|d| !d.is_empty());
        Finding {
            rule,
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
        let rule = SecurityGroupRule {
            account_id: Some(account.to_owned()),
            region: Some("eu-west-1".to_owned()),
            group_id: Some(group.to_owned()),
            rule_id: rule_id.map(str::to_owned),
            direction: Direction::Ingress,
            protocol: Protocol::Tcp,
            ports: Some(crate::rule::PortRange::single(22)),
            peer: Peer::Ipv4("0.0.0.0/0".parse().unwrap()),
            description: None,
        };
        Finding::new(
            &rule,
            vec![Violation {
                policy_rule: "admin-ports-from-internet".to_owned(),
                severity: Severity::Critical,
                action,
                reason: "tcp 22 is open to the internet".to_owned(),
                exemption: None,
            }],
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule's ports are written as `from_port` and `to_port` (null without ports), and an
    /// empty description is none (the order of the fields: the `check --format json` snapshot).
    #[test]
    fn the_json_writes_the_rule_s_ports_and_only_a_real_description() {
        let finding = Finding::ssh_open("111122223333", "sg-1", Some("sgr-1"), Action::Revoke);
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(
            (&json["from_port"], &json["to_port"]),
            (&22.into(), &22.into())
        );
        let mut rule = finding.rule.clone();
        rule.description = Some(String::new());
        rule.protocol = crate::rule::Protocol::Icmp;
        rule.ports = None;
        let json = serde_json::to_value(Finding::new(&rule, Vec::new())).unwrap();
        assert!(json.get("description").is_none(), "{json}");
        assert!(
            json["from_port"].is_null() && json["to_port"].is_null(),
            "{json}"
        );
    }
}
