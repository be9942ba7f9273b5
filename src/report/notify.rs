//! Notifications: one typed model for the message of an event and of a sweep, rendered as
//! readable text (email), the outcome JSON (machines) and message attributes that SNS
//! subscriptions filter on. Both kinds share the action ladder, the subject, the severity and
//! the way a finding is told.

use std::fmt::Write as _;

use serde_json::json;

use crate::finding::Severity;
use crate::outcome::{
    AccountSummary, Attribution, Counts, EventOutcome, FindingOutcome, Outcome, Status, SweepReport,
};
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

/// One message, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// At most 99 characters (SNS takes fewer than 100 for email subjects).
    pub subject: String,
    /// For people (email).
    pub text: String,
    /// For machines (SQS, Lambda, HTTPS subscribers).
    pub json: String,
    /// `kind`, `account_id`, `actor_arn`, `region`, `group_id` (events), `action`, `severity`.
    pub attributes: Vec<(&'static str, String)>,
}

/// Longest `description` of a chat message: chat clients fold long messages; the whole message
/// is in the inbox and the EventBridge event.
const CHAT_DESCRIPTION_LIMIT: usize = 3500;

/// EventBridge `source` of sgguard's own events.
pub const EVENT_SOURCE: &str = "sgguard";
/// EventBridge `detail-type` of an event's outcome.
pub const FINDING_DETAIL_TYPE: &str = "Security Group Finding";
/// EventBridge `detail-type` of a sweep's summary.
pub const SWEEP_DETAIL_TYPE: &str = "Sweep Summary";

impl Notification {
    /// The value of a message attribute (empty when absent).
    pub fn attribute(&self, name: &str) -> &str {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The message's `severity` attribute.
    pub fn severity(&self) -> Severity {
        serde_json::from_value(json!(self.attribute("severity"))).unwrap_or(Severity::Info)
    }

    /// The same message in the custom-notification format of Amazon Q Developer in chat
    /// applications (AWS Chatbot), so that it renders in Slack, Teams and Chime: `version`
    /// `1.0`, `source` `custom`, `content` with a markdown title and description, and
    /// `metadata` (docs/chatbot-notification.schema.json). The attributes stay, so that the chat
    /// topic's subscriptions can filter as the inbox's do.
    pub fn for_chat(&self) -> Notification {
        let mut description: String = self.text.chars().take(CHAT_DESCRIPTION_LIMIT).collect();
        if description.len() < self.text.len() {
            description.push_str("\n… (the whole message is in the security inbox)");
        }
        let severity = self.severity();
        let marker = match severity {
            Severity::Critical => ":rotating_light:",
            Severity::High => ":warning:",
            _ => ":information_source:",
        };
        let keywords: Vec<&str> = ["severity", "action", "kind"]
            .into_iter()
            .map(|name| self.attribute(name))
            .filter(|v| !v.is_empty())
            .collect();
        let context: serde_json::Map<String, serde_json::Value> = self
            .attributes
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let document = json!({
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": format!("{marker} {}", self.subject),
                "description": format!("```\n{description}\n```"),
                "keywords": keywords,
            },
            "metadata": {
                "summary": self.subject,
                "eventType": format!("sgguard {}", self.attribute("kind")),
                "additionalContext": context,
            },
        })
        .to_string();
        Notification {
            subject: self.subject.clone(),
            text: document.clone(),
            json: document,
            attributes: self.attributes.clone(),
        }
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
    Exempt,
    AlreadyGone,
    /// A sweep that found nothing open.
    Clean,
}

impl Headline {
    /// The ladder: a failure outranks a revocation, which outranks a would-be revocation, then
    /// what a protected group kept, then open findings; `otherwise` when none of these.
    fn of(failed: bool, counts: &Counts, reported: usize, otherwise: Headline) -> Headline {
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
fn subject(text: String) -> String {
    if text.chars().count() > SUBJECT_LIMIT {
        text.chars().take(SUBJECT_LIMIT - 1).collect::<String>() + "…"
    } else {
        text
    }
}

fn max_severity<'a>(findings: impl IntoIterator<Item = &'a FindingOutcome>) -> Severity {
    findings
        .into_iter()
        .map(|f| f.finding.severity())
        .max()
        .unwrap_or(Severity::Info)
}

/// `REVOKED: group sg-… rule sgr-… (ingress tcp 22 from 0.0.0.0/0)`, the way both kinds of
/// message tell a finding.
fn finding_line(entry: &FindingOutcome) -> String {
    let f = &entry.finding;
    let ports = match (f.from_port, f.to_port) {
        (Some(a), Some(b)) if a == b => format!(" {a}"),
        (Some(a), Some(b)) => format!(" {a}-{b}"),
        _ => String::new(),
    };
    let toward = if f.direction == Direction::Ingress {
        "from"
    } else {
        "to"
    };
    format!(
        "{}: group {} rule {} ({} {}{ports} {toward} {})",
        entry.outcome.as_str().to_uppercase(),
        f.group_id.as_deref().unwrap_or("-"),
        f.rule_id.as_deref().unwrap_or("-"),
        f.direction,
        f.protocol,
        f.peer,
    )
}

/// The notification of one event's outcome.
pub fn event_notification(outcome: &EventOutcome) -> Notification {
    let account = outcome.account_id.as_deref().unwrap_or("unknown account");
    let region = outcome.region.as_deref().unwrap_or("unknown region");
    let groups: Vec<&str> = {
        let mut ids: Vec<&str> = outcome
            .findings
            .iter()
            .filter_map(|f| f.finding.group_id.as_deref())
            .collect();
        ids.dedup();
        if ids.is_empty() {
            outcome.groups.iter().map(|g| g.group_id.as_str()).collect()
        } else {
            ids
        }
    };
    let counts = outcome.counts();
    // A failed event is told as failed even when it revoked something first.
    let failed = counts.failed > 0 || outcome.status == Status::Failed;
    let quiet = if counts.exempt > 0 {
        Headline::Exempt
    } else {
        Headline::AlreadyGone
    };
    let headline = Headline::of(failed, &counts, outcome.count(Outcome::Reported), quiet);
    let what = match headline {
        Headline::Failed if outcome.findings.is_empty() => "could not check".to_owned(),
        Headline::Failed if counts.failed > 0 => {
            format!("FAILED to revoke {} rule(s)", counts.failed)
        }
        Headline::Failed => format!(
            "could not check every group, revoked {} rule(s)",
            counts.revoked
        ),
        Headline::Revoked => format!("revoked {} rule(s)", counts.revoked),
        Headline::WouldRevoke => format!("would revoke {} rule(s) (audit)", counts.would_revoke),
        Headline::Protected => format!(
            "{} finding(s) in protected groups, not revoked",
            counts.protected
        ),
        Headline::Reported => format!("{} finding(s)", outcome.count(Outcome::Reported)),
        Headline::Exempt => format!("{} exempt finding(s)", counts.exempt),
        Headline::AlreadyGone | Headline::Clean => "rule(s) already gone".to_owned(),
    };
    let what = match &outcome.breaker {
        Some(_) => format!(
            "circuit breaker tripped, revoked {}, held back {}",
            counts.revoked, counts.would_revoke
        ),
        None => what,
    };
    let group_text = match groups.as_slice() {
        [] => String::new(),
        [one] => format!(" {one}"),
        [first, rest @ ..] => format!(" {first} +{}", rest.len()),
    };

    let mut text = String::new();
    let name = outcome
        .account_name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let _ = write!(
        text,
        "Account: {account}{name}\nRegion: {region}\n\
         Event: {} {} at {}\nActor: {} ({})\nSource IP: {}\nMode: {}\n",
        outcome.event.name,
        outcome.event.id.as_deref().unwrap_or("-"),
        outcome.event.time.as_deref().unwrap_or("-"),
        outcome.event.actor_arn.as_deref().unwrap_or("unknown"),
        outcome.event.actor_type.as_deref().unwrap_or("-"),
        outcome.event.source_ip.as_deref().unwrap_or("-"),
        match &outcome.mode_by {
            Some(by) => format!("{} (set by {by})", outcome.mode),
            None => outcome.mode.to_string(),
        },
    );
    for consumer in &outcome.consumers {
        let state = match &consumer.error {
            None => format!("{} group(s) using the list checked", consumer.groups),
            Some(_) => "could NOT be checked".to_owned(),
        };
        let _ = writeln!(
            text,
            "Prefix list shared with: {} ({state})",
            consumer.account_id
        );
    }
    breaker_text(&mut text, outcome.breaker.as_deref());
    let head = text;
    // The most important findings first when not all can be listed: failures, then what was
    // revoked, then by severity.
    let mut listed: Vec<&FindingOutcome> = outcome.findings.iter().collect();
    if listed.len() > NOTIFIED_EVENT_FINDINGS {
        listed.sort_by_key(|f| {
            (
                f.outcome != Outcome::Failed,
                f.outcome != Outcome::Revoked,
                std::cmp::Reverse(f.finding.severity()),
            )
        });
    }
    let mut cap = NOTIFIED_EVENT_FINDINGS;
    loop {
        let shown: Vec<&FindingOutcome> = listed.iter().take(cap).copied().collect();
        let (text, json) = event_body(outcome, head.clone(), &shown);
        if body_bytes(&text, &json) <= MESSAGE_BUDGET || cap == 0 {
            return Notification {
                subject: subject(format!("sgguard: {what} in {account} {region}{group_text}")),
                text,
                json,
                attributes: vec![
                    ("kind", "event".to_owned()),
                    ("sgguard_version", VERSION.to_owned()),
                    ("account_id", account.to_owned()),
                    (
                        "actor_arn",
                        outcome
                            .event
                            .actor_arn
                            .clone()
                            .unwrap_or_else(|| "unknown".to_owned()),
                    ),
                    ("region", region.to_owned()),
                    ("group_id", groups.join(",")),
                    ("action", headline.to_string()),
                    (
                        "severity",
                        severity(max_severity(&outcome.findings), outcome.breaker.as_deref()),
                    ),
                ],
            };
        }
        cap /= 2;
    }
}

/// The text and JSON of an event's message listing `shown` of its findings.
fn event_body(
    outcome: &EventOutcome,
    mut text: String,
    shown: &[&FindingOutcome],
) -> (String, String) {
    // "Opened by this change" first, then "Also found in the group" (a sweep's findings and
    // an event's without attribution are one list).
    let mut ordered: Vec<&FindingOutcome> = shown.to_vec();
    ordered.sort_by_key(|f| f.attribution != Some(Attribution::ThisChange));
    let mut section = None;
    for entry in ordered {
        if entry.attribution.is_some() && section != Some(entry.attribution) {
            section = Some(entry.attribution);
            let _ = writeln!(
                text,
                "\n{}",
                match entry.attribution {
                    Some(Attribution::ThisChange) => "Opened by this change:",
                    _ => "Also found in the group (not made by this change):",
                }
            );
        }
        let _ = writeln!(text, "\n- {}", finding_line(entry));
        if let Some(removed) = &entry.removed {
            let _ = writeln!(text, "  {removed}");
        }
        if let Some(group) = &entry.group {
            let mut about: Vec<String> = Vec::new();
            if let Some(name) = &group.group_name {
                about.push(format!("`{name}`"));
            }
            if let Some(vpc) = &group.vpc_id {
                about.push(format!("in {vpc}"));
            }
            about.extend(group.tags.iter().map(|(k, v)| format!("{k}={v}")));
            if !about.is_empty() {
                let _ = writeln!(text, "  group: {}", about.join(", "));
            }
        }
        if let Some(description) = &entry.finding.description {
            let _ = writeln!(text, "  rule description: {description}");
        }
        if let Some(url) = entry.group.as_ref().and_then(|g| g.console_url.as_deref()) {
            let _ = writeln!(text, "  console: {url}");
        }
        for v in &entry.finding.violations {
            let _ = writeln!(
                text,
                "  broke {} [{} {}]: {}",
                v.policy_rule, v.severity, v.action, v.reason
            );
        }
        if let Some(exemption) = &entry.finding.exemption {
            let _ = writeln!(
                text,
                "  exempt: {} ({})",
                exemption.reason, exemption.matched
            );
        }
        if let Some(protection) = &entry.finding.protected {
            let _ = writeln!(
                text,
                "  protected: {} ({}): reported, not revoked",
                protection.reason, protection.matched
            );
        }
        if let Some(error) = &entry.error {
            let _ = writeln!(text, "  error: {error}");
        }
    }
    let omitted = outcome.findings.len() - shown.len();
    if omitted > 0 {
        let _ = writeln!(
            text,
            "\n- … and {omitted} more finding(s): each is a line of the function's log \
             (source `live:{}`)",
            outcome.event.id.as_deref().unwrap_or(&outcome.event.name)
        );
    }
    for error in outcome.errors.iter().take(NOTIFIED_ACCOUNTS) {
        let _ = writeln!(text, "\nError: {error}");
    }
    let _ = writeln!(text, "\nsgguard {VERSION}");
    let mut document =
        serde_json::to_value(outcome).unwrap_or_else(|e| json!({"error": e.to_string()}));
    if let Some(object) = document.as_object_mut() {
        object.insert("sgguard_version".to_owned(), json!(VERSION));
    }
    if omitted > 0
        && let Some(object) = document.as_object_mut()
    {
        object.insert("findings".to_owned(), json!(shown));
        object.insert("findings_total".to_owned(), json!(outcome.findings.len()));
        object.insert("findings_omitted".to_owned(), json!(omitted));
    }
    (text, document.to_string())
}

/// The one message a scheduled sweep publishes: totals, the accounts with findings or
/// failures, the most severe findings, and every failure (capped to fit SNS's size limit).
pub fn sweep_notification(report: &SweepReport, hub_account: &str) -> Notification {
    let t = &report.totals;
    let regions: usize = report.accounts.iter().map(|a| a.regions.len()).sum();
    let failed_parts = report.errors.len();
    let headline = Headline::of(failed_parts > 0, t, t.findings, Headline::Clean);
    let what = match headline {
        Headline::Failed => format!("{failed_parts} failure(s), {} revoked", t.revoked),
        Headline::Revoked => format!("revoked {} rule(s)", t.revoked),
        Headline::WouldRevoke => format!("would revoke {} rule(s)", t.would_revoke),
        Headline::Protected => format!(
            "{} finding(s), {} in protected groups (not revoked)",
            t.findings, t.protected
        ),
        Headline::Reported => format!("{} finding(s)", t.findings),
        _ => "no findings".to_owned(),
    };
    let what = match &report.breaker {
        Some(_) => format!("circuit breaker tripped, {what}"),
        None => what,
    };
    let notable: Vec<&AccountSummary> = report
        .accounts
        .iter()
        .filter(|a| {
            a.counts.findings > 0
                || a.error.is_some()
                || a.regions.iter().any(|r| r.error.is_some())
        })
        .collect();
    let mut top: Vec<&FindingOutcome> = report
        .findings
        .iter()
        .filter(|f| f.outcome != Outcome::Exempt)
        .collect();
    top.sort_by_key(|f| std::cmp::Reverse(f.finding.severity()));
    top.truncate(NOTIFIED_FINDINGS);

    let mut text = format!(
        "Sweep of {} account(s) and {regions} account-region(s) in {:.1} s, mode {}{}.\n\
         Groups {}, rules {}, findings {}, revoked {}, would revoke {}, protected {}, failed {}, \
         exempt {}.\n",
        report.accounts.len(),
        report.seconds,
        report.mode,
        if report.remediate {
            ""
        } else {
            " (report only)"
        },
        t.groups,
        t.rules,
        t.findings,
        t.revoked,
        t.would_revoke,
        t.protected,
        t.failed,
        t.exempt,
    );
    breaker_text(&mut text, report.breaker.as_deref());
    let tampered: std::collections::BTreeSet<&str> = report
        .tampering
        .iter()
        .map(|t| t.account_id.as_str())
        .collect();
    if !tampered.is_empty() {
        let _ = writeln!(
            text,
            "\nTAMPERING: {} change(s) to the sgguard spoke in {} account(s) (listed under \
             Failures): events there may not reach sgguard, or someone else may act as it.",
            report.tampering.len(),
            tampered.len()
        );
    }
    if !notable.is_empty() {
        text.push_str("\nAccounts with findings or failures:\n");
        for a in notable.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(
                text,
                "- {}{}{}: findings {}, revoked {}, would revoke {}, failed {}{}",
                a.account_id,
                a.account_name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                a.mode_by
                    .as_deref()
                    .map(|by| format!(" [{} by {by}]", a.mode))
                    .unwrap_or_default(),
                a.counts.findings,
                a.counts.revoked,
                a.counts.would_revoke,
                a.counts.failed,
                a.error
                    .as_deref()
                    .map(|e| format!(" — {e}"))
                    .unwrap_or_default(),
            );
        }
        more(&mut text, notable.len());
    }
    if !top.is_empty() {
        text.push_str("\nMost severe findings:\n");
        for f in &top {
            let _ = writeln!(
                text,
                "- {} {}: {}{}: {}",
                f.finding.account_id.as_deref().unwrap_or("-"),
                f.finding.region.as_deref().unwrap_or("-"),
                finding_line(f),
                f.group
                    .as_ref()
                    .and_then(|g| g.group_name.as_deref())
                    .map(|name| format!(" in `{name}`"))
                    .unwrap_or_default(),
                f.finding
                    .violations
                    .first()
                    .map_or("-", |v| v.policy_rule.as_str()),
            );
        }
    }
    if !report.errors.is_empty() {
        text.push_str("\nFailures:\n");
        for error in report.errors.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(text, "- {error}");
        }
        more(&mut text, report.errors.len());
    }
    let accounts: Vec<serde_json::Value> = notable
        .iter()
        .take(NOTIFIED_ACCOUNTS)
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "account_name": a.account_name,
                "mode": a.mode,
                "mode_by": a.mode_by,
                "counts": a.counts,
                "error": a.error,
                "regions_failed": a.regions.iter().filter(|r| r.error.is_some()).map(|r| &r.region).collect::<Vec<_>>(),
            })
        })
        .collect();
    let skipped: Vec<String> = report
        .accounts
        .iter()
        .flat_map(|a| {
            a.regions
                .iter()
                .filter(|r| r.skipped.is_some())
                .map(move |r| format!("{} {}", a.account_id, r.region))
        })
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(
            text,
            "\nSkipped: {} account-region(s) denied by policy (a service control policy denies \
             the region): {}{}",
            skipped.len(),
            skipped
                .iter()
                .take(NOTIFIED_ACCOUNTS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if skipped.len() > NOTIFIED_ACCOUNTS {
                ", …"
            } else {
                ""
            }
        );
    }
    if let Some(coverage) = &report.coverage {
        let _ = writeln!(text, "\nCoverage: {}", coverage.headline());
        let uncovered: Vec<_> = coverage.uncovered().collect();
        for p in uncovered.iter().take(NOTIFIED_ACCOUNTS) {
            let _ = writeln!(
                text,
                "- {} {}: {}",
                p.account_id,
                p.region,
                p.problems.join("; ")
            );
        }
        more(&mut text, uncovered.len());
    }
    if let Some(stored) = &report.stored {
        let _ = writeln!(
            text,
            "\nFull report: {}\n{}",
            stored.uri, stored.console_url
        );
    }
    let _ = writeln!(text, "\nsgguard {VERSION}");
    let document = json!({
        "report": report.stored,
        "coverage": report.coverage.as_ref().map(|c| json!({
            "covered": c.covered,
            "not_covered": c.not_covered,
            "skipped": c.skipped,
            "uncovered": c.uncovered().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        })),
        "regions_skipped": skipped.len(),
        "kind": "sweep",
        "sgguard_version": VERSION,
        "version": report.version,
        "mode": report.mode,
        "remediate": report.remediate,
        "seconds": report.seconds,
        "accounts_swept": report.accounts.len(),
        "regions_swept": regions,
        "totals": report.totals,
        "accounts": accounts,
        "accounts_listed": notable.len().min(NOTIFIED_ACCOUNTS),
        "accounts_with_findings_or_failures": notable.len(),
        "top_findings": top,
        "errors": report.errors.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        "errors_total": report.errors.len(),
        "tampering_total": report.tampering.len(),
        "tampered_accounts": tampered.iter().take(NOTIFIED_ACCOUNTS).collect::<Vec<_>>(),
        "skipped_accounts": report.skipped_accounts,
    });
    let affected: Vec<&str> = notable.iter().map(|a| a.account_id.as_str()).collect();
    let account_ids = if affected.is_empty() {
        hub_account.to_owned()
    } else if affected.len() <= 20 {
        affected.join(",")
    } else {
        "multiple".to_owned()
    };
    Notification {
        subject: subject(format!(
            "sgguard sweep: {what} in {} account(s), {regions} region(s)",
            report.accounts.len()
        )),
        text,
        json: document.to_string(),
        attributes: vec![
            ("kind", "sweep".to_owned()),
            ("sgguard_version", VERSION.to_owned()),
            ("account_id", account_ids),
            ("actor_arn", "sgguard:sweep".to_owned()),
            ("region", "multiple".to_owned()),
            ("action", headline.to_string()),
            (
                "severity",
                severity(max_severity(top.iter().copied()), report.breaker.as_deref()),
            ),
        ],
    }
}

/// A tripped breaker is always `critical`: a person must look before more is revoked.
fn severity(found: Severity, breaker: Option<&str>) -> String {
    match breaker {
        Some(_) => Severity::Critical.to_string(),
        None => found.to_string(),
    }
}

fn breaker_text(text: &mut String, breaker: Option<&str>) {
    if let Some(reason) = breaker {
        let _ = writeln!(
            text,
            "\nCircuit breaker: {reason}. The rest were held back (WOULD_REVOKE): check the \
             baseline and the changes before raising the limit or revoking by hand."
        );
    }
}

/// `- … and N more` when a list was cut at [`NOTIFIED_ACCOUNTS`].
fn more(text: &mut String, total: usize) {
    if total > NOTIFIED_ACCOUNTS {
        let _ = writeln!(text, "- … and {} more", total - NOTIFIED_ACCOUNTS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Action, Finding};
    use crate::outcome::{Mode, RegionSummary};

    fn finding(account: &str, n: usize) -> FindingOutcome {
        let group = format!("sg-{n:017x}");
        let rule = format!("sgr-{n:017x}");
        FindingOutcome {
            finding: Finding {
                source: Some("sweep".to_owned()),
                ..Finding::ssh_open(account, &group, Some(&rule), Action::Revoke)
            },
            outcome: Outcome::Revoked,
            group: None,
            attribution: None,
            removed: None,
            error: None,
            aws_error: None,
        }
    }

    /// 40 accounts with 100 revoked findings each, and one failed account.
    fn big_report() -> SweepReport {
        let mut report = SweepReport {
            version: 1,
            mode: Mode::Enforce,
            remediate: true,
            rules_evaluated: 0,
            totals: Counts::default(),
            accounts: Vec::new(),
            skipped_accounts: Vec::new(),
            findings: Vec::new(),
            errors: vec!["account 999999999999: AssumeRole failed: AccessDenied".to_owned()],
            tampering: Vec::new(),
            breaker: None,
            seconds: 12.5,
            coverage: None,
            stored: Some(crate::outcome::StoredReport::new(
                "sgguard-reports-123456789012-eu-west-1",
                "sweeps/2026/12/02/20261202T060000Z.json",
                "eu-west-1",
            )),
        };
        for a in 0..40 {
            let account = format!("{:012}", 100_000_000_000_u64 + a);
            let findings: Vec<FindingOutcome> = (0..100).map(|n| finding(&account, n)).collect();
            let counts = Counts {
                groups: 100,
                rules: 1000,
                ..Counts::of_findings(&findings)
            };
            report.totals.add(&counts);
            report.accounts.push(AccountSummary {
                account_id: account,
                account_name: None,
                mode: Mode::Enforce,
                mode_by: None,
                counts,
                regions: vec![RegionSummary {
                    region: "eu-west-1".to_owned(),
                    counts,
                    error: None,
                    skipped: None,
                }],
                error: None,
            });
            report.findings.extend(findings);
        }
        report
    }

    #[test]
    fn the_summary_notification_fits_sns_and_says_what_failed() {
        let report = big_report();
        let notification = sweep_notification(&report, "123456789012");
        assert!(notification.subject.chars().count() < 100);
        assert!(
            notification
                .subject
                .starts_with("sgguard sweep: 1 failure(s), 4000 revoked")
        );
        // SNS takes at most 256 KB for the whole message (text and JSON are both sent).
        assert!(notification.text.len() + 2 * notification.json.len() < 200_000);
        let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
        assert_eq!(json["totals"]["revoked"], 4000);
        assert_eq!(
            json["top_findings"].as_array().unwrap().len(),
            NOTIFIED_FINDINGS
        );
        assert_eq!(json["errors_total"], 1);
        assert!(notification.text.contains("account 999999999999"));
        // The whole report is linked: what the 25-finding cap leaves out is there.
        assert!(notification.text.contains(
            "Full report: s3://sgguard-reports-123456789012-eu-west-1/sweeps/2026/12/02/20261202T060000Z.json\nhttps://s3.console.aws.amazon.com/s3/object/sgguard-reports-123456789012-eu-west-1?region=eu-west-1&prefix=sweeps/2026/12/02/20261202T060000Z.json"
        ));
        assert_eq!(
            json["report"]["uri"],
            "s3://sgguard-reports-123456789012-eu-west-1/sweeps/2026/12/02/20261202T060000Z.json"
        );
        let attribute = |name: &str| {
            notification
                .attributes
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(attribute("account_id"), "multiple", "40 accounts");
        assert_eq!(attribute("action"), "failed");
        assert_eq!(attribute("kind"), "sweep");
    }

    #[test]
    fn the_metrics_line_is_embedded_metric_format() {
        let line: serde_json::Value = serde_json::from_str(
            &crate::report::metrics::sweep_metrics_line(&big_report(), 1_700_000_000_000),
        )
        .unwrap();
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "sgguard");
        assert_eq!(line["SweepAccounts"], 40);
        assert_eq!(line["SweepRevoked"], 4000);
        assert_eq!(line["SweepFailures"], 1);
        assert_eq!(line["Mode"], "enforce");
        assert_eq!(line["SgguardVersion"], env!("CARGO_PKG_VERSION"));
        let event = crate::report::metrics::event_metrics_line(&crowded_event(), 1);
        let event: serde_json::Value = serde_json::from_str(&event).unwrap();
        assert_eq!(event["SgguardVersion"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn every_message_says_which_release_wrote_it() {
        for notification in [
            sweep_notification(&big_report(), "123456789012"),
            event_notification(&crowded_event()),
        ] {
            let version = env!("CARGO_PKG_VERSION");
            let attribute = notification
                .attributes
                .iter()
                .find(|(name, _)| *name == "sgguard_version")
                .map(|(_, value)| value.as_str());
            assert_eq!(attribute, Some(version));
            let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
            assert_eq!(json["sgguard_version"], version);
            assert!(notification.text.contains(&format!("sgguard {version}")));
            // SNS takes at most 10 message attributes.
            assert!(notification.attributes.len() <= 10);
        }
    }

    /// An event whose group held 500 violating rules.
    fn crowded_event() -> EventOutcome {
        let mut outcome = EventOutcome::new(Mode::Enforce);
        outcome.account_id = Some("111122223333".to_owned());
        outcome.region = Some("eu-west-1".to_owned());
        outcome.event.name = "AuthorizeSecurityGroupIngress".to_owned();
        outcome.event.id = Some("ev-500".to_owned());
        outcome.findings = (0..500).map(|n| finding("111122223333", n)).collect();
        if let Some(last) = outcome.findings.last_mut() {
            last.outcome = Outcome::Failed;
            last.error = Some("UnauthorizedOperation: ".to_owned() + &"x".repeat(2000));
        }
        outcome
    }

    #[test]
    fn an_event_with_500_findings_fits_sns_and_says_what_it_left_out() {
        let outcome = crowded_event();
        let notification = event_notification(&outcome);
        assert!(body_bytes(&notification.text, &notification.json) <= MESSAGE_BUDGET);
        assert!(notification.subject.chars().count() < 100);
        let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
        assert_eq!(json["findings_total"], 500);
        assert_eq!(
            json["findings"].as_array().unwrap().len(),
            NOTIFIED_EVENT_FINDINGS
        );
        assert_eq!(json["findings_omitted"], 500 - NOTIFIED_EVENT_FINDINGS);
        // The failure is listed first, whatever its place in the group.
        assert_eq!(json["findings"][0]["outcome"], "failed");
        assert!(notification.text.contains("and 450 more finding(s)"));
        assert!(notification.text.contains("live:ev-500"));
    }

    #[test]
    fn long_findings_are_cut_until_the_message_fits() {
        let mut outcome = crowded_event();
        for f in &mut outcome.findings {
            f.finding.violations[0].reason = "r".repeat(8000);
        }
        let notification = event_notification(&outcome);
        assert!(body_bytes(&notification.text, &notification.json) <= MESSAGE_BUDGET);
        let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
        let listed = json["findings"].as_array().unwrap().len();
        assert!(listed > 0 && listed < NOTIFIED_EVENT_FINDINGS, "{listed}");
    }

    #[test]
    fn a_sweep_with_300_failing_accounts_fits_sns() {
        let mut report = big_report();
        for a in 0..300 {
            let account = format!("{:012}", 900_000_000_000_u64 + a);
            report.errors.push(format!(
                "account {account}: AssumeRole of arn:aws:iam::{account}:role/sgguard-remediation \
                 failed: AccessDenied: {}",
                "denied ".repeat(40)
            ));
            report.accounts.push(AccountSummary {
                account_id: account,
                account_name: Some("a-long-account-name-for-a-workload".to_owned()),
                mode: Mode::Audit,
                mode_by: Some("ou-ab12-cdef3456".to_owned()),
                counts: Counts::default(),
                regions: Vec::new(),
                error: Some("AccessDenied".to_owned()),
            });
        }
        let notification = sweep_notification(&report, "123456789012");
        assert!(body_bytes(&notification.text, &notification.json) <= MESSAGE_BUDGET);
        assert!(notification.subject.chars().count() < 100);
        let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
        assert_eq!(json["errors_total"], 301);
        assert!(notification.text.contains("… and 240 more"));
    }
}
