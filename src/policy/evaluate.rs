//! Evaluation: which rules of a security group break which baseline rules, which of those
//! findings an exemption covers, and which lie in a protected group.
//!
//! A group is judged as a whole: a peer that is not the internet on its own can be together with
//! the group's other rules of the same direction and protocol that open the same port.

use std::fmt::Write as _;
use std::slice;

use ipnet::IpNet;
use jiff::civil::Date;

use super::baseline::{Baseline, BaselineRule, GroupScope, PortSet, Source, parse_date};
use super::exposure::{PublicSize, public_size, public_size_of_union};
use crate::finding::{ExemptionMatch, Finding, ProtectionMatch, Tags, Violation};
use crate::rule::{Direction, Peer, PortRange, Protocol, SecurityGroupRule};

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
fn write_traffic(
    out: &mut String,
    protocol: Protocol,
    ports: Option<&PortSet>,
    range: Option<PortRange>,
) {
    const SHOWN: usize = 6;
    match (protocol, range) {
        (Protocol::All, _) => out.push_str("all traffic"),
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
            .map(|r| Exposed::new(r, self.baseline))
            .collect();
        // The sum of the public parts of each direction's rules that are not the internet on
        // their own bounds any combination: where even the sum stays below the threshold, no
        // combination can reach it, and the costly search is skipped.
        let mut bound = [PublicSize::default(); 2];
        for exposed in group.iter().filter(|e| !e.internet_alone) {
            if let Some(slot) =
                bound.get_mut(usize::from(exposed.rule.direction == Direction::Egress))
            {
                slot.ipv4 = slot.ipv4.saturating_add(exposed.public.ipv4);
                slot.ipv6 = slot.ipv6.saturating_add(exposed.public.ipv6);
            }
        }
        let combinable =
            bound.map(|b| self.baseline.combine_rules && b.reaches(self.baseline.threshold));
        let mut findings = Vec::new();
        for index in 0..group.len() {
            let violations: Vec<Violation> = self
                .baseline
                .rules
                .iter()
                .filter_map(|b| self.violation(b, index, &group, &combinable))
                .collect();
            if violations.is_empty() {
                continue;
            }
            let Some(exposed) = group.get(index) else {
                continue;
            };
            let mut finding = Finding::new(exposed.rule, violations);
            self.apply_exemptions(&mut finding, tags);
            self.apply_protection(&mut finding, tags);
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
        combinable: &[bool; 2],
    ) -> Option<Violation> {
        let me = group.get(index)?;
        let may_combine = combinable
            .get(usize::from(me.rule.direction == Direction::Egress))
            .copied()
            .unwrap_or(true);
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
                    } else if may_combine {
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
            let mut text = String::with_capacity(64);
            write_traffic(&mut text, protocol, b.ports.as_ref(), my_ports);
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

    /// The ports of a rule that a baseline rule is about.
    fn span(&self, b: &BaselineRule, my_ports: Option<PortRange>) -> Option<PortSet> {
        match (&b.ports, my_ports) {
            (Some(set), Some(range)) => Some(set.intersection(range)),
            (None, Some(range)) => Some(PortSet::from_ranges([range])),
            _ => None,
        }
    }

    /// Whether the rule at `index` is one of the group's rules that, together, open a port of
    /// `span` to the internet while none of them does alone. Returns the partners, for the
    /// message.
    ///
    /// Rules that are the internet on their own are findings by themselves and take no part.
    /// Of the rest, on each port segment, the largest are taken first until their union reaches
    /// the threshold: those are the rules to revoke, and a small rule that the union does not
    /// need is left alone.
    fn combined(
        &self,
        protocol: Protocol,
        span: Option<&PortSet>,
        index: usize,
        group: &[Exposed<'_>],
    ) -> Option<String> {
        let me = group.get(index)?;
        let mut candidates: Vec<&Exposed<'_>> = group
            .iter()
            .filter(|other| {
                other.rule.direction == me.rule.direction
                    && !other.public.is_empty()
                    && !other.internet_alone
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
        // Largest public part first; ties keep the group's order.
        candidates.sort_by_key(|c| std::cmp::Reverse((c.public.ipv4, c.public.ipv6)));
        let needed = |covering: &[&Exposed<'_>]| -> Option<usize> {
            let mut union: Vec<IpNet> = Vec::new();
            for (taken, exposed) in covering.iter().enumerate() {
                union.extend_from_slice(exposed.nets());
                if public_size_of_union(&union).reaches(self.baseline.threshold) {
                    return Some(taken + 1);
                }
            }
            None
        };
        let winners_at = |port: Option<u16>| -> Option<Vec<&Exposed<'_>>> {
            let covering: Vec<&Exposed<'_>> = candidates
                .iter()
                .copied()
                .filter(|c| match (port, c.ports_for(protocol)) {
                    (Some(port), Some(range)) => range.contains(port),
                    _ => true,
                })
                .collect();
            // Cheap bound first: if even the sum of the public parts stays below the
            // threshold, the union does too.
            let sum = covering
                .iter()
                .fold(PublicSize::default(), |sum, c| PublicSize {
                    ipv4: sum.ipv4.saturating_add(c.public.ipv4),
                    ipv6: sum.ipv6.saturating_add(c.public.ipv6),
                });
            if !sum.reaches(self.baseline.threshold) {
                return None;
            }
            let count = needed(&covering)?;
            let winners: Vec<&Exposed<'_>> = covering.into_iter().take(count).collect();
            winners
                .iter()
                .any(|c| std::ptr::eq(c.rule, me.rule))
                .then_some(winners)
        };
        let winners = match span {
            None => winners_at(None),
            Some(set) => {
                // Elementary port segments: between two boundaries, the same rules apply.
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
                    winners_at(Some(port))
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

    /// Marks a finding of a protected group (the first protection that matches); an exempt
    /// finding is not a violation, so nothing protects it.
    fn apply_protection(&self, finding: &mut Finding, tags: &Tags) {
        if finding.exempt {
            return;
        }
        finding.protected = self.baseline.protected.iter().find_map(|protection| {
            covers(&protection.scope, finding, tags).map(|matched| ProtectionMatch {
                reason: protection.reason.clone(),
                matched,
            })
        });
    }

    fn apply_exemptions(&self, finding: &mut Finding, tags: &Tags) {
        for exemption in &self.baseline.exemptions {
            let matched = covers(&exemption.scope, finding, tags);
            let Some(matched) = matched else { continue };
            let expires = match &exemption.scope {
                // The owner's date in the tag; an unreadable date exempts nothing (fail safe).
                GroupScope::Tag {
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

/// What of the finding's group `scope` matches (`group sg-…`, `account …`, `tag key=value`),
/// if it matches.
fn covers(scope: &GroupScope, finding: &Finding, tags: &Tags) -> Option<String> {
    match scope {
        GroupScope::Groups(ids) => finding
            .rule
            .group_id
            .as_ref()
            .filter(|id| ids.contains(id))
            .map(|id| format!("group {id}")),
        GroupScope::Accounts(ids) => finding
            .rule
            .account_id
            .as_ref()
            .filter(|id| ids.iter().any(|a| a.as_str() == id.as_str()))
            .map(|id| format!("account {id}")),
        GroupScope::Tag { key, value, .. } => tags
            .get(key)
            .filter(|v| value.as_ref().is_none_or(|want| want == *v))
            .map(|v| format!("tag {key}={v}")),
    }
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
