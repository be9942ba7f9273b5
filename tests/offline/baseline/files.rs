//! Baseline files: errors name the file, line and field; the default and example baselines load
//! and check their examples; revoking the default egress or the default group's own rule is
//! refused unless acknowledged, and acknowledgements must be known and needed.

use sgguard::policy::{Baseline, check_examples};

use super::policy_error;

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
