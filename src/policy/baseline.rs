//! The validated baseline: typed rules, port sets, exemptions and protections, ready for
//! evaluation; and [`PolicyError`], why a policy file is not one.

use ipnet::IpNet;
use jiff::civil::Date;

use super::example::Example;
use super::exposure::Threshold;
use super::hazard::Hazard;
use crate::finding::{Action, Severity};
use crate::ids::AccountId;
pub use crate::rule::PortSet;
use crate::rule::{Direction, Protocol};

/// Largest policy file sgguard reads: baselines are small, a huge file is a mistake.
pub(super) const MAX_POLICY_BYTES: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("policy file `{path}` is larger than {MAX_POLICY_BYTES} bytes")]
    TooLarge { path: String },
    #[error("policy file `{path}` is not valid: {message}")]
    Syntax { path: String, message: String },
    #[error("policy file `{path}`, line {line}: {message}")]
    Invalid {
        path: String,
        line: u64,
        message: String,
    },
    #[error("policy file `{path}`: {message}")]
    Semantic { path: String, message: String },
}

/// Which peers a baseline rule is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Peers whose public part reaches the internet threshold.
    Internet,
    /// Peers whose public part, alone or together with the group's rules for the same port,
    /// holds more addresses than `larger_than`, and that are not the internet, alone or
    /// together (that is `Internet`'s business).
    Public { larger_than: Threshold },
    /// Any peer at all.
    Any,
    /// Peers overlapping one of these CIDRs.
    Cidrs(Vec<IpNet>),
}

/// One rule of the baseline.
#[derive(Debug, Clone)]
pub struct BaselineRule {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub direction: Direction,
    pub source: Source,
    pub protocols: Protocols,
    /// `None`: every port (or a protocol without ports).
    pub ports: Option<PortSet>,
    pub action: Action,
    pub severity: Severity,
    pub references: Vec<String>,
    pub examples: Vec<Example>,
    pub negative_examples: Vec<Example>,
}

/// Which protocols a baseline rule is about. A rule for all traffic opens every protocol, so it
/// meets both kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocols {
    /// These protocols (`protocols:`); `all` means a rule for all traffic.
    Only(Vec<Protocol>),
    /// Every protocol but these (`except_protocols:`), never `all`.
    Except(Vec<Protocol>),
}

/// Which groups an exemption or a protection covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupScope {
    Groups(Vec<String>),
    Accounts(Vec<AccountId>),
    Tag {
        key: String,
        value: Option<String>,
        value_is_expiry: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Exemption {
    pub reason: String,
    pub scope: GroupScope,
    /// Baseline rule ids this exemption covers; empty means all.
    pub rules: Vec<String>,
    pub expires: Option<Date>,
}

/// Groups whose findings are reported, never revoked. Unlike an exemption, the finding stays a
/// violation: it counts, and it is told everywhere findings are.
#[derive(Debug, Clone)]
pub struct Protection {
    pub reason: String,
    pub scope: GroupScope,
}

/// A validated baseline, ready for evaluation.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub threshold: Threshold,
    pub combine_rules: bool,
    pub rules: Vec<BaselineRule>,
    pub exemptions: Vec<Exemption>,
    pub protected: Vec<Protection>,
    /// The revocations that break every VPC which this baseline says it means to make.
    pub acknowledged: Vec<Hazard>,
}

impl Baseline {
    pub fn rule(&self, id: &str) -> Option<&BaselineRule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    text.trim().parse::<Date>().ok()
}
