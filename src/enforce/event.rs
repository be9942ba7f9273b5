//! One event, end to end: decode the trigger, reach the member account, re-read the live rules
//! of the groups it touches, evaluate them with the baseline, act on the findings (by rule id),
//! and notify. The event is a trigger; the live state is the truth.

use std::collections::HashMap;

use serde_json::Value;

use super::breaker::{Breaker, Budget};
use super::{HubApi, SecurityGroups, act, resolve_prefix_lists};
use crate::aws::AwsError;
use crate::input::cloudtrail::{self, Change, CloudTrailEvent};
use crate::outcome::{EventInfo, EventOutcome, GroupOutcome, Mode, Outcome, Status};
use crate::policy::{Baseline, Evaluator};
use crate::report::notify::event_notification;
use crate::rule::Peer;

/// Why handling an event failed; the Lambda returns it as the invocation's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// The input is not an event sgguard can read. Retrying will not help.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// IAM or an SCP denied a call; fix the permissions, then the retry succeeds.
    #[error("access denied: {0}")]
    AccessDenied(AwsError),
    /// Another AWS failure (throttling beyond the SDK's retries, service errors).
    #[error("{0}")]
    Aws(AwsError),
    /// Rules were revoked but the notification failed; the retry is idempotent.
    #[error("notification failed after remediation: {0}")]
    Notification(AwsError),
    /// The circuit breaker held revocations back; a person must look. The Lambda answers it as
    /// handled (a retry would bring a fresh budget); its metric has its own alarm.
    #[error("circuit breaker tripped: {0}")]
    CircuitBreaker(String),
}

impl HandleError {
    /// The Lambda `errorType`: retryable or not, at a glance in logs and the DLQ.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandleError::Malformed(_) => "Sgguard.MalformedEvent",
            HandleError::AccessDenied(_) => "Sgguard.AccessDenied",
            HandleError::Aws(_) => "Sgguard.AwsFailure",
            HandleError::Notification(_) => "Sgguard.NotificationFailed",
            HandleError::CircuitBreaker(_) => "Sgguard.CircuitBreakerTripped",
        }
    }

    pub fn from_aws(error: AwsError) -> Self {
        if error.is_access_denied() {
            HandleError::AccessDenied(error)
        } else {
            HandleError::Aws(error)
        }
    }
}

/// Decodes the trigger: an EventBridge envelope or a bare CloudTrail record.
pub fn decode_trigger(value: &Value) -> Result<CloudTrailEvent, HandleError> {
    if cloudtrail::is_envelope(value) {
        cloudtrail::decode_envelope(value).map_err(|e| HandleError::Malformed(e.to_string()))
    } else if cloudtrail::is_record(value) {
        cloudtrail::decode_record(value).map_err(|e| HandleError::Malformed(e.to_string()))
    } else {
        Err(HandleError::Malformed(
            "expected an EventBridge event (`detail-type`, `detail`) or a CloudTrail record \
             (`eventName`)"
                .to_owned(),
        ))
    }
}

/// Handles events with one hub, one baseline and one mode.
pub struct EventHandler<'a, H: HubApi> {
    pub hub: &'a H,
    pub baseline: &'a Baseline,
    pub mode: Mode,
    pub topic_arn: Option<&'a str>,
    /// Bounds what one event (and one account within an hour) may revoke.
    pub breaker: &'a Breaker,
}

impl<H: HubApi> EventHandler<'_, H> {
    /// Handles one event. The outcome is always returned (for printing and logs); the error
    /// says the invocation failed and should be retried or dead-lettered.
    pub async fn handle(&self, value: &Value) -> (EventOutcome, Option<HandleError>) {
        let mut outcome = EventOutcome::new(self.mode);
        let event = match decode_trigger(value) {
            Ok(event) => event,
            Err(error) => {
                outcome.status = Status::Failed;
                outcome.errors.push(error.to_string());
                tracing::error!(error = %error, "cannot decode the event; nothing done");
                return (outcome, Some(error));
            }
        };
        outcome.account_id.clone_from(&event.account_id);
        outcome.region.clone_from(&event.region);
        outcome.event = EventInfo {
            name: event.name.clone(),
            id: event.id.clone(),
            time: event.time.clone(),
            actor_arn: event.actor.arn.clone(),
            actor_type: event.actor.kind.clone(),
            source_ip: event.source_ip.clone(),
            user_agent: event.user_agent.clone(),
        };
        if let Some(error) = &event.unreadable {
            tracing::warn!(error = %error, "rule body unreadable; re-reading what the event names");
            outcome.errors.push(format!(
                "the event's rule body could not be read ({error}): what it names was re-read live"
            ));
        }
        if let Some(reason) = Self::ignore_reason(&event) {
            tracing::debug!(event = %event.name, reason, "ignored");
            outcome.status = Status::Ignored;
            outcome.reason = Some(reason);
            return (outcome, None);
        }
        let (Some(account), Some(region)) = (event.account_id.clone(), event.region.clone()) else {
            let error = HandleError::Malformed(
                "the event names no account (`account`, `recipientAccountId`) or region \
                 (`region`, `awsRegion`)"
                    .to_owned(),
            );
            outcome.status = Status::Failed;
            outcome.errors.push(error.to_string());
            return (outcome, Some(error));
        };
        let budget = self.breaker.event();
        let mut failure = match self
            .remediate(&event, &account, &region, &mut outcome, &budget)
            .await
        {
            Ok(()) => None,
            Err(error) => {
                outcome.status = Status::Failed;
                outcome.errors.push(error.to_string());
                Some(error)
            }
        };
        // The name is for people: looked up after the revoke, so it never delays or blocks one.
        outcome.account_name = self.hub.account_name(&account).await;
        // A revocation that failed fails the event, with the AWS error as it was (so a denied
        // revoke is `AccessDenied`, retried once permissions are fixed).
        if failure.is_none()
            && let Some(failed) = outcome
                .findings
                .iter()
                .find(|f| f.outcome == Outcome::Failed)
        {
            let error = failed.aws_error.clone().unwrap_or_else(|| AwsError {
                operation: "Revoke",
                account: account.clone(),
                region: region.clone(),
                code: None,
                message: failed.error.clone().unwrap_or_default(),
            });
            failure = Some(HandleError::from_aws(error));
            outcome.status = Status::Failed;
        }
        if let Some(reason) = budget.tripped() {
            tracing::error!(reason, "circuit breaker tripped; the rest held back");
            outcome.breaker = Some(reason.clone());
            failure.get_or_insert(HandleError::CircuitBreaker(reason));
        }

        if let Some(topic) = self.topic_arn
            && (!outcome.findings.is_empty() || failure.is_some())
        {
            let notification = event_notification(&outcome);
            match self.hub.publish(topic, &notification).await {
                Ok(id) => {
                    tracing::info!(message_id = %id, subject = %notification.subject, "notified")
                }
                Err(error) => {
                    tracing::error!(error = %error, "notification failed");
                    outcome.errors.push(error.to_string());
                    if failure.is_none() {
                        failure = Some(HandleError::Notification(error));
                    }
                }
            }
        }
        log_outcome(&outcome);
        (outcome, failure)
    }

    /// Why the event needs no action, if it needs none. Changes made through sgguard's own role
    /// are judged like any other: sgguard itself only revokes (calls the pattern does not
    /// watch), so an authorization made through that role is someone else's, never the guard's.
    fn ignore_reason(event: &CloudTrailEvent) -> Option<String> {
        match &event.change {
            Change::Failed { error_code } => {
                Some(format!("the call failed ({error_code}); nothing changed"))
            }
            Change::Ignored => Some(format!(
                "{} is not a security-group rule change",
                event.name
            )),
            _ => None,
        }
    }

    async fn remediate(
        &self,
        event: &CloudTrailEvent,
        account: &str,
        region: &str,
        outcome: &mut EventOutcome,
        budget: &Budget<'_>,
    ) -> Result<(), HandleError> {
        let groups = self
            .hub
            .security_groups(account, region)
            .await
            .map_err(HandleError::from_aws)?;
        let group_ids = affected_groups(&groups, event).await?;
        let evaluator = Evaluator::new(self.baseline, Evaluator::today_utc());
        let mut prefix_lists: HashMap<String, Vec<ipnet::IpNet>> = HashMap::new();
        let source = format!("live:{}", event.id.as_deref().unwrap_or(&event.name));
        for group_id in group_ids {
            // A group that cannot be read ends the event (retried as a whole); the outcome
            // keeps what was done before it and names it as not checked.
            let not_checked = |outcome: &mut EventOutcome, mut error: AwsError| {
                outcome.groups.push(GroupOutcome {
                    group_id: group_id.clone(),
                    state: "failed",
                    rules_evaluated: 0,
                });
                error.message = format!("group `{group_id}` not checked: {}", error.message);
                HandleError::from_aws(error)
            };
            let tags = match groups.group_tags(&group_id).await {
                Ok(tags) => tags,
                Err(error) => return Err(not_checked(outcome, error)),
            };
            let Some(tags) = tags else {
                tracing::info!(account, region, group = %group_id, "group deleted; nothing to do");
                outcome.groups.push(GroupOutcome {
                    group_id,
                    state: "deleted",
                    rules_evaluated: 0,
                });
                continue;
            };
            let mut rules = match groups.group_rules(&group_id).await {
                Ok(rules) => rules,
                Err(error) => return Err(not_checked(outcome, error)),
            };
            if let Err(error) = resolve_prefix_lists(&groups, &mut rules, &mut prefix_lists).await {
                return Err(not_checked(outcome, error));
            }
            outcome.rules_evaluated += rules.len();
            outcome.groups.push(GroupOutcome {
                group_id: group_id.clone(),
                state: "checked",
                rules_evaluated: rules.len(),
            });
            let findings = evaluator.evaluate_group(&rules, &tags);
            let acted = act(&groups, &group_id, findings, self.mode, &source, budget).await;
            outcome.findings.extend(acted);
        }
        Ok(())
    }
}

/// The groups to re-read: those the event names, or for a prefix-list change every group of the
/// region whose rules use the list.
async fn affected_groups<G: SecurityGroups>(
    groups: &G,
    event: &CloudTrailEvent,
) -> Result<Vec<String>, HandleError> {
    match &event.change {
        Change::PrefixListModified { prefix_list_id, .. } => {
            let rules = groups.all_rules().await.map_err(HandleError::from_aws)?;
            let mut ids: Vec<String> = rules
                .iter()
                .filter(|r| matches!(&r.peer, Peer::PrefixList { id, .. } if id == prefix_list_id))
                .filter_map(|r| r.group_id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            Ok(ids)
        }
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

/// One structured log line per event.
fn log_outcome(outcome: &EventOutcome) {
    let counts = outcome.counts();
    tracing::info!(
        account = outcome.account_id.as_deref().unwrap_or("-"),
        region = outcome.region.as_deref().unwrap_or("-"),
        event = %outcome.event.name,
        event_id = outcome.event.id.as_deref().unwrap_or("-"),
        status = ?outcome.status,
        findings = counts.findings,
        revoked = counts.revoked,
        failed = counts.failed,
        "event handled"
    );
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
