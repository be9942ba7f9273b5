//! The durable record: what sgguard did, or what it could not read, as one message for the
//! queue the operator already watches (the hub's dead-letter queue, `SGGUARD_RECORD_QUEUE_URL`).
//! It is written when the notification topic cannot carry the news — a publish that failed
//! after a revoke, a sweep summary that could not be sent — and for an event sgguard cannot
//! read, which is then answered as handled rather than retried. A retry that later finds the
//! rules already gone sends its own message; it never takes the record back.
//!
//! The body fits SQS's message limit by construction: when the whole document does not fit,
//! the findings least worth keeping (revocations are kept first) are dropped and counted.

use serde::Serialize;
use serde_json::{Value, json};

use crate::outcome::{EventOutcome, FindingOutcome, Outcome, SweepReport};

/// The most a record's body takes: SQS takes messages of up to 256 KiB (262,144 bytes), body
/// and attributes together.
pub const RECORD_BUDGET: usize = 250 * 1024;
/// The most of a malformed event the record quotes (the rest is cut, and said to be).
const QUOTED_EVENT: usize = 64 * 1024;

/// Why the record was written: the `kind` of the document and of the message attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum RecordKind {
    /// An event was handled (rules may be revoked) but its notification was not published.
    UndeliveredNotification,
    /// The sweep's summary was not published.
    UndeliveredSweepSummary,
    /// The event could not be read; nothing was done.
    MalformedEvent,
    /// The circuit breaker held an event's revocations back: the rules are open, kept for the
    /// next sweep to re-check; a person should look now.
    HeldBack,
}

/// One record, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordKind,
    /// The JSON document, at most [`RECORD_BUDGET`] bytes.
    pub body: String,
    /// The member account the record is about, when known (a message attribute).
    pub account: Option<String>,
}

/// The record of an event whose notification could not be published: the outcome as the
/// notification would have carried it (what was revoked, by whom, where) and why it was not.
pub fn undelivered_event(outcome: &EventOutcome, error: &str) -> Record {
    let kind = RecordKind::UndeliveredNotification;
    let body = fit(&outcome.findings, |findings, omitted| {
        let mut shown = outcome.clone();
        shown.findings = findings;
        document(kind, error, "outcome", json!(shown), omitted)
    });
    Record {
        kind,
        body,
        account: outcome.account_id.clone(),
    }
}

/// The record of an event sgguard could not read: the error, the outcome (failed, nothing
/// done) and the event itself (quoted up to 64 KiB), so that someone can look at it.
pub fn malformed_event(outcome: &EventOutcome, event: &Value) -> Record {
    let kind = RecordKind::MalformedEvent;
    let error = outcome.errors.join("; ");
    let raw = event.to_string();
    let quoted = if raw.len() <= QUOTED_EVENT {
        event.clone()
    } else {
        let mut cut = QUOTED_EVENT;
        while !raw.is_char_boundary(cut) {
            cut -= 1;
        }
        json!({"truncated_from_bytes": raw.len(), "start": raw.get(..cut).unwrap_or_default()})
    };
    let mut body = document(kind, &error, "outcome", json!(outcome), 0);
    if let Some(object) = body.as_object_mut() {
        object.insert("event".to_owned(), quoted);
    }
    Record {
        kind,
        body: body.to_string(),
        account: outcome.account_id.clone(),
    }
}

/// The record of an event whose revocations the circuit breaker held back: the outcome (what
/// was revoked, what was held back and why, by whom), beside the message, so that the rules
/// left open are in the queue the operator watches until someone looks.
pub fn held_back(outcome: &EventOutcome, reason: &str) -> Record {
    let kind = RecordKind::HeldBack;
    let body = fit(&outcome.findings, |findings, omitted| {
        let mut shown = outcome.clone();
        shown.findings = findings;
        document(kind, reason, "outcome", json!(shown), omitted)
    });
    Record {
        kind,
        body,
        account: outcome.account_id.clone(),
    }
}

/// The record of a sweep whose summary could not be published: the sweep's report (the same
/// document `scan --format json` writes), its findings cut to fit.
pub fn undelivered_sweep(report: &SweepReport, error: &str) -> Record {
    let kind = RecordKind::UndeliveredSweepSummary;
    let body = fit(&report.findings, |findings, omitted| {
        let mut shown = report.clone();
        shown.findings = findings;
        document(kind, error, "report", json!(shown), omitted)
    });
    Record {
        kind,
        body,
        account: None,
    }
}

fn document(kind: RecordKind, error: &str, key: &str, content: Value, omitted: usize) -> Value {
    let mut document = json!({"sgguard": "record", "kind": kind, "error": error, key: content});
    if omitted > 0
        && let Some(object) = document.as_object_mut()
    {
        object.insert("findings_omitted".to_owned(), json!(omitted));
    }
    document
}

/// The document built by `build` with as many findings as fit the budget: revocations and
/// failures first, then the most severe. Binary search over the count: each try serializes once.
fn fit(findings: &[FindingOutcome], build: impl Fn(Vec<FindingOutcome>, usize) -> Value) -> String {
    let whole = build(findings.to_vec(), 0).to_string();
    if whole.len() <= RECORD_BUDGET {
        return whole;
    }
    let mut ranked: Vec<&FindingOutcome> = findings.iter().collect();
    ranked.sort_by_key(|f| {
        (
            !matches!(f.outcome, Outcome::Revoked | Outcome::Failed),
            std::cmp::Reverse(f.finding.severity()),
        )
    });
    let with = |n: usize| {
        let kept = ranked.iter().take(n).map(|f| (*f).clone()).collect();
        build(kept, findings.len() - n).to_string()
    };
    let (mut fits, mut too_many) = (0, findings.len());
    while too_many - fits > 1 {
        let middle = fits + (too_many - fits) / 2;
        if with(middle).len() <= RECORD_BUDGET {
            fits = middle;
        } else {
            too_many = middle;
        }
    }
    with(fits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Action, Finding};
    use crate::outcome::Mode;

    fn outcome(findings: usize) -> EventOutcome {
        let mut outcome = EventOutcome::new(Mode::Enforce);
        outcome.account_id = Some("111122223333".to_owned());
        outcome.event.actor_arn = Some("arn:aws:iam::111122223333:user/bob".to_owned());
        outcome.findings = (0..findings)
            .map(|i| FindingOutcome {
                finding: Finding::ssh_open(
                    "111122223333",
                    "sg-0123456789abcdef0",
                    Some(&format!("sgr-{i:017}")),
                    Action::Revoke,
                ),
                // Revocations at the end: the cut must still keep them.
                outcome: if i + 10 >= findings {
                    Outcome::Revoked
                } else {
                    Outcome::Reported
                },
                group: None,
                attribution: None,
                removed: None,
                error: None,
                aws_error: None,
            })
            .collect();
        outcome
    }

    #[test]
    fn a_small_outcome_is_recorded_whole() {
        let record = undelivered_event(&outcome(3), "Publish failed: Throttling");
        let body: Value = serde_json::from_str(&record.body).unwrap();
        assert_eq!(body["kind"], "undelivered-notification");
        assert_eq!(body["error"], "Publish failed: Throttling");
        assert_eq!(body["outcome"]["findings"].as_array().unwrap().len(), 3);
        assert_eq!(
            body["outcome"]["event"]["actor_arn"],
            "arn:aws:iam::111122223333:user/bob"
        );
        assert!(body.get("findings_omitted").is_none());
        assert_eq!(record.account.as_deref(), Some("111122223333"));
    }

    #[test]
    fn a_huge_outcome_fits_and_keeps_every_revocation() {
        let big = outcome(3_000);
        assert!(serde_json::to_string(&big).unwrap().len() > RECORD_BUDGET);
        let record = undelivered_event(&big, "SNS down");
        assert!(record.body.len() <= RECORD_BUDGET, "{}", record.body.len());
        let body: Value = serde_json::from_str(&record.body).unwrap();
        let kept = body["outcome"]["findings"].as_array().unwrap();
        let omitted = body["findings_omitted"].as_u64().unwrap();
        assert_eq!(kept.len() as u64 + omitted, 3_000);
        assert!(
            kept.len() > 100,
            "the cut keeps as many as fit: {}",
            kept.len()
        );
        let revoked = kept.iter().filter(|f| f["outcome"] == "revoked").count();
        assert_eq!(revoked, 10);
    }

    #[test]
    fn a_malformed_event_is_quoted_and_a_huge_one_cut() {
        let mut failed = EventOutcome::new(Mode::Enforce);
        failed
            .errors
            .push("malformed event: no `detail`".to_owned());
        let record = malformed_event(&failed, &json!({"detail-type": "x"}));
        let body: Value = serde_json::from_str(&record.body).unwrap();
        assert_eq!(body["kind"], "malformed-event");
        assert_eq!(body["event"]["detail-type"], "x");
        assert_eq!(body["error"], "malformed event: no `detail`");

        let huge = json!({"detail": "é".repeat(200_000)});
        let record = malformed_event(&failed, &huge);
        assert!(record.body.len() <= RECORD_BUDGET);
        let body: Value = serde_json::from_str(&record.body).unwrap();
        assert!(body["event"]["truncated_from_bytes"].as_u64().unwrap() > 400_000);
    }
}
