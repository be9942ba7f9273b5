//! What the default baseline's rules find: ports, protocols, IPv6, thresholds, split ranges
//! (and which rules a combination needs), special-purpose ranges, prefix lists, group
//! references, egress.

use jiff::civil::date;
use sgguard::policy::{Baseline, Evaluator, Example, check_examples};

use super::{
    ADMIN, ADMIN_PUBLIC, ALL, OTHER, RISKY, UNAPPROVED, default_baseline, fires, verdict_with,
};

#[test]
fn the_default_baseline_checks_its_own_examples() {
    let baseline = default_baseline();
    assert_eq!(check_examples(&baseline), vec![]);
    assert_eq!(baseline.rules.len(), 7);
    for rule in &baseline.rules {
        assert!(!rule.examples.is_empty(), "{} has no examples", rule.id);
        assert!(
            !rule.negative_examples.is_empty(),
            "{} has no negative examples",
            rule.id
        );
    }
}

#[test]
fn admin_ports_over_tcp_and_udp_are_revoked() {
    for port in [22, 3389] {
        for protocol in ["tcp", "udp", "6", "17"] {
            let example = format!("{protocol} {port} from 0.0.0.0/0");
            assert!(fires(&example, ADMIN), "{example}");
            assert!(fires(&format!("{protocol} {port} from ::/0"), ADMIN));
        }
    }
    assert!(!fires("tcp 23 from 0.0.0.0/0", ADMIN));
    assert!(!fires("tcp 21 from 0.0.0.0/0", ADMIN));
}

#[test]
fn every_default_risky_port_is_revoked_over_tcp() {
    let ports = [
        20, 21, 23, 25, 110, 135, 143, 445, 1433, 1434, 1521, 2483, 3000, 3306, 4333, 5000, 5432,
        5500, 5601, 6379, 7199, 8080, 8088, 8888, 9092, 9160, 9200, 9300, 11211, 27017, 27018,
    ];
    for port in ports {
        assert!(
            fires(&format!("tcp {port} from 0.0.0.0/0"), RISKY),
            "tcp {port}"
        );
        assert!(
            fires(&format!("tcp {port} from ::/0"), RISKY),
            "tcp {port} v6"
        );
        assert!(
            !fires(&format!("udp {port} from 0.0.0.0/0"), RISKY),
            "udp {port}"
        );
    }
    for port in [24, 1435, 5433, 27019, 8081] {
        assert!(
            !fires(&format!("tcp {port} from 0.0.0.0/0"), RISKY),
            "tcp {port}"
        );
    }
}

#[test]
fn other_ports_are_notified_and_web_ports_are_fine() {
    assert!(fires("tcp 8443 from 0.0.0.0/0", UNAPPROVED));
    assert!(fires("udp 1194 from ::/0", UNAPPROVED));
    for example in [
        "tcp 80 from 0.0.0.0/0",
        "tcp 443 from ::/0",
        "udp 443 from 0.0.0.0/0",
    ] {
        assert_eq!(
            verdict_with(&default_baseline(), example),
            vec![Vec::<String>::new()],
            "{example}"
        );
    }
    // A range that only spans 80..443 still opens 81..442.
    assert!(fires("tcp 80-443 from 0.0.0.0/0", UNAPPROVED));
}

#[test]
fn all_traffic_by_name_and_number() {
    assert!(fires("all from 0.0.0.0/0", ALL));
    assert!(fires("-1 from ::/0", ALL));
    // All traffic opens every port and protocol, so the port rules and the other-protocols
    // rule see it too, in one finding, most severe first.
    assert_eq!(
        verdict_with(&default_baseline(), "all from 0.0.0.0/0"),
        vec![vec![
            ALL.to_owned(),
            ADMIN.to_owned(),
            RISKY.to_owned(),
            OTHER.to_owned(),
            UNAPPROVED.to_owned()
        ]]
    );
    // A full tcp range is not "all traffic".
    assert!(!fires("tcp 0-65535 from 0.0.0.0/0", ALL));
}

#[test]
fn icmp_from_the_internet_is_not_a_finding() {
    for example in [
        "icmp from 0.0.0.0/0",
        "icmpv6 from ::/0",
        "58 from ::/0",
        "1 from ::/0",
    ] {
        assert_eq!(
            verdict_with(&default_baseline(), example),
            vec![Vec::<String>::new()],
            "{example}"
        );
    }
}

/// Regression: GRE, ESP, SCTP and IPv6-in-IPv4 open to the internet matched no rule.
#[test]
fn other_protocols_from_the_internet_are_revoked() {
    let baseline = default_baseline();
    let evaluator = Evaluator::new(&baseline, date(2026, 11, 27));
    for number in [41, 47, 50, 51, 132, 0, 255] {
        for peer in ["0.0.0.0/0", "::/0", "0.0.0.0/1 + 128.0.0.0/1", "2000::/3"] {
            let example = format!("{number} from {peer}");
            assert_eq!(
                verdict_with(&baseline, &example)[0],
                vec![OTHER.to_owned()],
                "{example}"
            );
            let example = Example::parse(&example).unwrap();
            let findings = evaluator.evaluate_group(&example.rules, &sgguard::finding::Tags::new());
            assert_eq!(findings[0].action, sgguard::finding::Action::Revoke);
            assert_eq!(
                findings[0].violations[0].reason,
                format!(
                    "protocol {number} is open to the internet from {}",
                    example.rules[0].peer
                )
            );
        }
        // A protocol is judged with its own rules and the rules for all traffic only.
        assert!(fires(
            &format!("{number} from 11.0.0.0/9; all from 11.128.0.0/9"),
            OTHER
        ));
        assert!(!fires(
            &format!("{number} from 11.0.0.0/9; tcp 0-65535 from 11.128.0.0/9"),
            OTHER
        ));
        assert!(!fires(&format!("{number} from 10.0.0.0/8"), OTHER));
    }
    // Two different protocols do not open one of them together.
    assert!(!fires("47 from 11.0.0.0/9; 50 from 11.128.0.0/9", OTHER));
    for ported in ["tcp 0-65535 from 0.0.0.0/0", "udp 0-65535 from ::/0"] {
        assert!(!fires(ported, OTHER), "{ported}");
    }
}

#[test]
fn thresholds_are_a_slash_eight_and_a_slash_32_of_public_space() {
    assert!(fires("tcp 22 from 11.0.0.0/8", ADMIN));
    assert!(!fires("tcp 22 from 11.0.0.0/9", ADMIN));
    assert!(fires("tcp 22 from 2600::/32", ADMIN));
    assert!(!fires("tcp 22 from 2600::/33", ADMIN));
    // 10/8 is private; 10.0.0.0/7 holds 11/8, which is public.
    assert!(!fires("tcp 22 from 10.0.0.0/8", ADMIN));
    assert!(fires("tcp 22 from 10.0.0.0/7", ADMIN));
}

#[test]
fn special_purpose_ranges_never_count() {
    for cidr in [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/3",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "::ffff:0:0/96",
    ] {
        assert!(!fires(&format!("tcp 22 from {cidr}"), ADMIN), "{cidr}");
    }
}

#[test]
fn split_ranges_in_one_group_are_judged_together() {
    assert_eq!(
        verdict_with(&default_baseline(), "tcp 22 from 11.0.0.0/9 + 11.128.0.0/9"),
        vec![vec![ADMIN.to_owned(), UNAPPROVED.to_owned()]; 2]
    );
    assert!(fires("tcp 5432 from 0.0.0.0/1 + 128.0.0.0/1", RISKY));
    // Different ports, or different protocols, do not add up.
    assert!(!fires(
        "tcp 22 from 11.0.0.0/9; tcp 3389 from 11.128.0.0/9",
        ADMIN
    ));
    assert!(!fires(
        "tcp 22 from 11.0.0.0/9; udp 22 from 11.128.0.0/9",
        ADMIN
    ));
    // Overlapping port ranges do: 20-30 and 22 share port 22.
    assert!(fires(
        "tcp 20-30 from 11.0.0.0/9; tcp 22 from 11.128.0.0/9",
        ADMIN
    ));
    // All traffic opens tcp 22 too.
    assert!(fires(
        "all from 11.0.0.0/9; tcp 22 from 11.128.0.0/9",
        ADMIN
    ));
    // The same /9 twice is still a /9.
    assert!(!fires("tcp 22 from 11.0.0.0/9 + 11.0.0.0/9", ADMIN));
}

#[test]
fn split_ranges_in_different_groups_are_not_combined() {
    let baseline = default_baseline();
    let mut rules = Example::parse("tcp 22 from 11.0.0.0/9").unwrap().rules;
    let mut other = Example::parse("tcp 22 from 11.128.0.0/9").unwrap().rules;
    other[0].group_id = Some("sg-other".to_owned());
    rules.append(&mut other);
    let evaluator = Evaluator::new(&baseline, date(2026, 11, 27));
    // Apart, each /9 is only a public range larger than a /16: reported, not revoked.
    let apart = evaluator.evaluate_rules(&rules, |_| None);
    assert_eq!(apart.len(), 2);
    for finding in &apart {
        let ids: Vec<&str> = finding
            .violations
            .iter()
            .map(|v| v.policy_rule.as_str())
            .collect();
        assert_eq!(ids, [ADMIN_PUBLIC]);
        assert_eq!(finding.action, sgguard::finding::Action::Notify);
    }
    other = Example::parse("tcp 22 from 11.128.0.0/9").unwrap().rules;
    rules.truncate(1);
    rules.append(&mut other);
    assert_eq!(evaluator.evaluate_rules(&rules, |_| None).len(), 2);
}

#[test]
fn combining_can_be_switched_off() {
    let yaml = sgguard::policy::DEFAULT_BASELINE_YAML
        .replace("combine_rules: true", "combine_rules: false");
    let baseline = Baseline::from_yaml(&yaml, "test.yaml").unwrap();
    let verdict = verdict_with(&baseline, "tcp 22 from 11.0.0.0/9 + 11.128.0.0/9");
    // Not the internet any more, each /9 is still a public range larger than a /16.
    assert_eq!(verdict, vec![vec![ADMIN_PUBLIC.to_owned()]; 2]);
}

#[test]
fn prefix_lists_are_judged_by_their_entries() {
    assert!(fires("tcp 22 from pl-1=0.0.0.0/0", ADMIN));
    assert!(fires("tcp 22 from pl-1=11.0.0.0/9,11.128.0.0/9", ADMIN));
    assert!(!fires("tcp 22 from pl-1=10.0.0.0/8,192.168.0.0/16", ADMIN));
    // Entries not known: not judged as the internet.
    assert!(!fires("tcp 22 from pl-1", ADMIN));
    // A prefix list and a CIDR of the same group add up.
    assert!(fires(
        "tcp 22 from pl-1=11.0.0.0/9; tcp 22 from 11.128.0.0/9",
        ADMIN
    ));
}

#[test]
fn a_referenced_group_is_never_the_internet() {
    assert_eq!(
        verdict_with(&default_baseline(), "all from sg-0123"),
        vec![Vec::<String>::new()]
    );
}

#[test]
fn egress_is_not_in_the_default_baseline_but_can_be_added() {
    assert_eq!(
        verdict_with(&default_baseline(), "egress all to 0.0.0.0/0"),
        vec![Vec::<String>::new()]
    );
    let yaml = format!(
        "{}\n  - id: smtp-egress\n    title: SMTP to the internet\n    direction: egress\n    protocols: [tcp]\n    ports: [25]\n    action: notify\n    severity: low\n    examples: [egress tcp 25 to 0.0.0.0/0]\n    negative_examples: [tcp 25 from 0.0.0.0/0]\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    let baseline = Baseline::from_yaml(&yaml, "egress.yaml").unwrap();
    assert_eq!(check_examples(&baseline), vec![]);
    assert_eq!(
        verdict_with(&baseline, "egress all to ::/0"),
        vec![vec!["smtp-egress".to_owned()]]
    );
}

#[test]
fn explicit_cidr_and_any_sources() {
    let yaml = "version: 1\nrules:\n  - id: partner\n    title: partner range\n    source: cidrs\n    cidrs: [198.51.100.0/24]\n    protocols: [tcp]\n    action: notify\n    severity: low\n  - id: anything-on-23\n    title: telnet from anywhere\n    source: any\n    protocols: [tcp]\n    ports: [23]\n    action: revoke\n    severity: high\nacknowledge: [revokes-default-group]\n";
    let baseline = Baseline::from_yaml(yaml, "sources.yaml").unwrap();
    assert_eq!(
        verdict_with(&baseline, "tcp 443 from 198.51.100.7/32"),
        vec![vec!["partner".to_owned()]]
    );
    assert_eq!(
        verdict_with(&baseline, "tcp 443 from 198.51.0.0/16"),
        vec![vec!["partner".to_owned()]]
    );
    assert_eq!(
        verdict_with(&baseline, "tcp 443 from 192.0.2.0/24"),
        vec![Vec::<String>::new()]
    );
    assert_eq!(
        verdict_with(&baseline, "tcp 23 from sg-1"),
        vec![vec!["anything-on-23".to_owned()]]
    );
}

#[test]
fn a_rule_open_on_its_own_does_not_drag_small_rules_in() {
    // Revoking 0.0.0.0/0 fixes the group; the partner's /32 is not part of the problem.
    assert_eq!(
        verdict_with(
            &default_baseline(),
            "tcp 22 from 0.0.0.0/0; tcp 22 from 8.8.8.8/32"
        ),
        vec![vec![ADMIN.to_owned(), UNAPPROVED.to_owned()], vec![]]
    );
}

#[test]
fn only_the_rules_a_combination_needs_are_findings() {
    // Two /9s make the /8; the /32 beside them is not needed.
    assert_eq!(
        verdict_with(
            &default_baseline(),
            "tcp 22 from 8.8.8.8/32; tcp 22 from 11.0.0.0/9; tcp 22 from 11.128.0.0/9"
        ),
        vec![
            vec![],
            vec![ADMIN.to_owned(), UNAPPROVED.to_owned()],
            vec![ADMIN.to_owned(), UNAPPROVED.to_owned()]
        ]
    );
    // Three /9s: revoking the two largest-first leaves a /9, which is not the internet but a
    // public range larger than a /16, reported only.
    let verdict = verdict_with(
        &default_baseline(),
        "tcp 22 from 11.0.0.0/9; tcp 22 from 11.128.0.0/9; tcp 22 from 12.0.0.0/9",
    );
    assert_eq!(
        verdict
            .iter()
            .filter(|ids| ids.contains(&ADMIN.to_owned()))
            .count(),
        2
    );
    assert_eq!(verdict[2], vec![ADMIN_PUBLIC.to_owned()]);
}
