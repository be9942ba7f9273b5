//! Properties of the evaluator over generated groups.

use ipnet::Ipv4Net;
use jiff::civil::date;
use proptest::prelude::*;
use sgguard::finding::Tags;
use sgguard::policy::{Baseline, Evaluator};
use sgguard::rule::{Direction, Peer, PortRange, Protocol, SecurityGroupRule};

fn rule(
    index: usize,
    protocol: Protocol,
    ports: Option<PortRange>,
    peer: Peer,
) -> SecurityGroupRule {
    SecurityGroupRule {
        account_id: Some("111122223333".to_owned()),
        region: Some("eu-west-1".to_owned()),
        group_id: Some("sg-prop".to_owned()),
        rule_id: Some(format!("sgr-{index}")),
        direction: Direction::Ingress,
        protocol,
        ports,
        peer,
        description: None,
    }
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::All),
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Icmp),
    ]
}

fn ports() -> impl Strategy<Value = PortRange> {
    prop_oneof![
        (0u16..=65535).prop_map(PortRange::single),
        (0u16..=65535, 0u16..=4000).prop_map(|(from, len)| PortRange {
            from,
            to: from.saturating_add(len),
        }),
        Just(PortRange::single(22)),
        Just(PortRange::single(5432)),
    ]
}

fn ipv4() -> impl Strategy<Value = Ipv4Net> {
    (any::<u32>(), 0u8..=24).prop_map(|(addr, len)| {
        Ipv4Net::new(std::net::Ipv4Addr::from(addr), len)
            .unwrap()
            .trunc()
    })
}

fn spec() -> impl Strategy<Value = (Protocol, PortRange, Ipv4Net)> {
    (protocol(), ports(), ipv4())
}

fn build(specs: &[(Protocol, PortRange, Ipv4Net)]) -> Vec<SecurityGroupRule> {
    specs
        .iter()
        .enumerate()
        .map(|(i, (protocol, ports, net))| {
            let ports = protocol.has_ports().then_some(*ports);
            rule(i, *protocol, ports, Peer::Ipv4(*net))
        })
        .collect()
}

/// The set of (protocol, port, baseline rule) a group opens to the internet: a verdict that does
/// not depend on how the rules are cut into CIDRs.
fn group_verdict(
    baseline: &Baseline,
    rules: &[SecurityGroupRule],
) -> std::collections::BTreeSet<String> {
    let evaluator = Evaluator::new(baseline, date(2026, 11, 27));
    evaluator
        .evaluate_group(rules, &Tags::new())
        .iter()
        .flat_map(|f| f.violations.iter().map(|v| v.policy_rule.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Splitting a CIDR into its two halves never changes the group's verdict.
    #[test]
    fn splitting_a_cidr_into_halves_keeps_the_verdict(
        specs in prop::collection::vec(spec(), 1..6),
        which in any::<prop::sample::Index>(),
    ) {
        let baseline = Baseline::default_baseline().unwrap();
        let before = build(&specs);
        let index = which.index(specs.len());
        let (protocol, ports, net) = specs[index];
        prop_assume!(net.prefix_len() < 32);
        let halves = net.subnets(net.prefix_len() + 1).unwrap().collect::<Vec<_>>();
        let mut split = specs.clone();
        split[index] = (protocol, ports, halves[0]);
        split.push((protocol, ports, halves[1]));
        let after = build(&split);
        prop_assert_eq!(group_verdict(&baseline, &before), group_verdict(&baseline, &after));
    }

    /// Widening a rule's port range never removes a violation of that rule.
    #[test]
    fn widening_a_port_range_never_removes_a_violation(
        specs in prop::collection::vec(spec(), 1..6),
        which in any::<prop::sample::Index>(),
        grow_down in 0u16..2000,
        grow_up in 0u16..2000,
    ) {
        let baseline = Baseline::default_baseline().unwrap();
        let rules = build(&specs);
        let index = which.index(specs.len());
        prop_assume!(rules[index].ports.is_some());
        let mut wider = rules.clone();
        let range = wider[index].ports.unwrap();
        wider[index].ports = Some(PortRange {
            from: range.from.saturating_sub(grow_down),
            to: range.to.saturating_add(grow_up),
        });
        let evaluator = Evaluator::new(&baseline, date(2026, 11, 27));
        let violations = |rules: &[SecurityGroupRule]| -> std::collections::BTreeSet<String> {
            evaluator
                .evaluate_group(rules, &Tags::new())
                .iter()
                .filter(|f| f.rule.rule_id == rules[index].rule_id)
                .flat_map(|f| f.violations.iter().map(|v| v.policy_rule.clone()))
                .collect()
        };
        let narrow = violations(&rules);
        let wide = violations(&wider);
        prop_assert!(narrow.is_subset(&wide), "narrow {:?} wide {:?}", narrow, wide);
    }

    /// The public size of a union never depends on the order or duplication of its CIDRs.
    #[test]
    fn public_size_is_order_independent(nets in prop::collection::vec(ipv4(), 1..8)) {
        use sgguard::policy::exposure::public_size_of_union;
        let all: Vec<ipnet::IpNet> = nets.iter().copied().map(ipnet::IpNet::V4).collect();
        let mut reversed = all.clone();
        reversed.reverse();
        reversed.extend(all.iter().copied());
        prop_assert_eq!(public_size_of_union(&all), public_size_of_union(&reversed));
    }
}
