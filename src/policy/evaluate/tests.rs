//! The search for rules that are the internet, or a public range, only together: its cheap
//! bounds (the candidates' sum, the rule's own ports, a set of rules already judged on another
//! port) skip work but never a finding.

use super::*;
use crate::policy::Example;
use crate::policy::exposure::public_size;

/// Each finding of the default baseline on `example`: the rule's peer, the baseline rule, the
/// reason.
fn findings(example: &str) -> Vec<(String, String, String)> {
    let baseline = Baseline::default_baseline().unwrap();
    let evaluator = Evaluator::new(&baseline, jiff::civil::date(2026, 12, 1));
    let rules = Example::parse(example).unwrap().rules;
    evaluator
        .evaluate_group(&rules, &Tags::new())
        .into_iter()
        .flat_map(|f| {
            let peer = f.rule.peer.to_string();
            f.violations
                .into_iter()
                .map(move |v| (peer.clone(), v.policy_rule, v.reason))
        })
        .collect()
}

fn of_rule<'f>(found: &'f [(String, String, String)], id: &str) -> Vec<(&'f str, &'f str)> {
    found
        .iter()
        .filter(|(_, rule, _)| rule == id)
        .map(|(peer, _, reason)| (peer.as_str(), reason.as_str()))
        .collect()
}

#[test]
fn two_ranges_that_sum_to_exactly_a_slash_16_are_no_public_range() {
    // 2 × 2^15 = 65,536: not more than a /16, so the candidates' sum already says no.
    let found = findings("tcp 22 from 11.0.0.0/17; tcp 22 from 12.0.0.0/17");
    assert!(of_rule(&found, "admin-ports-from-public-range").is_empty());
    // One address more, and together they are.
    let found =
        findings("tcp 22 from 11.0.0.0/17; tcp 22 from 12.0.0.0/17; tcp 22 from 13.0.0.1/32");
    assert_eq!(of_rule(&found, "admin-ports-from-public-range").len(), 3);
}

#[test]
fn a_range_large_enough_alone_leaves_a_small_partner_alone() {
    // The /9 is a public range by itself; the /24 adds nothing the union needs.
    let found = findings("tcp 22 from 11.0.0.0/9; tcp 22 from 12.0.0.0/24");
    assert_eq!(
        of_rule(&found, "admin-ports-from-public-range"),
        [(
            "11.0.0.0/9",
            "tcp 22 is open to 11.0.0.0/9, a public range larger than a /16"
        )]
    );
}

#[test]
fn two_small_ranges_on_the_same_port_are_a_public_range_together() {
    let found = findings("tcp 22 from 11.0.0.0/16; tcp 22 from 12.0.0.0/17");
    let public = of_rule(&found, "admin-ports-from-public-range");
    assert_eq!(public.len(), 2);
    assert_eq!(
        public[0],
        (
            "11.0.0.0/16",
            "tcp 22 is open to 11.0.0.0/16, together with 12.0.0.0/17 (sgr-example2) a public \
             range larger than a /16"
        )
    );
    // Not on different ports, nor different protocols, nor different directions.
    for apart in [
        "tcp 22 from 11.0.0.0/16; tcp 23 from 12.0.0.0/17",
        "tcp 22 from 11.0.0.0/16; udp 22 from 12.0.0.0/17",
        "tcp 22 from 11.0.0.0/16; egress tcp 22 to 12.0.0.0/17",
    ] {
        assert!(
            of_rule(&findings(apart), "admin-ports-from-public-range").is_empty(),
            "{apart}"
        );
    }
}

#[test]
fn a_partner_on_the_last_port_segment_is_found_past_segments_already_judged() {
    // All traffic spans every risky port; the same rules (it alone) cover each of them until
    // 27018, where the other half joins it: the internet together.
    let found = findings("all from 11.0.0.0/9; tcp 27018 from 11.128.0.0/9");
    let risky = of_rule(&found, "risky-ports-from-internet");
    assert_eq!(risky.len(), 2, "{found:?}");
    assert!(
        risky[0]
            .1
            .ends_with("together with 11.128.0.0/9 (sgr-example2)"),
        "{risky:?}"
    );
    // Together they are the internet, so neither is also a public range.
    assert!(of_rule(&found, "risky-ports-from-public-range").is_empty());
    // On a port the baseline rule is not about, they meet nowhere it cares.
    let found = findings("all from 11.0.0.0/9; tcp 27019 from 11.128.0.0/9");
    assert!(of_rule(&found, "risky-ports-from-internet").is_empty());
}

#[test]
fn an_ipv6_wildcard_is_the_ipv4_internet_too_without_a_range_set() {
    // `::/0` embeds every IPv4 address (6to4, Teredo, NAT64): counted on the single-CIDR path.
    let found = findings("tcp 22 from ::/0");
    assert_eq!(of_rule(&found, "admin-ports-from-internet").len(), 1);
    assert_eq!(
        public_size("::/0".parse().unwrap()).ipv4,
        public_size("0.0.0.0/0".parse().unwrap()).ipv4
    );
}
