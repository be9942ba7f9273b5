//! What counts as "the internet": the public (non special-purpose) part of a set of CIDRs, and
//! whether it reaches the baseline's threshold.
//!
//! Special-purpose ranges follow the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (RFC 6890 and successors): private, shared, loopback, link-local, documentation, benchmarking,
//! multicast, reserved, unique-local and translation ranges. What is left is public.
//!
//! Three IPv6 ranges carry IPv4 addresses inside them and reach IPv4 hosts on the internet:
//! 6to4 (`2002::/16`, RFC 3056), Teredo (`2001::/32`, RFC 4380) and the NAT64 well-known
//! prefix (`64:ff9b::/96`, RFC 6052, globally reachable per IANA). They are not counted as
//! IPv6 addresses but judged by the IPv4 addresses they embed ([`EMBEDDED_IPV4`]): `2002::/16`
//! or `2001::/32` opens a group to the IPv4 internet, `2002:a00::/24` (6to4 of `10.0.0.0/8`)
//! does not.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use range_set_blaze::{RangeSetBlaze, UIntPlusOne};

/// IPv4 special-purpose ranges removed before counting public addresses.
pub const SPECIAL_IPV4: &[&str] = &[
    "0.0.0.0/8",       // "this network"
    "10.0.0.0/8",      // RFC 1918
    "100.64.0.0/10",   // shared address space (carrier-grade NAT)
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local
    "172.16.0.0/12",   // RFC 1918
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation (TEST-NET-1)
    "192.88.99.0/24",  // deprecated 6to4 relay anycast
    "192.168.0.0/16",  // RFC 1918
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation (TEST-NET-2)
    "203.0.113.0/24",  // documentation (TEST-NET-3)
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved for future use, and the limited broadcast address
];

/// IPv6 special-purpose ranges removed before counting public addresses.
pub const SPECIAL_IPV6: &[&str] = &[
    "::/128",         // unspecified
    "::1/128",        // loopback
    "::ffff:0:0/96",  // IPv4-mapped: a socket's view of IPv4, never an IPv6 packet's source
    "64:ff9b::/96",   // NAT64 well-known prefix: judged by its IPv4 side (EMBEDDED_IPV4)
    "64:ff9b:1::/48", // local-use translation (not globally reachable)
    "100::/64",       // discard-only
    // IETF protocol assignments (2001::/23) but Teredo's 2001::/32, judged by its IPv4 side.
    "2001:1::/32",
    "2001:2::/31",
    "2001:4::/30",
    "2001:8::/29",
    "2001:10::/28",
    "2001:20::/27",
    "2001:40::/26",
    "2001:80::/25",
    "2001:100::/24",
    "2001::/32",     // Teredo: judged by its IPv4 side (EMBEDDED_IPV4)
    "2001:db8::/32", // documentation
    "2002::/16",     // 6to4: judged by its IPv4 side (EMBEDDED_IPV4)
    "3fff::/20",     // documentation
    "5f00::/16",     // segment routing SIDs
    "fc00::/7",      // unique local
    "fe80::/10",     // link-local
    "ff00::/8",      // multicast
];

/// IPv6 ranges that embed IPv4 addresses: the prefix, the bit (from the least significant)
/// where the 32 IPv4 bits start, and whether they are stored inverted.
pub const EMBEDDED_IPV4: &[(&str, u32, bool)] = &[
    ("64:ff9b::/96", 0, false), // NAT64: the low 32 bits (RFC 6052)
    ("2001::/32", 0, true),     // Teredo: the client's address, inverted (RFC 4380)
    ("2002::/16", 80, false),   // 6to4: the 32 bits after the prefix (RFC 3056)
];

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

static SPECIAL_V4: LazyLock<RangeSetBlaze<u32>> = LazyLock::new(|| {
    SPECIAL_IPV4
        .iter()
        .filter_map(|text| text.parse::<Ipv4Net>().ok())
        .map(v4_range)
        .collect()
});

static SPECIAL_V6: LazyLock<RangeSetBlaze<u128>> = LazyLock::new(|| {
    SPECIAL_IPV6
        .iter()
        .filter_map(|text| text.parse::<Ipv6Net>().ok())
        .map(v6_range)
        .collect()
});

/// [`EMBEDDED_IPV4`] parsed once: the prefix's range, the IPv4 field's shift, inverted or not.
static EMBEDDED_V6: LazyLock<Vec<(RangeInclusive<u128>, u32, bool)>> = LazyLock::new(|| {
    EMBEDDED_IPV4
        .iter()
        .filter_map(|(text, shift, inverted)| {
            Some((v6_range(text.parse::<Ipv6Net>().ok()?), *shift, *inverted))
        })
        .collect()
});

/// The special ranges as sorted, disjoint intervals, for the allocation-free single-CIDR path.
static SPECIAL_V4_SORTED: LazyLock<Vec<RangeInclusive<u32>>> =
    LazyLock::new(|| SPECIAL_V4.ranges().collect());
static SPECIAL_V6_SORTED: LazyLock<Vec<RangeInclusive<u128>>> =
    LazyLock::new(|| SPECIAL_V6.ranges().collect());

fn v4_range(net: Ipv4Net) -> RangeInclusive<u32> {
    u32::from(net.network())..=u32::from(net.broadcast())
}

fn v6_range(net: Ipv6Net) -> RangeInclusive<u128> {
    u128::from(net.network())..=u128::from(net.broadcast())
}

/// Public addresses of one IPv4 CIDR: its size less its overlap with special ranges.
pub fn public_ipv4(net: Ipv4Net) -> u64 {
    let range = v4_range(net);
    let size = u64::from(*range.end()) - u64::from(*range.start()) + 1;
    let special: u64 = SPECIAL_V4_SORTED
        .iter()
        .map(|s| overlap_u32(&range, s))
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

    pub fn reaches(self, threshold: Threshold) -> bool {
        self.ipv4 >= threshold.ipv4_addresses()
            || UIntPlusOne::UInt(self.ipv6) >= threshold.ipv6_addresses()
    }
}

/// Public size of a single CIDR, without allocating.
pub fn public_size(net: IpNet) -> PublicSize {
    match net {
        IpNet::V4(v4) => PublicSize {
            ipv4: public_ipv4(v4),
            ipv6: 0,
        },
        IpNet::V6(v6) if embedded_ipv4(v6).next().is_some() => union_size(std::iter::once(&net)),
        IpNet::V6(v6) => PublicSize {
            ipv4: 0,
            ipv6: public_ipv6(v6),
        },
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

/// Convenience for tests and examples.
pub fn is_special_ipv4(addr: Ipv4Addr) -> bool {
    SPECIAL_V4.contains(u32::from(addr))
}

/// Convenience for tests and examples.
pub fn is_special_ipv6(addr: Ipv6Addr) -> bool {
    SPECIAL_V6.contains(u128::from(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn the_whole_ipv4_space_is_public_less_special_ranges() {
        let special: u64 = SPECIAL_V4.len();
        assert_eq!(
            public_ipv4("0.0.0.0/0".parse().unwrap()),
            (1u64 << 32) - special
        );
        assert!(public_size(net("0.0.0.0/0")).reaches(Threshold::default()));
    }

    #[test]
    fn private_and_special_ranges_are_not_public() {
        for text in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "224.0.0.0/4",
            "240.0.0.0/4",
            "198.18.0.0/15",
            "fc00::/7",
            "fe80::/10",
            "ff00::/8",
            "2001:db8::/32",
        ] {
            assert!(public_size(net(text)).is_empty(), "{text}");
        }
        assert!(is_special_ipv4("10.1.2.3".parse().unwrap()));
        assert!(!is_special_ipv4("8.8.8.8".parse().unwrap()));
        assert!(is_special_ipv6("fd00::1".parse().unwrap()));
        assert!(!is_special_ipv6("2600::1".parse().unwrap()));
    }

    #[test]
    fn tunnels_and_translation_are_judged_by_the_ipv4_they_embed() {
        let t = Threshold::default();
        for text in [
            "2002::/16",
            "2001::/32",
            "2001:0:4136:e378::/64",
            "64:ff9b::/96",
        ] {
            assert!(public_size(net(text)).reaches(t), "{text}");
        }
        // 6to4 and NAT64 of private IPv4 space stay private; of one public /8, the /8.
        assert!(public_size(net("2002:a00::/24")).is_empty());
        assert!(public_size(net("64:ff9b::a00:0/104")).is_empty());
        assert_eq!(public_size(net("2002:b00::/24")).ipv4, 1 << 24);
        // Teredo stores the client inverted: 0xf4ffffff.. is client 11.0.0.0/8.
        assert_eq!(public_size(net("2001:0:0:0:0:0:f400:0/104")).ipv4, 1 << 24);
        // The rest of the IETF protocol assignments stay special; IPv4-mapped never travels.
        assert!(public_size(net("2001:100::/24")).is_empty());
        assert!(public_size(net("::ffff:0:0/96")).is_empty());
        // In a union the embedded addresses join the IPv4 ones.
        let split = [net("11.0.0.0/9"), net("2002:b80::/25")];
        assert!(public_size_of_union(&split).reaches(t));
    }

    #[test]
    fn the_threshold_is_a_slash_eight_and_a_slash_32_by_default() {
        let t = Threshold::default();
        assert!(public_size(net("11.0.0.0/8")).reaches(t));
        assert!(!public_size(net("11.0.0.0/9")).reaches(t));
        // 10.0.0.0/7 is 10/8 (private) + 11/8 (public): exactly 2^24 public.
        assert!(public_size(net("10.0.0.0/7")).reaches(t));
        assert!(public_size(net("2600::/32")).reaches(t));
        assert!(!public_size(net("2600::/33")).reaches(t));
        assert!(public_size(net("::/0")).reaches(t));
        // Unique-local space is huge but never public.
        assert!(!public_size(net("fc00::/7")).reaches(t));
    }

    #[test]
    fn a_union_counts_overlaps_once_and_joins_halves() {
        let halves = [net("0.0.0.0/1"), net("128.0.0.0/1")];
        assert_eq!(public_size_of_union(&halves), public_size(net("0.0.0.0/0")));
        let twice = [net("11.0.0.0/9"), net("11.0.0.0/9")];
        assert!(!public_size_of_union(&twice).reaches(Threshold::default()));
        let slash8 = [net("11.0.0.0/9"), net("11.128.0.0/9")];
        assert!(public_size_of_union(&slash8).reaches(Threshold::default()));
        let v6 = [net("::/1"), net("8000::/1")];
        assert_eq!(public_size_of_union(&v6), public_size(net("::/0")));
    }

    #[test]
    fn single_and_union_paths_agree() {
        for text in [
            "0.0.0.0/0",
            "0.0.0.0/1",
            "128.0.0.0/1",
            "192.0.0.0/2",
            "8.8.8.8/32",
            "::/0",
            "2000::/3",
            "fc00::/6",
            "::/96",
            "ffff::/16",
        ] {
            let one = net(text);
            assert_eq!(public_size(one), public_size_of_union([&one]), "{text}");
        }
    }

    #[test]
    fn threshold_prefixes_are_configurable() {
        let strict = Threshold {
            ipv4_prefix: 16,
            ipv6_prefix: 48,
        };
        assert!(public_size(net("11.1.0.0/16")).reaches(strict));
        assert!(!public_size(net("11.1.0.0/17")).reaches(strict));
        let whole = Threshold {
            ipv4_prefix: 0,
            ipv6_prefix: 0,
        };
        assert!(!public_size(net("0.0.0.0/0")).reaches(whole));
    }
}
