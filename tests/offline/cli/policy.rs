//! `sgguard policy` (show, validate, explain) and the policy files `check` reads: unknown keys
//! and wrong types named with their line, the default egress, protected groups, staged modes,
//! exemptions files.

use super::{run, sgguard, status};

#[test]
fn unknown_policy_keys_are_errors_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "version: 1\nrules:\n  - id: ssh\n    title: ssh\n    protocols: [tcp]\n    port: [22]\n    action: revoke\n    severity: high\n",
    )
    .unwrap();
    let output = sgguard()
        .args(["check", "--policy"])
        .arg(&policy)
        .arg("tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-go-sdk-2020-no-ruleset.json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("policy.yaml")
            && stderr.contains("line 6")
            && stderr.contains("unknown field `port`"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "a bad policy produces no findings"
    );
}

#[test]
fn wrong_policy_types_and_the_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("typed.yaml");
    std::fs::write(&policy, "version: one\nrules: []\n").unwrap();
    let output = sgguard()
        .env("SGGUARD_POLICY", &policy)
        .args(["check", "tests/fixtures/describe/security-groups.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("typed.yaml") && stderr.contains("line 1"),
        "{stderr}"
    );
}

#[test]
fn policy_show_prints_the_embedded_baseline() {
    let output = sgguard().args(["policy", "show"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        sgguard::policy::DEFAULT_BASELINE_YAML
    );
}

#[test]
fn policy_validate_checks_examples() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, sgguard::policy::DEFAULT_BASELINE_YAML).unwrap();
    assert_eq!(
        status(&["policy", "validate", good.to_str().unwrap()]),
        Some(0)
    );

    let wrong = dir.path().join("wrong.yaml");
    std::fs::write(
        &wrong,
        "version: 1\nrules:\n  - id: ssh\n    title: ssh\n    protocols: [tcp]\n    ports: [22]\n    action: revoke\n    severity: high\n    examples: [tcp 23 from 0.0.0.0/0]\n    negative_examples: [tcp 22 from ::/0]\n",
    )
    .unwrap();
    let output = sgguard()
        .args(["policy", "validate"])
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("example `tcp 23 from 0.0.0.0/0` is not a finding"),
        "{stderr}"
    );
    assert!(
        stderr.contains("negative example `tcp 22 from ::/0` is a finding"),
        "{stderr}"
    );
}

#[test]
fn policy_explain_shows_the_verdict() {
    insta::assert_snapshot!(run(&[
        "policy",
        "explain",
        "tcp 22 from 11.0.0.0/9 + 11.128.0.0/9"
    ]));
    assert_eq!(
        status(&["policy", "explain", "tcp 443 from 0.0.0.0/0"]),
        Some(0)
    );
    assert_eq!(status(&["policy", "explain", "tcp from"]), Some(2));
}

#[test]
fn policy_validate_refuses_a_baseline_that_revokes_the_default_egress() {
    let refused = "tests/fixtures/policy/revokes-default-egress.yaml";
    let output = sgguard()
        .args(["policy", "validate", refused])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("revokes-default-egress.yaml")
            && stderr.contains("line 6")
            && stderr.contains("rule `no-smtp-out`")
            && stderr.contains("add `acknowledge: [revokes-default-egress]`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Every face loads the baseline the same way: `check` refuses it before reading anything.
    let output = sgguard()
        .args(["check", "--policy", refused])
        .arg("tests/fixtures/describe/security-groups.json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "a refused baseline finds nothing");

    let output = sgguard()
        .args(["policy", "validate", "tests/fixtures/policy/strict.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("2 protected") && stdout.contains("acknowledged: revokes-default-group"),
        "{stdout}"
    );
}

#[test]
fn policy_explain_shows_a_protected_group() {
    let explain = |extra: &[&str]| {
        let output = sgguard()
            .args([
                "policy",
                "explain",
                "--policy",
                "tests/fixtures/policy/strict.yaml",
            ])
            .args(extra)
            .arg("tcp 22 from 0.0.0.0/0")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "still a finding: {extra:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let by_tag = explain(&["--tag", "sgguard-protected=yes"]);
    assert!(
        by_tag.contains("[protected: payment edge, changed only through change requests]")
            && by_tag.contains(
                "protected (tag sgguard-protected=yes): payment edge, changed only through \
                 change requests; reported, not revoked"
            )
            && by_tag.contains("(0 revoke, 0 notify, 0 exempt, 1 protected)"),
        "{by_tag}"
    );
    let by_id = explain(&["--group", "sg-0fedcba9876543210"]);
    assert!(
        by_id.contains("protected (group sg-0fedcba9876543210): vendor appliance"),
        "{by_id}"
    );
    let plain = explain(&["--tag", "team=web"]);
    assert!(!plain.contains("protected"), "{plain}");
    assert!(plain.contains("(1 revoke, 0 notify, 0 exempt)"), "{plain}");
    assert_eq!(
        status(&["policy", "explain", "--tag", "=x", "tcp 22 from 0.0.0.0/0"]),
        Some(2)
    );
}

/// `policy explain --account` tells the mode an account is guarded in, as the hub resolves it
/// from `SGGUARD_MODE` and `SGGUARD_MODE_BY_SCOPE`, and plans with it.
#[test]
fn explain_tells_an_account_s_mode_under_staged_enforcement() {
    let explain = |account: &str, units: &[&str]| {
        let mut command = sgguard();
        command
            .env("SGGUARD_MODE", "audit")
            .env(
                "SGGUARD_MODE_BY_SCOPE",
                r#"{"ou-ab12-11111111": "enforce", "444455556666": "audit"}"#,
            )
            .args(["policy", "explain", "--account", account]);
        for unit in units {
            command.args(["--unit", unit]);
        }
        let output = command.arg("tcp 22 from 0.0.0.0/0").output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, out) = explain(
        "222233334444",
        &["ou-ab12-22222222", "ou-ab12-11111111", "r-ab12"],
    );
    assert_eq!(code, Some(1));
    assert!(
        out.contains("account 222233334444 is guarded in enforce mode (set by ou-ab12-11111111)")
            && out.contains("in this account (enforce mode): revoked"),
        "{out}"
    );
    let (_, out) = explain("444455556666", &["ou-ab12-11111111", "r-ab12"]);
    assert!(
        out.contains("guarded in audit mode (set by account 444455556666)")
            && out.contains("in this account (audit mode): would_revoke"),
        "{out}"
    );
    let (_, out) = explain("333344445555", &["r-ab12"]);
    assert!(
        out.contains("guarded in audit mode (set by default)"),
        "{out}"
    );
    // The mode per scope kept in S3 is the hub's to read: explain, which reads nothing from
    // AWS, says how to give it the map instead of guessing a mode.
    let output = sgguard()
        .env(
            "SGGUARD_MODE_BY_SCOPE_URI",
            "s3://sgguard-reports-1/config/mode-by-scope.json",
        )
        .args(["policy", "explain", "--account", "222233334444"])
        .arg("tcp 22 from 0.0.0.0/0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`SGGUARD_MODE_BY_SCOPE_URI` is set") && stderr.contains("aws s3 cp"),
        "{stderr}"
    );
    // A bad scope in the environment names the variable; a bad unit names the flag.
    let output = sgguard()
        .env("SGGUARD_MODE_BY_SCOPE", r#"{"prod": "enforce"}"#)
        .args(["policy", "explain", "tcp 22 from 0.0.0.0/0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SGGUARD_MODE_BY_SCOPE"));
    for (account, unit, flag) in [
        ("2222", "r-ab12", "--account"),
        ("222233334444", "prod", "--unit"),
    ] {
        let bad = if flag == "--unit" { unit } else { account };
        let args = ["policy", "explain", "--account", account, "--unit", unit];
        let output = sgguard()
            .args(args)
            .arg("tcp 22 from 0.0.0.0/0")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains(&format!("`{bad}` is not an")),
            "{stderr}"
        );
    }
}

/// `policy validate --exemptions` checks an exemptions file against the baseline, as the hub
/// does before it uses one.
#[test]
fn validate_checks_an_exemptions_file_against_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, sgguard::policy::DEFAULT_BASELINE_YAML).unwrap();
    let good = dir.path().join("exemptions.yaml");
    // 200 days ahead: within the default 365, beyond `--max-days 30`.
    let expires = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(200))
        .unwrap();
    std::fs::write(
        &good,
        format!("version: 1\nexemptions:\n  - reason: bastion, CHG-1\n    group_ids: [sg-0123456789abcdef0]\n    rules: [admin-ports-from-internet]\n    expires: {expires}\n"),
    )
    .unwrap();
    let output = sgguard()
        .args(["policy", "validate"])
        .arg(&policy)
        .arg("--exemptions")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("is valid: 1 exemptions"));
    let output = sgguard()
        .args(["policy", "validate"])
        .arg(&policy)
        .arg("--exemptions")
        .arg(&good)
        .args(["--max-days", "30"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exemptions.yaml")
            && stderr.contains("more than 30 days ahead")
            && stderr.contains("SGGUARD_EXEMPTIONS_MAX_DAYS"),
        "{stderr}"
    );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "version: 1\nexemptions:\n  - reason: typo\n    group_ids: [sg-0123456789abcdef0]\n    rules: [no-such-rule]\n",
    )
    .unwrap();
    let output = sgguard()
        .args(["policy", "validate"])
        .arg(&policy)
        .arg("--exemptions")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.yaml") && stderr.contains("no-such-rule"),
        "{stderr}"
    );
}
