//! A prefix list shared through AWS RAM: the groups that use it in every account it is shared
//! with are re-checked with the owner's entries.

use std::collections::HashMap;

use ipnet::IpNet;

use super::judge::groups_using;
use super::{EventHandler, Judge, undecided_mode};
use crate::aws::{AwsError, SharedWith};
use crate::enforce::HubApi;
use crate::enforce::staging::ModeReason;
use crate::outcome::{ConsumerOutcome, EventOutcome};

impl<H: HubApi> EventHandler<'_, H> {
    /// A prefix list shared through AWS RAM is used by groups of other accounts too: in each
    /// account it is shared with, the groups of the event's region that use it are re-checked,
    /// judged with the owner's entries (the list's truth). An account that cannot be checked,
    /// and a principal that names no account, is reported in `consumers` and `errors`, naming
    /// it; the other accounts are still checked.
    pub(super) async fn recheck_consumers(
        &self,
        list: &SharedList<'_>,
        shared: SharedWith,
        judge: &Judge<'_, '_>,
        outcome: &mut EventOutcome,
    ) {
        for principal in shared.unreachable {
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
        for consumer in shared.accounts {
            let mut known = HashMap::from([(list.id.to_owned(), list.entries.clone())]);
            // Each account the list reaches is guarded in its own mode.
            let resolved = self.mode_for(&consumer).await;
            if let ModeReason::UnitsUnreadable(why) = &resolved.by {
                // Its mode unknown: not checked on a guess; the event fails for a retry.
                let error = AwsError {
                    operation: "ListParents",
                    account: consumer.clone(),
                    region: "global".to_owned(),
                    code: None,
                    message: undecided_mode(&consumer, why),
                };
                outcome.errors.push(error.message.clone());
                outcome.consumers.push(ConsumerOutcome {
                    account_id: consumer,
                    groups: 0,
                    error: Some(error.message.clone()),
                    aws_error: Some(error),
                });
                continue;
            }
            self.note_mode(&consumer, &resolved, outcome);
            let judge = Judge {
                mode: resolved.mode,
                ..judge.clone()
            };
            let checked = async {
                let groups = self.hub.security_groups(&consumer, list.region).await?;
                let ids = groups_using(&groups, list.id).await?;
                let count = ids.len();
                judge
                    .check(
                        &groups,
                        ids,
                        &mut known,
                        Some(consumer.as_str()),
                        None,
                        outcome,
                    )
                    .await?;
                Ok::<usize, AwsError>(count)
            }
            .await;
            tracing::info!(account = %consumer, prefix_list = list.id, ok = checked.is_ok(), "shared prefix list re-checked");
            outcome.consumers.push(match checked {
                Ok(groups) => ConsumerOutcome {
                    account_id: consumer,
                    groups,
                    error: None,
                    aws_error: None,
                },
                Err(error) => {
                    outcome.errors.push(format!(
                        "prefix list `{}` is shared with account `{consumer}`, which could not \
                         be checked: {error}",
                        list.id
                    ));
                    ConsumerOutcome {
                        account_id: consumer,
                        groups: 0,
                        error: Some(error.to_string()),
                        aws_error: Some(error),
                    }
                }
            });
        }
    }
}

/// A changed prefix list: its owner, region and entries (read in the owner's account).
pub(super) struct SharedList<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub region: &'a str,
    pub entries: Vec<IpNet>,
}
