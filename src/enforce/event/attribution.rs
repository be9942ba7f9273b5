//! Whose a finding is: made by this change or found in the group, and, for the event's own rules
//! that were gone when re-read, when and by what they were removed.

use std::collections::BTreeMap;

use super::{EventHandler, Judge, Seen};
use crate::enforce::HubApi;
use crate::finding::{Action, Finding};
use crate::input::cloudtrail::{Change, CloudTrailEvent};
use crate::outcome::{Attribution, EventOutcome, FindingOutcome, GroupContext, Outcome};
use crate::rule::{Peer, SecurityGroupRule};

impl<H: HubApi> EventHandler<'_, H> {
    /// The event's own rules that broke the baseline but were no longer in their (re-read)
    /// group: revoked before this event was handled (by another event's handling or a sweep,
    /// or by hand). They are the event's findings all the same, `already_gone`, with when and by
    /// what they were removed when this hub did it, so that the message names this event's
    /// actor for them.
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
                let removed = match finding.rule_id.as_deref() {
                    Some(id) => self.state.journal.revoked(id).await.map(|r| r.told()),
                    None => None,
                };
                let context = GroupContext::new(
                    group,
                    info.name.clone(),
                    info.vpc_id.clone(),
                    &info.tags,
                    &judge.context_tags,
                    finding.region.as_deref(),
                );
                outcome.findings.push(FindingOutcome {
                    finding: Finding {
                        source: Some(judge.source.to_string()),
                        ..finding
                    },
                    outcome: Outcome::AlreadyGone,
                    group: Some(context),
                    attribution: Some(Attribution::ThisChange),
                    removed: removed.or_else(|| {
                        Some("removed before this event was handled (not by this hub)".to_owned())
                    }),
                    error: None,
                    aws_error: None,
                });
            }
        }
    }
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
        let f = &entry.finding;
        let mine = own.iter().any(|rule| match (&rule.rule_id, &f.rule_id) {
            (Some(a), Some(b)) => a == b,
            _ => same_rule(f, rule),
        }) || changed_list
            .is_some_and(|list| matches!(&f.peer, Peer::PrefixList { id, .. } if id == list));
        entry.attribution = Some(if mine {
            Attribution::ThisChange
        } else {
            Attribution::FoundInGroup
        });
    }
}

/// Whether a finding is about the same rule as an event's rule body without a rule id: the
/// same group, direction, protocol, ports and peer.
fn same_rule(f: &Finding, rule: &SecurityGroupRule) -> bool {
    let peer = match (&f.peer, &rule.peer) {
        (Peer::PrefixList { id: a, .. }, Peer::PrefixList { id: b, .. }) => a == b,
        (a, b) => a == b,
    };
    peer && (rule.group_id.is_none() || rule.group_id == f.group_id)
        && f.direction == rule.direction
        && f.protocol == rule.protocol
        && f.from_port == rule.ports.map(|p| p.from)
        && f.to_port == rule.ports.map(|p| p.to)
}
