//! Protected groups: reported, never revoked, in either mode, and only the groups an entry names.

use super::tests::{GROUP, attribute, handle_under, open_group, outcomes, rule};
use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::Fake;
use crate::finding::Tags;
use crate::outcome::{Mode, Outcome};

/// The default baseline with these `protected:` entries.
fn protecting(entries: &str) -> Baseline {
    let yaml = format!(
        "{}\nprotected:\n{entries}",
        crate::policy::DEFAULT_BASELINE_YAML.trim_end()
    );
    Baseline::from_yaml(&yaml, "protected.yaml").unwrap()
}

#[tokio::test]
async fn a_group_protected_by_tag_is_reported_and_never_revoked() {
    let baseline =
        protecting("  - reason: payments edge, CHG-7\n    tag: {key: sgguard-protected}\n");
    let tags: Tags = [("sgguard-protected".to_owned(), "yes".to_owned())].into();
    for mode in [Mode::Enforce, Mode::Audit] {
        let fake = Fake::default().with_group(
            GROUP,
            tags.clone(),
            vec![
                rule("sgr-ssh", 22, "0.0.0.0/0"),
                rule("sgr-rdp", 3389, "0.0.0.0/0"),
                rule("sgr-private", 22, "10.0.0.0/8"),
            ],
        );
        let (outcome, error) = handle_under(
            &fake,
            mode,
            &HubState::in_process(Limits::default()),
            &baseline,
        )
        .await;
        assert_eq!(error, None, "{mode}");
        assert_eq!(
            outcomes(&outcome),
            [
                ("sgr-rdp".to_owned(), Outcome::Protected),
                ("sgr-ssh".to_owned(), Outcome::Protected)
            ],
            "{mode}"
        );
        let counts = outcome.counts();
        assert_eq!(
            (counts.findings, counts.protected),
            (2, 2),
            "still violations"
        );
        assert!(fake.revoke_calls().is_empty(), "{mode}: no revoke call");
        assert_eq!(fake.rule_ids(GROUP).len(), 3);
        let published = fake.published();
        assert_eq!(published.len(), 1);
        assert_eq!(attribute(&published[0], "action"), "protected");
        assert_eq!(attribute(&published[0], "severity"), "critical");
        assert!(
            published[0]
                .subject
                .contains("2 finding(s) in protected groups, not revoked"),
            "{}",
            published[0].subject
        );
        assert!(published[0].text.contains(
            "protected: payments edge, CHG-7 (tag sgguard-protected=yes): reported, not revoked"
        ));
        assert!(published[0].json.contains("\"outcome\":\"protected\""));
    }
}

#[tokio::test]
async fn protection_by_id_or_tag_value_covers_only_the_groups_it_names() {
    // By group id: protected. A tag with another value: not protected, revoked as ever.
    let by_id = protecting(&format!(
        "  - reason: vendor appliance\n    group_ids: [{GROUP}]\n"
    ));
    let fake = open_group();
    let (outcome, _) = handle_under(
        &fake,
        Mode::Enforce,
        &HubState::in_process(Limits::default()),
        &by_id,
    )
    .await;
    assert_eq!(outcome.counts().protected, 2);
    assert!(fake.revoke_calls().is_empty());

    let by_value =
        protecting("  - reason: frozen\n    tag: {key: sgguard-protected, value: \"true\"}\n");
    let tags: Tags = [("sgguard-protected".to_owned(), "no".to_owned())].into();
    let fake = Fake::default().with_group(GROUP, tags, vec![rule("sgr-ssh", 22, "0.0.0.0/0")]);
    let (outcome, _) = handle_under(
        &fake,
        Mode::Enforce,
        &HubState::in_process(Limits::default()),
        &by_value,
    )
    .await;
    assert_eq!(
        outcomes(&outcome),
        [("sgr-ssh".to_owned(), Outcome::Revoked)]
    );
    assert!(fake.rule_ids(GROUP).is_empty());
}
