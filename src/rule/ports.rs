//! The ports of a rule: an inclusive range (TCP and UDP only), sets of ranges for the baseline,
//! and the one reading of AWS's `fromPort`/`toPort` pair.

use std::fmt;

use range_set_blaze::RangeSetBlaze;

use super::Protocol;

/// An inclusive range of TCP or UDP ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange {
        from: 0,
        to: u16::MAX,
    };

    /// A range from its two ends; `None` when they are reversed.
    pub fn new(from: u16, to: u16) -> Option<Self> {
        (from <= to).then_some(PortRange { from, to })
    }

    pub fn single(port: u16) -> Self {
        PortRange {
            from: port,
            to: port,
        }
    }

    pub fn contains(self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }

    pub fn intersection(self, other: PortRange) -> Option<PortRange> {
        PortRange::new(self.from.max(other.from), self.to.min(other.to))
    }

    pub fn len(self) -> u32 {
        u32::from(self.to) - u32::from(self.from) + 1
    }

    pub fn is_empty(self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// A set of ports (a baseline rule's `ports`, or the complement of its `except_ports`).
///
/// Built once, when the baseline is loaded, and asked about for every rule evaluated: the set
/// algebra is range-set-blaze's, and the ranges are also kept flat, so that a lookup is a
/// binary search over a slice, without allocating.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSet {
    set: RangeSetBlaze<u16>,
    /// The set's ranges: sorted, disjoint, non-adjacent.
    ranges: Box<[PortRange]>,
}

impl PortSet {
    fn new(set: RangeSetBlaze<u16>) -> Self {
        let ranges = set
            .ranges()
            .map(|r| PortRange {
                from: *r.start(),
                to: *r.end(),
            })
            .collect();
        PortSet { set, ranges }
    }

    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> Self {
        PortSet::new(ranges.into_iter().map(|r| r.from..=r.to).collect())
    }

    /// Every port except these.
    pub fn complement(&self) -> Self {
        PortSet::new(!&self.set)
    }

    /// The ports as sorted, disjoint, non-adjacent ranges.
    pub fn ranges(&self) -> &[PortRange] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, port: u16) -> bool {
        self.intersects(PortRange::single(port))
    }

    /// Whether any port of `range` is in the set.
    pub fn intersects(&self, range: PortRange) -> bool {
        // The first stored range that does not end before `range` starts.
        let first = self.ranges.partition_point(|r| r.to < range.from);
        self.ranges.get(first).is_some_and(|r| r.from <= range.to)
    }

    pub fn intersection(&self, range: PortRange) -> PortSet {
        PortSet::new(&self.set & &RangeSetBlaze::from(range.from..=range.to))
    }
}

/// Turns the `fromPort`/`toPort` pair of any AWS input into the rule's port range.
///
/// Only TCP and UDP have ports: for them a missing end or `-1` means every port. For ICMP the
/// pair holds type and code, and for all traffic or other protocols it means nothing.
pub fn ports_for(
    protocol: Protocol,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Option<PortRange>, String> {
    if !protocol.has_ports() {
        return Ok(None);
    }
    let (from, to) = match (from, to) {
        (None, None) | (Some(-1), _) | (_, Some(-1)) => return Ok(Some(PortRange::ALL)),
        (Some(f), None) => (f, f),
        (None, Some(t)) => (t, t),
        (Some(f), Some(t)) => (f, t),
    };
    let port = |n: i64| u16::try_from(n).map_err(|_| format!("port `{n}` is not in 0-65535"));
    let (from, to) = (port(from)?, port(to)?);
    PortRange::new(from, to)
        .map(Some)
        .ok_or_else(|| format!("port range `{from}-{to}` is reversed"))
}
