//! A baseline rule's validation: its id, protocols (`protocols` or `except_protocols`), ports,
//! source (with `cidrs` or `larger_than`) and examples, each error at its line and field.

use ipnet::IpNet;
use serde_saphyr::Spanned;

use super::Validator;
use crate::policy::baseline::{BaselineRule, PolicyError, PortSet, Protocols, Source};
use crate::policy::example::Example;
use crate::policy::exposure::Threshold;
use crate::policy::syntax::{DirectionSyntax, RuleSyntax, ScalarSyntax, SourceSyntax};
use crate::rule::{Direction, PortRange, Protocol};

impl Validator<'_> {
    pub(super) fn rule(
        &self,
        raw: &RuleSyntax,
        internet: Threshold,
    ) -> Result<BaselineRule, PolicyError> {
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

        let protocols = self.protocols(raw, &id)?;
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
        let only_ported = match &protocols {
            Protocols::Only(list) => list.iter().all(|p| p.has_ports()),
            Protocols::Except(_) => false,
        };
        if ports.is_some() && !only_ported {
            return Err(self.at(
                &raw.id,
                in_rule(
                    "`ports` and `except_ports` apply only to tcp and udp; split the rule"
                        .to_owned(),
                ),
            ));
        }

        let source = match raw.source {
            SourceSyntax::Internet | SourceSyntax::Public | SourceSyntax::Any
                if !raw.cidrs.is_empty() =>
            {
                return Err(self.at(&raw.id, in_rule("`cidrs` needs `source: cidrs`".to_owned())));
            }
            SourceSyntax::Public => Source::Public {
                larger_than: self.larger_than(raw, &id, internet)?,
            },
            _ if raw.larger_than.is_some() => {
                return Err(self.at(
                    &raw.id,
                    in_rule("`larger_than` needs `source: public`".to_owned()),
                ));
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

    /// `protocols` or `except_protocols`: exactly one, not empty; `all` is never an exception
    /// (a rule for all traffic opens every protocol, so it is never "another" protocol).
    fn protocols(&self, raw: &RuleSyntax, id: &str) -> Result<Protocols, PolicyError> {
        let (list, field) = match (&raw.protocols, &raw.except_protocols) {
            (Some(_), Some(_)) => {
                return Err(self.at(
                    &raw.id,
                    format!("rule `{id}`: give `protocols` or `except_protocols`, not both"),
                ));
            }
            (None, None) => {
                return Err(self.at(
                    &raw.id,
                    format!("rule `{id}`: give `protocols` or `except_protocols`"),
                ));
            }
            (Some(list), None) => (list, "protocols"),
            (None, Some(list)) => (list, "except_protocols"),
        };
        if list.is_empty() {
            return Err(self.at(&raw.id, format!("rule `{id}`: `{field}` is empty")));
        }
        let mut protocols = Vec::with_capacity(list.len());
        for spanned in list {
            let protocol = spanned
                .value
                .to_string()
                .parse::<Protocol>()
                .map_err(|e| self.at(spanned, format!("rule `{id}`: `{field}`: {e}")))?;
            if raw.except_protocols.is_some() && protocol == Protocol::All {
                return Err(self.at(
                    spanned,
                    format!(
                        "rule `{id}`: `except_protocols` cannot hold `{}`: all traffic opens every protocol; use `protocols: [all]` for it",
                        spanned.value
                    ),
                ));
            }
            protocols.push(protocol);
        }
        Ok(if raw.except_protocols.is_some() {
            Protocols::Except(protocols)
        } else {
            Protocols::Only(protocols)
        })
    }

    /// `larger_than` of a `source: public` rule: required, each prefix 1-32 (IPv4) or 1-128
    /// (IPv6), and longer than the internet's (a larger range is the internet, `source:
    /// internet`'s business, so the rule would never match in that family).
    fn larger_than(
        &self,
        raw: &RuleSyntax,
        id: &str,
        internet: Threshold,
    ) -> Result<Threshold, PolicyError> {
        let Some(larger_than) = &raw.larger_than else {
            return Err(self.at(
                &raw.id,
                format!(
                    "rule `{id}`: `source: public` needs `larger_than: {{ipv4_prefix: N, ipv6_prefix: N}}`"
                ),
            ));
        };
        let check = |prefix: &Spanned<u8>, family: &str, bits: u8, internet: u8| {
            let value = prefix.value;
            if value == 0 || value > bits {
                return Err(self.at(
                    prefix,
                    format!("rule `{id}`: `larger_than.{family}_prefix: {value}` must be 1-{bits}"),
                ));
            }
            if value <= internet {
                return Err(self.at(
                    prefix,
                    format!(
                        "rule `{id}`: `larger_than.{family}_prefix: {value}` must be longer than `internet.{family}_prefix` ({internet}): a larger range is the internet, for `source: internet`"
                    ),
                ));
            }
            Ok(value)
        };
        Ok(Threshold {
            ipv4_prefix: check(&larger_than.ipv4_prefix, "ipv4", 32, internet.ipv4_prefix)?,
            ipv6_prefix: check(&larger_than.ipv6_prefix, "ipv6", 128, internet.ipv6_prefix)?,
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
}

/// A port or a `from-to` range, as a number or a string.
fn parse_port_range(value: &ScalarSyntax) -> Option<PortRange> {
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
