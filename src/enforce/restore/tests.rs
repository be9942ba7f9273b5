//! Restore on the in-memory hub: a message read strictly, a revocation checked against the
//! journal, the exemption written by the serializer (an injection stays text), and the
//! conditional write started again after a concurrent change.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::*;
use crate::aws::Fetched;
use crate::enforce::RevokeSource;
use crate::enforce::journal::{Journal, Revocation};

const GROUP: &str = "sg-0123456789abcdef0";
const RULE: &str = "sgr-0ca70000000000001";

fn finding(outcome: &str) -> Value {
    json!({
        "account_id": "111122223333", "region": "eu-west-1", "group_id": GROUP,
        "rule_id": RULE, "direction": "ingress", "protocol": "tcp", "from_port": 5432,
        "to_port": 5432, "peer": "0.0.0.0/1", "description": "reporting tool",
        "outcome": outcome,
        "violations": [{"policy_rule": "risky-ports-from-internet"}]})
}

fn message(outcome: &str) -> Value {
    json!({ "findings": [finding(outcome)] })
}

fn with(field: &str, value: Value) -> Value {
    let mut f = finding("revoked");
    f[field] = value;
    json!({ "findings": [f] })
}

#[test]
fn only_revoked_rules_are_restored() {
    let got = select(&message("revoked"), "m.json", &[]).unwrap();
    assert_eq!(
        got[0].rule.ports.map(|p| (p.from, p.to)),
        Some((5432, 5432))
    );
    assert_eq!(got[0].rule.description.as_deref(), Some("reporting tool"));
    assert_eq!(
        (got[0].region(), got[0].group(), got[0].rule_id()),
        ("eu-west-1", GROUP, RULE)
    );
    let error = select(&message("would_revoke"), "m.json", &[]).unwrap_err();
    assert!(error.contains("no revoked finding"), "{error}");
    let error = select(&message("would_revoke"), "m.json", &[RULE.to_owned()]).unwrap_err();
    assert!(
        error.contains("was never revoked (outcome `would_revoke`)"),
        "{error}"
    );
    let error = select(&message("revoked"), "m.json", &["sgr-99".to_owned()]).unwrap_err();
    assert!(error.contains("`sgr-99`"), "{error}");
    let error = select(&with("protocol", "icmp".into()), "m.json", &[]).unwrap_err();
    assert!(error.contains("ICMP"), "{error}");
}

#[test]
fn every_field_of_the_message_is_read_strictly_naming_it() {
    let refused = [
        (
            "direction",
            json!("Egress"),
            "`direction` `Egress` is neither",
        ),
        (
            "direction",
            json!("sideways"),
            "`direction` `sideways` is neither",
        ),
        (
            "group_id",
            json!("sg-0a]\n  - reason: x\n    account_ids: [111122223333]"),
            "`group_id`",
        ),
        (
            "rule_id",
            json!("sgr-01"),
            "`rule_id` `sgr-01` is not an EC2 id",
        ),
        ("account_id", json!("1111"), "`account_id`"),
        ("region", json!("eu-west-1\nexemptions: []"), "`region`"),
        ("peer", json!("0.0.0.0/0\n- reason: x"), "the rule:"),
        ("peer", json!("pl-xyz"), "`peer` `pl-xyz`"),
        (
            "violations",
            json!([]),
            "`violations` names no baseline rule",
        ),
        (
            "violations",
            Value::Null,
            "`violations` names no baseline rule",
        ),
    ];
    for (field, value, expected) in refused {
        let error = select(&with(field, value.clone()), "m.json", &[]).unwrap_err();
        assert!(
            error.contains("`m.json`, findings[0]") && error.contains(expected),
            "{field} = {value}: {error}"
        );
    }
    let egress = select(&with("direction", "egress".into()), "m.json", &[]).unwrap();
    assert_eq!(egress[0].rule.direction, crate::rule::Direction::Egress);
    let twice = json!({"findings": [finding("revoked"), finding("revoked")]});
    assert!(
        select(&twice, "m.json", &[])
            .unwrap_err()
            .contains("named twice")
    );
}

fn journaled(revoked: &Revoked, peer: &str) -> Revocation {
    let mut rule = revoked.rule.clone();
    rule.peer = crate::rule::Peer::cidr(peer).unwrap();
    rule.description = Some("as revoked".to_owned());
    Revocation {
        rule,
        policy_rules: vec!["admin-ports-from-internet".to_owned()],
        source: RevokeSource::Sweep,
        at: jiff::Timestamp::now(),
    }
}

#[tokio::test]
async fn a_rule_is_restored_only_as_the_journal_holds_it() {
    let said = select(&message("revoked"), "m.json", &[]).unwrap();

    // Not journaled: a forged or foreign message restores nothing.
    let journal = Journal::default();
    let error = verify(&journal, said.clone()).await.unwrap_err();
    assert!(matches!(error, Refusal::NotJournaled { .. }), "{error}");
    assert!(error.to_string().contains(RULE), "{error}");

    // Journaled with another peer: the message was altered.
    journal
        .note(journaled(&said[0], "10.0.0.0/8"))
        .await
        .unwrap();
    let error = verify(&journal, said.clone()).await.unwrap_err();
    assert!(
        error.to_string().contains(
            "says peer `0.0.0.0/1`, the journal of sgguard's revocation says `10.0.0.0/8`"
        ),
        "{error}"
    );

    // The same revocation: the rule and the baseline rules are the journal's.
    let journal = Journal::default();
    journal
        .note(journaled(&said[0], "0.0.0.0/1"))
        .await
        .unwrap();
    let verified = verify(&journal, said).await.unwrap();
    assert_eq!(verified[0].policy_rules, ["admin-ports-from-internet"]);
    assert_eq!(verified[0].rule.description.as_deref(), Some("as revoked"));
}

#[test]
fn the_exemption_is_serialized_and_reads_back_exactly() {
    let revoked = select(&message("revoked"), "m.json", &[]).unwrap();
    let until = jiff::civil::date(2026, 12, 31);
    let baseline = crate::policy::Baseline::default_baseline().unwrap();
    let kept = "version: 1\n# owned by the platform team\nexemptions:\n  - reason: CHG-1 legacy\n    group_ids: [sg-0aaaaaaaaaaaaaaaa]\n    rules: [admin-ports-from-internet]\n    expires: \"2027-01-31\"\n";
    for current in [None, Some("version: 1\nexemptions: []\n"), Some(kept)] {
        // A reason that tries to be YAML stays the reason's text.
        let reason = "CHG-7\n  - reason: evil\n    account_ids: [111122223333]";
        let text = with_exemption(current, &revoked, until, Some(reason)).unwrap();
        let with = baseline
            .with_exemptions_file(
                &text,
                "exemptions.yaml",
                &crate::policy::FileLimits::default(),
            )
            .unwrap();
        let before = current.map_or(0, |c| {
            baseline
                .with_exemptions_file(c, "e.yaml", &crate::policy::FileLimits::default())
                .unwrap()
                .exemptions
                .len()
        });
        assert_eq!(with.exemptions.len(), before + 1, "{text}");
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        let added = doc["exemptions"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(added["group_ids"], json!([GROUP]), "{text}");
        assert_eq!(
            added["rules"],
            json!(["risky-ports-from-internet"]),
            "{text}"
        );
        assert_eq!(added["expires"], "2026-12-31", "{text}");
        assert!(
            added["reason"].as_str().unwrap().starts_with(reason),
            "{text}"
        );
        assert!(added["reason"].as_str().unwrap().contains(RULE), "{text}");
        assert!(added.get("account_ids").is_none(), "{text}");
        if current == Some(kept) {
            assert!(
                text.starts_with(kept),
                "the operator's text is kept: {text}"
            );
        }
    }
}

/// An exemptions object in memory that someone else changes `changes` times between restore's
/// read and its write.
struct Contended {
    object: Mutex<Option<Fetched>>,
    changes: Mutex<usize>,
    writes: Mutex<usize>,
}

impl ExemptionsObject for Contended {
    async fn read(&self) -> Result<Option<Fetched>, String> {
        Ok(self.object.lock().unwrap().clone())
    }

    async fn write_if(&self, text: &str, etag: Option<&str>) -> Result<bool, String> {
        let mut object = self.object.lock().unwrap();
        let mut changes = self.changes.lock().unwrap();
        if *changes > 0 {
            *changes -= 1;
            let n = *changes;
            *object = Some(Fetched {
                text: format!(
                    "version: 1\nexemptions:\n  - reason: written by another operator {n}\n    group_ids: [sg-0bbbbbbbbbbbbbbbb]\n    rules: [admin-ports-from-internet]\n    expires: \"2027-01-31\"\n"
                ),
                etag: Some(format!("\"other-{n}\"")),
                written_by: None,
                version: None,
            });
        }
        if object.as_ref().and_then(|o| o.etag.as_deref()) != etag {
            return Ok(false);
        }
        *self.writes.lock().unwrap() += 1;
        *object = Some(Fetched {
            text: text.to_owned(),
            etag: Some("\"mine\"".to_owned()),
            written_by: None,
            version: None,
        });
        Ok(true)
    }
}

#[tokio::test]
async fn a_concurrent_change_is_read_again_and_kept() {
    let revoked = select(&message("revoked"), "m.json", &[]).unwrap();
    let until = jiff::civil::date(2026, 12, 31);
    let object = Contended {
        object: Mutex::new(None),
        changes: Mutex::new(1),
        writes: Mutex::new(0),
    };
    write_exemption(&object, &revoked, until, Some("CHG-7"), |_| Ok(()))
        .await
        .unwrap();
    let text = object.object.lock().unwrap().clone().unwrap().text;
    assert!(
        text.contains("written by another operator 0") && text.contains(GROUP),
        "{text}"
    );
    assert_eq!(*object.writes.lock().unwrap(), 1);

    // A file that keeps changing is given up, naming why; one that would not validate is never
    // written.
    let busy = Contended {
        object: Mutex::new(None),
        changes: Mutex::new(100),
        writes: Mutex::new(0),
    };
    let error = write_exemption(&busy, &revoked, until, None, |_| Ok(()))
        .await
        .unwrap_err();
    assert!(error.contains("kept changing"), "{error}");
    let quiet = Contended {
        object: Mutex::new(None),
        changes: Mutex::new(0),
        writes: Mutex::new(0),
    };
    let error = write_exemption(&quiet, &revoked, until, None, |_| Err("no".to_owned()))
        .await
        .unwrap_err();
    assert!(error.contains("would not validate"), "{error}");
    assert_eq!(*quiet.writes.lock().unwrap(), 0);
}

#[tokio::test]
async fn revoked_rules_are_put_back_where_they_were_and_a_failure_is_told() {
    use crate::enforce::fake::Fake;
    use crate::finding::Tags;
    let mut revoked = select(&message("revoked"), "m.json", &[]).unwrap();
    let fake = Fake::default().with_group(GROUP, Tags::new(), Vec::new());
    let mut lost = revoked[0].clone();
    lost.account = "444455556666".parse().unwrap();
    revoked.push(lost);
    let hub = fake.clone().sharing_with("444455556666", None);
    let results = put_back(&hub, &revoked).await;
    assert_eq!(results.len(), 2);
    let new_id = results[0].1.as_ref().unwrap().clone().unwrap();
    assert_eq!(fake.rule_ids(GROUP), [new_id]);
    let restored = fake.authorized();
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].peer, "0.0.0.0/1");
    assert_eq!(restored[0].ports, Some((5432, 5432)));
    assert_eq!(restored[0].description.as_deref(), Some("reporting tool"));
    let error = results[1].1.as_ref().unwrap_err();
    assert_eq!(error.account, "444455556666");
}
