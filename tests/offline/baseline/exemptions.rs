//! Exemptions (by group, account, rule and tag, with and without expiry) and protected groups:
//! findings that stay findings and say why.

use jiff::civil::date;
use sgguard::finding::{Action, Tags};
use sgguard::policy::{Baseline, Evaluator, Example};

use super::policy_error;

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
