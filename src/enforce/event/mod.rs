//! One event, end to end: decode the trigger, reach the member account, re-read the live rules
//! of the groups it touches, evaluate them with the baseline, act on the findings (by rule id),
//! and notify. The event is a trigger; the live state is the truth. A prefix list shared through
//! AWS RAM reaches further: the groups that use it in the accounts it is shared with are
//! re-checked too, and what its change opened there is fixed at the source when it can be.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

use super::breaker::Budget;
use super::exemptions::Unloaded;
use super::staging::{ModeReason, Resolved, Staging};
use super::state::{Claim, HubState};
use super::{HubApi, Outputs, RevokeSource};
use crate::aws::AwsError;
use crate::input::cloudtrail::{self, Change, CloudTrailEvent};
use crate::outcome::{EventInfo, EventOutcome, Outcome, Status};
use crate::policy::{Baseline, Evaluator};
use crate::report::asff::asff_finding;
use crate::report::deliver::Delivery;
use crate::report::notify::event_notification;
use crate::report::record::{self, Record};

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
    /// What may be done could not be decided: the exemptions file never loaded, or an account's
    /// organizational unit (which decides its mode) could not be read. Nothing was done; the
    /// retry decides once they can be read (counted in the `Undecided` metric, alarmed).
    #[error("undecided: {0}")]
    Undecided(String),
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
            HandleError::Undecided(_) => "Sgguard.Undecided",
            HandleError::CircuitBreaker(_) => "Sgguard.CircuitBreakerTripped",
        }
    }

    /// Whether the invocation is answered as handled although it failed: a tripped breaker
    /// (a retry would bring a fresh budget and revoke another batch).
    pub fn answered_as_handled(&self) -> bool {
        matches!(self, HandleError::CircuitBreaker(_))
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

/// Handles events with one hub, one baseline and one mode per scope.
pub struct EventHandler<'a, H: HubApi> {
    pub hub: &'a H,
    pub baseline: &'a Baseline,
    /// The mode of each account (staged enforcement); `Mode::X.into()` for one mode everywhere.
    pub staging: Staging,
    pub topic_arn: Option<&'a str>,
    /// The breaker that bounds what one event (and one account within an hour) may revoke,
    /// and the journal of what was revoked.
    pub state: &'a HubState,
    /// Where the durable record goes when the notification fails or the event cannot be read
    /// (`SGGUARD_RECORD_QUEUE_URL`); none: the log is the only record.
    pub record_queue: Option<&'a str>,
    /// What every outcome must tell besides (an exemptions file that could not be reloaded).
    pub caveat: Option<&'a str>,
    /// The exemptions file never loaded: nothing is decided, the event fails and is retried.
    pub unloaded: Option<&'a Unloaded>,
    /// The chat topic, the event bus and the messages' minimum severity.
    pub outputs: Outputs,
    /// When the invocation must end (the Lambda's deadline; none for a command): the event is
    /// claimed until then.
    pub deadline: Option<std::time::Instant>,
}

/// How long a handling without a deadline (a command) holds its event: the longest a Lambda
/// invocation runs.
const LONGEST_HANDLING: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl<H: HubApi> EventHandler<'_, H> {
    /// Handles one event. The outcome is always returned (for printing and logs); the error
    /// says the invocation failed and should be retried or dead-lettered.
    pub async fn handle(&self, value: &Value) -> (EventOutcome, Option<HandleError>) {
        let mut outcome = EventOutcome::new(self.staging.default);
        let event = match decode_trigger(value) {
            Ok(event) => event,
            Err(error) => {
                outcome.status = Status::Failed;
                outcome.errors.push(error.to_string());
                tracing::error!(error = %error, "cannot decode the event; nothing done");
                self.keep(&mut outcome, |o| record::malformed_event(o, value))
                    .await;
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
            self.keep(&mut outcome, |o| record::malformed_event(o, value))
                .await;
            return (outcome, Some(error));
        };
        // Each CloudTrail event is handled once: a second delivery or a replay is told as such.
        if let Some(id) = &event.id {
            match self.state.events.claim(id, self.claim_until()).await {
                Ok(Claim::First) => {}
                Ok(Claim::Duplicate) => {
                    tracing::info!(event_id = %id, "already handled; nothing done again");
                    outcome.status = Status::Duplicate;
                    outcome.reason = Some(format!(
                        "event {id} was handled before (delivered twice or replayed): nothing \
                         done again"
                    ));
                    return (outcome, None);
                }
                Err(error) => {
                    let error = HandleError::from_aws(error);
                    outcome.status = Status::Failed;
                    outcome.errors.push(format!(
                        "the hub state table could not tell whether the event was handled \
                         before; nothing done, to be retried: {error}"
                    ));
                    return (outcome, Some(error));
                }
            }
        }
        if let Some(caveat) = self.caveat {
            outcome.errors.push(caveat.to_owned());
        }
        let budget = self.state.breaker.event();
        let decided = match self.decide(&account).await {
            Ok(resolved) => {
                self.note_mode(&account, &resolved, &mut outcome);
                outcome.mode = resolved.mode;
                self.remediate(&event, &account, &region, &mut outcome, &budget)
                    .await
            }
            Err(error) => Err(error),
        };
        let mut failure = match decided {
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
        // So does an account a shared prefix list reaches that could not be checked.
        if failure.is_none()
            && let Some(error) = outcome.consumers.iter().find_map(|c| c.aws_error.clone())
        {
            failure = Some(HandleError::from_aws(error));
            outcome.status = Status::Failed;
        }
        if let Some(reason) = budget.tripped() {
            tracing::error!(reason, "circuit breaker tripped; the rest held back");
            outcome.breaker = Some(reason.clone());
            // Held back, not dropped: the record queue keeps what is still open (the journal
            // keeps each rule for the next sweep).
            self.keep(&mut outcome, |o| record::held_back(o, &reason))
                .await;
            failure.get_or_insert(HandleError::CircuitBreaker(reason));
        }

        if self.outputs.security_hub {
            self.import(&mut outcome).await;
        }
        let malformed = matches!(failure, Some(HandleError::Malformed(_)));
        if !outcome.findings.is_empty() || failure.is_some() {
            let notification = event_notification(&outcome);
            // What was done for an event whose message failed must not live only in the log:
            // the record keeps it, and a retry that finds the rules gone cannot take it back.
            // An unreadable event's own record (below) keeps the event instead.
            let delivered = self
                .delivery()
                .send(self.hub, &notification, |reason| {
                    (!malformed).then(|| record::undelivered_event(&outcome, reason))
                })
                .await;
            outcome.errors.extend(delivered.errors);
            if delivered.recorded.is_some() {
                outcome.recorded = delivered.recorded;
            }
            if let Some(error) = delivered.undelivered {
                failure.get_or_insert(HandleError::Notification(error));
            }
        }
        // An event sgguard cannot read is recorded with its text (the Lambda then answers it
        // as handled: a retry reads it no better).
        if malformed {
            self.keep(&mut outcome, |o| record::malformed_event(o, value))
                .await;
        }
        // A handling that will be retried gives its claim back, so the retry is not a duplicate;
        // one that is done marks the event handled for good.
        if let Some(id) = &event.id {
            match &failure {
                Some(error) if !error.answered_as_handled() => {
                    self.state.events.release(id).await;
                }
                _ => self.state.events.complete(id).await,
            }
        }
        log_outcome(&outcome);
        (outcome, failure)
    }

    /// Until when this handling holds its event: the invocation's deadline, else (a command)
    /// the longest a Lambda invocation may run.
    fn claim_until(&self) -> jiff::Timestamp {
        let left = self.deadline.map_or(LONGEST_HANDLING, |deadline| {
            deadline.saturating_duration_since(std::time::Instant::now())
        });
        jiff::Timestamp::now()
            .checked_add(left)
            .unwrap_or_else(|_| jiff::Timestamp::now())
    }

    /// The mode `account` is guarded in: its own scope, its nearest unit's, or the default.
    async fn mode_for(&self, account: &str) -> Resolved {
        self.staging
            .resolve_with(account, || self.hub.account_units(account))
            .await
    }

    /// What may be done in `account`: its mode, once what decides it can be read — the
    /// exemptions file and, when a unit's scope could change the answer, the account's units.
    /// Either unreadable fails the event for a retry ([`HandleError::Undecided`]): never
    /// audited and finished on a guess.
    async fn decide(&self, account: &str) -> Result<Resolved, HandleError> {
        if let Some(unloaded) = self.unloaded {
            return Err(HandleError::Undecided(format!(
                "{unloaded}; nothing done, to be retried"
            )));
        }
        let resolved = self.mode_for(account).await;
        if let ModeReason::UnitsUnreadable(why) = &resolved.by {
            return Err(HandleError::Undecided(undecided_mode(account, why)));
        }
        Ok(resolved)
    }

    /// Tells in the outcome why an account is guarded in its mode, when scopes are set; an
    /// account audited because its unit could not be read is an error the message names.
    fn note_mode(&self, account: &str, resolved: &Resolved, outcome: &mut EventOutcome) {
        if self.staging.scopes.is_empty() {
            return;
        }
        if resolved.by.is_problem() {
            outcome
                .errors
                .push(format!("account {account} {}", resolved.by));
        }
        outcome
            .mode_by
            .get_or_insert_with(|| resolved.by.to_string());
    }

    /// Imports the event's findings into Security Hub (ASFF), in each account and region they
    /// are in: open ones `NEW`, revoked ones `RESOLVED` (the same finding id, so an earlier
    /// import is updated). A failure is logged and told in the outcome's errors; it never fails
    /// the event.
    async fn import(&self, outcome: &mut EventOutcome) {
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let partition = self.hub.partition();
        let mut by_place: BTreeMap<(String, String), Vec<crate::finding::AsffFinding>> =
            BTreeMap::new();
        for entry in &outcome.findings {
            if let Some(finding) = asff_finding(entry, &partition, &now) {
                by_place
                    .entry((
                        finding.aws_account_id.clone(),
                        entry.finding.rule.region.clone().unwrap_or_default(),
                    ))
                    .or_default()
                    .push(finding);
            }
        }
        for ((account, region), findings) in by_place {
            match self.hub.import_findings(&account, &region, &findings).await {
                Ok(n) => tracing::info!(account, region, imported = n, "findings in Security Hub"),
                Err(error) => {
                    tracing::error!(error = %error, "findings not imported into Security Hub");
                    outcome.errors.push(error.to_string());
                }
            }
        }
    }

    /// Where this handler's messages go.
    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            topic_arn: self.topic_arn,
            record_queue: self.record_queue,
            outputs: &self.outputs,
        }
    }

    /// Sends the durable record `make` builds from the outcome, if a queue is configured; its
    /// message id goes into the outcome, a failure to send it into the outcome's errors.
    async fn keep(&self, outcome: &mut EventOutcome, make: impl FnOnce(&EventOutcome) -> Record) {
        match self.delivery().keep(self.hub, &make(outcome)).await {
            Some(Ok(id)) => outcome.recorded = Some(id),
            Some(Err(error)) => outcome.errors.push(error.to_string()),
            None => {}
        }
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
            // The pattern forwards only tag changes that name a group; any other is nothing to do.
            Change::TagsChanged { group_ids, .. } if group_ids.is_empty() => Some(format!(
                "{} changes the tags of no security group",
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
        let judge = Judge {
            evaluator: &evaluator,
            mode: outcome.mode,
            source: RevokeSource::Event {
                id: event.id.clone().unwrap_or_else(|| event.name.clone()),
                actor: event.actor.arn.clone(),
            },
            budget,
            journal: &self.state.journal,
            context_tags: self.outputs.context_tags.clone(),
        };
        if let Change::PrefixListModified {
            prefix_list_id,
            added,
            removed,
            current_version,
        } = &event.change
        {
            let change = ListChange {
                id: prefix_list_id,
                added,
                removed,
                version: *current_version,
            };
            return self
                .remediate_list(
                    event, &change, account, region, &groups, group_ids, &judge, outcome,
                )
                .await;
        }
        let mut seen = Seen::new();
        judge
            .check(
                &groups,
                group_ids,
                &mut HashMap::new(),
                None,
                Some(Own {
                    event,
                    seen: &mut seen,
                }),
                outcome,
            )
            .await
            .map_err(HandleError::from_aws)?;
        attribute(event, outcome);
        self.already_gone(event, &seen, &judge, outcome).await;
        Ok(())
    }
}

/// One structured log line per event.
/// Why `account`'s mode is unknown: the units above it could not be read (`why`).
fn undecided_mode(account: &str, why: &str) -> String {
    format!(
        "the organizational unit of account {account} could not be read ({why}), so its mode \
         is unknown; nothing done there, to be retried"
    )
}

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

mod attribution;
mod consistent;
mod consumers;
#[cfg(test)]
mod docs_examples_tests;
mod judge;
#[cfg(test)]
mod protection_tests;
mod shared_list;
#[cfg(test)]
mod shared_list_tests;
#[cfg(test)]
mod shared_scope_tests;
#[cfg(test)]
mod tag_tests;
#[cfg(test)]
mod tests;

use attribution::attribute;
use judge::{Judge, Own, Seen, affected_groups};
use shared_list::ListChange;
