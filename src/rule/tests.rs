//! The rule's tests: protocols, ports and peers as inputs write them, and when two rules are
//! the same.

use super::*;

#[test]
fn protocols_by_name_and_number_normalize_alike() {
    for (text, expected) in [
        ("-1", Protocol::All),
        ("all", Protocol::All),
        ("tcp", Protocol::Tcp),
        ("6", Protocol::Tcp),
        ("TCP", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("17", Protocol::Udp),
        ("icmp", Protocol::Icmp),
        ("1", Protocol::Icmp),
        ("icmpv6", Protocol::Icmpv6),
        ("58", Protocol::Icmpv6),
        ("47", Protocol::Other(47)),
    ] {
        assert_eq!(text.parse::<Protocol>(), Ok(expected), "{text}");
    }
    assert!("gre".parse::<Protocol>().is_err());
    assert!("256".parse::<Protocol>().is_err());
}

#[test]
fn missing_or_minus_one_ports_mean_all_ports_for_tcp_and_udp() {
    assert_eq!(
        ports_for(Protocol::Tcp, None, None),
        Ok(Some(PortRange::ALL))
    );
    assert_eq!(
        ports_for(Protocol::Udp, Some(-1), Some(-1)),
        Ok(Some(PortRange::ALL))
    );
    assert_eq!(
        ports_for(Protocol::Tcp, Some(22), Some(22)),
        Ok(Some(PortRange::single(22)))
    );
    assert!(ports_for(Protocol::Tcp, Some(80), Some(22)).is_err());
    assert!(ports_for(Protocol::Tcp, Some(70000), Some(70000)).is_err());
}

#[test]
fn icmp_type_and_code_are_not_ports() {
    assert_eq!(ports_for(Protocol::Icmp, Some(8), Some(0)), Ok(None));
    assert_eq!(ports_for(Protocol::All, Some(0), Some(65535)), Ok(None));
    assert_eq!(ports_for(Protocol::Other(47), Some(1), Some(2)), Ok(None));
}

#[test]
fn bare_addresses_are_host_cidrs() {
    assert_eq!(Peer::cidr("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
    assert_eq!(Peer::cidr("::/0").unwrap().to_string(), "::/0");
    assert!(Peer::cidr("sg-123").is_err());
}

#[test]
fn port_sets_merge_complement_and_intersect() {
    let range = |from, to| PortRange::new(from, to).unwrap();
    let set = PortSet::from_ranges([range(80, 80), range(22, 22), range(81, 90), range(85, 86)]);
    assert_eq!(set.ranges(), [range(22, 22), range(80, 90)]);
    assert_eq!(
        set.complement().ranges(),
        [range(0, 21), range(23, 79), range(91, u16::MAX)]
    );
    assert!(
        PortSet::from_ranges([PortRange::ALL])
            .complement()
            .is_empty()
    );
    assert!(set.intersects(range(0, 22)));
    assert!(!set.intersects(range(23, 79)));
    assert_eq!(set.intersection(range(85, 100)).ranges(), [range(85, 90)]);
    assert!(set.intersection(range(1000, 2000)).is_empty());
}

/// The lookups evaluation makes for every rule (a binary search over the flat ranges) agree
/// with range-set-blaze's own answer, at every edge.
#[test]
fn port_set_lookups_agree_with_the_set_algebra() {
    let range = |from, to| PortRange::new(from, to).unwrap();
    let sets = [
        PortSet::default(),
        PortSet::from_ranges([PortRange::ALL]),
        PortSet::from_ranges([range(0, 0)]),
        PortSet::from_ranges([range(u16::MAX, u16::MAX)]),
        PortSet::from_ranges([range(22, 22), range(80, 90), range(3389, 3389)]),
        PortSet::from_ranges([range(80, 80), range(443, 443)]).complement(),
    ];
    let edges = [
        0u16, 1, 21, 22, 23, 79, 80, 81, 89, 90, 91, 442, 443, 444, 3389, 65534, 65535,
    ];
    for set in &sets {
        for &from in &edges {
            assert_eq!(
                set.contains(from),
                !set.intersection(range(from, from)).is_empty()
            );
            for &to in edges.iter().filter(|&&to| to >= from) {
                assert_eq!(
                    set.intersects(range(from, to)),
                    !set.intersection(range(from, to)).is_empty(),
                    "{set:?} {from}-{to}"
                );
            }
        }
    }
}

#[test]
fn the_same_rule_by_id_or_by_what_it_opens() {
    let rule = SecurityGroupRule {
        account_id: None,
        region: None,
        group_id: None,
        rule_id: None,
        direction: Direction::Ingress,
        protocol: Protocol::Tcp,
        ports: Some(PortRange::single(22)),
        peer: Peer::PrefixList {
            id: "pl-1".to_owned(),
            entries: None,
        },
        description: None,
    };
    let found = SecurityGroupRule {
        group_id: Some("sg-1".to_owned()),
        rule_id: Some("sgr-1".to_owned()),
        peer: Peer::PrefixList {
            id: "pl-1".to_owned(),
            entries: Some(Vec::new()),
        },
        ..rule.clone()
    };
    // No rule id on one side: the group (when named), direction, protocol, ports and the
    // prefix list's id decide.
    assert!(rule.is_same_rule(&found));
    let other_ports = SecurityGroupRule {
        ports: Some(PortRange::single(23)),
        ..found.clone()
    };
    assert!(!rule.is_same_rule(&other_ports));
    let other_group = SecurityGroupRule {
        group_id: Some("sg-2".to_owned()),
        ..rule.clone()
    };
    assert!(!other_group.is_same_rule(&found));
    // Rule ids on both sides: they alone decide.
    let named = SecurityGroupRule {
        rule_id: Some("sgr-2".to_owned()),
        ..found.clone()
    };
    assert!(!named.is_same_rule(&found));
}

#[test]
fn directions_and_protocols_read_and_write_the_same_text() {
    for direction in [Direction::Ingress, Direction::Egress] {
        let text = direction.to_string();
        assert_eq!(text, direction.as_str());
        assert_eq!(text.parse::<Direction>(), Ok(direction));
        assert_eq!(serde_json::to_value(direction).unwrap(), text.as_str());
    }
    for protocol in [
        Protocol::All,
        Protocol::Tcp,
        Protocol::Icmpv6,
        Protocol::Other(47),
    ] {
        let json = serde_json::to_value(protocol).unwrap();
        assert_eq!(json, protocol.to_string().as_str());
        assert_eq!(serde_json::from_value::<Protocol>(json).unwrap(), protocol);
    }
}
