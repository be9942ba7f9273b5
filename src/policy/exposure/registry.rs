//! The registries "the internet" is measured against: the IANA special-purpose entries that are
//! not the internet, the globally reachable ones inside them, and the IPv6 ranges that carry
//! IPv4 addresses; each as written, then parsed once into range sets.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::RangeInclusive;
use std::sync::LazyLock;

use ipnet::{Ipv4Net, Ipv6Net};
use range_set_blaze::RangeSetBlaze;

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

/// [`SPECIAL_IPV4`] less [`GLOBAL_IPV4`], parsed once.
pub(super) static SPECIAL_V4: LazyLock<RangeSetBlaze<u32>> =
    LazyLock::new(|| v4_set(SPECIAL_IPV4) - v4_set(GLOBAL_IPV4));

/// [`SPECIAL_IPV6`] less [`GLOBAL_IPV6`], parsed once.
pub(super) static SPECIAL_V6: LazyLock<RangeSetBlaze<u128>> =
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
pub(super) static EMBEDDED_V6: LazyLock<Vec<(RangeInclusive<u128>, u32, bool)>> =
    LazyLock::new(|| {
        EMBEDDED_IPV4
            .iter()
            .filter_map(|(text, shift, inverted)| {
                Some((v6_range(text.parse::<Ipv6Net>().ok()?), *shift, *inverted))
            })
            .collect()
    });

/// The special ranges as sorted, disjoint intervals, for the allocation-free single-CIDR path.
pub(super) static SPECIAL_V4_SORTED: LazyLock<Vec<RangeInclusive<u32>>> =
    LazyLock::new(|| SPECIAL_V4.ranges().collect());
pub(super) static SPECIAL_V6_SORTED: LazyLock<Vec<RangeInclusive<u128>>> =
    LazyLock::new(|| SPECIAL_V6.ranges().collect());

pub(super) fn v4_range(net: Ipv4Net) -> RangeInclusive<u32> {
    u32::from(net.network())..=u32::from(net.broadcast())
}

pub(super) fn v6_range(net: Ipv6Net) -> RangeInclusive<u128> {
    u128::from(net.network())..=u128::from(net.broadcast())
}

/// Convenience for tests and examples.
pub fn is_special_ipv4(addr: Ipv4Addr) -> bool {
    SPECIAL_V4.contains(u32::from(addr))
}

/// Convenience for tests and examples.
pub fn is_special_ipv6(addr: Ipv6Addr) -> bool {
    SPECIAL_V6.contains(u128::from(addr))
}
