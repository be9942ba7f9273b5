//! One event, end to end: decode the trigger, reach the member account, re-read the live rules
//! of the groups it touches, evaluate them with the baseline, act on the findings (by rule id),
//! and notify. The event is a trigger; the live state is the truth. A prefix list shared through
//! AWS RAM reaches further: the groups that use it in the accounts it is shared with are
//! re-checked too.

use std::collections::{BTreeMap, HashMap, HashSet};

use ipnet::IpNet;
use serde_json::Value;

use super::breaker::{Breaker, Budget};
use super::staging::{Resolved, Staging};
use super::{HubApi, Outputs, SecurityGroups, act, resolve_prefix_lists};
use crate::aws::{AwsError, SharedWith};
use crate::finding::{Action, Finding, GroupInfo};
use crate::input::cloudtrail::{self, Change, CloudTrailEvent};
use crate::outcome::{
    Attribution, ConsumerOutcome, EventInfo, EventOutcome, FindingOutcome, GroupContext,
    GroupOutcome, Mode, Outcome, Status,
};
use crate::policy::{Baseline, Evaluator};
use crate::report::asff::asff_finding;
use crate::report::notify::{FINDING_DETAIL_TYPE, Notification, event_notification};
use crate::report::record::{self, Record};
use crate::rule::{Peer, SecurityGroupRule};

/// What the event's own groups held when re-read: their tags and the ids of their live rules
/// (`None` when a live rule has no id: then what is gone cannot be told).
type Seen = HashMap<String, (GroupInfo, Option<HashSet<String>>)>;

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

/// Handles events with one hub, one baseline and one mode per scope.
pub struct EventHandler<'a, H: HubApi> {
    pub hub: &'a H,
    pub baseline: &'a Baseline,
    /// The mode of each account (staged enforcement); `Mode::X.into()` for one mode everywhere.
    pub staging: Staging,
    pub topic_arn: Option<&'a str>,
    /// Bounds what one event (and one account within an hour) may revoke.
    pub breaker: &'a Breaker,
    /// Where the durable record goes when the notification fails or the event cannot be read
    /// (`SGGUARD_RECORD_QUEUE_URL`); none: the log is the only record.
    pub record_queue: Option<&'a str>,
    /// What every outcome must tell besides (an exemptions file that could not be reloaded).
    pub caveat: Option<&'a str>,
    /// The chat topic, the event bus and the messages' minimum severity.
    pub outputs: Outputs,
}

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
        if let Some(caveat) = self.caveat {
            outcome.errors.push(caveat.to_owned());
        }
        let resolved = self.mode_for(&account).await;
        self.note_mode(&account, &resolved, &mut outcome);
        outcome.mode = resolved.mode;
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
            failure.get_or_insert(HandleError::CircuitBreaker(reason));
        }

        if self.outputs.security_hub {
            self.import(&mut outcome).await;
        }
        let mut undelivered = None;
        let notification = (!outcome.findings.is_empty() || failure.is_some())
            .then(|| event_notification(&outcome));
        // Below the minimum severity a message goes to the event bus and the log only; a failure
        // or a tripped breaker always goes out.
        let loud = notification.as_ref().is_some_and(|n| {
            failure.is_some()
                || outcome.breaker.is_some()
                || self
                    .outputs
                    .min_severity
                    .is_none_or(|min| n.severity() >= min)
        });
        if let Some(n) = &notification
            && !loud
        {
            tracing::info!(severity = %n.severity(), "below SGGUARD_MIN_SEVERITY: not published");
        }
        if let Some(notification) = &notification {
            self.fan_out(notification, loud, FINDING_DETAIL_TYPE, &mut outcome)
                .await;
        }
        if let Some(topic) = self.topic_arn
            && loud
            && let Some(notification) = &notification
        {
            match self.hub.publish(topic, notification).await {
                Ok(id) => {
                    tracing::info!(message_id = %id, subject = %notification.subject, "notified")
                }
                Err(error) => {
                    tracing::error!(error = %error, "notification failed");
                    outcome.errors.push(error.to_string());
                    undelivered = Some(error.to_string());
                    if failure.is_none() {
                        failure = Some(HandleError::Notification(error));
                    }
                }
            }
        }
        // An event sgguard cannot read is recorded with its text (the Lambda then answers it
        // as handled: a retry reads it no better). What was done for an event whose message
        // failed must not live only in the log: the record keeps it, and a retry that finds
        // the rules gone cannot take it back.
        if matches!(failure, Some(HandleError::Malformed(_))) {
            self.keep(&mut outcome, |o| record::malformed_event(o, value))
                .await;
        } else if let Some(reason) = undelivered {
            self.keep(&mut outcome, |o| record::undelivered_event(o, &reason))
                .await;
        }
        log_outcome(&outcome);
        (outcome, failure)
    }

    /// The mode `account` is guarded in: its own scope, its nearest unit's, or the default.
    async fn mode_for(&self, account: &str) -> Resolved {
        self.staging
            .resolve_with(account, || self.hub.account_units(account))
            .await
    }

    /// Tells in the outcome why an account is guarded in its mode, when scopes are set; an
    /// account audited because its unit could not be read is an error the message names.
    fn note_mode(&self, account: &str, resolved: &Resolved, outcome: &mut EventOutcome) {
        if self.staging.scopes.is_empty() {
            return;
        }
        if resolved.by.starts_with("audited") {
            outcome
                .errors
                .push(format!("account {account} {}", resolved.by));
        }
        outcome.mode_by.get_or_insert_with(|| resolved.by.clone());
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
                        entry.finding.region.clone().unwrap_or_default(),
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

    /// The other outputs of a message: the chat topic (when the message is published) and the
    /// event bus (always). Neither fails the event: the inbox message is the record; a failure
    /// is logged and told in the outcome's errors.
    async fn fan_out(
        &self,
        notification: &Notification,
        loud: bool,
        detail_type: &str,
        outcome: &mut EventOutcome,
    ) {
        if let Some(chat) = self.outputs.chat_topic_arn.as_deref()
            && loud
            && let Err(error) = self.hub.publish(chat, &notification.for_chat()).await
        {
            tracing::error!(error = %error, "chat message failed");
            outcome.errors.push(error.to_string());
        }
        if let Some(bus) = self.outputs.event_bus_arn.as_deref() {
            match self
                .hub
                .put_event(bus, detail_type, &notification.json)
                .await
            {
                Ok(id) => tracing::info!(event_id = %id, detail_type, "event put on the bus"),
                Err(error) => {
                    tracing::error!(error = %error, "event not put on the bus");
                    outcome.errors.push(error.to_string());
                }
            }
        }
    }

    /// Sends the durable record `make` builds from the outcome, if a queue is configured; its
    /// message id goes into the outcome, a failure to send it into the outcome's errors.
    async fn keep(&self, outcome: &mut EventOutcome, make: impl FnOnce(&EventOutcome) -> Record) {
        let Some(queue) = self.record_queue else {
            return;
        };
        let record = make(outcome);
        match self.hub.record(queue, &record).await {
            Ok(id) => {
                tracing::warn!(message_id = %id, kind = %record.kind, "outcome recorded in the queue");
                outcome.recorded = Some(id);
            }
            Err(error) => {
                tracing::error!(error = %error, kind = %record.kind, "the durable record failed too");
                outcome.errors.push(error.to_string());
            }
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
            source: format!("live:{}", event.id.as_deref().unwrap_or(&event.name)),
            budget,
            context_tags: self.outputs.context_tags.clone(),
        };
        let mut prefix_lists: HashMap<String, Vec<IpNet>> = HashMap::new();
        let mut seen = Seen::new();
        judge
            .check(
                &groups,
                group_ids,
                &mut prefix_lists,
                None,
                Some(&mut seen),
                outcome,
            )
            .await
            .map_err(HandleError::from_aws)?;
        attribute(event, outcome);
        self.already_gone(event, &seen, &judge, outcome).await;
        if let Change::PrefixListModified { prefix_list_id, .. } = &event.change {
            let shared = self
                .hub
                .prefix_list_consumers(account, region, prefix_list_id)
                .await
                .map_err(HandleError::from_aws)?;
            let entries = match prefix_lists.get(prefix_list_id) {
                Some(entries) => entries.clone(),
                None => groups
                    .prefix_list_entries(prefix_list_id)
                    .await
                    .map_err(HandleError::from_aws)?,
            };
            let list = SharedList {
                id: prefix_list_id,
                owner: account,
                region,
                entries,
            };
            self.recheck_consumers(&list, shared, &judge, outcome).await;
        }
        Ok(())
    }

    /// The event's own rules that broke the baseline but were no longer in their (re-read)
    /// group: revoked before this event was handled (by another event's handling or a sweep,
    /// or by hand). They are the event's findings all the same, `already_gone`, with when and by
    /// what they were removed when this hub did it, so that the message names this event's
    /// actor for them.
    async fn already_gone(
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
                    Some(id) => self.breaker.revoked(id).await,
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
                        source: Some(judge.source.clone()),
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

    /// A prefix list shared through AWS RAM is used by groups of other accounts too: in each
    /// account it is shared with, the groups of the event's region that use it are re-checked,
    /// judged with the owner's entries (the list's truth). An account that cannot be checked,
    /// and a principal that names no account, is reported in `consumers` and `errors`, naming
    /// it; the other accounts are still checked.
    async fn recheck_consumers(
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
struct SharedList<'a> {
    id: &'a str,
    owner: &'a str,
    region: &'a str,
    entries: Vec<IpNet>,
}

/// How an event's groups are judged and acted on: one evaluator, mode, source and budget for
/// the event's own account and every account a shared prefix list reaches.
#[derive(Clone)]
struct Judge<'e, 'b> {
    evaluator: &'e Evaluator<'e>,
    mode: Mode,
    source: String,
    budget: &'e Budget<'b>,
    /// The group tags messages show (`SGGUARD_CONTEXT_TAGS`).
    context_tags: Vec<String>,
}

impl Judge<'_, '_> {
    /// Re-reads, evaluates and acts on each group of one account and region; the groups and
    /// findings go into the outcome. `account` names the groups' account when it is not the
    /// event's; `known` holds prefix-list entries already read.
    async fn check<G: SecurityGroups>(
        &self,
        groups: &G,
        group_ids: Vec<String>,
        known: &mut HashMap<String, Vec<IpNet>>,
        account: Option<&str>,
        mut seen: Option<&mut Seen>,
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
            let Some(GroupInfo { name, vpc_id, tags }) = info else {
                tracing::info!(account, group = %group_id, "group deleted; nothing to do");
                outcome.groups.push(GroupOutcome {
                    account_id: account.map(str::to_owned),
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
            if let Err(error) = resolve_prefix_lists(groups, &mut rules, known).await {
                return Err(not_checked(outcome, error));
            }
            if let Some(seen) = seen.as_deref_mut() {
                let live = rules.iter().map(|r| r.rule_id.clone()).collect();
                let info = GroupInfo {
                    name: name.clone(),
                    vpc_id: vpc_id.clone(),
                    tags: tags.clone(),
                };
                seen.insert(group_id.clone(), (info, live));
            }
            outcome.rules_evaluated += rules.len();
            outcome.groups.push(GroupOutcome {
                account_id: account.map(str::to_owned),
                group_id: group_id.clone(),
                state: "checked",
                rules_evaluated: rules.len(),
            });
            let findings = self.evaluator.evaluate_group(&rules, &tags);
            let acted = act(
                groups,
                &group_id,
                findings,
                self.mode,
                &self.source,
                self.budget,
            )
            .await;
            let context = GroupContext::new(
                &group_id,
                name,
                vpc_id,
                &tags,
                &self.context_tags,
                acted.first().and_then(|f| f.finding.region.as_deref()),
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

/// Marks each of the event's findings as made by this change (its rule ids are the event's, or
/// its rule matches one the event added, or it uses the prefix list the event changed) or found
/// in the group.
fn attribute(event: &CloudTrailEvent, outcome: &mut EventOutcome) {
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

/// The groups of the region whose rules use the prefix list.
async fn groups_using<G: SecurityGroups>(
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
async fn affected_groups<G: SecurityGroups>(
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
