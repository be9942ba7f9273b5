//! A change to a managed prefix list: judged on what it added (EC2 applies the change
//! asynchronously, so a read right after may not show it yet), and, when the list is shared
//! through AWS RAM and the change opened rules in the accounts it reaches, fixed at the source:
//! one restore of the list's version before the change in its owner's account, instead of a
//! revoke in every account. The rules are revoked one by one when the list cannot be restored.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;

use super::consumers::{ConsumerCheck, SharedList};
use super::judge::Judged;
use super::{EventHandler, HandleError, Judge, Own, Seen, attribute};
use crate::enforce::{HubApi, SecurityGroups};
use crate::finding::{Action, Finding};
use crate::input::cloudtrail::CloudTrailEvent;
use crate::outcome::{EventOutcome, Mode, SourceFix, SourceFixAction};
use crate::rule::Peer;

/// What the event said of the list it changed.
pub(super) struct ListChange<'a> {
    pub id: &'a str,
    pub added: &'a [IpNet],
    pub removed: &'a [IpNet],
    /// The version the change was made to (it made the next one).
    pub version: Option<i64>,
}

impl<H: HubApi> EventHandler<'_, H> {
    /// Re-checks every group that uses the changed list, in its owner's account (`groups`, the
    /// event's) and in every account it is shared with; fixes the list at its source when the
    /// change opened rules in those accounts; then acts on the rest.
    #[expect(
        clippy::too_many_arguments,
        reason = "one event's flow, its parts named"
    )]
    pub(super) async fn remediate_list(
        &self,
        event: &CloudTrailEvent,
        change: &ListChange<'_>,
        owner: &str,
        region: &str,
        groups: &H::Groups,
        group_ids: Vec<String>,
        judge: &Judge<'_, '_>,
        outcome: &mut EventOutcome,
    ) -> Result<(), HandleError> {
        let live = groups
            .prefix_list_entries(change.id)
            .await
            .map_err(HandleError::from_aws)?;
        let list = SharedList {
            id: change.id,
            owner,
            region,
            entries: judged_entries(live, change.added, change.removed),
        };
        let mut known = HashMap::from([(list.id.to_owned(), list.entries.clone())]);
        let mut seen = Seen::new();
        let (own, failed) = judge
            .evaluate(
                groups,
                group_ids,
                &mut known,
                None,
                Some(Own {
                    event,
                    seen: &mut seen,
                }),
                outcome,
            )
            .await;
        if let Some(error) = failed {
            judge.act_on(groups, own, &HashSet::new(), outcome).await;
            return Err(HandleError::from_aws(error));
        }
        let shared = self
            .hub
            .prefix_list_consumers(owner, region, list.id)
            .await
            .map_err(HandleError::from_aws)?;
        Self::unreachable_principals(&list, shared.unreachable, outcome);
        let consumers = self.read_consumers(&list, shared.accounts, judge).await;
        let (fix, fixed) =
            match fix_at_source(groups, &list, change.version, judge, &own, &consumers).await {
                Some((fix, fixed)) => (Some(fix), fixed),
                None => (None, HashSet::new()),
            };
        judge.act_on(groups, own, &fixed, outcome).await;
        attribute(event, outcome);
        self.already_gone(event, &seen, judge, outcome).await;
        self.act_on_consumers(&list, consumers, judge, &fixed, outcome)
            .await;
        outcome.source_fix = fix;
        Ok(())
    }
}

/// The entries a list is judged with after a change: those read live, without those the change
/// removed, with those it added (the live read may not show the change yet).
pub(super) fn judged_entries(live: Vec<IpNet>, added: &[IpNet], removed: &[IpNet]) -> Vec<IpNet> {
    let mut entries: Vec<IpNet> = live.into_iter().filter(|e| !removed.contains(e)).collect();
    for entry in added {
        if !entries.contains(entry) {
            entries.push(*entry);
        }
    }
    entries
}

/// Whether the finding is one the list's restore could close: its rule uses the list, it is
/// not exempt, and the baseline says revoke.
fn opened_through(finding: &Finding, list_id: &str) -> bool {
    !finding.exempt
        && finding.action == Action::Revoke
        && matches!(&finding.rule.peer, Peer::PrefixList { id, .. } if id == list_id)
}

/// The rule ids of `judged`'s findings that the list opens, judged with `entries` for the list
/// (`None`: as read).
fn opened(
    judged: &[Judged],
    list_id: &str,
    entries: Option<&[IpNet]>,
    judge: &Judge<'_, '_>,
) -> HashSet<String> {
    let mut ids = HashSet::new();
    for group in judged {
        let findings = match entries {
            None => group.findings.clone(),
            Some(entries) => {
                let mut rules = group.rules.clone();
                for rule in &mut rules {
                    if let Peer::PrefixList { id, entries: held } = &mut rule.peer
                        && id == list_id
                    {
                        *held = Some(entries.to_vec());
                    }
                }
                judge.evaluator.evaluate_group(&rules, &group.info.tags)
            }
        };
        ids.extend(
            findings
                .iter()
                .filter(|f| opened_through(f, list_id))
                .filter_map(|f| f.rule.rule_id.clone()),
        );
    }
    ids
}

/// Decides, and makes, the fix at the source: when the change opened rules in the accounts the
/// list is shared with, the list's version before the change is restored in the owner's
/// account (`groups`), once, if that version closes them and nobody changed the list since.
/// Returns what was done and the rule ids it closed (empty unless restored); `None` when the
/// change opened nothing in those accounts (the rules are then acted on as without a share).
async fn fix_at_source<G: SecurityGroups, C>(
    groups: &G,
    list: &SharedList<'_>,
    version: Option<i64>,
    judge: &Judge<'_, '_>,
    own: &[Judged],
    consumers: &[ConsumerCheck<C>],
) -> Option<(SourceFix, HashSet<String>)> {
    let theirs: HashSet<String> = consumers
        .iter()
        .flat_map(|c| opened(&c.judged, list.id, None, judge))
        .collect();
    if theirs.is_empty() {
        return None;
    }
    let fix = |action, reason: Option<String>| SourceFix {
        prefix_list_id: list.id.to_owned(),
        owner_account_id: list.owner.to_owned(),
        action,
        restored_version: version,
        replaced_version: version.map(|v| v + 1),
        reason,
    };
    let not_restored = |reason: String| {
        tracing::warn!(
            prefix_list = list.id,
            reason,
            "not restored; its rules are revoked"
        );
        Some((
            fix(
                SourceFixAction::NotRestored,
                Some(format!("{reason}: the rules it opened are revoked instead")),
            ),
            HashSet::new(),
        ))
    };
    let Some(previous) = version else {
        return not_restored("the event does not tell the version it changed".to_owned());
    };
    let before = match groups.prefix_list_entries_at(list.id, previous).await {
        Ok(entries) => entries,
        Err(error) => {
            return not_restored(format!(
                "its version {previous} could not be read ({error})"
            ));
        }
    };
    // The rules the change opened: open now, closed with the version before it.
    let mut now = opened(own, list.id, None, judge);
    now.extend(theirs.iter().cloned());
    let mut still = opened(own, list.id, Some(&before), judge);
    for consumer in consumers {
        still.extend(opened(&consumer.judged, list.id, Some(&before), judge));
    }
    let fixed: HashSet<String> = now.difference(&still).cloned().collect();
    if fixed.is_disjoint(&theirs) {
        return not_restored(format!(
            "its version {previous} opens the same rules: restoring it would close none"
        ));
    }
    let made = previous + 1;
    match groups.prefix_list_version(list.id).await {
        Ok(Some(current)) if current == made => {}
        Ok(Some(current)) => {
            return not_restored(format!(
                "the list changed again since the event (it is at version {current}, the event \
                 made version {made}): a later change is not restored over"
            ));
        }
        Ok(None) => return not_restored("the list has no version to restore".to_owned()),
        Err(error) => {
            return not_restored(format!("its current version could not be read ({error})"));
        }
    }
    if judge.mode == Mode::Audit {
        return Some((fix(SourceFixAction::WouldRestore, None), HashSet::new()));
    }
    match groups.restore_prefix_list(list.id, previous, made).await {
        Ok(()) => {
            tracing::info!(
                prefix_list = list.id,
                version = previous,
                "restored at the source"
            );
            Some((fix(SourceFixAction::Restored, None), fixed))
        }
        Err(error) => not_restored(format!("the restore failed ({error})")),
    }
}
