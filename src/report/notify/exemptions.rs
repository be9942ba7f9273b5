//! The message that the exemptions file changed: which groups are newly exempt, exempt from
//! more or for longer, from less, or no longer, and who wrote the file when sgguard knows it.
//! Every change reaches the topics, whatever `SGGUARD_MIN_SEVERITY` says.

use std::fmt::Write as _;

use serde_json::json;

use super::{Headline, Kind, NOTIFIED_ACCOUNTS, Notification, Told, VERSION};
use crate::finding::Severity;
use crate::policy::ExemptionDiff;

/// One version of the exemptions file and how it differs from the one announced before it.
#[derive(Debug, Clone, Copy)]
pub struct ExemptionsChange<'a> {
    /// The file (`s3://BUCKET/KEY`).
    pub uri: &'a str,
    /// Its entity tag now.
    pub etag: &'a str,
    /// The entity tag of the version announced before; `None` when none was.
    pub previous_etag: Option<&'a str>,
    pub diff: &'a ExemptionDiff,
    /// Who wrote it, when sgguard wrote it.
    pub written_by: Option<&'a str>,
    /// The hub account (the `account_id` attribute).
    pub hub_account: &'a str,
}

/// The exemptions-change message: `high` when anything is exempt that was not before.
pub fn exemptions_notification(change: &ExemptionsChange<'_>) -> Notification {
    let diff = change.diff;
    let lines = diff.lines();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "The exemptions file {} changed (version {}{}).",
        change.uri,
        change.etag,
        change
            .previous_etag
            .map(|p| format!(", after {p}"))
            .unwrap_or_default()
    );
    let writer = change.written_by.unwrap_or(
        "not recorded (S3 keeps no writer; CloudTrail's S3 data events for PutObject on this key \
         name the principal)",
    );
    let _ = writeln!(text, "Written by: {writer}");
    if change.previous_etag.is_none() {
        let _ = writeln!(
            text,
            "\nNo earlier version was announced: every entry is listed as added."
        );
    }
    if lines.is_empty() {
        let _ = writeln!(
            text,
            "\nNo group is exempt from more or less than before (only wording or order changed)."
        );
    } else {
        let _ = writeln!(
            text,
            "\nWhat changed (+ added, ^ widened, v narrowed, - removed):"
        );
        for line in lines.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(text, "{line}");
        }
        super::more(&mut text, lines.len());
    }
    let _ = writeln!(
        text,
        "\nEach version of the file is announced once (docs/operations.md, \"Exemptions\")."
    );
    let document = json!({
        "kind": Kind::Exemptions.to_string(),
        "sgguard_version": VERSION,
        "uri": change.uri,
        "etag": change.etag,
        "previous_etag": change.previous_etag,
        "written_by": change.written_by,
        "widens": diff.widens(),
        "added": diff.added,
        "widened": diff.widened,
        "narrowed": diff.narrowed,
        "removed": diff.removed,
    });
    let counts = [
        (diff.added.len(), "added"),
        (diff.widened.len(), "widened"),
        (diff.narrowed.len(), "narrowed"),
        (diff.removed.len(), "removed"),
    ];
    let what: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect();
    let subject = format!(
        "sgguard: exemptions changed: {}",
        if what.is_empty() {
            "wording only".to_owned()
        } else {
            what.join(", ")
        }
    );
    let told = Told {
        kind: Kind::Exemptions,
        headline: Headline::ExemptionsChanged,
        found: if diff.widens() {
            Severity::High
        } else {
            Severity::Low
        },
        breaker: false,
        place: vec![
            ("account_id", change.hub_account.to_owned()),
            (
                "actor_arn",
                change.written_by.unwrap_or("unknown").to_owned(),
            ),
        ],
    };
    Notification::new(told, subject, text, document.to_string())
}
