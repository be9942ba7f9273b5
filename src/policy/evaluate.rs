//! Evaluation: which rules of a security group break which baseline rules, and which of those
//! findings an exemption covers.
//!
//! A group is judged as a whole: a peer that is not the internet on its own can be together with
//! the group's other rules of the same direction and protocol that open the same port.

use std::collections::BTreeMap;
use std::slice;

use ipnet::IpNet;
use jiff::civil::Date;

use super::baseline::{Baseline, BaselineRule, ExemptionScope, PortSet, Source, parse_date};
use crate::exposure::{PublicSize, public_size, public_size_of_union};
use crate::finding::{ExemptionMatch, Finding, Violation};
use crate::rule::{Peer, PortRange, Protocol, SecurityGroupRule};

/// Tags of a security group, where the input carries them.
pub type Tags = BTreeMap<String, String>;

/// Evaluates groups against one baseline on one day (for exemption expiry).
#[derive(Debug, Clone, Copy)]
pub struct Evaluator<'b> {
    baseline: &'b Baseline,
    today: Date,
}

/// A rule with its peer's public size worked out once per group.
struct Exposed<'r> {
    rule: &'r SecurityGroupRule,
    single: Option<IpNet>,
    public: PublicSize,
    internet_alone: bool,
}

impl<'r> Exposed<'r> {
    fn new(rule: &'r SecurityGroupRule, baseline: &Baseline) -> Self {
        let single = rule.peer.ip_net();
        let public = match (&rule.peer, single) {
            (_, Some(net)) => public_size(net),
            (
                Peer::PrefixList {
                    entries: Some(entries),
                    ..
                },
                None,
            ) => public_size_of_union(entries),
            _ => PublicSize::default(),
        };
        Exposed {
            rule,
            single,
            public,
            internet_alone: public.reaches(baseline.threshold),
        }
    }

    fn nets(&self) -> &[IpNet] {
        match (&self.single, &self.rule.peer) {
            (Some(net), _) => slice::from_ref(net),
            (
                None,
                Peer::PrefixList {
                    entries: Some(entries),
                    ..
                },
            ) => entries,
            _ => &[],
        }
    }

    /// The rule's ports as seen by `protocol` (a rule for all traffic opens every port).
    fn ports_for(&self, protocol: Protocol) -> Option<PortRange> {
        protocol
            .has_ports()
            .then(|| self.rule.ports.unwrap_or(PortRange::ALL))
    }
}

/// Whether a rule of protocol `actual` is caught by a baseline protocol `wanted`: `all` in the
/// baseline means a rule for all traffic; a named protocol is opened by itself or by all traffic.
fn protocol_matches(wanted: Protocol, actual: Protocol) -> bool {
    if wanted == Protocol::All {
        actual == Protocol::All
    } else {
        actual == wanted || actual == Protocol::All
    }
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    match (a, b) {
        (IpNet::V4(x), IpNet::V4(y)) => x.contains(&y.network()) || y.contains(&x.network()),
        (IpNet::V6(x), IpNet::V6(y)) => x.contains(&y.network()) || y.contains(&x.network()),
        _ => false,
    }
}

/// "tcp 22", "udp 0-65535", "all traffic", "icmp".
fn describe_traffic(protocol: Protocol, ports: Option<&PortSet>) -> String {
    match (protocol, ports) {
        (Protocol::All, _) => "all traffic".to_owned(),
        (p, Some(set)) => format!("{p} {set}"),
        (p, None) => p.to_string(),
    }
}

impl<'b> Evaluator<'b> {
    pub fn new(baseline: &'b Baseline, today: Date) -> Self {
        Evaluator { baseline, today }
    }

    /// Today in UTC, for exemption expiry.
    pub fn today_utc() -> Date {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    }

    pub fn baseline(&self) -> &'b Baseline {
        self.baseline
    }

    /// Evaluates the rules of one security group (all of them, both directions).
    pub fn evaluate_group(&self, rules: &[SecurityGroupRule], tags: &Tags) -> Vec<Finding> {
        let refs: Vec<&SecurityGroupRule> = rules.iter().collect();
        self.evaluate_group_refs(&refs, tags)
    }

    fn evaluate_group_refs(&self, rules: &[&SecurityGroupRule], tags: &Tags) -> Vec<Finding> {
        let group: Vec<Exposed<'_>> = rules
            .iter()
            .map(|r| Exposed::new(r, self.baseline))
            .collect();
        let mut findings = Vec::new();
        for index in 0..group.len() {
            let violations: Vec<Violation> = self
                .baseline
                .rules
                .iter()
                .filter_map(|b| self.violation(b, index, &group))
                .collect();
            if violations.is_empty() {
                continue;
            }
            let Some(exposed) = group.get(index) else {
                continue;
            };
            let mut finding = Finding::new(exposed.rule, violations);
            self.apply_exemptions(&mut finding, tags);
            findings.push(finding);
        }
        findings
    }

    /// Evaluates rules of any number of groups: each group (account, region, group id) is judged
    /// as a whole, groups keep the order of their first rule, and `tags_of` gives group tags.
    pub fn evaluate_rules<'t>(
        &self,
        rules: &[SecurityGroupRule],
        tags_of: impl Fn(&SecurityGroupRule) -> Option<&'t Tags>,
    ) -> Vec<Finding> {
        let empty = Tags::new();
        let mut findings = Vec::new();
        for group in group_rules(rules) {
            let tags = group.first().and_then(|r| tags_of(r)).unwrap_or(&empty);
            findings.extend(self.evaluate_group_refs(&group, tags));
        }
        findings
    }

    fn violation(
        &self,
        b: &BaselineRule,
        index: usize,
        group: &[Exposed<'_>],
    ) -> Option<Violation> {
        let me = group.get(index)?;
        let rule = me.rule;
        if rule.direction != b.direction {
            return None;
        }
        for &protocol in &b.protocols {
            if !protocol_matches(protocol, rule.protocol) {
                continue;
            }
            let my_ports = me.ports_for(protocol);
            if let (Some(set), Some(range)) = (&b.ports, my_ports)
                && !set.intersects(range)
            {
                continue;
            }
            let reason = match &b.source {
                Source::Any => None,
                Source::Cidrs(cidrs) => {
                    let hit = me
                        .nets()
                        .iter()
                        .find_map(|net| cidrs.iter().find(|c| overlaps(net, c)));
                    match hit {
                        Some(cidr) => Some(format!(", which overlaps {cidr}")),
                        None => continue,
                    }
                }
                Source::Internet => {
                    if me.public.is_empty() {
                        continue;
                    }
                    if me.internet_alone {
                        Some(String::new())
                    } else if self.baseline.combine_rules {
                        let span = self.span(b, my_ports);
                        match self.combined(protocol, span.as_ref(), index, group) {
                            Some(partners) => Some(format!(" together with {partners}")),
                            None => continue,
                        }
                    } else {
                        continue;
                    }
                }
            };
            let span = self.span(b, my_ports);
            let traffic = describe_traffic(protocol, span.as_ref());
            let target = match b.source {
                Source::Internet => "the internet from ",
                _ => "",
            };
            return Some(Violation {
                policy_rule: b.id.clone(),
                severity: b.severity,
                action: b.action,
                reason: format!(
                    "{traffic} is open to {target}{}{}",
                    rule.peer,
                    reason.unwrap_or_default()
                ),
                exemption: None,
            });
        }
        None
    }

    /// The ports of a rule that a baseline rule is about.
    fn span(&self, b: &BaselineRule, my_ports: Option<PortRange>) -> Option<PortSet> {
        match (&b.ports, my_ports) {
            (Some(set), Some(range)) => Some(set.intersection(range)),
            (None, Some(range)) => Some(PortSet::from_ranges([range])),
            _ => None,
        }
    }

    /// Whether the rule at `index`, together with the group's other rules for the same
    /// direction and protocol on some port of `span`, opens it to the internet. Returns the
    /// partners, for the message.
    fn combined(
        &self,
        protocol: Protocol,
        span: Option<&PortSet>,
        index: usize,
        group: &[Exposed<'_>],
    ) -> Option<String> {
        let me = group.get(index)?;
        let candidates: Vec<&Exposed<'_>> = group
            .iter()
            .filter(|other| {
                other.rule.direction == me.rule.direction
                    && !other.public.is_empty()
                    && protocol_matches(protocol, other.rule.protocol)
                    && match (span, other.ports_for(protocol)) {
                        (Some(set), Some(range)) => {
                            set.ranges().iter().any(|r| r.intersection(range).is_some())
                        }
                        _ => true,
                    }
            })
            .collect();
        if candidates.len() < 2 {
            return None;
        }
        let reaches = |covering: &[&Exposed<'_>]| {
            public_size_of_union(covering.iter().flat_map(|e| e.nets()))
                .reaches(self.baseline.threshold)
        };
        let winners: Option<Vec<&Exposed<'_>>> = match span {
            None => reaches(&candidates).then_some(candidates),
            Some(set) => {
                // Elementary port segments: between any two boundaries, the same rules apply.
                let mut points: Vec<u32> = Vec::new();
                for r in set.ranges() {
                    points.push(u32::from(r.from));
                    points.push(u32::from(r.to) + 1);
                }
                for c in &candidates {
                    if let Some(r) = c.ports_for(protocol) {
                        points.push(u32::from(r.from));
                        points.push(u32::from(r.to) + 1);
                    }
                }
                points.sort_unstable();
                points.dedup();
                points.iter().find_map(|&start| {
                    let port = u16::try_from(start).ok()?;
                    if !set.intersects(PortRange::single(port)) {
                        return None;
                    }
                    let covering: Vec<&Exposed<'_>> = candidates
                        .iter()
                        .copied()
                        .filter(|c| c.ports_for(protocol).is_none_or(|r| r.contains(port)))
                        .collect();
                    let includes_me = covering.iter().any(|c| std::ptr::eq(c.rule, me.rule));
                    (includes_me && covering.len() > 1 && reaches(&covering)).then_some(covering)
                })
            }
        };
        let partners: Vec<String> = winners?
            .iter()
            .filter(|c| !std::ptr::eq(c.rule, me.rule))
            .map(|c| match &c.rule.rule_id {
                Some(id) => format!("{} ({id})", c.rule.peer),
                None => c.rule.peer.to_string(),
            })
            .collect();
        Some(partners.join(", "))
    }

    fn apply_exemptions(&self, finding: &mut Finding, tags: &Tags) {
        for exemption in &self.baseline.exemptions {
            let matched = match &exemption.scope {
                ExemptionScope::Groups(ids) => finding
                    .group_id
                    .as_ref()
                    .filter(|id| ids.contains(id))
                    .map(|id| format!("group {id}")),
                ExemptionScope::Accounts(ids) => finding
                    .account_id
                    .as_ref()
                    .filter(|id| ids.contains(id))
                    .map(|id| format!("account {id}")),
                ExemptionScope::Tag { key, value, .. } => tags
                    .get(key)
                    .filter(|v| value.as_ref().is_none_or(|want| want == *v))
                    .map(|v| format!("tag {key}={v}")),
            };
            let Some(matched) = matched else { continue };
            let expires = match &exemption.scope {
                // The owner's date in the tag; an unreadable date exempts nothing (fail safe).
                ExemptionScope::Tag {
                    key,
                    value_is_expiry: true,
                    ..
                } => match tags.get(key).and_then(|v| parse_date(v)) {
                    Some(date) => Some(date.min(exemption.expires.unwrap_or(date))),
                    None => continue,
                },
                _ => exemption.expires,
            };
            if expires.is_some_and(|date| self.today > date) {
                continue;
            }
            let mut covered_any = false;
            for violation in &mut finding.violations {
                let covered = violation.exemption.is_none()
                    && (exemption.rules.is_empty()
                        || exemption.rules.contains(&violation.policy_rule));
                if covered {
                    violation.exemption = Some(exemption.reason.clone());
                    covered_any = true;
                }
            }
            if covered_any && finding.exemption.is_none() {
                finding.exemption = Some(ExemptionMatch {
                    reason: exemption.reason.clone(),
                    matched,
                    expires: expires.map(|d| d.to_string()),
                });
            }
        }
        let open: Vec<&Violation> = finding
            .violations
            .iter()
            .filter(|v| v.exemption.is_none())
            .collect();
        if let Some(action) = open.iter().map(|v| v.action).max() {
            finding.action = action;
            finding.exempt = false;
        } else {
            finding.exempt = true;
        }
        if !finding.exempt && finding.violations.iter().all(|v| v.exemption.is_none()) {
            finding.exemption = None;
        }
    }
}

/// A group's identity: account, region, group id.
type GroupKey<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Splits rules into groups by (account, region, group id), keeping first-seen order.
pub fn group_rules(rules: &[SecurityGroupRule]) -> Vec<Vec<&SecurityGroupRule>> {
    let mut index: std::collections::HashMap<GroupKey<'_>, usize> =
        std::collections::HashMap::new();
    let mut groups: Vec<Vec<&SecurityGroupRule>> = Vec::new();
    for rule in rules {
        let key = (
            rule.account_id.as_deref(),
            rule.region.as_deref(),
            rule.group_id.as_deref(),
        );
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if let Some(group) = groups.get_mut(slot) {
            group.push(rule);
        }
    }
    groups
}
