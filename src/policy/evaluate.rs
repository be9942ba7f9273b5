//! Evaluation: which rules of a security group break which baseline rules, which of those
//! findings an exemption covers, and which lie in a protected group.
//!
//! A group is judged as a whole: a peer that is not the internet on its own can be together with
//! the group's other rules of the same direction and protocol that open the same port.

mod exempt;
mod exposed;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use ipnet::IpNet;
use jiff::civil::Date;

use super::baseline::{Baseline, BaselineRule, PortSet, Protocols, Source};
use super::exposure::{PublicSize, Threshold};
use crate::finding::{Finding, Tags, Violation};
use crate::rule::{Direction, PortRange, Protocol, SecurityGroupRule};
use exempt::{apply_exemptions, apply_protection};
use exposed::{Exposed, Span, combined, judged_as, protocol_matches};

/// Evaluates groups against one baseline on one day (for exemption expiry).
#[derive(Debug, Clone, Copy)]
pub struct Evaluator<'b> {
    baseline: &'b Baseline,
    today: Date,
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    match (a, b) {
        (IpNet::V4(x), IpNet::V4(y)) => x.contains(&y.network()) || y.contains(&x.network()),
        (IpNet::V6(x), IpNet::V6(y)) => x.contains(&y.network()) || y.contains(&x.network()),
        _ => false,
    }
}

/// "tcp 22", "udp 0-65535", "all traffic", "icmp".
fn write_traffic(
    out: &mut String,
    protocol: Protocol,
    ports: Option<&PortSet>,
    range: Option<PortRange>,
) {
    const SHOWN: usize = 6;
    match (protocol, range) {
        (Protocol::All, _) => out.push_str("all traffic"),
        (Protocol::Other(number), None) => {
            let _ = write!(out, "protocol {number}");
        }
        (p, None) => out.push_str(&p.name()),
        (p, Some(range)) => {
            out.push_str(&p.name());
            let mut shown = 0;
            let mut hidden = 0;
            let mut write = |r: PortRange| {
                if shown == SHOWN {
                    hidden += 1;
                    return;
                }
                out.push_str(if shown == 0 { " " } else { ", " });
                let _ = write!(out, "{r}");
                shown += 1;
            };
            match ports {
                Some(set) => set
                    .ranges()
                    .iter()
                    .filter_map(|r| r.intersection(range))
                    .for_each(&mut write),
                None => write(range),
            }
            if hidden > 0 {
                let _ = write!(out, " and {hidden} more");
            }
        }
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
            .map(|r| Exposed::new(r, self.baseline.threshold))
            .collect();
        // The sum of the public parts of each direction's rules that are not the internet on
        // their own bounds any combination: where even the sum stays below the threshold, no
        // combination can reach it, and the costly search is skipped.
        let mut bound = [PublicSize::default(); 2];
        for exposed in group.iter().filter(|e| !e.internet_alone) {
            if let Some(slot) =
                bound.get_mut(usize::from(exposed.rule.direction == Direction::Egress))
            {
                *slot = slot.plus(exposed.public);
            }
        }
        let mut findings = Vec::new();
        for index in 0..group.len() {
            let violations: Vec<Violation> = self
                .baseline
                .rules
                .iter()
                .filter_map(|b| self.violation(b, index, &group, &bound))
                .collect();
            if violations.is_empty() {
                continue;
            }
            let Some(exposed) = group.get(index) else {
                continue;
            };
            let mut finding = Finding::new(exposed.rule, violations);
            apply_exemptions(self.baseline, self.today, &mut finding, tags);
            apply_protection(self.baseline, &mut finding, tags);
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
        bound: &[PublicSize; 2],
    ) -> Option<Violation> {
        let me = group.get(index)?;
        let rule = me.rule;
        // The cheap test first: most pairs of a rule and a baseline rule part here.
        if rule.direction != b.direction {
            return None;
        }
        // What all the direction's rules that are not the internet alone could reach together.
        let bound = bound
            .get(usize::from(me.rule.direction == Direction::Egress))
            .copied()
            .unwrap_or(PublicSize {
                ipv4: u64::MAX,
                ipv6: u128::MAX,
            });
        let combine = self.baseline.combine_rules;
        let threshold = self.baseline.threshold;
        let may_combine = combine && bound.reaches(threshold);
        for &protocol in judged_as(&b.protocols, me, group).iter() {
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
                Source::Public { larger_than } => {
                    let span = span(b, my_ports);
                    match self.public_range(*larger_than, protocol, span, index, group, bound) {
                        Some(reason) => Some(reason),
                        None => continue,
                    }
                }
                Source::Internet => {
                    if me.public.is_empty() {
                        continue;
                    }
                    if me.internet_alone {
                        Some(String::new())
                    } else if may_combine {
                        match combined(
                            |size| size.reaches(threshold),
                            protocol,
                            span(b, my_ports),
                            index,
                            group,
                        ) {
                            Some(partners) => Some(format!(" together with {partners}")),
                            None => continue,
                        }
                    } else {
                        continue;
                    }
                }
            };
            let mut text = String::with_capacity(64);
            match (&b.protocols, protocol) {
                // What all traffic opens that the baseline rule is about.
                (Protocols::Except(except), Protocol::All) => {
                    text.push_str("every protocol but ");
                    for (n, p) in except.iter().enumerate() {
                        text.push_str(if n == 0 { "" } else { ", " });
                        text.push_str(&p.name());
                    }
                }
                _ => write_traffic(&mut text, protocol, b.ports.as_ref(), my_ports),
            }
            text.push_str(match b.source {
                Source::Internet => " is open to the internet from ",
                _ => " is open to ",
            });
            let _ = write!(text, "{}", rule.peer);
            if let Some(extra) = reason {
                text.push_str(&extra);
            }
            return Some(Violation {
                policy_rule: b.id.clone(),
                severity: b.severity,
                action: b.action,
                reason: text,
                exemption: None,
            });
        }
        None
    }

    /// Why the rule at `index` opens `protocol` on `span` to a public range larger than
    /// `larger_than`, alone or together with the group's rules (`bound`: what they could reach
    /// at most), while it is not the internet, alone or together: that is `source: internet`'s.
    fn public_range(
        &self,
        larger_than: Threshold,
        protocol: Protocol,
        span: Option<Span<'_>>,
        index: usize,
        group: &[Exposed<'_>],
        bound: PublicSize,
    ) -> Option<String> {
        let me = group.get(index)?;
        if me.public.is_empty() || me.internet_alone {
            return None;
        }
        let combine = self.baseline.combine_rules;
        let alone = me.public.exceeds(larger_than);
        if alone.is_none() && !(combine && bound.exceeds(larger_than).is_some()) {
            return None;
        }
        let threshold = self.baseline.threshold;
        if combine
            && bound.reaches(threshold)
            && combined(|size| size.reaches(threshold), protocol, span, index, group).is_some()
        {
            return None;
        }
        // The family the rule itself opens, for the message.
        let prefix = alone.unwrap_or(if me.public.ipv4 > 0 {
            larger_than.ipv4_prefix
        } else {
            larger_than.ipv6_prefix
        });
        if alone.is_some() {
            return Some(format!(", a public range larger than a /{prefix}"));
        }
        let enough = |size: PublicSize| size.exceeds(larger_than).is_some();
        let partners = combined(enough, protocol, span, index, group)?;
        Some(format!(
            ", together with {partners} a public range larger than a /{prefix}"
        ))
    }
}

/// The ports of a rule that a baseline rule is about, borrowed (nothing is built).
fn span(b: &BaselineRule, my_ports: Option<PortRange>) -> Option<Span<'_>> {
    my_ports.map(|range| Span {
        set: b.ports.as_ref(),
        range,
    })
}

/// A group's identity: account, region, group id.
type GroupKey<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Splits rules into groups by (account, region, group id), keeping first-seen order.
pub fn group_rules(rules: &[SecurityGroupRule]) -> Vec<Vec<&SecurityGroupRule>> {
    let mut index: std::collections::HashMap<GroupKey<'_>, usize> =
        std::collections::HashMap::new();
    let mut groups: Vec<Vec<&SecurityGroupRule>> = Vec::new();
    let mut previous: Option<(GroupKey<'_>, usize)> = None;
    for rule in rules {
        let key = (
            rule.account_id.as_deref(),
            rule.region.as_deref(),
            rule.group_id.as_deref(),
        );
        // Inputs usually list a group's rules together: skip the hash for those.
        let slot = match previous {
            Some((last, slot)) if last == key => slot,
            _ => *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            }),
        };
        previous = Some((key, slot));
        if let Some(group) = groups.get_mut(slot) {
            group.push(rule);
        }
    }
    groups
}
