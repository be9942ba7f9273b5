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

/// The baseline rules a group breaks.
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

/// The baseline rules about the internet a group breaks: a verdict that does not depend on how
/// the rules are cut into CIDRs. (A public range is "not the internet", and a rule that is the
/// internet alone takes no part in combinations: cutting it can turn a range beside it from a
/// public range into part of the internet; `splitting_a_public_range_keeps_the_verdict` holds
/// where nothing is the internet.)
fn internet_verdict(
    baseline: &Baseline,
    rules: &[SecurityGroupRule],
) -> std::collections::BTreeSet<String> {
    let mut verdict = group_verdict(baseline, rules);
    verdict.retain(|id| !id.ends_with("-from-public-range"));
    verdict
}

/// IPv4 CIDRs of /10 to /24: three of them never reach the internet's /8.
fn below_the_internet() -> impl Strategy<Value = Ipv4Net> {
    (any::<u32>(), 10u8..=24).prop_map(|(addr, len)| {
        Ipv4Net::new(std::net::Ipv4Addr::from(addr), len)
            .unwrap()
            .trunc()
    })
}

/// The specs with the CIDR at `index` cut into its two halves (the second one last), or `None`
/// for a /32.
fn split_one(
    specs: &[(Protocol, PortRange, Ipv4Net)],
    index: usize,
) -> Option<Vec<(Protocol, PortRange, Ipv4Net)>> {
    let (protocol, ports, net) = specs[index];
    let mut halves = net.subnets(net.prefix_len().checked_add(1)?).ok()?;
    let mut split = specs.to_vec();
    split[index] = (protocol, ports, halves.next()?);
    split.push((protocol, ports, halves.next()?));
    Some(split)
}

/// A verdict of the specs' group, and of the same group with one CIDR cut in two.
fn verdicts_before_and_after_a_split<V>(
    specs: &[(Protocol, PortRange, Ipv4Net)],
    which: prop::sample::Index,
    verdict: impl Fn(&Baseline, &[SecurityGroupRule]) -> V,
) -> Option<(V, V)> {
    let baseline = Baseline::default_baseline().unwrap();
    let split = split_one(specs, which.index(specs.len()))?;
    Some((
        verdict(&baseline, &build(specs)),
        verdict(&baseline, &build(&split)),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Splitting a CIDR into its two halves never changes the group's verdict.
    #[test]
    fn splitting_a_cidr_into_halves_keeps_the_verdict(
        specs in prop::collection::vec(spec(), 1..6),
        which in any::<prop::sample::Index>(),
    ) {
        let verdicts = verdicts_before_and_after_a_split(&specs, which, internet_verdict);
        prop_assume!(verdicts.is_some());
        let (before, after) = verdicts.unwrap();
        prop_assert_eq!(before, after);
    }

    /// Where no rule is the internet, splitting a CIDR never changes which public-range rules
    /// (or any rules) the group breaks.
    #[test]
    fn splitting_a_public_range_keeps_the_verdict(
        specs in prop::collection::vec((protocol(), ports(), below_the_internet()), 1..3),
        which in any::<prop::sample::Index>(),
    ) {
        let verdicts = verdicts_before_and_after_a_split(&specs, which, group_verdict);
        prop_assume!(verdicts.is_some());
        let (before, after) = verdicts.unwrap();
        prop_assert_eq!(before, after);
    }

    /// No gap between the two tiers: SSH from any IPv4 CIDR whose public part is more than a
    /// /16 is revoked as the internet or reported as a public range, never both, never neither.
    #[test]
    fn ssh_from_more_than_a_slash_16_is_always_a_finding(net in ipv4()) {
        use sgguard::policy::exposure::public_ipv4;
        let baseline = Baseline::default_baseline().unwrap();
        let verdict = group_verdict(&baseline, &build(&[(Protocol::Tcp, PortRange::single(22), net)]));
        let internet = verdict.contains("admin-ports-from-internet");
        let public = verdict.contains("admin-ports-from-public-range");
        prop_assert!(!(internet && public), "{net}: {verdict:?}");
        prop_assert_eq!(internet || public, public_ipv4(net) > 1 << 16, "{}: {:?}", net, verdict);
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
