//! Whose a finding is: made by this change or found in the group, and, for the event's own rules
//! that were gone when re-read, when and by what they were removed.

use std::collections::BTreeMap;

use super::consistent::age;
use super::{EventHandler, Judge, Seen};
use crate::enforce::HubApi;
use crate::finding::{Action, Finding};
use crate::input::cloudtrail::{Change, CloudTrailEvent};
use crate::outcome::{Attribution, EventOutcome, FindingOutcome, GroupContext, Outcome};
use crate::rule::{Peer, SecurityGroupRule};

impl<H: HubApi> EventHandler<'_, H> {
    /// The event's own rules that broke the baseline but were no longer in their (re-read)
    /// group: revoked before this event was handled (by another event's handling or a sweep, as
    /// the journal tells, or by hand: then the re-reads waited out EC2's lag first). They are
    /// the event's findings all the same, `already_gone`, with when and by what they were
    /// removed when this hub did it, so that the message names this event's actor for them.
    pub(super) async fn already_gone(
        &self,
        event: &CloudTrailEvent,
        seen: &Seen,
        judge: &Judge<'_, '_>,
        outcome: &mut EventOutcome,
    ) {
        let mut gone: BTreeMap<&str, Vec<SecurityGroupRule>> = BTreeMap::new();
        for rule in event.rules() {
            let (Some(id), Some(group)) = (rule.rule_id.as_deref(), rule.group_id.as_deref())
            else {
                continue;
            };
            if seen
                .get(group)
                .and_then(|(_, live)| live.as_ref())
                .is_some_and(|live| !live.contains(id))
            {
                gone.entry(group).or_default().push(rule.clone());
            }
        }
        for (group, rules) in gone {
            let Some((info, _)) = seen.get(group) else {
                continue;
            };
            for finding in judge.evaluator.evaluate_group(&rules, &info.tags) {
                if finding.exempt || finding.action != Action::Revoke {
                    continue;
                }
                let removed = match finding.rule.rule_id.as_deref() {
                    Some(id) => self.state.journal.revoked(id).await.map(|r| r.told()),
                    None => None,
                };
                let context = GroupContext::new(
                    group,
                    info,
                    &judge.context_tags,
                    finding.rule.region.as_deref(),
                );
                outcome.findings.push(FindingOutcome {
                    finding: Finding {
                        source: Some(judge.source.to_string()),
                        ..finding
                    },
                    outcome: Outcome::AlreadyGone,
                    group: Some(context),
                    attribution: Some(Attribution::ThisChange),
                    removed: removed.or_else(|| Some(not_by_this_hub(event))),
                    error: None,
                    aws_error: None,
                });
            }
        }
    }
}

/// What is told of an event's rule that is gone, when this hub did not revoke it: only how long
/// after the change it was found gone (the reads waited out EC2's lag), never a guess at who.
fn not_by_this_hub(event: &CloudTrailEvent) -> String {
    let after = age(event).map_or_else(String::new, |age| {
        let minutes = age.as_secs() / 60;
        if minutes > 0 {
            format!(" {minutes} min after the change")
        } else {
            format!(" {} s after the change", age.as_secs())
        }
    });
    format!(
        "no longer in the group when re-read{after}; this hub did not revoke it (who removed \
         it, sgguard cannot tell)"
    )
}

/// Marks each of the event's findings as made by this change (its rule ids are the event's, or
/// its rule matches one the event added, or it uses the prefix list the event changed) or found
/// in the group.
pub(super) fn attribute(event: &CloudTrailEvent, outcome: &mut EventOutcome) {
    let own = event.rules();
    let changed_list = match &event.change {
        Change::PrefixListModified { prefix_list_id, .. } => Some(prefix_list_id.as_str()),
        _ => None,
    };
    for entry in &mut outcome.findings {
        let found = &entry.finding.rule;
        let mine = own.iter().any(|rule| rule.is_same_rule(found))
            || changed_list.is_some_and(
                |list| matches!(&found.peer, Peer::PrefixList { id, .. } if id == list),
            );
        entry.attribution = Some(if mine {
            Attribution::ThisChange
        } else {
            Attribution::FoundInGroup
        });
    }
}
