//! Every real CloudTrail fixture decodes, each with the rules it yields.

use serde_json::Value;
use sgguard::input::cloudtrail::{self, Change, Envelope, Record};
use sgguard::input::{self, InputKind};

use crate::common::{fixture, fixture_dir};
use crate::summary::summaries;

fn decode(name: &str) -> input::Document {
    input::load(&fixture(&format!("cloudtrail/{name}")))
        .unwrap_or_else(|e| panic!("{name} does not decode: {e}"))
}

fn assert_rules(name: &str, kind: InputKind, expected: &[&str]) {
    let document = decode(name);
    assert_eq!(document.kind, kind, "{name}");
    assert_eq!(summaries(&document.rules), expected, "{name}");
}

/// Decode, serialize the typed model, decode again: the same model, the same rules.
fn round_trip(name: &str) {
    let document = decode(name);
    let bytes = std::fs::read(fixture(&format!("cloudtrail/{name}"))).unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    let rebuilt = match document.kind {
        InputKind::EventBridgeEvent => {
            let mut envelope: Envelope = serde_json::from_value(value).unwrap();
            envelope.detail = rebuilt_record(&envelope.detail);
            let again: Envelope =
                serde_json::from_slice(&serde_json::to_vec(&envelope).unwrap()).unwrap();
            assert_eq!(again, envelope, "{name}");
            serde_json::to_value(&envelope).unwrap()
        }
        InputKind::CloudTrailRecord => {
            serde_json::to_value(rebuilt_record(&serde_json::from_value(value).unwrap())).unwrap()
        }
        InputKind::CloudTrailRecords => {
            let records: Vec<Record> = serde_json::from_value(value).unwrap();
            serde_json::to_value(records.iter().map(rebuilt_record).collect::<Vec<_>>()).unwrap()
        }
        InputKind::RequestParameters => {
            let event = cloudtrail::decode_bare_request(&value).unwrap();
            let call = cloudtrail::Call::decode(event.name.parse().unwrap(), &value, None).unwrap();
            let (request, response) = call.parameters().unwrap();
            assert_eq!(response, None, "{name}");
            let again = cloudtrail::Call::decode(event.name.parse().unwrap(), &request, None);
            assert_eq!(again.unwrap(), call, "{name}");
            request
        }
        other => panic!("{name}: {other} is not a CloudTrail input"),
    };
    let again = input::decode(name, &serde_json::to_vec(&rebuilt).unwrap()).unwrap();
    assert_eq!(again.rules, document.rules, "{name} after a round trip");
    assert_eq!(again.events, document.events, "{name} after a round trip");
}

/// The record with its parameters written back from the typed call, checked to decode to the
/// same record and call again.
fn rebuilt_record(record: &Record) -> Record {
    let mut rebuilt = record.clone();
    let call = record.call().unwrap();
    if let Some(call) = &call {
        let (request, response) = call.parameters().unwrap();
        rebuilt.request_parameters = Some(request);
        rebuilt.response_elements = response;
    }
    let again: Record = serde_json::from_slice(&serde_json::to_vec(&rebuilt).unwrap()).unwrap();
    assert_eq!(again, rebuilt);
    assert_eq!(again.call().unwrap(), call);
    rebuilt
}

#[test]
fn egress_cli_with_rule_arn() {
    assert_rules(
        "AuthorizeSecurityGroupEgress-cli-ipv4-ruleArn-elastic.json",
        InputKind::CloudTrailRecord,
        &[
            "egress tcp 4444 73.21.4.36/32 group=sg-038ccc3a1f7b05f42 rule=sgr-02bdc373eac599585 account=000000000 region=us-east-1",
        ],
    );
}

#[test]
fn egress_terraform_all_protocols_without_port_keys() {
    assert_rules(
        "AuthorizeSecurityGroupEgress-terraform-proto-all-no-ports-2020.json",
        InputKind::CloudTrailRecord,
        &[
            "egress all - 0.0.0.0/0 group=sg-03eee825d6bb78f54 rule=- account=112233445566 region=us-east-1",
        ],
    );
}

#[test]
fn request_parameters_only_with_two_permissions() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-2017-proto-all-two-permissions-requestParameters-only.json",
        InputKind::RequestParameters,
        &[
            "ingress all - 0.0.0.0/0 group=<redacted> rule=- account=- region=-",
            "ingress all - ::/0 group=<redacted> rule=- account=- region=-",
        ],
    );
}

#[test]
fn ingress_cli_with_rule_arn() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-cli-ipv4-ruleArn-elastic.json",
        InputKind::CloudTrailRecord,
        &[
            "ingress tcp 22 203.0.113.0/24 group=sg-0f63fecfa17ef4fee rule=sgr-027eb7c59241731e0 account=000000000 region=us-east-1",
        ],
    );
}

#[test]
fn eventbridge_2017_group_reference_takes_the_envelope_account() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-eventbridge-2017-group-ref-no-ruleset.json",
        InputKind::EventBridgeEvent,
        &[
            "ingress tcp 0-65535 sg-4e386e22 group=sg-4e386e31 rule=- account=123456789010 region=us-east-1",
        ],
    );
}

#[test]
fn eventbridge_ipv4_and_ipv6_in_one_permission() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-eventbridge-2021-ipv4-and-ipv6-same-permission.json",
        InputKind::EventBridgeEvent,
        &[
            "ingress tcp 22 0.0.0.0/0 group=sg-0db7d4784c4db8612 rule=- account=963584523464 region=us-east-1",
            "ingress tcp 22 ::/0 group=sg-0db7d4784c4db8612 rule=- account=963584523464 region=us-east-1",
        ],
    );
    let document =
        decode("AuthorizeSecurityGroupIngress-eventbridge-2021-ipv4-and-ipv6-same-permission.json");
    let event = &document.events[0];
    assert_eq!(
        event.actor.arn.as_deref(),
        Some("arn:aws:iam::963584523464:root")
    );
    assert_eq!(event.actor.kind.as_deref(), Some("Root"));
}

#[test]
fn eventbridge_cloudformation_referenced_group() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-eventbridge-cfn-referenced-group.json",
        InputKind::EventBridgeEvent,
        &[
            "ingress tcp 1521 sg-000537769a1c2d858 group=sg-01f414f5313452cd1 rule=sgr-02e2ca7d55820dc26 account=770203350335 region=us-east-1",
        ],
    );
    let document = decode("AuthorizeSecurityGroupIngress-eventbridge-cfn-referenced-group.json");
    assert_eq!(
        document.events[0].actor.invoked_by.as_deref(),
        Some("cloudformation.amazonaws.com")
    );
    assert!(matches!(
        &document.rules[0].peer,
        sgguard::rule::Peer::Group { owner: Some(owner), .. } if owner == "770203350335"
    ));
}

#[test]
fn eventbridge_console_all_ports() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-eventbridge-console-ipv4-allports.json",
        InputKind::EventBridgeEvent,
        &[
            "ingress tcp 0-65535 0.0.0.0/0 group=sg-b15kasfs rule=sgr-0c609eafsa2af10ea account=215125613612 region=eu-west-1",
        ],
    );
}

#[test]
fn go_sdk_without_rule_set() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-go-sdk-2020-no-ruleset.json",
        InputKind::CloudTrailRecord,
        &[
            "ingress tcp 22 0.0.0.0/0 group=sg-0d921df5d84f7270a rule=- account=112233445566 region=us-east-1",
        ],
    );
}

#[test]
fn legacy_flat_cidr_ip_in_an_array_of_records() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-legacy-flat-cidrIp-stratus.json",
        InputKind::CloudTrailRecords,
        &[
            "ingress tcp 22 208.236.235.254/0 group=sg-003dc7f1f1c686164 rule=sgr-09b3e3d2ca1edf2a2 account=032092706103 region=us-northeast-1r",
        ],
    );
}

#[test]
fn legacy_flat_request_without_rule_set_uses_the_flat_fields() {
    let bytes = std::fs::read(fixture(
        "cloudtrail/AuthorizeSecurityGroupIngress-legacy-flat-cidrIp-stratus.json",
    ))
    .unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    value[0]["responseElements"]
        .as_object_mut()
        .unwrap()
        .remove("securityGroupRuleSet");
    let document = input::decode("flat", &serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(
        summaries(&document.rules),
        [
            "ingress tcp 22 208.236.235.254/0 group=sg-003dc7f1f1c686164 rule=- account=032092706103 region=us-northeast-1r"
        ]
    );
}

#[test]
fn panther_processed_string_ports() {
    assert_rules(
        "AuthorizeSecurityGroupIngress-panther-processed-string-ports.json",
        InputKind::CloudTrailRecord,
        &[
            "ingress tcp 443 0.0.0.0/16 group=sg-04f0b44316f7d2471 rule=- account=112233445566 region=us-west-2",
        ],
    );
}

fn assert_ignored(name: &str, event_name: &str) {
    let document = decode(name);
    assert!(document.rules.is_empty(), "{name}");
    assert_eq!(document.events.len(), 1);
    assert_eq!(document.events[0].name, event_name);
    assert_eq!(document.events[0].change, Change::Ignored);
}

#[test]
fn create_security_group_events_are_recognized_and_ignored() {
    assert_ignored(
        "CreateSecurityGroup-console-launch-wizard-trimmed-permiso.json",
        "CreateSecurityGroup",
    );
    assert_ignored(
        "CreateSecurityGroup-terraform-2020.json",
        "CreateSecurityGroup",
    );
    assert_ignored(
        "CreateSecurityGroup-terraform-tagSpecification.json",
        "CreateSecurityGroup",
    );
}

#[test]
fn delete_and_revoke_events_are_recognized_and_ignored() {
    assert_ignored(
        "DeleteSecurityGroup-by-groupId-cfn-wazuh-extracted.json",
        "DeleteSecurityGroup",
    );
    assert_ignored(
        "DeleteSecurityGroup-by-groupName-terraform.json",
        "DeleteSecurityGroup",
    );
    assert_ignored(
        "RevokeSecurityGroupIngress-eventbridge-2019-console-no-ruleset.json",
        "RevokeSecurityGroupIngress",
    );
}

#[test]
fn modify_managed_prefix_list_added_entry() {
    let document = decode("ModifyManagedPrefixList-AddEntry-console-truncated.json");
    assert!(document.rules.is_empty());
    assert_eq!(
        document.events[0].change,
        Change::PrefixListModified {
            prefix_list_id: "pl-0c3516b0e5630bf3e".to_owned(),
            added: vec!["71.131.0.0/16".parse().unwrap()],
            removed: vec![],
            // The truncated record does not tell the version it changed.
            current_version: None,
        }
    );
    assert_eq!(document.events[0].region.as_deref(), Some("us-west-2"));
}

#[test]
fn modify_security_group_rules_single_rule_object() {
    assert_rules(
        "ModifySecurityGroupRules-requestParameters-only-single-rule.json",
        InputKind::RequestParameters,
        &[
            "ingress tcp 443 0.0.0.0/0 group=sg-0123456789abcdef0 rule=sgr-0d28445c956a5d8ac account=- region=-",
        ],
    );
}

/// Each fixture has a test above; this pins that none is forgotten, and that every one survives
/// the round trip through the typed model.
#[test]
fn every_fixture_decodes_and_round_trips() {
    let names = fixture_names(&fixture_dir().join("cloudtrail"));
    assert_eq!(names.len(), 19);
    for name in &names {
        round_trip(name);
    }
}

/// `tests/fixtures/cloudtrail/` is this repository's copy of the fixtures shared between
/// projects (`../shared/fixtures/cloudtrail/`). The copy is what the tests above decode, always.
/// Whether it still equals the shared set can only be checked where the shared checkout exists,
/// so this test is ignored by `cargo test`: `make test` sets `SGGUARD_SHARED` to `../shared`
/// and runs it when that checkout is there (and says it did not otherwise). Run without the
/// variable, or with one naming a missing directory, it fails: it never passes unchecked.
#[test]
#[ignore = "needs SGGUARD_SHARED, the shared checkout (make test runs it when ../shared exists)"]
fn the_fixtures_equal_the_shared_copy() {
    let shared = std::env::var_os("SGGUARD_SHARED")
        .filter(|v| !v.is_empty())
        .expect("SGGUARD_SHARED names the shared checkout (../shared)");
    let shared = std::path::PathBuf::from(shared).join("fixtures/cloudtrail");
    assert!(
        shared.is_dir(),
        "SGGUARD_SHARED: {} is not a directory",
        shared.display()
    );
    let ours = fixture_dir().join("cloudtrail");
    let names = file_names(&shared);
    assert_eq!(
        names,
        file_names(&ours),
        "the two copies hold different files"
    );
    for name in &names {
        let copy = std::fs::read(ours.join(name)).unwrap();
        assert!(
            copy == std::fs::read(shared.join(name)).unwrap(),
            "{name} differs"
        );
    }
}

/// The fixture files of a directory (PROVENANCE.md is not one).
fn fixture_names(dir: &std::path::Path) -> Vec<String> {
    let mut names = file_names(dir);
    names.retain(|n| n.ends_with(".json"));
    names
}

fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn gzipped_log_files_decode() {
    use std::io::Write;
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture(
            "cloudtrail/AuthorizeSecurityGroupIngress-go-sdk-2020-no-ruleset.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let log = serde_json::json!({"Records": [record.clone(), record]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    encoder
        .write_all(&serde_json::to_vec(&log).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let document = input::load(path.to_str().unwrap()).unwrap();
    assert_eq!(document.kind, InputKind::CloudTrailLog);
    assert_eq!(document.events.len(), 2);
    assert_eq!(document.rules.len(), 2);
}
