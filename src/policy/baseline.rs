//! The validated baseline: syntax turned into typed rules, port sets and exemptions, with every
//! error pointing at the file, line and field it comes from.

use std::path::Path;

use ipnet::IpNet;
use jiff::civil::Date;
use serde_saphyr::Spanned;

use super::example::Example;
use super::exposure::Threshold;
use super::hazard::{self, Hazard};
use super::syntax::{
    DirectionSyntax, ExemptionSyntax, ExemptionsFile, PolicyFile, ProtectionSyntax, RuleSyntax,
    ScalarSyntax, SourceSyntax, TagSyntax,
};
use crate::finding::{Action, Severity};
pub use crate::rule::PortSet;
use crate::rule::{Direction, PortRange, Protocol};

/// The default baseline, embedded in the binary (`sgguard policy show`).
pub const DEFAULT_BASELINE_YAML: &str = include_str!("default.yaml");

/// Largest policy file sgguard reads: baselines are small, a huge file is a mistake.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;

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
    pub protocols: Vec<Protocol>,
    /// `None`: every port (or a protocol without ports).
    pub ports: Option<PortSet>,
    pub action: Action,
    pub severity: Severity,
    pub references: Vec<String>,
    pub examples: Vec<Example>,
    pub negative_examples: Vec<Example>,
}

/// Which groups an exemption or a protection covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupScope {
    Groups(Vec<String>),
    Accounts(Vec<String>),
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
    /// The embedded default baseline.
    pub fn default_baseline() -> Result<Baseline, PolicyError> {
        Baseline::from_yaml(DEFAULT_BASELINE_YAML, "<embedded default baseline>")
    }

    /// The baseline at `path`, or the embedded default when none is given: what every face
    /// runs with.
    pub fn load_or_default(path: Option<&Path>) -> Result<Baseline, PolicyError> {
        match path {
            Some(path) => Baseline::load(path),
            None => Baseline::default_baseline(),
        }
    }

    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Baseline, PolicyError> {
        let shown = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|source| PolicyError::Read {
            path: shown.clone(),
            source,
        })?;
        if metadata.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge { path: shown });
        }
        let bytes = std::fs::read(path).map_err(|source| PolicyError::Read {
            path: shown.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::Syntax {
            path: shown.clone(),
            message: "the file is not UTF-8 text".to_owned(),
        })?;
        Baseline::from_yaml(&text, &shown)
    }

    /// Validates policy YAML; `path` names it in errors. A baseline whose rules would revoke
    /// what every VPC needs ([`Hazard`]) is refused unless it acknowledges that.
    pub fn from_yaml(text: &str, path: &str) -> Result<Baseline, PolicyError> {
        let file: PolicyFile = parse(text, path, "a policy needs `version: 1` and `rules`")?;
        Validator { path }.baseline(file)
    }

    /// This baseline with the exemptions of an exemptions file (`version: 1`, `exemptions:`)
    /// added, each validated as the baseline's own are (rule ids must be this baseline's);
    /// `path` names the file in errors.
    pub fn with_exemptions_file(&self, text: &str, path: &str) -> Result<Baseline, PolicyError> {
        if text.len() as u64 > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                path: path.to_owned(),
            });
        }
        let file: ExemptionsFile = parse(
            text,
            path,
            "an exemptions file needs `version: 1` and `exemptions`",
        )?;
        let validator = Validator { path };
        validator.version(&file.version)?;
        let mut baseline = self.clone();
        for raw in &file.exemptions {
            baseline
                .exemptions
                .push(validator.exemption(raw, &self.rules)?);
        }
        Ok(baseline)
    }

    pub fn rule(&self, id: &str) -> Option<&BaselineRule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

/// The YAML of a policy or exemptions file, as written; `needs` says what an empty file lacks.
fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &str,
    needs: &str,
) -> Result<T, PolicyError> {
    if text.trim().is_empty() {
        return Err(PolicyError::Syntax {
            path: path.to_owned(),
            message: format!("the file is empty; {needs}"),
        });
    }
    serde_saphyr::from_str(text).map_err(|error| PolicyError::Syntax {
        path: path.to_owned(),
        message: error.to_string().replace("<input>", path),
    })
}

struct Validator<'a> {
    path: &'a str,
}

impl Validator<'_> {
    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            path: self.path.to_owned(),
            line: spanned.referenced.line(),
            message: message.into(),
        }
    }

    /// The file format's version: this sgguard reads version 1.
    fn version(&self, version: &Spanned<u32>) -> Result<(), PolicyError> {
        if version.value == 1 {
            return Ok(());
        }
        Err(self.at(
            version,
            format!(
                "`version: {}` is not supported; this sgguard reads version 1",
                version.value
            ),
        ))
    }

    fn baseline(&self, file: PolicyFile) -> Result<Baseline, PolicyError> {
        self.version(&file.version)?;
        let mut threshold = Threshold::default();
        let mut combine_rules = true;
        if let Some(internet) = &file.internet {
            if let Some(prefix) = &internet.ipv4_prefix {
                if prefix.value > 32 {
                    return Err(self.at(prefix, "`internet.ipv4_prefix` must be 0-32"));
                }
                threshold.ipv4_prefix = prefix.value;
            }
            if let Some(prefix) = &internet.ipv6_prefix {
                if prefix.value > 128 {
                    return Err(self.at(prefix, "`internet.ipv6_prefix` must be 0-128"));
                }
                threshold.ipv6_prefix = prefix.value;
            }
            combine_rules = internet.combine_rules.unwrap_or(true);
        }
        if file.rules.is_empty() {
            return Err(PolicyError::Semantic {
                path: self.path.to_owned(),
                message: "`rules` is empty: a baseline needs at least one rule".to_owned(),
            });
        }
        let mut rules: Vec<BaselineRule> = Vec::with_capacity(file.rules.len());
        for raw in &file.rules {
            let rule = self.rule(raw)?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(self.at(&raw.id, format!("rule id `{}` is used twice", rule.id)));
            }
            rules.push(rule);
        }
        let exemptions = file
            .exemptions
            .iter()
            .map(|raw| self.exemption(raw, &rules))
            .collect::<Result<Vec<_>, _>>()?;
        let protected = file
            .protected
            .iter()
            .map(|raw| self.protection(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let baseline = Baseline {
            threshold,
            combine_rules,
            rules,
            exemptions,
            protected,
            acknowledged: file.acknowledge.iter().map(|a| a.value).collect(),
        };
        self.refuse_hazards(&baseline, &file)?;
        Ok(baseline)
    }

    /// Refuses a baseline that would revoke what every VPC needs without acknowledging it, and
    /// an acknowledgement of a revocation no rule makes (it would hide a later one).
    fn refuse_hazards(&self, baseline: &Baseline, file: &PolicyFile) -> Result<(), PolicyError> {
        let found = hazard::hazards(baseline);
        for (hazard, rule_ids) in &found {
            if baseline.acknowledged.contains(hazard) {
                continue;
            }
            let first = rule_ids
                .first()
                .and_then(|id| file.rules.iter().find(|r| r.id.value.trim() == id));
            let named = rule_ids
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "{} {named} would revoke {}; if that is meant, add `acknowledge: [{hazard}]`",
                if rule_ids.len() == 1 { "rule" } else { "rules" },
                hazard.what()
            );
            return Err(match first {
                Some(raw) => self.at(&raw.id, message),
                None => PolicyError::Semantic {
                    path: self.path.to_owned(),
                    message,
                },
            });
        }
        for acknowledged in &file.acknowledge {
            if !found
                .iter()
                .any(|(hazard, _)| *hazard == acknowledged.value)
            {
                return Err(self.at(
                    acknowledged,
                    format!(
                        "`acknowledge: {}`: no rule of this baseline revokes {}; remove it",
                        acknowledged.value,
                        acknowledged.value.what()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn rule(&self, raw: &RuleSyntax) -> Result<BaselineRule, PolicyError> {
        let id = raw.id.value.trim().to_owned();
        let valid_id = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !valid_id {
            return Err(self.at(
                &raw.id,
                format!("rule id `{id}` must be letters, digits, `-`, `_` or `.`"),
            ));
        }
        let in_rule = |message: String| format!("rule `{id}`: {message}");

        if raw.protocols.is_empty() {
            return Err(self.at(&raw.id, in_rule("`protocols` is empty".to_owned())));
        }
        let mut protocols = Vec::with_capacity(raw.protocols.len());
        for spanned in &raw.protocols {
            let protocol = spanned
                .value
                .to_string()
                .parse::<Protocol>()
                .map_err(|e| self.at(spanned, in_rule(format!("`protocols`: {e}"))))?;
            protocols.push(protocol);
        }

        let ports = match (&raw.ports, &raw.except_ports) {
            (Some(_), Some(_)) => {
                return Err(self.at(
                    &raw.id,
                    in_rule("give `ports` or `except_ports`, not both".to_owned()),
                ));
            }
            (Some(list), None) => Some(self.port_set(list, &id, "ports")?),
            (None, Some(list)) => Some(self.port_set(list, &id, "except_ports")?.complement()),
            (None, None) => None,
        };
        if ports.is_some() && protocols.iter().any(|p| !p.has_ports()) {
            return Err(self.at(
                &raw.id,
                in_rule(
                    "`ports` and `except_ports` apply only to tcp and udp; split the rule"
                        .to_owned(),
                ),
            ));
        }

        let source = match raw.source {
            SourceSyntax::Internet | SourceSyntax::Any if !raw.cidrs.is_empty() => {
                return Err(self.at(&raw.id, in_rule("`cidrs` needs `source: cidrs`".to_owned())));
            }
            SourceSyntax::Internet => Source::Internet,
            SourceSyntax::Any => Source::Any,
            SourceSyntax::Cidrs => {
                if raw.cidrs.is_empty() {
                    return Err(self.at(
                        &raw.id,
                        in_rule("`source: cidrs` needs a non-empty `cidrs` list".to_owned()),
                    ));
                }
                let mut nets = Vec::with_capacity(raw.cidrs.len());
                for spanned in &raw.cidrs {
                    let net = spanned.value.trim().parse::<IpNet>().map_err(|_| {
                        self.at(
                            spanned,
                            in_rule(format!("`cidrs`: `{}` is not a CIDR", spanned.value)),
                        )
                    })?;
                    nets.push(net);
                }
                Source::Cidrs(nets)
            }
        };

        let parse_examples = |list: &[Spanned<String>], field: &str| {
            list.iter()
                .map(|spanned| {
                    Example::parse(&spanned.value)
                        .map_err(|e| self.at(spanned, in_rule(format!("`{field}`: {e}"))))
                })
                .collect::<Result<Vec<_>, _>>()
        };

        Ok(BaselineRule {
            title: raw.title.trim().to_owned(),
            description: raw.description.clone(),
            direction: match raw.direction {
                DirectionSyntax::Ingress => Direction::Ingress,
                DirectionSyntax::Egress => Direction::Egress,
            },
            source,
            protocols,
            ports,
            action: raw.action,
            severity: raw.severity,
            references: raw.references.clone(),
            examples: parse_examples(&raw.examples, "examples")?,
            negative_examples: parse_examples(&raw.negative_examples, "negative_examples")?,
            id,
        })
    }

    fn port_set(
        &self,
        list: &[Spanned<ScalarSyntax>],
        id: &str,
        field: &str,
    ) -> Result<PortSet, PolicyError> {
        let mut ranges = Vec::with_capacity(list.len());
        for spanned in list {
            let range = parse_port_range(&spanned.value).ok_or_else(|| {
                self.at(
                    spanned,
                    format!(
                        "rule `{id}`: `{field}`: `{}` is not a port (0-65535) or a range like `8000-8100`",
                        spanned.value
                    ),
                )
            })?;
            ranges.push(range);
        }
        Ok(PortSet::from_ranges(ranges))
    }

    fn protection(&self, raw: &ProtectionSyntax) -> Result<Protection, PolicyError> {
        let reason = raw.reason.value.trim().to_owned();
        if reason.is_empty() {
            return Err(self.at(&raw.reason, "protected: `reason` is empty"));
        }
        let what = format!("protected `{reason}`");
        if let Some(tag) = raw.tag.as_ref().filter(|t| t.value_is_expiry) {
            return Err(self.at(
                &tag.key,
                format!("{what}: `tag.value_is_expiry` is for exemptions; a protection holds until it is removed"),
            ));
        }
        let scope = self.scope(
            &what,
            &raw.reason,
            &raw.group_ids,
            &raw.account_ids,
            raw.tag.as_ref(),
        )?;
        Ok(Protection { reason, scope })
    }

    /// The groups an exemption or a protection (`what`, for messages) covers: exactly one of
    /// group ids, account ids or a tag.
    fn scope(
        &self,
        what: &str,
        reason: &Spanned<String>,
        group_ids: &[Spanned<String>],
        account_ids: &[Spanned<ScalarSyntax>],
        tag: Option<&TagSyntax>,
    ) -> Result<GroupScope, PolicyError> {
        let scopes = usize::from(!group_ids.is_empty())
            + usize::from(!account_ids.is_empty())
            + usize::from(tag.is_some());
        if scopes != 1 {
            return Err(self.at(
                reason,
                format!("{what}: give exactly one of `group_ids`, `account_ids` or `tag`"),
            ));
        }
        if let Some(tag) = tag {
            if tag.key.value.trim().is_empty() {
                return Err(self.at(&tag.key, format!("{what}: `tag.key` is empty")));
            }
            return Ok(GroupScope::Tag {
                key: tag.key.value.clone(),
                value: tag.value.clone(),
                value_is_expiry: tag.value_is_expiry,
            });
        }
        if !group_ids.is_empty() {
            for id in group_ids {
                if !id.value.starts_with("sg-") {
                    return Err(self.at(
                        id,
                        format!("{what}: `{}` is not a security group id (sg-…)", id.value),
                    ));
                }
            }
            return Ok(GroupScope::Groups(
                group_ids.iter().map(|s| s.value.clone()).collect(),
            ));
        }
        let mut accounts = Vec::with_capacity(account_ids.len());
        for id in account_ids {
            let text = match &id.value {
                ScalarSyntax::Number(n) => format!("{n:012}"),
                ScalarSyntax::Text(t) => t.trim().to_owned(),
            };
            if text.len() != 12 || !text.chars().all(|c| c.is_ascii_digit()) {
                return Err(self.at(
                    id,
                    format!("{what}: `{text}` is not a 12-digit account id (quote it)"),
                ));
            }
            accounts.push(text);
        }
        Ok(GroupScope::Accounts(accounts))
    }

    fn exemption(
        &self,
        raw: &ExemptionSyntax,
        rules: &[BaselineRule],
    ) -> Result<Exemption, PolicyError> {
        let reason = raw.reason.value.trim().to_owned();
        if reason.is_empty() {
            return Err(self.at(&raw.reason, "exemption: `reason` is empty"));
        }
        let scope = self.scope(
            &format!("exemption `{reason}`"),
            &raw.reason,
            &raw.group_ids,
            &raw.account_ids,
            raw.tag.as_ref(),
        )?;
        for rule in &raw.rules {
            if !rules.iter().any(|r| r.id == rule.value) {
                return Err(self.at(
                    rule,
                    format!(
                        "exemption `{reason}`: `rules` names `{}`, which is not a rule of this baseline",
                        rule.value
                    ),
                ));
            }
        }
        let expires = match &raw.expires {
            None => None,
            Some(spanned) => Some(parse_date(&spanned.value).ok_or_else(|| {
                self.at(
                    spanned,
                    format!(
                        "exemption `{reason}`: `expires: {}` is not a date like 2027-01-31",
                        spanned.value
                    ),
                )
            })?),
        };
        Ok(Exemption {
            reason,
            scope,
            rules: raw.rules.iter().map(|s| s.value.clone()).collect(),
            expires,
        })
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    text.trim().parse::<Date>().ok()
}

/// A port or a `from-to` range, as a number or a string.
pub fn parse_port_range(value: &ScalarSyntax) -> Option<PortRange> {
    match value {
        ScalarSyntax::Number(n) => u16::try_from(*n).ok().map(PortRange::single),
        ScalarSyntax::Text(text) => {
            let text = text.trim();
            match text.split_once('-') {
                Some((from, to)) => {
                    PortRange::new(from.trim().parse().ok()?, to.trim().parse().ok()?)
                }
                None => text.parse().ok().map(PortRange::single),
            }
        }
    }
}
