//! `sgguard check`: the table and the JSON contract, standard input, every fixture in one run,
//! and bad inputs (malformed, not an input, 50 MB, one bad among good ones), never an empty result.

use std::io::Write;

use super::{run, sgguard, status};

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
