//! The messages docs/notifications.md shows are the ones this code writes (compared, never
//! rewritten).

use super::tests::{GROUP, QUEUE};
use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{Mode, Outcome};
use crate::rule::{ApiRule, SecurityGroupRule};
use serde_json::json;

/// An event of `who` authorizing `rules` (rule id, CloudTrail rule item) in the group.
fn authorized_by(who: &str, id: &str, items: Value) -> Value {
    json!({
        "version": "0", "id": format!("e-{who}"), "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": "111122223333", "region": "eu-west-1",
        "detail": {
            "eventName": "AuthorizeSecurityGroupIngress", "eventID": id,
            "eventTime": "2026-12-01T10:00:00Z", "awsRegion": "eu-west-1",
            "recipientAccountId": "111122223333", "sourceIPAddress": "198.51.100.23",
            "userIdentity": {"type": "AssumedRole",
                             "arn": format!("arn:aws:sts::111122223333:assumed-role/Developer/{who}")},
            "requestParameters": {"groupId": GROUP, "ipPermissions": {"items": []}},
            "responseElements": {"_return": true, "securityGroupRuleSet": {"items": items}}
        }
    })
}

fn api_rule(
    id: &str,
    protocol: &str,
    port: Option<i64>,
    v4: Option<&str>,
    v6: Option<&str>,
    description: &str,
) -> SecurityGroupRule {
    SecurityGroupRule::from_api(
        ApiRule {
            rule_id: Some(id),
            group_id: Some(GROUP),
            group_owner_id: Some("111122223333"),
            ip_protocol: protocol,
            from_port: port,
            to_port: port,
            cidr_ipv4: v4,
            cidr_ipv6: v6,
            description: Some(description),
            ..ApiRule::default()
        },
        Some("eu-west-1"),
    )
    .unwrap()
}

/// The code block after `<!-- example: NAME -->` in `text` (its byte range).
fn example_block(text: &str, name: &str) -> std::ops::Range<usize> {
    let marker = format!("<!-- example: {name} -->");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/notifications.md has no `{marker}`"));
    let open = at + text[at..].find("```").unwrap();
    let start = open + text[open..].find('\n').unwrap() + 1;
    // The closing fence starts a line (a chat message's JSON holds fences inside strings).
    let end = if text[start..].starts_with("```") {
        start
    } else {
        start + text[start..].find("\n```").unwrap() + 1
    };
    start..end
}

/// docs/notifications.md shows messages this code writes, not hand-written ones: two
/// actors change one group, bob's event is handled first (it revokes everything open, carol's
/// rules too), then carol's (her rules are already gone). Shown: bob's email text, carol's JSON
/// document, bob's chat message and carol's EventBridge event. The revocation time is the
/// run's, shown fixed. The test only compares: a difference fails with the text to put there.
#[tokio::test]
async fn the_docs_show_the_messages_this_code_writes() {
    let tags: Tags = [
        ("Owner".to_owned(), "payments".to_owned()),
        ("Team".to_owned(), "orders".to_owned()),
        ("CostCenter".to_owned(), "42".to_owned()),
    ]
    .into();
    let fake = Fake::default()
        .with_group(
            GROUP,
            tags,
            vec![
                api_rule(
                    "sgr-0b0b0000000000001",
                    "-1",
                    None,
                    None,
                    Some("::/0"),
                    "debugging",
                ),
                api_rule(
                    "sgr-0ca70000000000001",
                    "tcp",
                    Some(5432),
                    Some("0.0.0.0/1"),
                    None,
                    "reporting tool",
                ),
                api_rule(
                    "sgr-0ca70000000000002",
                    "tcp",
                    Some(5432),
                    Some("128.0.0.0/1"),
                    None,
                    "reporting tool",
                ),
            ],
        )
        .named(GROUP, "orders-db");
    let bob = authorized_by(
        "bob",
        "2b1c4f9e-bob",
        json!([{"groupId": GROUP, "securityGroupRuleId": "sgr-0b0b0000000000001", "isEgress": false,
                "ipProtocol": "-1", "cidrIpv6": "::/0"}]),
    );
    let carol = authorized_by(
        "carol",
        "7d3e8a10-carol",
        json!([
            {"groupId": GROUP, "securityGroupRuleId": "sgr-0ca70000000000001", "isEgress": false,
             "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "0.0.0.0/1"},
            {"groupId": GROUP, "securityGroupRuleId": "sgr-0ca70000000000002", "isEgress": false,
             "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "128.0.0.0/1"}]),
    );
    let baseline = Baseline::default_baseline().unwrap();
    let state = HubState::in_process(Limits::default());
    let handler = EventHandler {
        hub: &fake,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        state: &state,
        record_queue: QUEUE,
        caveat: None,
        unloaded: None,
        outputs: Outputs {
            min_severity: None,
            chat_topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard-chat".to_owned()),
            event_bus_arn: Some(
                "arn:aws:events:eu-west-1:999999999999:event-bus/sgguard-hub".to_owned(),
            ),
            context_tags: vec!["Owner".to_owned(), "Team".to_owned()],
            security_hub: true,
            ..Outputs::default()
        },
        deadline: None,
    };
    let (bob_outcome, error) = handler.handle(&bob).await;
    assert_eq!(error, None);
    assert_eq!(bob_outcome.count(Outcome::Revoked), 3);
    let (carol_outcome, error) = handler.handle(&carol).await;
    assert_eq!(error, None);
    assert_eq!(carol_outcome.count(Outcome::AlreadyGone), 2);

    // The revocation time is the run's: shown fixed.
    let removed = carol_outcome.findings[0].removed.clone().unwrap();
    let now = removed
        .split(" at ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .to_owned();
    let fixed = |text: &str| text.replace(&now, "2026-12-01T10:00:02Z");
    let pretty = |json: &str| {
        let value: Value = serde_json::from_str(&fixed(json)).unwrap();
        serde_json::to_string_pretty(&value).unwrap() + "\n"
    };
    let published = fake.published();
    let is_chat =
        |n: &&crate::report::notify::Notification| n.json.contains("\"source\":\"custom\"");
    let inbox: Vec<_> = published.iter().filter(|n| !is_chat(n)).collect();
    let chat: Vec<_> = published.iter().filter(is_chat).collect();
    assert_eq!((inbox.len(), chat.len()), (2, 2));
    let events = fake.events();
    assert_eq!(events.len(), 2);
    let event = json!({
        "version": "0", "id": "…", "detail-type": events[1].0, "source": "sgguard",
        "account": "999999999999", "time": "…", "region": "eu-west-1", "resources": [],
        "detail": serde_json::from_str::<Value>(&fixed(&events[1].1)).unwrap(),
    });
    // Security Hub: bob's three rules resolved (revoked), then carol's two again (already
    // gone: resolved too), every document valid ASFF.
    let imported = fake.imported();
    assert_eq!(imported.len(), 5);
    let asff: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/asff.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&asff).unwrap();
    for finding in &imported {
        let document = serde_json::to_value(finding).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} {document:#}");
        assert_eq!(finding.workflow.status, "RESOLVED");
    }
    let mut carol_asff = serde_json::to_value(&imported[3]).unwrap();
    for at in ["CreatedAt", "UpdatedAt"] {
        carol_asff[at] = json!("2026-12-01T10:00:02Z");
    }
    let examples = [
        ("email", fixed(&inbox[0].text)),
        ("json", pretty(&inbox[1].json)),
        ("chat", pretty(&chat[0].json)),
        (
            "eventbridge",
            serde_json::to_string_pretty(&event).unwrap() + "\n",
        ),
        (
            "asff",
            serde_json::to_string_pretty(&carol_asff).unwrap() + "\n",
        ),
    ];

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/notifications.md");
    let doc = std::fs::read_to_string(path).unwrap();
    for (name, written) in &examples {
        let shown = &doc[example_block(&doc, name)];
        assert_eq!(
            shown,
            written.as_str(),
            "docs/notifications.md example `{name}` is not what sgguard writes; \
             put this in its place:\n{written}"
        );
    }
}
