//! The default baseline's semantics, one behaviour a test: ports, protocols, IPv6, thresholds,
//! split ranges, special-purpose ranges, prefix lists, group references, egress, exemptions.

use jiff::civil::date;
use sgguard::finding::{Action, Tags};
use sgguard::policy::{Baseline, Evaluator, Example, check_examples};

fn default_baseline() -> Baseline {
    Baseline::default_baseline().unwrap()
}

/// The baseline rule ids each rule of the example group breaks, in rule order.
fn verdict_with(baseline: &Baseline, example: &str) -> Vec<Vec<String>> {
    let example = Example::parse(example).unwrap();
    let evaluator = Evaluator::new(baseline, date(2026, 11, 27));
    let findings = evaluator.evaluate_group(&example.rules, &Tags::new());
    example
        .rules
        .iter()
        .map(|rule| {
            findings
                .iter()
                .find(|f| f.rule_id == rule.rule_id)
                .map(|f| f.violations.iter().map(|v| v.policy_rule.clone()).collect())
                .unwrap_or_default()
        })
        .collect()
}

fn fires(example: &str, policy_rule: &str) -> bool {
    verdict_with(&default_baseline(), example)
        .iter()
        .any(|ids| ids.iter().any(|id| id == policy_rule))
}

const ADMIN: &str = "admin-ports-from-internet";
const ALL: &str = "all-traffic-from-internet";
const RISKY: &str = "risky-ports-from-internet";
const UNAPPROVED: &str = "unapproved-ports-from-internet";

#[test]
fn the_default_baseline_checks_its_own_examples() {
    let baseline = default_baseline();
    assert_eq!(check_examples(&baseline), vec![]);
    assert_eq!(baseline.rules.len(), 4);
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
    // All traffic opens every port, so the port rules see it too, most severe first.
    assert_eq!(
        verdict_with(&default_baseline(), "all from 0.0.0.0/0"),
        vec![vec![
            ALL.to_owned(),
            ADMIN.to_owned(),
            RISKY.to_owned(),
            UNAPPROVED.to_owned()
        ]]
    );
    // A full tcp range is not "all traffic".
    assert!(!fires("tcp 0-65535 from 0.0.0.0/0", ALL));
}

#[test]
fn icmp_and_other_protocols_from_the_internet_are_not_findings() {
    for example in [
        "icmp from 0.0.0.0/0",
        "icmpv6 from ::/0",
        "58 from ::/0",
        "47 from 0.0.0.0/0",
    ] {
        assert_eq!(
            verdict_with(&default_baseline(), example),
            vec![Vec::<String>::new()],
            "{example}"
        );
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
    assert!(evaluator.evaluate_rules(&rules, |_| None).is_empty());
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
    assert_eq!(verdict, vec![Vec::<String>::new(); 2]);
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

fn exemption_baseline(exemptions: &str) -> Baseline {
    let yaml = format!(
        "{}\nexemptions:\n{exemptions}",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "exempt.yaml").unwrap()
}

fn evaluate_with_tags(
    baseline: &Baseline,
    example: &str,
    tags: &[(&str, &str)],
) -> Vec<sgguard::finding::Finding> {
    let mut rules = Example::parse(example).unwrap().rules;
    for rule in &mut rules {
        rule.account_id = Some("111122223333".to_owned());
    }
    let tags: Tags = tags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Evaluator::new(baseline, date(2026, 11, 27)).evaluate_group(&rules, &tags)
}

#[test]
fn exempt_findings_are_reported_as_exempt() {
    let baseline =
        exemption_baseline("  - reason: public bastion, SEC-42\n    group_ids: [sg-example]\n");
    let findings = evaluate_with_tags(&baseline, "tcp 22 from 0.0.0.0/0", &[]);
    assert_eq!(findings.len(), 1);
    assert!(findings[0].exempt);
    assert_eq!(
        findings[0].exemption.as_ref().unwrap().reason,
        "public bastion, SEC-42"
    );
    assert_eq!(
        findings[0].exemption.as_ref().unwrap().matched,
        "group sg-example"
    );
}

#[test]
fn account_exemptions_and_rule_limited_exemptions() {
    let baseline = exemption_baseline(
        "  - reason: sandbox\n    account_ids: [\"111122223333\"]\n    rules: [unapproved-ports-from-internet]\n",
    );
    let findings = evaluate_with_tags(&baseline, "tcp 8443 from 0.0.0.0/0", &[]);
    assert!(findings[0].exempt);
    // The same exemption does not cover SSH: the finding stays a revoke, its notify part exempt.
    let findings = evaluate_with_tags(&baseline, "tcp 22 from 0.0.0.0/0", &[]);
    assert!(!findings[0].exempt);
    assert_eq!(findings[0].action, Action::Revoke);
    assert!(findings[0].violations.iter().any(|v| v.exemption.is_some()));
}

#[test]
fn tag_exemptions_with_and_without_expiry() {
    let baseline = exemption_baseline(
        "  - reason: owner-approved\n    tag: {key: sgguard-exempt-until, value_is_expiry: true}\n  - reason: expired waiver\n    tag: {key: waiver, value: \"yes\"}\n    expires: 2026-01-31\n",
    );
    let live = evaluate_with_tags(
        &baseline,
        "tcp 22 from 0.0.0.0/0",
        &[("sgguard-exempt-until", "2027-01-01")],
    );
    assert!(live[0].exempt);
    assert_eq!(
        live[0].exemption.as_ref().unwrap().expires.as_deref(),
        Some("2027-01-01")
    );
    let past = evaluate_with_tags(
        &baseline,
        "tcp 22 from 0.0.0.0/0",
        &[("sgguard-exempt-until", "2026-11-26")],
    );
    assert!(!past[0].exempt);
    let garbage = evaluate_with_tags(
        &baseline,
        "tcp 22 from 0.0.0.0/0",
        &[("sgguard-exempt-until", "soon")],
    );
    assert!(!garbage[0].exempt, "an unreadable date exempts nothing");
    let expired = evaluate_with_tags(&baseline, "tcp 22 from 0.0.0.0/0", &[("waiver", "yes")]);
    assert!(!expired[0].exempt);
}

fn policy_error(yaml: &str) -> String {
    Baseline::from_yaml(yaml, "bad.yaml")
        .unwrap_err()
        .to_string()
}

#[test]
fn policy_errors_name_the_file_line_and_field() {
    let unknown = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [tcp]\n    portz: [22]\n    action: revoke\n    severity: high\n",
    );
    assert!(
        unknown.contains("bad.yaml") && unknown.contains("line 6") && unknown.contains("portz"),
        "{unknown}"
    );

    let bad_type = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [tcp]\n    action: revoke\n    severity: [high]\n",
    );
    assert!(bad_type.contains("line 7"), "{bad_type}");

    let bad_port = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [tcp]\n    ports: [22, 70000]\n    action: revoke\n    severity: high\n",
    );
    assert!(
        bad_port.contains("line 6") && bad_port.contains("70000"),
        "{bad_port}"
    );

    let bad_protocol = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [tcp, gre]\n    action: revoke\n    severity: high\n",
    );
    assert!(
        bad_protocol.contains("line 5") && bad_protocol.contains("gre"),
        "{bad_protocol}"
    );

    let icmp_ports = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [icmp]\n    ports: [8]\n    action: revoke\n    severity: high\n",
    );
    assert!(icmp_ports.contains("only to tcp and udp"), "{icmp_ports}");

    let duplicate = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [tcp]\n    action: revoke\n    severity: high\n  - id: a\n    title: t\n    protocols: [udp]\n    action: revoke\n    severity: high\n",
    );
    assert!(
        duplicate.contains("line 8") && duplicate.contains("twice"),
        "{duplicate}"
    );

    let version = policy_error("version: 2\nrules: []\n");
    assert!(
        version.contains("line 1") && version.contains("version"),
        "{version}"
    );

    let bad_example = policy_error(
        "version: 1\nrules:\n  - id: a\n    title: t\n    protocols: [tcp]\n    action: revoke\n    severity: high\n    examples: [tcp from nowhere]\n",
    );
    assert!(bad_example.contains("line 8"), "{bad_example}");

    let exemption_scope = policy_error(&format!(
        "{}\nexemptions:\n  - reason: r\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    ));
    assert!(exemption_scope.contains("exactly one"), "{exemption_scope}");

    let bad_date = policy_error(&format!(
        "{}\nexemptions:\n  - reason: r\n    group_ids: [sg-1]\n    expires: tomorrow\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    ));
    assert!(bad_date.contains("tomorrow"), "{bad_date}");

    let bad_rule_ref = policy_error(&format!(
        "{}\nexemptions:\n  - reason: r\n    group_ids: [sg-1]\n    rules: [nope]\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    ));
    assert!(bad_rule_ref.contains("nope"), "{bad_rule_ref}");

    assert!(policy_error("").contains("empty"));
    assert!(policy_error("rules: [").contains("bad.yaml"));
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
    // Three /9s: revoking the two largest-first leaves a /9, which is compliant.
    let verdict = verdict_with(
        &default_baseline(),
        "tcp 22 from 11.0.0.0/9; tcp 22 from 11.128.0.0/9; tcp 22 from 12.0.0.0/9",
    );
    assert_eq!(verdict.iter().filter(|ids| !ids.is_empty()).count(), 2);
}

fn fixture_policy(name: &str) -> String {
    std::fs::read_to_string(crate::common::fixture(&format!("policy/{name}"))).unwrap()
}

#[test]
fn the_default_and_example_baselines_load_and_check_their_examples() {
    for (name, yaml) in [
        ("default", sgguard::policy::DEFAULT_BASELINE_YAML.to_owned()),
        ("strict", fixture_policy("strict.yaml")),
    ] {
        let baseline = Baseline::from_yaml(&yaml, name).unwrap();
        assert_eq!(check_examples(&baseline), vec![], "{name}");
    }
}

#[test]
fn a_baseline_that_revokes_the_default_egress_is_refused_unless_acknowledged() {
    let yaml = fixture_policy("revokes-default-egress.yaml");
    let error = policy_error(&yaml);
    assert!(
        error.contains("bad.yaml")
            && error.contains("line 6")
            && error.contains("rule `no-smtp-out`")
            && error.contains("the egress rule every new security group has")
            && error.contains("`acknowledge: [revokes-default-egress]`"),
        "{error}"
    );
    let acknowledged = format!("{yaml}acknowledge: [revokes-default-egress]\n");
    let baseline = Baseline::from_yaml(&acknowledged, "ok.yaml").unwrap();
    assert_eq!(
        baseline.acknowledged,
        [sgguard::policy::Hazard::RevokesDefaultEgress]
    );
    // Only a rule that revokes counts: the same rule as `notify` loads without a word.
    let notify = yaml.replace("action: revoke", "action: notify");
    assert!(Baseline::from_yaml(&notify, "notify.yaml").is_ok());
}

#[test]
fn a_baseline_that_revokes_the_default_groups_own_rule_is_refused_unless_acknowledged() {
    let rules = "version: 1\nrules:\n  - id: lateral\n    title: all traffic between any peers\n    source: any\n    protocols: [all]\n    action: revoke\n    severity: high\n  - id: ssh-any\n    title: ssh from any peer\n    source: any\n    protocols: [tcp]\n    ports: [22]\n    action: revoke\n    severity: high\n";
    let error = policy_error(rules);
    assert!(
        error.contains("line 3")
            && error.contains("rules `lateral`, `ssh-any` would revoke")
            && error.contains("default group")
            && error.contains("`acknowledge: [revokes-default-group]`"),
        "{error}"
    );
    let yaml = format!("{rules}acknowledge: [revokes-default-group]\n");
    assert!(Baseline::from_yaml(&yaml, "ok.yaml").is_ok());
}

#[test]
fn an_egress_rule_for_all_traffic_breaks_the_default_egress_only() {
    let rules = "version: 1\nrules:\n  - id: no-egress\n    title: nothing goes out\n    direction: egress\n    source: any\n    protocols: [all]\n    action: revoke\n    severity: high\n";
    let error = policy_error(rules);
    assert!(error.contains("revokes-default-egress"), "{error}");
    let one = format!("{rules}acknowledge: [revokes-default-egress]\n");
    assert!(Baseline::from_yaml(&one, "ok.yaml").is_ok(), "egress only");
}

#[test]
fn acknowledgements_must_be_known_and_needed() {
    let unknown = policy_error(&format!(
        "{}\nacknowledge: [revokes-everything]\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    ));
    assert!(
        unknown.contains("revokes-everything") && unknown.contains("revokes-default-egress"),
        "{unknown}"
    );
    let needless = policy_error(&format!(
        "{}\nacknowledge: [revokes-default-group]\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    ));
    assert!(
        needless.contains("no rule of this baseline revokes") && needless.contains("remove it"),
        "{needless}"
    );
}

fn protected_baseline(entries: &str) -> Baseline {
    let yaml = format!(
        "{}\nprotected:\n{entries}",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "protected.yaml").unwrap()
}

#[test]
fn protected_findings_stay_violations_and_say_why() {
    let baseline = protected_baseline(
        "  - reason: payment edge, CHG-7\n    tag: {key: sgguard-protected}\n  - reason: appliance\n    group_ids: [sg-0fedcba9876543210]\n",
    );
    let findings = evaluate_with_tags(
        &baseline,
        "tcp 22 from 0.0.0.0/0",
        &[("sgguard-protected", "")],
    );
    assert_eq!(findings.len(), 1);
    assert!(!findings[0].exempt, "protected is not exempt");
    assert_eq!(findings[0].action, Action::Revoke);
    let protection = findings[0].protected.as_ref().unwrap();
    assert_eq!(protection.reason, "payment edge, CHG-7");
    assert_eq!(protection.matched, "tag sgguard-protected=");
    // Without the tag, and in another group, nothing is protected.
    let plain = evaluate_with_tags(&baseline, "tcp 22 from 0.0.0.0/0", &[("team", "web")]);
    assert!(plain[0].protected.is_none());
    // An exemption wins: an exempt finding is no violation to protect.
    let yaml = format!(
        "{}\nexemptions:\n  - reason: bastion\n    group_ids: [sg-example]\nprotected:\n  - reason: edge\n    group_ids: [sg-example]\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    let both = Baseline::from_yaml(&yaml, "both.yaml").unwrap();
    let findings = evaluate_with_tags(&both, "tcp 22 from 0.0.0.0/0", &[]);
    assert!(findings[0].exempt && findings[0].protected.is_none());
}

#[test]
fn protected_entries_are_checked_like_exemptions() {
    let base = sgguard::policy::DEFAULT_BASELINE_YAML.trim_end();
    for (entries, expected) in [
        ("  - reason: r\n", "exactly one of"),
        (
            "  - reason: r\n    group_ids: [i-123]\n",
            "`i-123` is not a security group id",
        ),
        (
            "  - reason: \"\"\n    group_ids: [sg-1]\n",
            "`reason` is empty",
        ),
        (
            "  - reason: r\n    tag: {key: until, value_is_expiry: true}\n",
            "`tag.value_is_expiry` is for exemptions",
        ),
        (
            "  - reason: r\n    rules: [x]\n    group_ids: [sg-1]\n",
            "unknown field `rules`",
        ),
    ] {
        let error = policy_error(&format!("{base}\nprotected:\n{entries}"));
        assert!(
            error.contains("bad.yaml") && error.contains(expected),
            "{entries}: {error}"
        );
    }
}
