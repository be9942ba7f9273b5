//! A group's rules as evaluation sees them: each rule's public part worked out once, and the
//! search for the rules that reach the internet only together.

use std::borrow::Cow;
use std::slice;

use ipnet::IpNet;

use crate::policy::exposure::{PublicSize, Threshold, public_size, public_size_of_union};
use crate::policy::{PortSet, Protocols};
use crate::rule::{Peer, PortRange, Protocol, SecurityGroupRule};

/// A rule with its peer's public size worked out once per group.
pub(super) struct Exposed<'r> {
    pub(super) rule: &'r SecurityGroupRule,
    single: Option<IpNet>,
    pub(super) public: PublicSize,
    pub(super) internet_alone: bool,
}

impl<'r> Exposed<'r> {
    pub(super) fn new(rule: &'r SecurityGroupRule, threshold: Threshold) -> Self {
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
            internet_alone: public.reaches(threshold),
        }
    }

    pub(super) fn nets(&self) -> &[IpNet] {
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
    pub(super) fn ports_for(&self, protocol: Protocol) -> Option<PortRange> {
        protocol
            .has_ports()
            .then(|| self.rule.ports.unwrap_or(PortRange::ALL))
    }
}

/// The ports of a rule that a baseline rule is about: the rule's `range`, within the baseline
/// rule's `set` of ports when it names one. Borrowed from both, never built: evaluation asks
/// about it for every rule and baseline rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span<'b> {
    pub(super) set: Option<&'b PortSet>,
    pub(super) range: PortRange,
}

impl<'b> Span<'b> {
    /// Whether any port of `range` is in the span.
    pub(super) fn overlaps(self, range: PortRange) -> bool {
        self.range
            .intersection(range)
            .is_some_and(|common| self.set.is_none_or(|set| set.intersects(common)))
    }

    pub(super) fn contains(self, port: u16) -> bool {
        self.range.contains(port) && self.set.is_none_or(|set| set.contains(port))
    }

    /// The span's ports as sorted, disjoint, non-adjacent ranges.
    pub(super) fn ranges(self) -> impl Iterator<Item = PortRange> + 'b {
        let whole = self.set.is_none().then_some(self.range);
        self.set
            .into_iter()
            .flat_map(|set| set.ranges().iter().copied())
            .filter_map(move |r| r.intersection(self.range))
            .chain(whole)
    }
}

/// Whether a rule of protocol `actual` is caught by a baseline protocol `wanted`: `all` in the
/// baseline means a rule for all traffic; a named protocol is opened by itself or by all traffic.
pub(super) fn protocol_matches(wanted: Protocol, actual: Protocol) -> bool {
    if wanted == Protocol::All {
        actual == Protocol::All
    } else {
        actual == wanted || actual == Protocol::All
    }
}

/// The protocols a baseline rule's `protocols` judges `me` as, in order. `Only`: its list.
/// `Except`: the rule's own protocol unless excepted; for a rule for all traffic, `all` first,
/// then each protocol not excepted that another rule of the group in its direction opens, so
/// that all traffic from one half and GRE from the other are GRE from the internet together.
pub(super) fn judged_as<'a>(
    protocols: &'a Protocols,
    me: &Exposed<'a>,
    group: &[Exposed<'_>],
) -> Cow<'a, [Protocol]> {
    let except = match protocols {
        Protocols::Only(list) => return Cow::Borrowed(list),
        Protocols::Except(except) => except,
    };
    let actual = &me.rule.protocol;
    if *actual != Protocol::All {
        return Cow::Borrowed(if except.contains(actual) {
            &[]
        } else {
            slice::from_ref(actual)
        });
    }
    let mut judged = vec![Protocol::All];
    for other in group {
        let protocol = other.rule.protocol;
        if other.rule.direction == me.rule.direction
            && !except.contains(&protocol)
            && !judged.contains(&protocol)
        {
            judged.push(protocol);
        }
    }
    Cow::Owned(judged)
}

/// Whether the rule at `index` is one of the group's rules that, together, open a port of
/// `span` to public addresses that are `enough` (the internet, or a public range larger than a
/// baseline rule's `larger_than`) while none of them does alone. Returns the partners, for
/// the message.
///
/// Rules that are the internet on their own are findings by themselves and take no part.
/// Of the rest, on each port segment, the largest are taken first until their union is
/// enough: those are the rules to revoke, and a small rule that the union does not need is
/// left alone.
pub(super) fn combined(
    enough: impl Fn(PublicSize) -> bool,
    protocol: Protocol,
    span: Option<Span<'_>>,
    index: usize,
    group: &[Exposed<'_>],
) -> Option<String> {
    let me = group.get(index)?;
    let is_candidate = |other: &Exposed<'_>| {
        other.rule.direction == me.rule.direction
            && !other.public.is_empty()
            && !other.internet_alone
            && protocol_matches(protocol, other.rule.protocol)
            && match (span, other.ports_for(protocol)) {
                (Some(span), Some(range)) => span.overlaps(range),
                _ => true,
            }
    };
    // Cheap bound first, without allocating: the rule must be a candidate itself (the winners
    // are candidates), and if even the sum of the candidates' public parts (the same
    // direction, protocol and ports only) is not enough, no union of them is.
    if !is_candidate(me) {
        return None;
    }
    let (count, sum) = group
        .iter()
        .filter(|other| is_candidate(other))
        .fold((0usize, PublicSize::default()), |(count, sum), c| {
            (count + 1, sum.plus(c.public))
        });
    if count < 2 || !enough(sum) {
        return None;
    }
    let mut candidates: Vec<&Exposed<'_>> =
        group.iter().filter(|other| is_candidate(other)).collect();
    // Largest public part first; ties keep the group's order.
    candidates.sort_by_key(|c| std::cmp::Reverse((c.public.ipv4, c.public.ipv6)));
    let needed = |covering: &[&Exposed<'_>]| -> Option<usize> {
        // The largest alone: its public part is its union, worked out once already.
        let (largest, rest) = covering.split_first()?;
        if enough(largest.public) {
            return Some(1);
        }
        let mut union: Vec<IpNet> = largest.nets().to_vec();
        for (taken, exposed) in rest.iter().enumerate() {
            union.extend_from_slice(exposed.nets());
            if enough(public_size_of_union(&union)) {
                return Some(taken + 2);
            }
        }
        None
    };
    let covers = |c: &Exposed<'_>, port: Option<u16>| match (port, c.ports_for(protocol)) {
        (Some(port), Some(range)) => range.contains(port),
        _ => true,
    };
    // The sets of candidates already judged on some port: each gave no winners with this rule.
    let mut tried: Vec<Vec<usize>> = Vec::new();
    let mut winners_at = |port: Option<u16>| -> Option<Vec<&Exposed<'_>>> {
        // The winners are rules that open the port: this rule must be one of them.
        if !covers(me, port) {
            return None;
        }
        let at: Vec<usize> = candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| covers(c, port))
            .map(|(n, _)| n)
            .collect();
        // The same rules on another port have the same winners, and they were not this rule's.
        if tried.contains(&at) {
            return None;
        }
        let covering: Vec<&Exposed<'_>> = at
            .iter()
            .filter_map(|&n| candidates.get(n).copied())
            .collect();
        tried.push(at);
        // Cheap bound first: if even the sum of the public parts stays below the
        // threshold, the union does too.
        let sum = covering
            .iter()
            .fold(PublicSize::default(), |sum, c| sum.plus(c.public));
        if !enough(sum) {
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
        Some(span) => {
            // Elementary port segments: between two boundaries, the same rules apply.
            let mut points: Vec<u32> = Vec::new();
            for r in span.ranges() {
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
                if !span.contains(port) {
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
