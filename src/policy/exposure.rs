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

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use range_set_blaze::{RangeSetBlaze, UIntPlusOne};

/// IPv4 ranges that are not the internet, each with its registry entry: name, RFC, and the
/// registry's "Globally Reachable" value. [`GLOBAL_IPV4`] is put back.
pub const SPECIAL_IPV4: &[&str] = &[
    "0.0.0.0/8",       // "This network", RFC 791: False (and 0.0.0.0/32, RFC 1122: False)
    "10.0.0.0/8",      // Private-Use, RFC 1918: False
    "100.64.0.0/10",   // Shared Address Space (carrier-grade NAT), RFC 6598: False
    "127.0.0.0/8",     // Loopback, RFC 1122: False
    "169.254.0.0/16",  // Link Local, RFC 3927: False
    "172.16.0.0/12",   // Private-Use, RFC 1918: False
    "192.0.0.0/24", // IETF Protocol Assignments, RFC 6890: False; inside it 192.0.0.0/29 (RFC 7335), 192.0.0.8/32 (RFC 7600), 192.0.0.170-171 (RFC 8880): False
    "192.0.2.0/24", // Documentation (TEST-NET-1), RFC 5737: False
    "192.88.99.2/32", // 6a44-relay anycast address, RFC 6751: False
    "192.168.0.0/16", // Private-Use, RFC 1918: False
    "198.18.0.0/15", // Benchmarking, RFC 2544: False
    "198.51.100.0/24", // Documentation (TEST-NET-2), RFC 5737: False
    "203.0.113.0/24", // Documentation (TEST-NET-3), RFC 5737: False
    "224.0.0.0/4", // multicast, RFC 5771 (its own registry): never a packet's source, never routed from a VPC to the internet
    "240.0.0.0/4", // Reserved, RFC 1112: False; holds Limited Broadcast 255.255.255.255/32, RFC 919: False
];

/// IPv4 entries marked "Globally Reachable: True" inside a block of [`SPECIAL_IPV4`]: public.
pub const GLOBAL_IPV4: &[&str] = &[
    "192.0.0.9/32",  // Port Control Protocol Anycast, RFC 7723: True
    "192.0.0.10/32", // Traversal Using Relays around NAT Anycast, RFC 8155: True
];

/// IPv6 ranges that are not counted as IPv6 internet, each with its registry entry: name, RFC,
/// and the registry's "Globally Reachable" value. [`GLOBAL_IPV6`] is put back; the ranges of
/// [`EMBEDDED_IPV4`] are judged by the IPv4 addresses they carry instead.
pub const SPECIAL_IPV6: &[&str] = &[
    "::/128",         // Unspecified Address, RFC 4291: False
    "::1/128",        // Loopback Address, RFC 4291: False
    "::ffff:0:0/96", // IPv4-mapped Address, RFC 4291: False (a socket's view of IPv4, never an IPv6 packet's source)
    "64:ff9b::/96", // IPv4-IPv6 Translat. (NAT64 well-known prefix), RFC 6052: True: judged by its IPv4 side
    "64:ff9b:1::/48", // IPv4-IPv6 Translat. (local use), RFC 8215: False
    "100::/64",     // Discard-Only Address Block, RFC 6666: False
    "100:0:0:1::/64", // Dummy IPv6 Prefix, RFC 9780: False
    // IETF Protocol Assignments, RFC 2928: False unless a more specific entry says otherwise
    // (GLOBAL_IPV6). Inside it: TEREDO 2001::/32 (RFC 4380: N/A, judged by its IPv4 side),
    // Benchmarking 2001:2::/48 (RFC 5180: False), Deprecated ORCHID 2001:10::/28 (RFC 4843: no
    // value since 2014, so its parent's False).
    "2001::/23",
    "2001:db8::/32", // Documentation, RFC 3849: False
    "2002::/16",     // 6to4, RFC 3056: N/A: judged by its IPv4 side
    "3fff::/20",     // Documentation, RFC 9637: False
    "5f00::/16",     // Segment Routing (SRv6) SIDs, RFC 9602: False
    "fc00::/7",      // Unique-Local, RFC 4193: False
    "fe80::/10",     // Link-Local Unicast, RFC 4291: False
    "ff00::/8", // multicast, RFC 4291 (its own registry): never a packet's source, never routed from a VPC to the internet
];

/// IPv6 entries marked "Globally Reachable: True" inside `2001::/23`: public.
pub const GLOBAL_IPV6: &[&str] = &[
    "2001:1::1/128",   // Port Control Protocol Anycast, RFC 7723: True
    "2001:1::2/128",   // Traversal Using Relays around NAT Anycast, RFC 8155: True
    "2001:1::3/128",   // DNS-SD Service Registration Protocol Anycast, RFC 9665: True
    "2001:3::/32",     // AMT, RFC 7450: True
    "2001:4:112::/48", // AS112-v6, RFC 7535: True
    "2001:20::/28",    // ORCHIDv2, RFC 7343: True
    "2001:30::/28",    // Drone Remote ID Protocol Entity Tags (DETs) Prefix, RFC 9374: True
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

/// [`SPECIAL_IPV4`] less [`GLOBAL_IPV4`], parsed once.
static SPECIAL_V4: LazyLock<RangeSetBlaze<u32>> =
    LazyLock::new(|| v4_set(SPECIAL_IPV4) - v4_set(GLOBAL_IPV4));

/// [`SPECIAL_IPV6`] less [`GLOBAL_IPV6`], parsed once.
static SPECIAL_V6: LazyLock<RangeSetBlaze<u128>> =
    LazyLock::new(|| v6_set(SPECIAL_IPV6) - v6_set(GLOBAL_IPV6));

fn v4_set(list: &[&str]) -> RangeSetBlaze<u32> {
    list.iter()
        .filter_map(|text| text.parse::<Ipv4Net>().ok())
        .map(v4_range)
        .collect()
}

fn v6_set(list: &[&str]) -> RangeSetBlaze<u128> {
    list.iter()
        .filter_map(|text| text.parse::<Ipv6Net>().ok())
        .map(v6_range)
        .collect()
}

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

    /// Whether a single address counts toward the internet.
    fn counted(addr: &str) -> bool {
        let addr: std::net::IpAddr = addr.parse().unwrap();
        !public_size(IpNet::from(addr)).is_empty()
    }

    /// Every registry entry the tables name, and the "Globally Reachable: True" entries counted
    /// as ordinary public space: (entry, an address inside, counted?, an address just outside,
    /// counted?). Written out by hand from the registries, not derived from the tables.
    const REGISTRY: &[(&str, &str, bool, &str, bool)] = &[
        ("0.0.0.0/8", "0.255.255.255", false, "1.0.0.0", true),
        ("10.0.0.0/8", "10.0.0.1", false, "11.0.0.0", true),
        (
            "100.64.0.0/10",
            "100.127.255.255",
            false,
            "100.128.0.0",
            true,
        ),
        ("127.0.0.0/8", "127.0.0.1", false, "128.0.0.0", true),
        (
            "169.254.0.0/16",
            "169.254.169.254",
            false,
            "169.255.0.0",
            true,
        ),
        ("172.16.0.0/12", "172.31.255.255", false, "172.32.0.0", true),
        ("192.0.0.0/24", "192.0.0.170", false, "192.0.1.0", true),
        ("192.0.0.9/32", "192.0.0.9", true, "192.0.0.8", false),
        ("192.0.0.10/32", "192.0.0.10", true, "192.0.0.11", false),
        ("192.0.2.0/24", "192.0.2.1", false, "192.0.3.0", true),
        (
            "192.31.196.0/24",
            "192.31.196.1",
            true,
            "192.31.197.0",
            true,
        ),
        (
            "192.52.193.0/24",
            "192.52.193.1",
            true,
            "192.52.194.0",
            true,
        ),
        ("192.88.99.0/24", "192.88.99.1", true, "192.88.98.255", true),
        ("192.88.99.2/32", "192.88.99.2", false, "192.88.99.3", true),
        ("192.168.0.0/16", "192.168.1.1", false, "192.169.0.0", true),
        (
            "192.175.48.0/24",
            "192.175.48.1",
            true,
            "192.175.49.0",
            true,
        ),
        ("198.18.0.0/15", "198.19.255.255", false, "198.20.0.0", true),
        (
            "198.51.100.0/24",
            "198.51.100.7",
            false,
            "198.51.101.0",
            true,
        ),
        ("203.0.113.0/24", "203.0.113.7", false, "203.0.114.0", true),
        (
            "224.0.0.0/4",
            "239.255.255.255",
            false,
            "223.255.255.255",
            true,
        ),
        (
            "240.0.0.0/4",
            "255.255.255.255",
            false,
            "239.255.255.255",
            false,
        ),
        // Unassigned space outside the registries counts (in doubt, the internet).
        ("::/128", "::", false, "::2", true),
        ("::1/128", "::1", false, "::2", true),
        ("::ffff:0:0/96", "::ffff:808:808", false, "::1:0:0:0", true),
        // NAT64 counts by the IPv4 it embeds: 8.8.8.8 is the internet, 10.0.0.1 is not.
        (
            "64:ff9b::/96",
            "64:ff9b::808:808",
            true,
            "64:ff9b::1:0:0",
            true,
        ),
        (
            "64:ff9b:1::/48",
            "64:ff9b:1::808:808",
            false,
            "64:ff9b:2::",
            true,
        ),
        (
            "100::/64",
            "100::1",
            false,
            "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            true,
        ),
        ("100:0:0:1::/64", "100:0:0:1::1", false, "100:0:0:2::", true),
        ("2001::/23", "2001:100::1", false, "2001:200::", true),
        // Teredo's client 8.8.8.8 is stored inverted (f7f7:f7f7).
        (
            "2001::/32",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            true,
            "2001:1::",
            false,
        ),
        ("2001:1::1/128", "2001:1::1", true, "2001:1::", false),
        ("2001:1::2/128", "2001:1::2", true, "2001:1::4", false),
        ("2001:1::3/128", "2001:1::3", true, "2001:1::4", false),
        ("2001:2::/48", "2001:2::1", false, "2001:2:1::", false),
        ("2001:3::/32", "2001:3::1", true, "2001:4::", false),
        (
            "2001:4:112::/48",
            "2001:4:112::1",
            true,
            "2001:4:113::",
            false,
        ),
        ("2001:10::/28", "2001:10::1", false, "2001:20::", true),
        ("2001:20::/28", "2001:2f:ffff::1", true, "2001:40::", false),
        ("2001:30::/28", "2001:30::1", true, "2001:40::", false),
        ("2001:db8::/32", "2001:db8::1", false, "2001:db9::", true),
        ("2002::/16", "2002:808:808::1", true, "2003::", true),
        (
            "2620:4f:8000::/48",
            "2620:4f:8000::1",
            true,
            "2620:4f:8001::",
            true,
        ),
        ("3fff::/20", "3fff::1", false, "3fff:1000::", true),
        ("5f00::/16", "5f00::1", false, "5f01::", true),
        ("fc00::/7", "fd00::1", false, "fe00::", true),
        ("fe80::/10", "fe80::1", false, "fec0::", true),
        (
            "ff00::/8",
            "ff02::1",
            false,
            "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            true,
        ),
    ];

    #[test]
    fn every_registry_entry_is_judged_as_the_registry_says() {
        for (entry, inside, inside_counted, outside, outside_counted) in REGISTRY {
            let block = net(entry);
            let (a, b): (std::net::IpAddr, std::net::IpAddr) =
                (inside.parse().unwrap(), outside.parse().unwrap());
            assert!(block.contains(&a), "{inside} is not in {entry}");
            assert!(!block.contains(&b), "{outside} is in {entry}");
            assert_eq!(counted(inside), *inside_counted, "{inside} in {entry}");
            assert_eq!(
                counted(outside),
                *outside_counted,
                "{outside} next to {entry}"
            );
        }
        // Embedded private IPv4 stays private.
        assert!(!counted("64:ff9b::a00:1"));
        assert!(!counted("2002:a00:1::1"));
    }

    #[test]
    fn every_range_the_code_names_parses_and_is_tested() {
        let named = SPECIAL_IPV4
            .iter()
            .chain(SPECIAL_IPV6)
            .chain(GLOBAL_IPV4)
            .chain(GLOBAL_IPV6)
            .chain(EMBEDDED_IPV4.iter().map(|(prefix, _, _)| prefix));
        for entry in named {
            assert!(entry.parse::<IpNet>().is_ok(), "{entry} does not parse");
            assert!(
                REGISTRY.iter().any(|case| case.0 == *entry),
                "{entry} has no case in REGISTRY"
            );
        }
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
