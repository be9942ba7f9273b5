//! Decoders for describe output, Terraform plans, and CloudTrail shapes no fixture shows.

use serde_json::json;
use sgguard::input::cloudtrail::Change;
use sgguard::input::{self, InputError, InputKind, terraform};

use crate::common::fixture;
use crate::summary::summaries;

#[test]
fn describe_security_group_rules_output() {
    let document = input::load(&fixture("describe/security-group-rules.json")).unwrap();
    assert_eq!(document.kind, InputKind::DescribeSecurityGroupRules);
    assert_eq!(
        summaries(&document.rules),
        [
            "ingress tcp 22 0.0.0.0/0 group=sg-0aaa1111bbbb22220 rule=sgr-0a1b2c3d4e5f60001 account=111122223333 region=-",
            "ingress tcp 443 ::/0 group=sg-0aaa1111bbbb22220 rule=sgr-0a1b2c3d4e5f60002 account=111122223333 region=-",
            "egress all - 0.0.0.0/0 group=sg-0aaa1111bbbb22220 rule=sgr-0a1b2c3d4e5f60003 account=111122223333 region=-",
            "ingress tcp 5432 0.0.0.0/1 group=sg-0ccc3333dddd44440 rule=sgr-0a1b2c3d4e5f60004 account=111122223333 region=-",
            "ingress tcp 5432 128.0.0.0/1 group=sg-0ccc3333dddd44440 rule=sgr-0a1b2c3d4e5f60005 account=111122223333 region=-",
            "ingress tcp 5432 sg-0eee5555ffff66660 group=sg-0ccc3333dddd44440 rule=sgr-0a1b2c3d4e5f60006 account=111122223333 region=-",
            "ingress icmp - 0.0.0.0/0 group=sg-0ccc3333dddd44440 rule=sgr-0a1b2c3d4e5f60007 account=111122223333 region=-",
            "ingress tcp 8080 pl-0123456789abcdef0 group=sg-0ccc3333dddd44440 rule=sgr-0a1b2c3d4e5f60008 account=111122223333 region=-",
        ]
    );
}

#[test]
fn describe_security_groups_output_with_tags() {
    let document = input::load(&fixture("describe/security-groups.json")).unwrap();
    assert_eq!(document.kind, InputKind::DescribeSecurityGroups);
    assert_eq!(
        summaries(&document.rules),
        [
            "ingress tcp 3389 0.0.0.0/0 group=sg-0web00000000000000 rule=- account=111122223333 region=-",
            "ingress tcp 3389 ::/0 group=sg-0web00000000000000 rule=- account=111122223333 region=-",
            "ingress tcp 80 0.0.0.0/0 group=sg-0web00000000000000 rule=- account=111122223333 region=-",
            "ingress tcp 80 sg-0lb000000000000000 group=sg-0web00000000000000 rule=- account=111122223333 region=-",
            "egress all - 0.0.0.0/0 group=sg-0web00000000000000 rule=- account=111122223333 region=-",
            "ingress tcp 22 11.0.0.0/9 group=sg-0bastion0000000000 rule=- account=111122223333 region=-",
            "ingress tcp 22 11.128.0.0/9 group=sg-0bastion0000000000 rule=- account=111122223333 region=-",
        ]
    );
    let tags = document.group_tags.get("sg-0web00000000000000").unwrap();
    assert_eq!(tags.get("Name").map(String::as_str), Some("web"));
}

#[test]
fn terraform_plan_planned_values_with_modules() {
    let document = input::load(&fixture("terraform/plan.json")).unwrap();
    assert_eq!(document.kind, InputKind::TerraformPlan);
    assert_eq!(
        summaries(&document.rules),
        [
            "ingress tcp 443 0.0.0.0/0 group=aws_security_group.web rule=- account=- region=-",
            "ingress tcp 443 ::/0 group=aws_security_group.web rule=- account=- region=-",
            "ingress tcp 22 0.0.0.0/0 group=aws_security_group.web rule=- account=- region=-",
            "ingress all - aws_security_group.web group=aws_security_group.web rule=- account=- region=-",
            "egress all - 0.0.0.0/0 group=aws_security_group.web rule=- account=- region=-",
            "ingress tcp 5432 0.0.0.0/1 group=module.db.aws_security_group.db rule=- account=- region=-",
            "ingress tcp 5432 128.0.0.0/1 group=module.db.aws_security_group.db rule=- account=- region=-",
        ]
    );
    assert_eq!(
        document.group_tags["aws_security_group.web"]
            .get("team")
            .map(String::as_str),
        Some("payments")
    );
}

#[test]
fn terraform_plan_resource_changes_skip_deletions() {
    let document = input::load(&fixture("terraform/plan-resource-changes.json")).unwrap();
    assert_eq!(
        summaries(&document.rules),
        [
            "ingress tcp 3389 0.0.0.0/0 group=sg-0existing000000000 rule=- account=- region=-",
            "egress udp 53 ::/0 group=sg-0existing000000000 rule=- account=- region=-",
        ]
    );
}

fn decode_json(value: serde_json::Value) -> Result<input::Document, InputError> {
    input::decode("test.json", &serde_json::to_vec(&value).unwrap())
}

#[test]
fn authorize_with_a_single_item_object_and_prefix_list() {
    let record = json!({
        "eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com",
        "awsRegion": "eu-west-1", "recipientAccountId": "111122223333",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": {
            "ipProtocol": "udp", "fromPort": 53, "toPort": 53,
            "prefixListIds": {"items": {"prefixListId": "pl-1"}}}}}
    });
    let document = decode_json(record).unwrap();
    assert_eq!(
        summaries(&document.rules),
        ["ingress udp 53 pl-1 group=sg-1 rule=- account=111122223333 region=eu-west-1"]
    );
}

#[test]
fn several_ranges_in_one_permission_are_several_rules() {
    let record = json!({
        "eventName": "AuthorizeSecurityGroupEgress", "eventSource": "ec2.amazonaws.com",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [{
            "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
            "ipRanges": {"items": [{"cidrIp": "1.1.1.0/24"}, {"cidrIp": "2.2.2.0/24"}]},
            "ipv6Ranges": {"items": [{"cidrIpv6": "2600::/32"}]}}]}}
    });
    assert_eq!(decode_json(record).unwrap().rules.len(), 3);
}

#[test]
fn events_with_an_error_code_are_skipped_not_errors() {
    let record = json!({
        "eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com",
        "errorCode": "Client.UnauthorizedOperation", "errorMessage": "denied",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": [{
            "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}
    });
    let document = decode_json(record).unwrap();
    assert!(document.rules.is_empty());
    assert!(matches!(document.events[0].change, Change::Failed { .. }));
}

#[test]
fn a_modify_security_group_rules_event_with_a_list() {
    let event = json!({"version": "0", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "222233334444", "region": "us-east-2",
        "detail": {"eventName": "ModifySecurityGroupRules", "eventSource": "ec2.amazonaws.com",
          "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::222233334444:assumed-role/dev/alice"},
          "requestParameters": {"ModifySecurityGroupRulesRequest": {"GroupId": "sg-2",
            "SecurityGroupRule": [
              {"SecurityGroupRuleId": "sgr-1", "tag": 1, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIpv4": "0.0.0.0/0"}},
              {"SecurityGroupRuleId": "sgr-2", "tag": 2, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListId": "pl-9"}}]}}}});
    let document = decode_json(event).unwrap();
    assert_eq!(document.kind, InputKind::EventBridgeEvent);
    assert_eq!(
        summaries(&document.rules),
        [
            "ingress tcp 3389 0.0.0.0/0 group=sg-2 rule=sgr-1 account=222233334444 region=us-east-2",
            "ingress tcp 443 pl-9 group=sg-2 rule=sgr-2 account=222233334444 region=us-east-2",
        ]
    );
    assert_eq!(
        document.events[0].actor.arn.as_deref(),
        Some("arn:aws:sts::222233334444:assumed-role/dev/alice")
    );
}

#[test]
fn prefix_list_changes_with_lists_of_entries() {
    let request = json!({"ModifyManagedPrefixListRequest": {"PrefixListId": "pl-7",
        "CurrentVersion": "4", "AddEntry": [{"Cidr": "0.0.0.0/0"}, {"cidr": "::/0"}], "RemoveEntry": {"Cidr": "10.0.0.0/8"}}});
    let document = decode_json(request).unwrap();
    assert_eq!(
        document.events[0].change,
        Change::PrefixListModified {
            prefix_list_id: "pl-7".to_owned(),
            added: vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()],
            removed: vec!["10.0.0.0/8".parse().unwrap()],
            // A version written as a string reads as its number.
            current_version: Some(4),
        }
    );
}

/// A CloudTrail record of EC2's CreateTags or DeleteTags as the documentation shapes it:
/// `resourcesSet.items[].resourceId`, `tagSet.items[].key`/`value`, a bare `_return`.
fn tag_record(name: &str, resources: &[&str], tags: serde_json::Value) -> serde_json::Value {
    let items: Vec<serde_json::Value> = resources
        .iter()
        .map(|id| json!({"resourceId": id}))
        .collect();
    json!({
        "eventVersion": "1.10",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:carol",
            "arn": "arn:aws:sts::111122223333:assumed-role/Developer/carol",
            "accountId": "111122223333"},
        "eventTime": "2026-12-01T09:30:12Z", "eventSource": "ec2.amazonaws.com",
        "eventName": name, "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.17.60 md/command#ec2.delete-tags",
        "requestParameters": {"resourcesSet": {"items": items}, "tagSet": {"items": tags}},
        "responseElements": {"requestId": "2b9e4f5a-1c3d-4e6f-8a9b-0c1d2e3f4a5b", "_return": true},
        "requestID": "2b9e4f5a-1c3d-4e6f-8a9b-0c1d2e3f4a5b",
        "eventID": "6f1e2d3c-4b5a-4968-8776-655443322110", "readOnly": false,
        "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": "111122223333", "eventCategory": "Management"
    })
}

#[test]
fn tag_changes_name_the_security_groups_among_the_tagged_resources() {
    let record = tag_record(
        "DeleteTags",
        &["sg-0123456789abcdef0"],
        json!([{"key": "sgguard-exempt-until"}]),
    );
    let document = decode_json(record.clone()).unwrap();
    assert_eq!(document.kind, InputKind::CloudTrailRecord);
    assert!(document.rules.is_empty(), "a tag change carries no rule");
    let event = &document.events[0];
    assert_eq!(
        event.change,
        Change::TagsChanged {
            group_ids: vec!["sg-0123456789abcdef0".to_owned()],
            keys: vec!["sgguard-exempt-until".to_owned()],
        }
    );
    assert_eq!(event.group_ids(), ["sg-0123456789abcdef0"]);
    assert_eq!(event.account_id.as_deref(), Some("111122223333"));

    // One call may tag several resources of any kind: only the groups are named.
    let mixed = tag_record(
        "CreateTags",
        &[
            "i-0aaaabbbbccccdddd",
            "sg-0bbbb2222cccc3333",
            "vol-0123456789abcdef0",
        ],
        json!({"key": "sgguard-exempt-until", "value": "2027-06-30"}),
    );
    let event = &decode_json(mixed).unwrap().events[0];
    assert_eq!(event.group_ids(), ["sg-0bbbb2222cccc3333"]);

    // Tags of an instance only: a watched call that touches no group.
    let instance = tag_record(
        "CreateTags",
        &["i-0aaaabbbbccccdddd"],
        json!([{"key": "Name", "value": "web"}]),
    );
    let event = &decode_json(instance).unwrap().events[0];
    assert_eq!(
        event.change,
        Change::TagsChanged {
            group_ids: Vec::new(),
            keys: vec!["Name".to_owned()]
        }
    );

    // The typed call writes back the record's parameters: decoding them again gives the same.
    let typed: sgguard::input::cloudtrail::Record = serde_json::from_value(record).unwrap();
    let call = typed.call().unwrap().unwrap();
    let (request, response) = call.parameters().unwrap();
    assert_eq!(response, None);
    let again = sgguard::input::cloudtrail::Call::decode((&call).into(), &request, None).unwrap();
    assert_eq!(again, call);
}

#[test]
fn a_tag_change_with_an_unreadable_tag_set_still_names_its_groups() {
    let mut record = tag_record("DeleteTags", &["sg-0123456789abcdef0"], json!([]));
    record["requestParameters"]["tagSet"] = json!({"items": [{"key": 7}]});
    let event = sgguard::input::cloudtrail::decode_record(&record).unwrap();
    let unreadable = event
        .unreadable
        .clone()
        .expect("the tag set cannot be read");
    assert!(
        unreadable.field.starts_with("requestParameters.tagSet"),
        "{unreadable}"
    );
    assert_eq!(event.group_ids(), ["sg-0123456789abcdef0"]);
    // Naming no resource at all, it is an error naming the field.
    let mut record = tag_record("CreateTags", &[], json!([{"key": "a", "value": "b"}]));
    record["requestParameters"]["resourcesSet"] = json!({"items": []});
    let error = sgguard::input::cloudtrail::decode_record(&record).unwrap_err();
    assert_eq!(error.field, "requestParameters.resourcesSet", "{error}");
}

#[test]
fn unknown_shapes_and_bad_values_are_errors_naming_the_field() {
    let unknown = decode_json(json!({"hello": "world"})).unwrap_err();
    assert!(
        matches!(unknown, InputError::UnknownShape { .. }),
        "{unknown}"
    );
    assert!(unknown.to_string().contains("`hello`"));

    let bad_protocol = decode_json(json!({"SecurityGroupRules": [{"GroupId": "sg-1",
        "IpProtocol": "bogus", "CidrIpv4": "0.0.0.0/0"}]}))
    .unwrap_err();
    assert!(
        bad_protocol
            .to_string()
            .contains("SecurityGroupRules[0].IpProtocol"),
        "{bad_protocol}"
    );

    let bad_cidr = decode_json(json!({"eventName": "AuthorizeSecurityGroupIngress",
        "eventSource": "ec2.amazonaws.com", "requestParameters": {"groupId": "sg-1",
        "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/33"}]}}]}}}))
    .unwrap_err();
    assert!(
        bad_cidr
            .to_string()
            .contains("requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp"),
        "{bad_cidr}"
    );

    let reversed = decode_json(json!({"SecurityGroupRules": [{"GroupId": "sg-1",
        "IpProtocol": "tcp", "FromPort": 90, "ToPort": 80, "CidrIpv4": "0.0.0.0/0"}]}))
    .unwrap_err();
    assert!(reversed.to_string().contains("reversed"), "{reversed}");

    let empty_log = decode_json(json!({"Records": []})).unwrap_err();
    assert!(empty_log.to_string().contains("empty"), "{empty_log}");
}

#[test]
fn terraform_plans_round_trip_through_the_typed_model() {
    for name in [
        "terraform/plan.json",
        "terraform/plan-resource-changes.json",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let plan = terraform::decode(&bytes).unwrap();
        let written = serde_json::to_vec(&plan).unwrap();
        assert_eq!(terraform::decode(&written).unwrap(), plan, "{name}");
        let original = input::decode(name, &bytes).unwrap();
        let again = input::decode(name, &written).unwrap();
        assert!(!original.rules.is_empty(), "{name}");
        assert_eq!(again.rules, original.rules, "{name}");
        assert_eq!(again.group_tags, original.group_tags, "{name}");
    }
}

#[test]
fn terraform_errors_name_the_resource_and_field() {
    let plan = json!({"resource_changes": [{"address": "aws_security_group_rule.x",
        "type": "aws_security_group_rule", "change": {"after": {"type": "ingress",
        "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/33"]}}}]});
    let error = decode_json(plan).unwrap_err().to_string();
    assert!(
        error.contains("`aws_security_group_rule.x`: `cidr_blocks`"),
        "{error}"
    );
}
