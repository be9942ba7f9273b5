//! What counts as "the internet": the public part of a set of CIDRs, and whether it reaches the
//! baseline's threshold.
//!
//! The public part is what is left after removing the ranges that are not the internet: the
//! entries of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890, RFC 8190)
//! marked "Globally Reachable: False" ([`SPECIAL_IPV4`], [`SPECIAL_IPV6`]), and the multicast
//! space, which has its own registry. A more specific entry marked "True" inside a removed
//! block is put back ([`GLOBAL_IPV4`], [`GLOBAL_IPV6`]): `192.0.0.9/32` is in
//! `192.0.0.0/24` (False) but reachable. An entry the registry lists without a value (a
//! deprecated block) is judged as the space it lies in, so in doubt it counts as the internet:
//! `192.88.99.0/24` (Deprecated 6to4 Relay Anycast, RFC 7526) is public, `2001:10::/28`
//! (deprecated ORCHID, RFC 4843) stays in `2001::/23` (False). Entries marked "True" outside any
//! removed block (AS112, AMT, `2620:4f:8000::/48`) are ordinary public space.
//!
//! Three IPv6 ranges carry IPv4 addresses inside them and reach IPv4 hosts on the internet:
//! 6to4 (`2002::/16`, RFC 3056, globally reachable "N/A"), Teredo (`2001::/32`, RFC 4380,
//! "N/A") and the NAT64 well-known prefix (`64:ff9b::/96`, RFC 6052, "True"). They are not
//! counted as IPv6 addresses but judged by the IPv4 addresses they embed ([`EMBEDDED_IPV4`]):
//! `2002::/16` or `2001::/32` opens a group to the IPv4 internet, `2002:a00::/24` (6to4 of
//! `10.0.0.0/8`) does not.

mod registry;
#[cfg(test)]
mod tests;

use std::ops::RangeInclusive;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use range_set_blaze::{RangeSetBlaze, UIntPlusOne};

pub use self::registry::{
    EMBEDDED_IPV4, GLOBAL_IPV4, GLOBAL_IPV6, SPECIAL_IPV4, SPECIAL_IPV6, is_special_ipv4,
    is_special_ipv6,
};
use self::registry::{
    EMBEDDED_V6, SPECIAL_V4, SPECIAL_V4_SORTED, SPECIAL_V6, SPECIAL_V6_SORTED, v4_range, v6_range,
};

/// How many public addresses make a peer "the internet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// Public IPv4 addresses at least as many as a /`ipv4_prefix` holds.
    pub ipv4_prefix: u8,
    /// Public IPv6 addresses at least as many as a /`ipv6_prefix` holds.
    pub ipv6_prefix: u8,
}

impl Default for Threshold {
    /// 2^24 IPv4 addresses (a /8) and 2^96 IPv6 addresses (a /32).
    fn default() -> Self {
        Threshold {
            ipv4_prefix: 8,
            ipv6_prefix: 32,
        }
    }
}

impl Threshold {
    fn ipv4_addresses(self) -> u64 {
        1u64 << (32 - u32::from(self.ipv4_prefix.min(32)))
    }

    fn ipv6_addresses(self) -> UIntPlusOne<u128> {
        let bits = 128 - u32::from(self.ipv6_prefix.min(128));
        if bits == 128 {
            UIntPlusOne::MaxPlusOne
        } else {
            UIntPlusOne::UInt(1u128 << bits)
        }
    }
}

/// Public addresses of one IPv4 CIDR: its size less its overlap with special ranges.
pub fn public_ipv4(net: Ipv4Net) -> u64 {
    public_in_ipv4_range(&v4_range(net))
}

fn public_in_ipv4_range(range: &RangeInclusive<u32>) -> u64 {
    let size = u64::from(*range.end()) - u64::from(*range.start()) + 1;
    let special: u64 = SPECIAL_V4_SORTED
        .iter()
        .map(|s| overlap_u32(range, s))
        .sum();
    size - special
}

/// Public addresses of one IPv6 CIDR, counted as the gaps between special ranges so that the
/// sum never needs 2^128.
pub fn public_ipv6(net: Ipv6Net) -> u128 {
    let range = v6_range(net);
    let (start, end) = (*range.start(), *range.end());
    let mut public: u128 = 0;
    let mut cursor = Some(start);
    for special in SPECIAL_V6_SORTED.iter() {
        let Some(from) = cursor else { break };
        if *special.end() < from {
            continue;
        }
        if *special.start() > end {
            break;
        }
        if *special.start() > from {
            public = public.saturating_add(*special.start() - from);
        }
        cursor = special.end().checked_add(1);
    }
    if let Some(from) = cursor
        && from <= end
    {
        public = public.saturating_add(end - from).saturating_add(1);
    }
    public
}

fn overlap_u32(a: &RangeInclusive<u32>, b: &RangeInclusive<u32>) -> u64 {
    let start = (*a.start()).max(*b.start());
    let end = (*a.end()).min(*b.end());
    if start > end {
        0
    } else {
        u64::from(end) - u64::from(start) + 1
    }
}

/// Public addresses of a set of CIDRs, per address family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicSize {
    pub ipv4: u64,
    pub ipv6: u128,
}

impl PublicSize {
    pub fn is_empty(self) -> bool {
        self.ipv4 == 0 && self.ipv6 == 0
    }

    /// Both families added, saturating: a bound on the union's size, never below it.
    #[must_use]
    pub fn plus(self, other: PublicSize) -> PublicSize {
        PublicSize {
            ipv4: self.ipv4.saturating_add(other.ipv4),
            ipv6: self.ipv6.saturating_add(other.ipv6),
        }
    }

    pub fn reaches(self, threshold: Threshold) -> bool {
        self.ipv4 >= threshold.ipv4_addresses()
            || UIntPlusOne::UInt(self.ipv6) >= threshold.ipv6_addresses()
    }

    /// Whether the public part holds strictly more addresses than `threshold`'s /N in either
    /// family (more than a /16: at least 65,537 addresses); the /N exceeded (IPv4 first), for
    /// messages.
    pub fn exceeds(self, threshold: Threshold) -> Option<u8> {
        if self.ipv4 > threshold.ipv4_addresses() {
            Some(threshold.ipv4_prefix)
        } else if UIntPlusOne::UInt(self.ipv6) > threshold.ipv6_addresses() {
            Some(threshold.ipv6_prefix)
        } else {
            None
        }
    }
}

/// Public size of a single CIDR, without allocating (`::/0` is one of the commonest peers).
pub fn public_size(net: IpNet) -> PublicSize {
    match net {
        IpNet::V4(v4) => PublicSize {
            ipv4: public_ipv4(v4),
            ipv6: 0,
        },
        IpNet::V6(v6) => {
            // The prefixes that embed IPv4 are disjoint (and special, so not counted as IPv6):
            // a CIDR reaching into two of them holds both whole, and a whole prefix embeds
            // every IPv4 address.
            let mut embedded = embedded_ipv4(v6);
            let ipv4 = match (embedded.next(), embedded.next()) {
                (None, _) => 0,
                (Some(only), None) => public_in_ipv4_range(&only),
                (Some(_), Some(_)) => public_in_ipv4_range(&(0..=u32::MAX)),
            };
            PublicSize {
                ipv4,
                ipv6: public_ipv6(v6),
            }
        }
    }
}

/// The IPv4 addresses an IPv6 CIDR embeds, where it overlaps an [`EMBEDDED_IPV4`] prefix.
fn embedded_ipv4(net: Ipv6Net) -> impl Iterator<Item = RangeInclusive<u32>> {
    let range = v6_range(net);
    EMBEDDED_V6
        .iter()
        .filter_map(move |(prefix, shift, inverted)| {
            let start = (*range.start()).max(*prefix.start());
            let end = (*range.end()).min(*prefix.end());
            if start > end {
                return None;
            }
            // Bits above the IPv4 field that differ: every IPv4 address is embedded.
            let above = shift + 32;
            let (low, high) = if start >> above != end >> above {
                (0, u32::MAX)
            } else {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "the 32 bits of the IPv4 field"
                )]
                ((start >> shift) as u32, (end >> shift) as u32)
            };
            Some(if *inverted { !high..=!low } else { low..=high })
        })
}

/// Public size of the union of many CIDRs: overlapping ranges count once.
pub fn public_size_of_union<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> PublicSize {
    let mut nets = nets.into_iter().peekable();
    let Some(first) = nets.next() else {
        return PublicSize::default();
    };
    if nets.peek().is_none() {
        return public_size(*first);
    }
    union_size(std::iter::once(first).chain(nets))
}

fn union_size<'a>(nets: impl Iterator<Item = &'a IpNet>) -> PublicSize {
    let mut v4 = RangeSetBlaze::<u32>::new();
    let mut v6 = RangeSetBlaze::<u128>::new();
    for net in nets {
        match net {
            IpNet::V4(n) => {
                v4.ranges_insert(v4_range(*n));
            }
            IpNet::V6(n) => {
                v6.ranges_insert(v6_range(*n));
                for embedded in embedded_ipv4(*n) {
                    v4.ranges_insert(embedded);
                }
            }
        }
    }
    let public_v4 = &v4 - &*SPECIAL_V4;
    let public_v6 = &v6 - &*SPECIAL_V6;
    PublicSize {
        ipv4: public_v4.len(),
        // Some special range is always removed, so the count is below 2^128.
        ipv6: match public_v6.len() {
            UIntPlusOne::UInt(n) => n,
            UIntPlusOne::MaxPlusOne => u128::MAX,
        },
    }
}
