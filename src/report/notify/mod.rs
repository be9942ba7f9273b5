//! Notifications: one typed model for the message of an event and of a sweep, rendered as
//! readable text (email), the outcome JSON (machines) and message attributes that SNS
//! subscriptions filter on. Both kinds share the action ladder, the subject, the severity and
//! the way a finding is told.

use std::fmt::Write as _;

use crate::finding::Severity;
use crate::outcome::{Counts, FindingOutcome};
use crate::rule::Direction;

/// The release that wrote a message (`sgguard --version`): in every message's text, JSON
/// (`sgguard_version`) and attributes, and in every metrics line.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// SNS takes email subjects of fewer than 100 characters: a subject is cut below it.
const SUBJECT_LIMIT: usize = 99;
/// Most findings a sweep notification lists (SNS messages are at most 256 KB).
pub const NOTIFIED_FINDINGS: usize = 25;
/// Most accounts (and failures) a sweep notification lists one by one.
pub const NOTIFIED_ACCOUNTS: usize = 100;
/// Most findings an event's notification lists; the rest are counted (every finding is also
/// logged on its own line).
pub const NOTIFIED_EVENT_FINDINGS: usize = 50;
/// The most a message body may take: SNS takes 256 KB for the body (the text for email and the
/// JSON once, both escaped into one JSON document) and the attributes.
pub const MESSAGE_BUDGET: usize = 240 * 1024;

/// The size of the body SNS receives for this text and JSON.
pub fn body_bytes(text: &str, json: &str) -> usize {
    crate::aws::message_body(text, json).len()
}

/// Which outcome a message tells: its `kind` attribute and its EventBridge `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    /// One event's outcome.
    Event,
    /// A sweep's summary.
    Sweep,
    /// A new version of the exemptions file.
    Exemptions,
}

impl Kind {
    /// The EventBridge `detail-type` of this kind's events on the hub bus.
    pub fn detail_type(self) -> &'static str {
        match self {
            Kind::Event => FINDING_DETAIL_TYPE,
            Kind::Sweep => SWEEP_DETAIL_TYPE,
            Kind::Exemptions => EXEMPTIONS_DETAIL_TYPE,
        }
    }
}

/// Whether a message reaches the topics whatever `SGGUARD_MIN_SEVERITY` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// A failure, a tripped breaker or a change of what is exempt: a person must look, so
    /// every output gets it.
    Always,
    /// The topics get it when its severity reaches the minimum.
    BySeverity,
}

/// One message, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub kind: Kind,
    /// The most severe finding told (`critical` when the breaker tripped): the `severity`
    /// attribute, and what `SGGUARD_MIN_SEVERITY` is held against.
    pub severity: Severity,
    /// What the message says was done: the `action` attribute.
    pub headline: Headline,
    pub urgency: Urgency,
    /// At most 99 characters (SNS takes fewer than 100 for email subjects).
    pub subject: String,
    /// For people (email).
    pub text: String,
    /// For machines (SQS, Lambda, HTTPS subscribers).
    pub json: String,
    /// `kind`, `account_id`, `actor_arn`, `region`, `group_id` (events), `action`, `severity`,
    /// written from the fields above.
    pub attributes: Vec<(&'static str, String)>,
}

/// What a message is about, as [`Notification::new`] takes it.
pub(crate) struct Told {
    pub kind: Kind,
    pub headline: Headline,
    /// The most severe finding told.
    pub found: Severity,
    /// Whether the circuit breaker tripped.
    pub breaker: bool,
    /// `account_id`, `actor_arn`, `region` (and `group_id`): the attributes of where and who.
    pub place: Vec<(&'static str, String)>,
}

/// EventBridge `source` of sgguard's own events.
pub const EVENT_SOURCE: &str = "sgguard";
/// EventBridge `detail-type` of an event's outcome.
pub const FINDING_DETAIL_TYPE: &str = "Security Group Finding";
/// EventBridge `detail-type` of a sweep's summary.
pub const SWEEP_DETAIL_TYPE: &str = "Sweep Summary";
/// EventBridge `detail-type` of a new version of the exemptions file.
pub const EXEMPTIONS_DETAIL_TYPE: &str = "Exemptions Changed";

impl Notification {
    /// A message from what it tells and its texts. A failure or a tripped breaker is
    /// [`Urgency::Always`]; a tripped breaker is always `critical`: a person must look before
    /// more is revoked.
    pub(crate) fn new(told: Told, subject: String, text: String, json: String) -> Notification {
        let severity = if told.breaker {
            Severity::Critical
        } else {
            told.found
        };
        let urgency =
            if told.breaker || told.headline == Headline::Failed || told.kind == Kind::Exemptions {
                Urgency::Always
            } else {
                Urgency::BySeverity
            };
        let mut attributes = vec![
            ("kind", told.kind.to_string()),
            ("sgguard_version", VERSION.to_owned()),
        ];
        attributes.extend(told.place);
        attributes.push(("action", told.headline.to_string()));
        attributes.push(("severity", severity.to_string()));
        Notification {
            kind: told.kind,
            severity,
            headline: told.headline,
            urgency,
            subject: subject_line(subject),
            text,
            json,
            attributes,
        }
    }

    /// The value of a message attribute (empty when absent).
    pub fn attribute(&self, name: &str) -> &str {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether the topics get this message under `min` (`SGGUARD_MIN_SEVERITY`; all when unset).
    pub fn reaches(&self, min: Option<Severity>) -> bool {
        self.urgency == Urgency::Always || min.is_none_or(|min| self.severity >= min)
    }
}

/// What a message says was done, strongest first: the `action` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Headline {
    Failed,
    Revoked,
    WouldRevoke,
    /// Findings left in place because the baseline protects their groups.
    Protected,
    Reported,
    /// Rules closed by restoring the shared prefix list that opened them (an event's).
    FixedAtSource,
    Exempt,
    AlreadyGone,
    /// A sweep that found nothing open.
    Clean,
    /// The exemptions file changed.
    ExemptionsChanged,
}

impl Headline {
    /// The ladder: a failure outranks a revocation, which outranks a would-be revocation, then
    /// what a protected group kept, then open findings; `otherwise` when none of these.
    pub(crate) fn of(
        failed: bool,
        counts: &Counts,
        reported: usize,
        otherwise: Headline,
    ) -> Headline {
        if failed {
            Headline::Failed
        } else if counts.revoked > 0 {
            Headline::Revoked
        } else if counts.would_revoke > 0 {
            Headline::WouldRevoke
        } else if counts.protected > 0 {
            Headline::Protected
        } else if reported > 0 {
            Headline::Reported
        } else {
            otherwise
        }
    }
}

/// A subject strictly under SNS's limit of 100 characters.
fn subject_line(text: String) -> String {
    if text.chars().count() > SUBJECT_LIMIT {
        text.chars().take(SUBJECT_LIMIT - 1).collect::<String>() + "…"
    } else {
        text
    }
}

pub(crate) fn max_severity<'a>(findings: impl IntoIterator<Item = &'a FindingOutcome>) -> Severity {
    findings
        .into_iter()
        .map(|f| f.finding.severity())
        .max()
        .unwrap_or(Severity::Info)
}

/// `REVOKED: group sg-… rule sgr-… (ingress tcp 22 from 0.0.0.0/0)`, the way both kinds of
/// message tell a finding.
pub(crate) fn finding_line(entry: &FindingOutcome) -> String {
    let f = &entry.finding;
    let ports = f.rule.ports.map(|p| format!(" {p}")).unwrap_or_default();
    let toward = if f.rule.direction == Direction::Ingress {
        "from"
    } else {
        "to"
    };
    format!(
        "{}: group {} rule {} ({} {}{ports} {toward} {})",
        entry.outcome.as_str().to_uppercase(),
        f.rule.group_id.as_deref().unwrap_or("-"),
        f.rule.rule_id.as_deref().unwrap_or("-"),
        f.rule.direction,
        f.rule.protocol,
        f.rule.peer,
    )
}

pub(crate) fn breaker_text(text: &mut String, breaker: Option<&str>) {
    if let Some(reason) = breaker {
        let _ = writeln!(
            text,
            "\nCircuit breaker: {reason}. The rest were held back (WOULD_REVOKE): check the \
             baseline and the changes before raising the limit or revoking by hand."
        );
    }
}

/// `- … and N more` when a list was cut at [`NOTIFIED_ACCOUNTS`].
pub(crate) fn more(text: &mut String, total: usize) {
    if total > NOTIFIED_ACCOUNTS {
        let _ = writeln!(text, "- … and {} more", total - NOTIFIED_ACCOUNTS);
    }
}

mod chat;
mod event;
mod exemptions;
mod guard;
mod sweep;
#[cfg(test)]
mod tests;

pub use event::event_notification;
pub use exemptions::{ExemptionsChange, exemptions_notification};
pub use sweep::sweep_notification;
