//! Exemption tags: removing an owner's dated exemption tag (`sgguard-exempt-until`) revokes the
//! rule it exempted at once.

use serde_json::{Value, json};
use sgguard::outcome::{Mode, Outcome, Status};
use sgguard::policy::Baseline;

use super::{actor, event, remediator};
use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, open_tagged_rules, tcp};

/// A CreateTags or DeleteTags event on `resources`: `tags` are key and value (`None`: DeleteTags
/// of the key whatever its value).
fn tags_event(
    account: &str,
    name: &str,
    who: &str,
    resources: &[&str],
    tags: &[(&str, Option<&str>)],
) -> Value {
    let resources: Vec<Value> = resources
        .iter()
        .map(|id| json!({"resourceId": id}))
        .collect();
    let tags: Vec<Value> = tags
        .iter()
        .map(|(key, value)| match value {
            Some(value) => json!({"key": key, "value": value}),
            None => json!({"key": key}),
        })
        .collect();
    event(
        account,
        HUB_REGION,
        name,
        &actor(account, who),
        json!({"resourcesSet": {"items": resources}, "tagSet": {"items": tags}}),
        json!({"requestId": "5b6c7d8e-0000-4000-8000-000000000001", "_return": true}),
    )
}

/// The default baseline, with owners' dated exemption tags honoured (`sgguard-exempt-until`).
fn tag_exempting_baseline() -> Baseline {
    let yaml = format!(
        "{}\nexemptions:\n  - reason: owners set their own date\n    tag: {{key: sgguard-exempt-until, value_is_expiry: true}}\n",
        sgguard::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "tag-exempt.yaml").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_exemption_tag_revokes_the_exempted_rule_at_once() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let exempt = [("sgguard-exempt-until", "2999-12-31")];
    let (bastion, _) =
        open_tagged_rules(&ec2, "bastion", &exempt, vec![tcp(22, "0.0.0.0/0")]).await;
    let (web, _) = open_rules(&ec2, "web", vec![tcp(443, "0.0.0.0/0")]).await;
    let baseline = tag_exempting_baseline();
    let aws = org.aws().await;
    let remediator = remediator(&aws, &baseline, Mode::Enforce, &org.topic_arn);

    // An unrelated tag on a clean group: the group is re-read and judged, nothing revoked.
    let team = aws_sdk_ec2::types::Tag::builder()
        .key("team")
        .value("platform")
        .build();
    ec2.create_tags()
        .resources(&web)
        .tags(team)
        .send()
        .await
        .unwrap();
    let (outcome, error) = remediator
        .handle(&tags_event(
            &member,
            "CreateTags",
            "kim",
            &[&web],
            &[("team", Some("platform"))],
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.status, Status::Handled);
    let read: Vec<&str> = outcome.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(read, [web.as_str()]);
    assert!(outcome.findings.is_empty());
    assert_eq!(live_rules(&ec2, &web).await.len(), 1);

    // The exemption tag removed: the open SSH rule it covered is revoked by that event.
    let until = aws_sdk_ec2::types::Tag::builder()
        .key("sgguard-exempt-until")
        .build();
    ec2.delete_tags()
        .resources(&bastion)
        .tags(until)
        .send()
        .await
        .unwrap();
    let (outcome, error) = remediator
        .handle(&tags_event(
            &member,
            "DeleteTags",
            "kim",
            &[&bastion],
            &[("sgguard-exempt-until", None)],
        ))
        .await;
    assert_eq!(error, None, "{:?}", outcome.errors);
    assert_eq!(outcome.event.name, "DeleteTags");
    assert_eq!(outcome.count(Outcome::Revoked), 1);
    assert!(
        live_rules(&ec2, &bastion).await.is_empty(),
        "the SSH rule is gone"
    );
    let inbox = org.inbox().await;
    assert_eq!(
        inbox.len(),
        1,
        "one message: the revocation (none for the clean group)"
    );
    assert_eq!(inbox[0].2["group_id"]["Value"], bastion.as_str());
    assert_eq!(
        inbox[0].2["actor_arn"]["Value"],
        actor(&member, "kim").as_str()
    );

    // Tags of an instance: nothing for sgguard, and no AWS call.
    org.emulator.reset();
    let (outcome, error) = remediator
        .handle(&tags_event(
            &member,
            "DeleteTags",
            "kim",
            &["i-0123456789abcdef0"],
            &[("sgguard-exempt-until", None)],
        ))
        .await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Ignored);
    let counts = org.emulator.control("counts", None)["counts"].clone();
    assert!(
        counts.as_object().unwrap().is_empty(),
        "no AWS call: {counts}"
    );
}
