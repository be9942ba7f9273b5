//! A prefix list shared through AWS RAM: the groups that use it in every account it is shared
//! with are re-checked with the owner's entries, the accounts read at once (a bounded number
//! at a time) and told in the order of their ids. Reading and acting are apart, so what the
//! change opened there can be fixed at the source first ([`super::shared_list`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use futures_util::{StreamExt as _, stream};
use ipnet::IpNet;

use super::judge::{Judged, groups_using};
use super::{EventHandler, Judge, undecided_mode};
use crate::aws::AwsError;
use crate::enforce::HubApi;
use crate::enforce::staging::{ModeReason, Resolved};
use crate::outcome::{ConsumerOutcome, EventOutcome};

/// How many accounts a shared list reaches are read (and acted on) at once.
const CONCURRENCY: usize = 16;

/// A changed prefix list: its owner, region and the entries it is judged with.
pub(super) struct SharedList<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub region: &'a str,
    pub entries: Vec<IpNet>,
}

/// One account a shared list reaches, read and judged, not yet acted on.
pub(super) struct ConsumerCheck<G> {
    pub account: String,
    /// Its mode and what set it; `None` when it could not be decided (then `failed` says why).
    resolved: Option<Resolved>,
    /// Its groups (`None`: not reached).
    groups: Option<G>,
    pub judged: Vec<Judged>,
    /// What reading and acting told, merged into the event's outcome in account order.
    part: EventOutcome,
    /// How many of its groups use the list.
    count: usize,
    /// Why it could not be checked (or completely): the AWS error, and the line for `errors`.
    failed: Option<(AwsError, String)>,
}

impl<H: HubApi> EventHandler<'_, H> {
    /// Principals the list is shared with that name no account sgguard can check: each named
    /// in `consumers` and `errors` (the event then fails).
    pub(super) fn unreachable_principals(
        list: &SharedList<'_>,
        unreachable: Vec<String>,
        outcome: &mut EventOutcome,
    ) {
        for principal in unreachable {
            let error = AwsError {
                operation: "GetResourceShareAssociations",
                account: list.owner.to_owned(),
                region: list.region.to_owned(),
                code: None,
                message: format!(
                    "prefix list `{}` is shared with `{principal}`, which names no account \
                     sgguard can check",
                    list.id
                ),
            };
            outcome.errors.push(error.to_string());
            outcome.consumers.push(ConsumerOutcome {
                account_id: principal,
                groups: 0,
                error: Some(error.to_string()),
                aws_error: Some(error),
            });
        }
    }

    /// In each account the list is shared with, the groups of the event's region that use it
    /// are read and judged with the owner's entries (the list's truth), each account in its own
    /// mode; nothing is acted on yet. An account that cannot be checked is kept with its error.
    pub(super) async fn read_consumers(
        &self,
        list: &SharedList<'_>,
        accounts: BTreeSet<String>,
        judge: &Judge<'_, '_>,
    ) -> Vec<ConsumerCheck<H::Groups>> {
        stream::iter(accounts)
            .map(|account| self.read_consumer(list, account, judge))
            .buffered(CONCURRENCY)
            .collect()
            .await
    }

    async fn read_consumer(
        &self,
        list: &SharedList<'_>,
        account: String,
        judge: &Judge<'_, '_>,
    ) -> ConsumerCheck<H::Groups> {
        let mut check = ConsumerCheck {
            account,
            resolved: None,
            groups: None,
            judged: Vec::new(),
            part: EventOutcome::new(judge.mode),
            count: 0,
            failed: None,
        };
        let account = check.account.clone();
        let resolved = self.mode_for(&account).await;
        if let ModeReason::UnitsUnreadable(why) = &resolved.by {
            // Its mode unknown: not checked on a guess; the event fails for a retry.
            let message = undecided_mode(&account, why);
            let error = AwsError {
                operation: "ListParents",
                account,
                region: "global".to_owned(),
                code: None,
                message: message.clone(),
            };
            check.failed = Some((error, message));
            return check;
        }
        let judge = Judge {
            mode: resolved.mode,
            ..judge.clone()
        };
        check.part.mode = resolved.mode;
        check.resolved = Some(resolved);
        let read = async {
            let groups = self.hub.security_groups(&account, list.region).await?;
            let ids = groups_using(&groups, list.id).await?;
            Ok::<_, AwsError>((groups, ids))
        }
        .await;
        let (groups, ids) = match read {
            Ok(read) => read,
            Err(error) => {
                check.failed = Some(consumer_failed(list, &account, error));
                return check;
            }
        };
        check.count = ids.len();
        let mut known = HashMap::from([(list.id.to_owned(), list.entries.clone())]);
        let (judged, failed) = judge
            .evaluate(
                &groups,
                ids,
                &mut known,
                Some(account.as_str()),
                None,
                &mut check.part,
            )
            .await;
        check.judged = judged;
        check.groups = Some(groups);
        if let Some(error) = failed {
            check.failed = Some(consumer_failed(list, &account, error));
        }
        check
    }

    /// Acts on what each account's groups were judged to hold (those the list's restore closed,
    /// `fixed`, are told as fixed at the source), at once in a bounded number of accounts, and
    /// tells every account in `consumers`, in the order they were read.
    pub(super) async fn act_on_consumers(
        &self,
        list: &SharedList<'_>,
        checks: Vec<ConsumerCheck<H::Groups>>,
        judge: &Judge<'_, '_>,
        fixed: &HashSet<String>,
        outcome: &mut EventOutcome,
    ) {
        let acted: Vec<ConsumerCheck<H::Groups>> = stream::iter(checks)
            .map(|mut check| async move {
                if let Some(groups) = &check.groups {
                    let judge = Judge {
                        mode: check.part.mode,
                        ..judge.clone()
                    };
                    let judged = std::mem::take(&mut check.judged);
                    judge.act_on(groups, judged, fixed, &mut check.part).await;
                }
                check
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for check in acted {
            if let Some(resolved) = &check.resolved {
                self.note_mode(&check.account, resolved, outcome);
            }
            let part = check.part;
            outcome.groups.extend(part.groups);
            outcome.rules_evaluated += part.rules_evaluated;
            outcome.findings.extend(part.findings);
            outcome.errors.extend(part.errors);
            tracing::info!(account = %check.account, prefix_list = list.id, ok = check.failed.is_none(), "shared prefix list re-checked");
            outcome.consumers.push(match check.failed {
                None => ConsumerOutcome {
                    account_id: check.account,
                    groups: check.count,
                    error: None,
                    aws_error: None,
                },
                Some((error, line)) => {
                    outcome.errors.push(line);
                    ConsumerOutcome {
                        account_id: check.account,
                        groups: 0,
                        error: Some(error.to_string()),
                        aws_error: Some(error),
                    }
                }
            });
        }
    }
}

/// An account the list reaches that could not be checked: its error, and the line that names
/// it in `errors`.
fn consumer_failed(list: &SharedList<'_>, account: &str, error: AwsError) -> (AwsError, String) {
    let line = format!(
        "prefix list `{}` is shared with account `{account}`, which could not be checked: \
         {error}",
        list.id
    );
    (error, line)
}
