//! The command line, pinned with snapshots of status, stdout and stderr, including bad inputs.

use std::io::Write;

use assert_cmd::Command;

fn sgguard() -> Command {
    let mut command = Command::cargo_bin("sgguard").unwrap();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command.env_remove("SGGUARD_POLICY");
    command
}

/// Status, stdout and stderr in one snapshot.
fn run(args: &[&str]) -> String {
    let output = sgguard().args(args).output().unwrap();
    format!(
        "status: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn status(args: &[&str]) -> Option<i32> {
    sgguard().args(args).output().unwrap().status.code()
}

#[test]
fn check_table_of_a_violating_event() {
    insta::assert_snapshot!(run(&[
        "check",
        "tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-eventbridge-console-ipv4-allports.json"
    ]));
}

#[test]
fn check_json_follows_the_finding_contract() {
    insta::assert_snapshot!(run(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/describe/security-group-rules.json"
    ]));
}

#[test]
fn check_json_fields_are_the_contract() {
    let output = sgguard()
        .args([
            "check",
            "--format",
            "json",
            "tests/fixtures/describe/security-group-rules.json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["rules_evaluated"], 8);
    let first = &report["findings"][0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "account_id",
        "region",
        "group_id",
        "rule_id",
        "direction",
        "protocol",
        "from_port",
        "to_port",
        "peer",
        "violations",
        "action",
        "exempt",
        "source",
    ] {
        assert!(keys.contains(&key), "missing {key}");
    }
    assert_eq!(first["region"], serde_json::Value::Null);
    let violation = &first["violations"][0];
    for key in ["policy_rule", "severity", "action", "reason"] {
        assert!(violation.get(key).is_some(), "missing violation.{key}");
    }
    // The split /1 halves of the database port are both findings; the group reference, ICMP and
    // the unresolved prefix list are not.
    let flagged: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        flagged,
        [
            "sgr-0a1b2c3d4e5f60001",
            "sgr-0a1b2c3d4e5f60004",
            "sgr-0a1b2c3d4e5f60005"
        ]
    );
}

#[test]
fn check_clean_input_exits_zero() {
    insta::assert_snapshot!(run(&[
        "check",
        "tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-eventbridge-cfn-referenced-group.json"
    ]));
}

#[test]
fn check_terraform_plan_and_describe_groups_together() {
    insta::assert_snapshot!(run(&[
        "check",
        "tests/fixtures/terraform/plan.json",
        "tests/fixtures/describe/security-groups.json"
    ]));
}

#[test]
fn check_reads_standard_input() {
    let event = std::fs::read(
        "tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-go-sdk-2020-no-ruleset.json",
    )
    .unwrap();
    let output = sgguard()
        .args(["check", "--format", "json", "-"])
        .write_stdin(event)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["findings"][0]["source"], "-");
    assert_eq!(report["findings"][0]["peer"], "0.0.0.0/0");
}

#[test]
fn every_fixture_is_checked_in_one_run() {
    let mut args = vec!["check".to_owned(), "--format".to_owned(), "json".to_owned()];
    let mut names: Vec<String> = std::fs::read_dir("tests/fixtures/cloudtrail")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    names.sort();
    args.extend(names);
    let output = sgguard().args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    let summary: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["source"].as_str().unwrap().rsplit('/').next().unwrap(),
                f["peer"].as_str().unwrap(),
                f["action"].as_str().unwrap(),
                f["violations"][0]["policy_rule"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

#[test]
fn malformed_json_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\"eventName\": \"AuthorizeSecurityGroupIngress\",").unwrap();
    let output = sgguard()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.json") && stderr.contains("not valid JSON"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_inputs_are_errors_never_empty_results() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "unknown.json",
            br#"{"Items": [1, 2, 3]}"#.to_vec(),
            "unknown shape",
        ),
        ("empty.json", Vec::new(), "is empty"),
        ("blank.json", b"  \n\t ".to_vec(), "is empty"),
        ("scalar.json", b"42".to_vec(), "unknown shape"),
        (
            "garbage.bin",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "not valid JSON",
        ),
        (
            "wrong-type.json",
            br#"{"SecurityGroupRules": {"not": "a list"}}"#.to_vec(),
            "describe-security-group-rules",
        ),
        (
            "records.json",
            br#"[{"hello": 1}]"#.to_vec(),
            "not a CloudTrail record",
        ),
        (
            "bad-gzip.json.gz",
            vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff],
            "cannot read",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let output = sgguard().arg("check").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains(expected),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    assert_eq!(status(&["check", "does/not/exist.json"]), Some(2));
}

#[test]
fn a_50_mb_input_is_read_and_judged_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let mut file = std::fs::File::create(&path).unwrap();
    write!(file, "{{\"padding\": \"").unwrap();
    let chunk = vec![b'x'; 1024 * 1024];
    for _ in 0..50 {
        file.write_all(&chunk).unwrap();
    }
    write!(file, "\"}}").unwrap();
    drop(file);
    let output = sgguard().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown shape"));

    let garbage = dir.path().join("huge.bin");
    std::fs::write(&garbage, vec![0xA5u8; 50 * 1024 * 1024]).unwrap();
    let output = sgguard().arg("check").arg(&garbage).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not valid JSON"));
}

#[test]
fn one_bad_input_does_not_hide_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let output = sgguard()
        .args(["check", "--format", "json"])
        .arg(&bad)
        .arg("tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-go-sdk-2020-no-ruleset.json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "an error wins over findings");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);
}

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
fn usage_errors_exit_two_and_help_exits_zero() {
    assert_eq!(status(&["check"]), Some(2));
    assert_eq!(status(&["frobnicate"]), Some(2));
    assert_eq!(status(&["check", "--format", "xml", "x.json"]), Some(2));
    assert_eq!(status(&["--help"]), Some(0));
    assert_eq!(status(&["--version"]), Some(0));
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
    // A bad scope in the environment names the variable; a bad unit names the flag.
    let output = sgguard()
        .env("SGGUARD_MODE_BY_SCOPE", r#"{"prod": "enforce"}"#)
        .args(["policy", "explain", "tcp 22 from 0.0.0.0/0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SGGUARD_MODE_BY_SCOPE"));
    let (code, _) = explain("222233334444", &["prod"]);
    assert_eq!(code, Some(2));
}

/// `policy validate --exemptions` checks an exemptions file against the baseline, as the hub
/// does before it uses one.
#[test]
fn validate_checks_an_exemptions_file_against_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, sgguard::policy::DEFAULT_BASELINE_YAML).unwrap();
    let good = dir.path().join("exemptions.yaml");
    std::fs::write(
        &good,
        "version: 1\nexemptions:\n  - reason: bastion, CHG-1\n    group_ids: [sg-0123456789abcdef0]\n    rules: [admin-ports-from-internet]\n",
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
