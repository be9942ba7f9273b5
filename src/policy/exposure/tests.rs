//! The public-address count judged against the registries entry by entry (written out by hand,
//! not derived from the tables), and the threshold it is held to.

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

/// The single-CIDR path counts without allocating; the union path builds range sets. Both
/// must agree, for the CIDRs that embed IPv4 (one prefix, several, a part of one) above all.
#[test]
fn the_allocation_free_single_cidr_count_agrees_with_the_range_sets() {
    for text in [
        "::/0",
        "::/1",
        "::/8",
        "::/64",
        "0:0:0:0:0:0:0:1/128",
        "2000::/3",
        "2000::/4",
        "2000::/8",
        "2000::/14",
        "2001::/16",
        "2001::/23",
        "2001::/32",
        "2001::/33",
        "2001:0:0:0:0:0:f400:0/104",
        "2001:0:4136:e378::/64",
        "2002::/15",
        "2002::/16",
        "2002:a00::/24",
        "2002:b00::/24",
        "2002:b00::/31",
        "2002:b80::/25",
        "2002:b00:1::/48",
        "64::/16",
        "64:ff9b::/32",
        "64:ff9b::/95",
        "64:ff9b::/96",
        "64:ff9b::a00:0/104",
        "64:ff9b::b00:0/104",
        "64:ff9b::b01:203/128",
        "2600::/12",
        "2600::/48",
        "fc00::/7",
        "11.0.0.0/8",
        "0.0.0.0/0",
    ] {
        let one = net(text);
        assert_eq!(
            public_size(one),
            union_size(std::iter::once(&one)),
            "{text}"
        );
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
