//! SARIF output validates against the SARIF 2.1.0 schema and meets GitHub code scanning's
//! upload requirements.

use assert_cmd::Command;
use serde_json::Value;

fn sarif_of(paths: &[&str]) -> Value {
    let output = Command::cargo_bin("sgguard")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "sarif"])
        .args(paths)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn sarif_validates_against_the_schema_and_github_rules() {
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let log = sarif_of(&[
        "tests/fixtures/describe/security-group-rules.json",
        "tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-eventbridge-2021-ipv4-and-ipv6-same-permission.json",
    ]);
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // What GitHub code scanning requires beyond the schema.
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 7);
    for rule in rules {
        assert!(rule["id"].is_string());
        assert!(rule["shortDescription"]["text"].is_string());
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], rule_id);
        assert!(
            result["message"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        let location = &result["locations"][0]["physicalLocation"];
        assert!(
            location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("tests/fixtures/")
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(
            result["partialFingerprints"]
                .as_object()
                .is_some_and(|f| !f.is_empty())
        );
    }
}

#[test]
fn exempt_findings_become_suppressed_results() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "{}\nexemptions:\n  - reason: approved bastion\n    group_ids: [sg-0d921df5d84f7270a]\n",
            sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
        ),
    )
    .unwrap();
    let output = Command::cargo_bin("sgguard")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "sarif", "--policy"])
        .arg(&policy)
        .arg("tests/fixtures/cloudtrail/AuthorizeSecurityGroupIngress-go-sdk-2020-no-ruleset.json")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "exempt findings do not fail the check"
    );
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    for result in log["runs"][0]["results"].as_array().unwrap() {
        assert_eq!(result["suppressions"][0]["kind"], "external");
        assert_eq!(
            result["suppressions"][0]["justification"],
            "approved bastion"
        );
    }
}
