//! Tag changes: removing an exemption tag re-checks the group at once; tags of other resources
//! are ignored.

use super::tests::{GROUP, QUEUE, attribute, event, open_group, outcomes, rule};
use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{EventOutcome, Mode, Outcome};
use serde_json::json;

/// A tag call on `resources` as the hub bus delivers it: DeleteTags of `key` or CreateTags of
/// `key` = `value`.
fn tag_event(name: &str, resources: &[&str], key: &str, value: Option<&str>) -> Value {
    let items: Vec<Value> = resources
        .iter()
        .map(|id| json!({"resourceId": id}))
        .collect();
    let tag = match value {
        Some(value) => json!({"key": key, "value": value}),
        None => json!({"key": key}),
    };
    let mut envelope = event();
    envelope["detail"]["eventName"] = json!(name);
    envelope["detail"]["requestParameters"] =
        json!({"resourcesSet": {"items": items}, "tagSet": {"items": [tag]}});
    envelope["detail"]["responseElements"] = json!({"requestId": "r-1", "_return": true});
    envelope
}

/// The default baseline with owners' dated exemption tags honoured.
fn tag_exempting_baseline() -> Baseline {
    let yaml = format!(
        "{}\nexemptions:\n  - reason: owners set their own date\n    tag: {{key: sgguard-exempt-until, value_is_expiry: true}}\n",
        crate::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "tag-exempt.yaml").unwrap()
}

async fn handle_with(
    fake: &Fake,
    baseline: &Baseline,
    value: &Value,
) -> (EventOutcome, Option<HandleError>) {
    EventHandler {
        hub: fake,
        baseline,
        staging: Mode::Enforce.into(),
        topic_arn: Some("arn:aws:sns:eu-west-1:999999999999:sgguard"),
        state: &HubState::in_process(Limits::default()),
        record_queue: QUEUE,
        caveat: None,
        unloaded: None,
        outputs: Default::default(),
        deadline: None,
    }
    .handle(value)
    .await
}

#[tokio::test]
async fn removing_the_exemption_tag_re_checks_the_group_at_once() {
    let baseline = tag_exempting_baseline();
    // Still tagged: a tag change elsewhere on the group finds the open rules exempt.
    let exempt: Tags = [("sgguard-exempt-until".to_owned(), "2999-12-31".to_owned())].into();
    let fake = Fake::default().with_group(GROUP, exempt, vec![rule("sgr-ssh", 22, "0.0.0.0/0")]);
    let created = tag_event("CreateTags", &[GROUP], "team", Some("platform"));
    let (outcome, error) = handle_with(&fake, &baseline, &created).await;
    assert_eq!(error, None);
    assert_eq!(
        outcomes(&outcome),
        [("sgr-ssh".to_owned(), Outcome::Exempt)]
    );
    assert!(fake.revoke_calls().is_empty());

    // The tag removed (the live group has it no more): the rule is revoked by this event.
    let fake =
        Fake::default().with_group(GROUP, Tags::new(), vec![rule("sgr-ssh", 22, "0.0.0.0/0")]);
    let deleted = tag_event("DeleteTags", &[GROUP], "sgguard-exempt-until", None);
    let (outcome, error) = handle_with(&fake, &baseline, &deleted).await;
    assert_eq!(error, None);
    assert_eq!(outcome.event.name, "DeleteTags");
    assert_eq!(outcome.groups.len(), 1);
    assert_eq!(
        outcomes(&outcome),
        [("sgr-ssh".to_owned(), Outcome::Revoked)]
    );
    assert!(fake.rule_ids(GROUP).is_empty());
    assert_eq!(attribute(&fake.published()[0], "action"), "revoked");
}

#[tokio::test]
async fn tags_of_other_resources_are_ignored() {
    let fake = open_group();
    let value = tag_event(
        "DeleteTags",
        &["i-0123456789abcdef0"],
        "sgguard-exempt-until",
        None,
    );
    let (outcome, error) = handle_with(&fake, &tag_exempting_baseline(), &value).await;
    assert_eq!(error, None);
    assert_eq!(outcome.status, Status::Ignored);
    assert!(
        outcome
            .reason
            .as_deref()
            .unwrap()
            .contains("no security group"),
        "{:?}",
        outcome.reason
    );
    assert!(outcome.groups.is_empty() && fake.revoke_calls().is_empty());
    assert!(fake.published().is_empty());
}
