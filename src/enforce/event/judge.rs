//! How an event's groups are judged: each re-read live, evaluated whole, and acted on through
//! the one revoke path; which groups an event touches.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;

use super::HandleError;
use crate::aws::AwsError;
use crate::enforce::breaker::Budget;
use crate::enforce::journal::Journal;
use crate::enforce::{RevokeSource, SecurityGroups, act, resolve_prefix_lists};
use crate::finding::Finding;
use crate::finding::GroupInfo;
use crate::input::cloudtrail::{Change, CloudTrailEvent};
use crate::outcome::{EventOutcome, FindingOutcome, GroupContext, GroupOutcome, Mode, Outcome};
use crate::policy::Evaluator;
use crate::rule::{Peer, SecurityGroupRule};

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

/// One group read and judged, not yet acted on: its tags, its rules as read (prefix lists
/// resolved) and its findings.
pub(super) struct Judged {
    pub group_id: String,
    pub info: GroupInfo,
    pub rules: Vec<SecurityGroupRule>,
    pub findings: Vec<Finding>,
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
        own: Option<Own<'_>>,
        outcome: &mut EventOutcome,
    ) -> Result<(), AwsError> {
        let (judged, failed) = self
            .evaluate(groups, group_ids, known, account, own, outcome)
            .await;
        self.act_on(groups, judged, &HashSet::new(), outcome).await;
        failed.map_or(Ok(()), Err)
    }

    /// Re-reads and evaluates each group of one account and region, acting on none; the groups
    /// go into the outcome. A group that cannot be read ends the reading (the event is retried
    /// as a whole): the groups judged before it are returned with the error, which names the
    /// group, and the group is told in the outcome as not checked.
    pub(super) async fn evaluate<G: SecurityGroups>(
        &self,
        groups: &G,
        group_ids: Vec<String>,
        known: &mut HashMap<String, Vec<IpNet>>,
        account: Option<&str>,
        mut own: Option<Own<'_>>,
        outcome: &mut EventOutcome,
    ) -> (Vec<Judged>, Option<AwsError>) {
        let mut judged = Vec::with_capacity(group_ids.len());
        for group_id in group_ids {
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
                Err(error) => return (judged, Some(not_checked(outcome, error))),
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
                Err(error) => return (judged, Some(not_checked(outcome, error))),
            };
            if let Err(error) = resolve_prefix_lists(groups, &mut rules, known).await {
                return (judged, Some(not_checked(outcome, error)));
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
            judged.push(Judged {
                group_id,
                info,
                rules,
                findings,
            });
        }
        (judged, None)
    }

    /// Acts on the judged groups through the one revoke path; the findings whose rule ids are
    /// in `fixed` were closed at their source (a prefix list restored) and are told as such,
    /// never revoked.
    pub(super) async fn act_on<G: SecurityGroups>(
        &self,
        groups: &G,
        judged: Vec<Judged>,
        fixed: &HashSet<String>,
        outcome: &mut EventOutcome,
    ) {
        for Judged {
            group_id,
            info,
            findings,
            ..
        } in judged
        {
            let (closed, open): (Vec<Finding>, Vec<Finding>) = findings
                .into_iter()
                .partition(|f| f.rule.rule_id.as_ref().is_some_and(|id| fixed.contains(id)));
            let mut acted = act(
                groups,
                &group_id,
                open,
                self.mode,
                &self.source,
                self.budget,
                self.journal,
            )
            .await;
            acted.extend(closed.into_iter().map(|mut finding| {
                finding.source = Some(self.source.to_string());
                tracing::info!(group = %group_id, rule = finding.rule.rule_id.as_deref().unwrap_or("-"), "fixed at the source");
                FindingOutcome {
                    finding,
                    outcome: Outcome::FixedAtSource,
                    group: None,
                    attribution: None,
                    removed: None,
                    error: None,
                    aws_error: None,
                }
            }));
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
