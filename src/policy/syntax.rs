//! The baseline YAML as written: raw serde structures that reject unknown keys. Values keep
//! their line (serde-saphyr `Spanned`) so that validation errors can point at them.

use serde::Deserialize;

use super::breadth::Breadth;
use super::hazard::Hazard;
use crate::finding::{Action, Severity};
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub version: Spanned<u32>,
    #[serde(default)]
    pub internet: Option<InternetSyntax>,
    pub rules: Vec<RuleSyntax>,
    #[serde(default)]
    pub exemptions: Vec<ExemptionSyntax>,
    /// Groups whose findings are reported, never revoked.
    #[serde(default)]
    pub protected: Vec<ProtectionSyntax>,
    /// Revocations that break every VPC, which the baseline means to make.
    #[serde(default)]
    pub acknowledge: Vec<Spanned<Hazard>>,
}

/// An exemptions file kept outside the baseline (`SGGUARD_EXEMPTIONS_URI`): the same entries
/// as the baseline's `exemptions`, changed without a new build.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionsFile {
    pub version: Spanned<u32>,
    #[serde(default)]
    pub exemptions: Vec<ExemptionSyntax>,
    /// Entries wider than some rules of some groups, which the file means to hold.
    #[serde(default)]
    pub acknowledge: Vec<Spanned<Breadth>>,
}

/// What counts as "the internet".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternetSyntax {
    /// Public IPv4 addresses at least as many as a /N holds (default 8: 2^24 addresses).
    pub ipv4_prefix: Option<Spanned<u8>>,
    /// Public IPv6 addresses at least as many as a /N holds (default 32: 2^96 addresses).
    pub ipv6_prefix: Option<Spanned<u8>>,
    /// Judge a group's rules for the same direction, protocol and port together (default true).
    pub combine_rules: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    pub id: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_direction")]
    pub direction: DirectionSyntax,
    #[serde(default = "default_source")]
    pub source: SourceSyntax,
    /// With `source: cidrs`: the CIDRs whose overlap is a finding.
    #[serde(default)]
    pub cidrs: Vec<Spanned<String>>,
    /// With `source: public`: how large a public range must be to be a finding.
    #[serde(default)]
    pub larger_than: Option<LargerThanSyntax>,
    /// The protocols the rule is about; or
    #[serde(default)]
    pub protocols: Option<Vec<Spanned<ScalarSyntax>>>,
    /// every protocol but these.
    #[serde(default)]
    pub except_protocols: Option<Vec<Spanned<ScalarSyntax>>>,
    #[serde(default)]
    pub ports: Option<Vec<Spanned<ScalarSyntax>>>,
    #[serde(default)]
    pub except_ports: Option<Vec<Spanned<ScalarSyntax>>>,
    pub action: Action,
    pub severity: Severity,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub examples: Vec<Spanned<String>>,
    #[serde(default)]
    pub negative_examples: Vec<Spanned<String>>,
}

fn default_direction() -> DirectionSyntax {
    DirectionSyntax::Ingress
}

fn default_source() -> SourceSyntax {
    SourceSyntax::Internet
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectionSyntax {
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceSyntax {
    Internet,
    Public,
    Any,
    Cidrs,
}

/// `larger_than: {ipv4_prefix: 16, ipv6_prefix: 48}`: a public range holding strictly more
/// addresses than a /16 (IPv4) or a /48 (IPv6).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LargerThanSyntax {
    pub ipv4_prefix: Spanned<u8>,
    pub ipv6_prefix: Spanned<u8>,
}

/// A port or protocol as YAML gives it: `22`, `"22"`, `"8000-8100"`, `tcp`, `-1`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ScalarSyntax {
    Number(i64),
    Text(String),
}

impl std::fmt::Display for ScalarSyntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScalarSyntax::Number(n) => write!(f, "{n}"),
            ScalarSyntax::Text(t) => f.write_str(t),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionSyntax {
    pub reason: Spanned<String>,
    #[serde(default)]
    pub group_ids: Vec<Spanned<String>>,
    #[serde(default)]
    pub account_ids: Vec<Spanned<ScalarSyntax>>,
    #[serde(default)]
    pub tag: Option<TagSyntax>,
    /// Limit the exemption to these baseline rule ids (default: every rule).
    #[serde(default)]
    pub rules: Vec<Spanned<String>>,
    /// Last day (YYYY-MM-DD, UTC) on which the exemption holds.
    #[serde(default)]
    pub expires: Option<Spanned<String>>,
}

/// Groups whose findings are reported, never revoked: by id, account or tag, like an exemption.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectionSyntax {
    pub reason: Spanned<String>,
    #[serde(default)]
    pub group_ids: Vec<Spanned<String>>,
    #[serde(default)]
    pub account_ids: Vec<Spanned<ScalarSyntax>>,
    #[serde(default)]
    pub tag: Option<TagSyntax>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSyntax {
    pub key: Spanned<String>,
    /// Required tag value; any value when absent.
    #[serde(default)]
    pub value: Option<String>,
    /// The tag's value is the expiry date (YYYY-MM-DD) set by the group's owner.
    #[serde(default)]
    pub value_is_expiry: bool,
}
