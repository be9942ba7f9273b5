//! What the sweep summary tells of the guard itself: the events waiting in the members'
//! forwarding dead-letter queues (the hub never received them), and the places not guarded in
//! real time (gaps).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{NOTIFIED_ACCOUNTS, more};
use crate::outcome::SweepReport;

/// The summary's text about undelivered events and gaps (nothing when there are none).
pub(super) fn guard_text(text: &mut String, report: &SweepReport) {
    if !report.undelivered.is_empty() {
        let _ = writeln!(
            text,
            "\nUNDELIVERED: {} event(s) the hub never received wait in the forwarding dead-letter \
             queue of {} account-region(s); the sweep has judged their rules as they are now, \
             read the events to see who changed what (docs/operations.md, \"Undelivered \
             events in the members\"):",
            report.undelivered_events(),
            report.undelivered.len()
        );
        for u in report.undelivered.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(
                text,
                "- {}{} {}: {} event(s)",
                u.account_id,
                u.account_name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                u.region,
                u.messages
            );
        }
        more(text, report.undelivered.len());
    }
    if !report.gaps.is_empty() {
        let _ = writeln!(
            text,
            "\nGaps: {} place(s) not guarded in real time:",
            report.gaps.len()
        );
        for gap in report.gaps.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(text, "- {}", gap.line());
        }
        more(text, report.gaps.len());
    }
}

/// The summary document's `undelivered` and `gaps` (capped like its other lists).
pub(super) fn guard_document(report: &SweepReport) -> (Value, Value) {
    (
        json!({
            "events": report.undelivered_events(),
            "places_total": report.undelivered.len(),
            "places": report.undelivered.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        }),
        json!({
            "total": report.gaps.len(),
            "places": report.gaps.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        }),
    )
}
