//! The message of one event's outcome.

use std::fmt::Write as _;

use serde_json::json;

use super::{
    Headline, Kind, MESSAGE_BUDGET, NOTIFIED_ACCOUNTS, NOTIFIED_EVENT_FINDINGS, Notification, Told,
    VERSION, body_bytes, breaker_text, finding_line, max_severity,
};
use crate::outcome::{
    Attribution, Counts, EventOutcome, FindingOutcome, Outcome, SourceFix, SourceFixAction, Status,
};

/// The notification of one event's outcome.
pub fn event_notification(outcome: &EventOutcome) -> Notification {
    let account = outcome.account_id.as_deref().unwrap_or("unknown account");
    let region = outcome.region.as_deref().unwrap_or("unknown region");
    let groups: Vec<&str> = {
        let mut ids: Vec<&str> = outcome
            .findings
            .iter()
            .filter_map(|f| f.finding.rule.group_id.as_deref())
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
    let quiet = if outcome.count(Outcome::FixedAtSource) > 0 {
        Headline::FixedAtSource
    } else if counts.exempt > 0 {
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
        Headline::FixedAtSource => format!(
            "{} rule(s) fixed at the source",
            outcome.count(Outcome::FixedAtSource)
        ),
        Headline::Exempt => format!("{} exempt finding(s)", counts.exempt),
        // `of` gives an event no other headline.
        Headline::AlreadyGone | Headline::Clean | Headline::ExemptionsChanged => {
            "rule(s) already gone".to_owned()
        }
    };
    let what = match (&outcome.breaker, &outcome.source_fix) {
        (Some(_), _) => format!(
            "circuit breaker tripped, revoked {}, held back {}",
            counts.revoked, counts.would_revoke
        ),
        (None, Some(fix)) if headline != Headline::Failed => {
            source_fix_headline(fix, &counts).unwrap_or(what)
        }
        (None, _) => what,
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
    if let Some(fix) = &outcome.source_fix {
        let _ = writeln!(text, "{}", source_fix_text(fix));
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
            let told = Told {
                kind: Kind::Event,
                headline,
                found: max_severity(&outcome.findings),
                breaker: outcome.breaker.is_some(),
                place: vec![
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
                ],
            };
            let subject = format!("sgguard: {what} in {account} {region}{group_text}");
            return Notification::new(told, subject, text, json);
        }
        cap /= 2;
    }
}

/// The subject's words for a list restored (or that would be); `None` when it was not.
fn source_fix_headline(fix: &SourceFix, counts: &Counts) -> Option<String> {
    let version = fix.restored_version?;
    let revoked = if counts.revoked > 0 {
        format!(", revoked {} rule(s)", counts.revoked)
    } else {
        String::new()
    };
    match fix.action {
        SourceFixAction::Restored => Some(format!(
            "restored prefix list {} to version {version}{revoked}",
            fix.prefix_list_id
        )),
        SourceFixAction::WouldRestore => Some(format!(
            "would restore prefix list {} to version {version} (audit)",
            fix.prefix_list_id
        )),
        SourceFixAction::NotRestored => None,
    }
}

/// The message's line on the shared list's fix at the source.
fn source_fix_text(fix: &SourceFix) -> String {
    let (list, owner) = (&fix.prefix_list_id, &fix.owner_account_id);
    let version = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let (restored, replaced) = (version(fix.restored_version), version(fix.replaced_version));
    match fix.action {
        SourceFixAction::Restored => format!(
            "Fixed at the source: restored prefix list {list} to version {restored} in account \
             {owner} (replacing version {replaced}, made by this change); the rules it opened \
             are no longer open (FIXED_AT_SOURCE), none revoked for it"
        ),
        SourceFixAction::WouldRestore => format!(
            "Fix at the source (audit): would restore prefix list {list} to version {restored} \
             in account {owner} (replacing version {replaced}); nothing changed"
        ),
        SourceFixAction::NotRestored => format!(
            "Prefix list {list} NOT restored in account {owner}: {}",
            fix.reason.as_deref().unwrap_or("-")
        ),
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
        if let Some(description) = &entry.finding.rule.description {
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
