//! Public ranges that are not the internet (`source: public`, `larger_than`) and protocols
//! other than TCP, UDP and ICMP (`except_protocols`): what the default baseline reports, and how
//! a baseline that gets them wrong is refused.

use jiff::civil::date;
use sgguard::finding::{Action, Tags};
use sgguard::policy::{Baseline, Evaluator, Example};

use super::{
    ADMIN, ADMIN_PUBLIC, RISKY, RISKY_PUBLIC, default_baseline, fires, policy_error, verdict_with,
};

/// Regression: SSH from a public /9 (8.4 million addresses) or an IPv6 /33 was no finding.
#[test]
fn ssh_from_a_public_range_larger_than_a_slash_16_is_reported() {
    for peer in [
        "11.0.0.0/9",
        "11.0.0.0/15",
        "52.0.0.0/10",
        "2600::/33",
        "2600::/47",
        // 6to4 of a public /15: judged by the IPv4 it carries.
        "2002:b00::/31",
    ] {
        for port in [22, 3389] {
            let example = format!("tcp {port} from {peer}");
            assert_eq!(
                verdict_with(&default_baseline(), &example),
                vec![vec![ADMIN_PUBLIC.to_owned()]],
                "{example}"
            );
        }
        assert!(fires(&format!("tcp 5432 from {peer}"), RISKY_PUBLIC));
        assert!(!fires(&format!("tcp 443 from {peer}"), ADMIN_PUBLIC));
        assert!(!fires(&format!("tcp 443 from {peer}"), RISKY_PUBLIC));
    }
}

#[test]
fn a_public_range_is_reported_not_revoked_and_says_how_large() {
    let baseline = default_baseline();
    let evaluator = Evaluator::new(&baseline, date(2026, 11, 27));
    for (peer, prefix) in [("11.0.0.0/9", 16), ("2600::/33", 48)] {
        let example = Example::parse(&format!("tcp 22 from {peer}")).unwrap();
        let findings = evaluator.evaluate_group(&example.rules, &Tags::new());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].action, Action::Notify);
        assert_eq!(
            findings[0].violations[0].reason,
            format!("tcp 22 is open to {peer}, a public range larger than a /{prefix}")
        );
    }
}

#[test]
fn exactly_a_slash_16_or_a_slash_48_or_private_space_is_no_public_range() {
    for peer in [
        "11.0.0.0/16",
        "11.0.0.0/17",
        "2600::/48",
        "2600::/64",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "172.16.0.0/12",
        "198.18.0.0/15",
        "fc00::/7",
        "2001:db8::/32",
        // 6to4 of 10.0.0.0/8.
        "2002:a00::/24",
        "sg-0123456789abcdef0",
    ] {
        let example = format!("tcp 22 from {peer}; tcp 3306 from {peer}");
        assert_eq!(
            verdict_with(&default_baseline(), &example),
            vec![Vec::<String>::new(), Vec::new()],
            "{example}"
        );
    }
    // Judged by the public part: 10.0.0.0/8 and a public /15 together hold more than a /16.
    assert!(fires(
        "tcp 22 from pl-0mixed=10.0.0.0/8,11.0.0.0/15",
        ADMIN_PUBLIC
    ));
    assert!(!fires(
        "tcp 22 from pl-0mixed=10.0.0.0/8,11.0.0.0/16",
        ADMIN_PUBLIC
    ));
}

#[test]
fn the_internet_is_one_finding_never_also_a_public_range() {
    for peer in ["0.0.0.0/0", "::/0", "11.0.0.0/8", "2600::/32", "2000::/3"] {
        let example = format!("tcp 22 from {peer}");
        assert_eq!(
            verdict_with(&default_baseline(), &example),
            vec![vec![
                ADMIN.to_owned(),
                "unapproved-ports-from-internet".to_owned()
            ]],
            "{example}"
        );
        assert!(!fires(&format!("tcp 5432 from {peer}"), RISKY_PUBLIC));
        assert!(fires(&format!("tcp 5432 from {peer}"), RISKY));
    }
    // Two public /9s that are the internet together are the internet's too, not public ranges.
    assert_eq!(
        verdict_with(&default_baseline(), "tcp 22 from 11.0.0.0/9 + 11.128.0.0/9"),
        vec![
            vec![
                ADMIN.to_owned(),
                "unapproved-ports-from-internet".to_owned()
            ];
            2
        ]
    );
    // Beside them, a /12 the union does not need is a public range of its own.
    assert_eq!(
        verdict_with(
            &default_baseline(),
            "tcp 22 from 11.0.0.0/9 + 11.128.0.0/9 + 12.0.0.0/12"
        )[2],
        vec![ADMIN_PUBLIC.to_owned()]
    );
}

/// Splitting a public range does not hide it: the group's rules of the same direction,
/// protocol and port are judged together, as for the internet.
#[test]
fn split_public_ranges_in_one_group_are_judged_together() {
    let baseline = default_baseline();
    let evaluator = Evaluator::new(&baseline, date(2026, 11, 27));
    let example = Example::parse("tcp 22 from 11.0.0.0/16 + 11.1.0.0/16").unwrap();
    let findings = evaluator.evaluate_group(&example.rules, &Tags::new());
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].action, Action::Notify);
    assert_eq!(
        findings[0].violations[0].reason,
        "tcp 22 is open to 11.0.0.0/16, together with 11.1.0.0/16 (sgr-example2) a public \
         range larger than a /16"
    );
    // A /16 and one more address are more than a /16.
    assert!(fires("tcp 22 from 11.0.0.0/16 + 12.0.0.1/32", ADMIN_PUBLIC));
    // Different ports or protocols do not add up; a /16 in two halves is still a /16.
    assert!(!fires(
        "tcp 22 from 11.0.0.0/16; tcp 3389 from 11.1.0.0/16",
        ADMIN_PUBLIC
    ));
    assert!(!fires(
        "tcp 22 from 11.0.0.0/16; udp 22 from 11.1.0.0/16",
        ADMIN_PUBLIC
    ));
    assert!(!fires(
        "tcp 22 from 11.0.0.0/17 + 11.0.128.0/17",
        ADMIN_PUBLIC
    ));
    // The same /16 twice is still a /16.
    assert!(!fires(
        "tcp 22 from 11.0.0.0/16 + 11.0.0.0/16",
        ADMIN_PUBLIC
    ));
}

/// A baseline with one rule of these lines after the rule's `title`.
fn one_rule(lines: &str) -> String {
    format!(
        "version: 1\nrules:\n  - id: wide\n    title: t\n{lines}    action: notify\n    severity: high\n"
    )
}

#[test]
fn public_source_errors_name_the_line_and_field() {
    let cases = [
        (
            "    source: public\n    protocols: [tcp]\n",
            "line 3",
            "`source: public` needs `larger_than: {ipv4_prefix: N, ipv6_prefix: N}`",
        ),
        (
            "    source: public\n    larger_than: {ipv4_prefix: 16}\n    protocols: [tcp]\n",
            "line 6",
            "ipv6_prefix",
        ),
        (
            "    source: public\n    larger_than: {ipv4_prefix: 16, ipv6_prefix: 48, ipv5_prefix: 1}\n    protocols: [tcp]\n",
            "line 6",
            "ipv5_prefix",
        ),
        (
            "    source: public\n    larger_than:\n      ipv4_prefix: 33\n      ipv6_prefix: 48\n    protocols: [tcp]\n",
            "line 7",
            "`larger_than.ipv4_prefix: 33` must be 1-32",
        ),
        (
            "    source: public\n    larger_than:\n      ipv4_prefix: 16\n      ipv6_prefix: 0\n    protocols: [tcp]\n",
            "line 8",
            "`larger_than.ipv6_prefix: 0` must be 1-128",
        ),
        (
            "    source: public\n    larger_than:\n      ipv4_prefix: 8\n      ipv6_prefix: 48\n    protocols: [tcp]\n",
            "line 7",
            "`larger_than.ipv4_prefix: 8` must be longer than `internet.ipv4_prefix` (8)",
        ),
        (
            "    source: internet\n    larger_than: {ipv4_prefix: 16, ipv6_prefix: 48}\n    protocols: [tcp]\n",
            "line 3",
            "`larger_than` needs `source: public`",
        ),
    ];
    for (lines, line, message) in cases {
        let error = policy_error(&one_rule(lines));
        assert!(
            error.contains("bad.yaml") && error.contains(line) && error.contains(message),
            "{lines}: {error}"
        );
    }
    // The internet's threshold moves the bound: with the internet at a /4, a /8 is public.
    let yaml = one_rule(
        "    source: public\n    larger_than: {ipv4_prefix: 8, ipv6_prefix: 48}\n    protocols: [tcp]\n    examples: [tcp 22 from 12.0.0.0/7]\n    negative_examples: [tcp 22 from 11.0.0.0/8]\n",
    )
    .replace("version: 1\n", "version: 1\ninternet: {ipv4_prefix: 4}\n");
    let baseline = Baseline::from_yaml(&yaml, "ok.yaml").unwrap();
    assert_eq!(sgguard::policy::check_examples(&baseline), vec![]);
}

#[test]
fn except_protocols_errors_name_the_line_and_field() {
    let cases = [
        (
            "    source: internet\n",
            "line 3",
            "give `protocols` or `except_protocols`",
        ),
        (
            "    protocols: [tcp]\n    except_protocols: [udp]\n",
            "line 3",
            "give `protocols` or `except_protocols`, not both",
        ),
        (
            "    except_protocols: []\n",
            "line 3",
            "`except_protocols` is empty",
        ),
        (
            "    except_protocols: [tcp, all]\n",
            "line 5",
            "`except_protocols` cannot hold `all`",
        ),
        (
            "    except_protocols: [tcp, -1]\n",
            "line 5",
            "`except_protocols` cannot hold `-1`",
        ),
        (
            "    except_protocols: [tcp, gre]\n",
            "line 5",
            "`except_protocols`: unknown protocol `gre`",
        ),
        (
            "    except_protocols: [tcp]\n    ports: [22]\n",
            "line 3",
            "apply only to tcp and udp",
        ),
        ("    except_protocol: [tcp]\n", "line 5", "except_protocol"),
    ];
    for (lines, line, message) in cases {
        let error = policy_error(&one_rule(lines));
        assert!(
            error.contains("bad.yaml") && error.contains(line) && error.contains(message),
            "{lines}: {error}"
        );
    }
}
