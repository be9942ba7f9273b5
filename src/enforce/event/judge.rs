//! How an event's groups are judged: each re-read live, evaluated whole, and acted on through
//! the one revoke path; which groups an event touches.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;

use super::HandleError;
use crate::aws::AwsError;
use crate::enforce::breaker::Budget;
use crate::enforce::journal::Journal;
use crate::enforce::{RevokeSource, SecurityGroups, act, resolve_prefix_lists};
use crate::finding::GroupInfo;
use crate::input::cloudtrail::{Change, CloudTrailEvent};
use crate::outcome::{EventOutcome, FindingOutcome, GroupContext, GroupOutcome, Mode};
use crate::policy::Evaluator;
use crate::rule::Peer;

/// What the event's own groups held when re-read: their tags and the ids of their live rules
/// (`None` when a live rule has no id: then what is gone cannot be told).
pub(super) type Seen = HashMap<String, (GroupInfo, Option<HashSet<String>>)>;

/// The event whose own groups are judged, and what they were seen to hold.
pub(super) struct Own<'a> {
    pub event: &'a CloudTrailEvent,
    pub seen: &'a mut Seen,
}

/// How an event's groups are judged and acted on: one evaluator, mode, source and budget for
/// the event's own account and every account a shared prefix list reaches.
#[derive(Clone)]
pub(super) struct Judge<'e, 'b> {
    pub evaluator: &'e Evaluator<'e>,
    pub mode: Mode,
    pub source: RevokeSource,
    pub budget: &'e Budget<'b>,
    pub journal: &'e Journal,
    /// The group tags messages show (`SGGUARD_CONTEXT_TAGS`).
    pub context_tags: Vec<String>,
}

impl Judge<'_, '_> {
    /// Re-reads, evaluates and acts on each group of one account and region; the groups and
    /// findings go into the outcome. `account` names the groups' account when it is not the
    /// event's; `known` holds prefix-list entries already read.
    pub(super) async fn check<G: SecurityGroups>(
        &self,
        groups: &G,
        group_ids: Vec<String>,
        known: &mut HashMap<String, Vec<IpNet>>,
        account: Option<&str>,
        mut own: Option<Own<'_>>,
        outcome: &mut EventOutcome,
    ) -> Result<(), AwsError> {
        for group_id in group_ids {
            // A group that cannot be read ends the event (retried as a whole); the outcome
            // keeps what was done before it and names the group as not checked.
            let not_checked = |outcome: &mut EventOutcome, mut error: AwsError| {
                outcome.groups.push(GroupOutcome {
                    account_id: account.map(str::to_owned),
                    group_id: group_id.clone(),
                    state: "failed",
                    rules_evaluated: 0,
                });
                error.message = format!("group `{group_id}` not checked: {}", error.message);
                error
            };
            let info = match groups.group(&group_id).await {
                Ok(info) => info,
                Err(error) => return Err(not_checked(outcome, error)),
            };
            let Some(info) = info else {
                tracing::info!(account, group = %group_id, "group deleted; nothing to do");
                outcome.groups.push(GroupOutcome {
                    account_id: account.map(str::to_owned),
                    group_id,
                    state: "deleted",
                    rules_evaluated: 0,
                });
                continue;
            };
            let read = match &own {
                Some(own) => self.rules_reflecting(groups, &group_id, own.event).await,
                None => groups.group_rules(&group_id).await,
            };
            let mut rules = match read {
                Ok(rules) => rules,
                Err(error) => return Err(not_checked(outcome, error)),
            };
            if let Err(error) = resolve_prefix_lists(groups, &mut rules, known).await {
                return Err(not_checked(outcome, error));
            }
            if let Some(own) = own.as_mut() {
                let live = rules.iter().map(|r| r.rule_id.clone()).collect();
                own.seen.insert(group_id.clone(), (info.clone(), live));
            }
            outcome.rules_evaluated += rules.len();
            outcome.groups.push(GroupOutcome {
                account_id: account.map(str::to_owned),
                group_id: group_id.clone(),
                state: "checked",
                rules_evaluated: rules.len(),
            });
            let findings = self.evaluator.evaluate_group(&rules, &info.tags);
            let acted = act(
                groups,
                &group_id,
                findings,
                self.mode,
                &self.source,
                self.budget,
                self.journal,
            )
            .await;
            let context = GroupContext::new(
                &group_id,
                &info,
                &self.context_tags,
                acted.first().and_then(|f| f.finding.rule.region.as_deref()),
            );
            outcome
                .findings
                .extend(acted.into_iter().map(|f| FindingOutcome {
                    group: Some(context.clone()),
                    ..f
                }));
        }
        Ok(())
    }
}

/// The groups of the region whose rules use the prefix list.
pub(super) async fn groups_using<G: SecurityGroups>(
    groups: &G,
    prefix_list_id: &str,
) -> Result<Vec<String>, AwsError> {
    let rules = groups.all_rules().await?;
    let mut ids: Vec<String> = rules
        .iter()
        .filter(|r| matches!(&r.peer, Peer::PrefixList { id, .. } if id == prefix_list_id))
        .filter_map(|r| r.group_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The groups to re-read: those the event names, or for a prefix-list change every group of the
/// region whose rules use the list.
pub(super) async fn affected_groups<G: SecurityGroups>(
    groups: &G,
    event: &CloudTrailEvent,
) -> Result<Vec<String>, HandleError> {
    match &event.change {
        Change::PrefixListModified { prefix_list_id, .. } => groups_using(groups, prefix_list_id)
            .await
            .map_err(HandleError::from_aws),
        Change::Authorized {
            group_id: None,
            group_name: Some(name),
            ..
        } => {
            // The response's rules name the group the call changed; without them, every group of
            // that name is re-read (a name is unique only within a VPC), never the first match.
            let named = event.group_ids();
            if !named.is_empty() {
                return Ok(named);
            }
            groups
                .group_ids_by_name(name)
                .await
                .map_err(HandleError::from_aws)
        }
        _ => {
            let ids = event.group_ids();
            if ids.is_empty() {
                return Err(HandleError::Malformed(format!(
                    "{} names no security group",
                    event.name
                )));
            }
            Ok(ids)
        }
    }
}
