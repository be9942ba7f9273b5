//! One event, end to end: decode the trigger, reach the member account, re-read the live rules
//! of the groups it touches, evaluate them with the baseline, revoke what must go (by rule id),
//! and notify. The event is a trigger; the live state is the truth.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::aws::{Aws, AwsError, Ec2, Notification, RevokeOutcome, publish};
use crate::finding::Finding;
use crate::input::cloudtrail::{self as event, Change, CloudTrailEvent};
use crate::policy::{Action, Baseline, Evaluator, Severity};
use crate::rule::{Direction, Peer, SecurityGroupRule};
use crate::settings::Mode;

/// What was done about one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Revoked,
    WouldRevoke,
    AlreadyGone,
    Reported,
    Exempt,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Revoked => "revoked",
            Outcome::WouldRevoke => "would_revoke",
            Outcome::AlreadyGone => "already_gone",
            Outcome::Reported => "reported",
            Outcome::Exempt => "exempt",
            Outcome::Failed => "failed",
        }
    }
}

/// A finding and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingOutcome {
    #[serde(flatten)]
    pub finding: Finding,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The AWS error behind `failed`, kept whole (its code says whether access was denied).
    #[serde(skip)]
    pub aws_error: Option<AwsError>,
}

/// The event as the notification tells it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventInfo {
    pub name: String,
    pub id: Option<String>,
    pub time: Option<String>,
    pub actor_arn: Option<String>,
    pub actor_type: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How the event was handled as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The groups were read and judged (findings or not).
    Handled,
    /// Not an event sgguard acts on (failed call, other API, the guard's own change).
    Ignored,
    /// Something went wrong; `errors` says what.
    Failed,
}

/// A group the event touched.
#[derive(Debug, Clone, Serialize)]
pub struct GroupOutcome {
    pub group_id: String,
    /// `checked`, or `deleted` when the group no longer exists.
    pub state: &'static str,
    pub rules_evaluated: usize,
}

/// The outcome of one event: what `handle-event` prints and the notification carries.
#[derive(Debug, Clone, Serialize)]
pub struct EventOutcome {
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub region: Option<String>,
    pub mode: Mode,
    pub event: EventInfo,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub groups: Vec<GroupOutcome>,
    pub rules_evaluated: usize,
    pub findings: Vec<FindingOutcome>,
    pub errors: Vec<String>,
}

impl EventOutcome {
    fn new(mode: Mode) -> Self {
        EventOutcome {
            account_id: None,
            account_name: None,
            region: None,
            mode,
            event: EventInfo::default(),
            status: Status::Handled,
            reason: None,
            groups: Vec::new(),
            rules_evaluated: 0,
            findings: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.findings
            .iter()
            .filter(|f| f.outcome == outcome)
            .count()
    }

    /// Findings that are neither exempt nor already gone.
    pub fn open_findings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| !matches!(f.outcome, Outcome::Exempt | Outcome::AlreadyGone))
            .count()
    }
}

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
    /// A sweep finished but some accounts, regions or revocations failed (all reported).
    #[error("sweep incomplete: {0}")]
    SweepIncomplete(String),
}

impl HandleError {
    /// The Lambda `errorType`: retryable or not, at a glance in logs and the DLQ.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandleError::Malformed(_) => "Sgguard.MalformedEvent",
            HandleError::AccessDenied(_) => "Sgguard.AccessDenied",
            HandleError::Aws(_) => "Sgguard.AwsFailure",
            HandleError::Notification(_) => "Sgguard.NotificationFailed",
            HandleError::SweepIncomplete(_) => "Sgguard.SweepIncomplete",
        }
    }

    pub(crate) fn from_aws(error: AwsError) -> Self {
        if error.is_access_denied() {
            HandleError::AccessDenied(error)
        } else {
            HandleError::Aws(error)
        }
    }
}

/// Handles events with one AWS context, one baseline and one mode.
pub struct Remediator<'a> {
    pub aws: &'a Aws,
    pub baseline: &'a Baseline,
    pub mode: Mode,
    pub topic_arn: Option<&'a str>,
}

/// Decodes the trigger: an EventBridge envelope or a bare CloudTrail record.
pub fn decode_trigger(value: &Value) -> Result<CloudTrailEvent, HandleError> {
    if event::is_envelope(value) {
        event::decode_envelope(value).map_err(|e| HandleError::Malformed(e.to_string()))
    } else if event::is_record(value) {
        event::decode_record(value).map_err(|e| HandleError::Malformed(e.to_string()))
    } else {
        Err(HandleError::Malformed(
            "expected an EventBridge event (`detail-type`, `detail`) or a CloudTrail record \
             (`eventName`)"
                .to_owned(),
        ))
    }
}

impl Remediator<'_> {
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
        if let Some(reason) = self.ignore_reason(&event) {
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
        outcome.account_name = self.aws.account_name(&account).await;

        let mut failure = match self
            .remediate(&event, &account, &region, &mut outcome)
            .await
        {
            Ok(()) => None,
            Err(error) => {
                outcome.status = Status::Failed;
                outcome.errors.push(error.to_string());
                Some(error)
            }
        };
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

        if let Some(topic) = self.topic_arn
            && (!outcome.findings.is_empty() || failure.is_some())
        {
            let notification = notification_for(&outcome);
            match publish(self.aws.sns(), topic, &notification).await {
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

    fn ignore_reason(&self, event: &CloudTrailEvent) -> Option<String> {
        match &event.change {
            Change::Failed { error_code } => {
                return Some(format!("the call failed ({error_code}); nothing changed"));
            }
            Change::Ignored => {
                return Some(format!(
                    "{} is not a security-group rule change",
                    event.name
                ));
            }
            _ => {}
        }
        let own_role = format!(":assumed-role/{}/", self.aws.role_name());
        if event
            .actor
            .arn
            .as_deref()
            .is_some_and(|arn| arn.contains(&own_role))
        {
            return Some("a change made by sgguard's own role".to_owned());
        }
        None
    }

    async fn remediate(
        &self,
        event: &CloudTrailEvent,
        account: &str,
        region: &str,
        outcome: &mut EventOutcome,
    ) -> Result<(), HandleError> {
        let ec2 = self
            .aws
            .ec2(account, region)
            .await
            .map_err(HandleError::from_aws)?;
        let group_ids = self.affected_groups(&ec2, event).await?;
        let evaluator = Evaluator::new(self.baseline, Evaluator::today_utc());
        let mut prefix_lists: HashMap<String, Vec<ipnet::IpNet>> = HashMap::new();
        for group_id in group_ids {
            let Some(tags) = ec2
                .group_tags(&group_id)
                .await
                .map_err(HandleError::from_aws)?
            else {
                tracing::info!(account, region, group = %group_id, "group deleted; nothing to do");
                outcome.groups.push(GroupOutcome {
                    group_id,
                    state: "deleted",
                    rules_evaluated: 0,
                });
                continue;
            };
            let mut rules = ec2
                .group_rules(&group_id)
                .await
                .map_err(HandleError::from_aws)?;
            resolve_prefix_lists(&ec2, &mut rules, &mut prefix_lists)
                .await
                .map_err(HandleError::from_aws)?;
            outcome.rules_evaluated += rules.len();
            outcome.groups.push(GroupOutcome {
                group_id: group_id.clone(),
                state: "checked",
                rules_evaluated: rules.len(),
            });
            let findings = evaluator.evaluate_group(&rules, &tags);
            let source = format!("live:{}", event.id.as_deref().unwrap_or(&event.name));
            let acted = self.act(&ec2, &group_id, findings, &source).await;
            outcome.findings.extend(acted);
        }
        Ok(())
    }

    /// The groups to re-read: those the event names, or for a prefix-list change every group
    /// of the region whose rules use the list.
    async fn affected_groups(
        &self,
        ec2: &Ec2,
        event: &CloudTrailEvent,
    ) -> Result<Vec<String>, HandleError> {
        match &event.change {
            Change::PrefixListModified { prefix_list_id, .. } => {
                let rules = ec2.all_rules().await.map_err(HandleError::from_aws)?;
                let mut groups: Vec<String> = rules
                    .iter()
                    .filter(
                        |r| matches!(&r.peer, Peer::PrefixList { id, .. } if id == prefix_list_id),
                    )
                    .filter_map(|r| r.group_id.clone())
                    .collect();
                groups.sort();
                groups.dedup();
                Ok(groups)
            }
            Change::Authorized {
                group_id: None,
                group_name: Some(name),
                ..
            } => Ok(ec2
                .group_id_by_name(name)
                .await
                .map_err(HandleError::from_aws)?
                .into_iter()
                .collect()),
            _ => {
                let groups = event.group_ids();
                if groups.is_empty() {
                    return Err(HandleError::Malformed(format!(
                        "{} names no security group",
                        event.name
                    )));
                }
                Ok(groups)
            }
        }
    }

    /// Revokes (or would revoke) the group's violating rules; returns every finding with what
    /// became of it. The event flow and the sweep share this one revoke path.
    pub(crate) async fn act(
        &self,
        ec2: &Ec2,
        group_id: &str,
        findings: Vec<Finding>,
        source: &str,
    ) -> Vec<FindingOutcome> {
        let mut to_revoke: [Vec<String>; 2] = [Vec::new(), Vec::new()];
        let mut recorded = Vec::with_capacity(findings.len());
        for mut finding in findings {
            finding.source = Some(source.to_owned());
            let planned = if finding.exempt {
                Outcome::Exempt
            } else if finding.action != Action::Revoke {
                Outcome::Reported
            } else if finding.rule_id.is_none() {
                // Without a rule id the exact rule cannot be named: report, never guess.
                Outcome::Reported
            } else if self.mode == Mode::Audit {
                Outcome::WouldRevoke
            } else {
                Outcome::Revoked
            };
            if planned == Outcome::Revoked
                && let Some(id) = &finding.rule_id
                && let Some(list) =
                    to_revoke.get_mut(usize::from(finding.direction == Direction::Egress))
            {
                list.push(id.clone());
            }
            recorded.push(FindingOutcome {
                finding,
                outcome: planned,
                error: None,
                aws_error: None,
            });
        }
        for (direction, ids) in [Direction::Ingress, Direction::Egress]
            .into_iter()
            .zip(to_revoke)
        {
            for (rule_id, result) in ec2.revoke(group_id, direction, &ids).await {
                let Some(entry) = recorded
                    .iter_mut()
                    .find(|f| f.finding.rule_id.as_deref() == Some(rule_id.as_str()))
                else {
                    continue;
                };
                match result {
                    RevokeOutcome::Revoked => {}
                    RevokeOutcome::AlreadyGone => entry.outcome = Outcome::AlreadyGone,
                    RevokeOutcome::Failed(error) => {
                        entry.outcome = Outcome::Failed;
                        entry.error = Some(error.to_string());
                        entry.aws_error = Some(error);
                    }
                }
            }
        }
        for entry in &recorded {
            let f = &entry.finding;
            tracing::info!(
                account = f.account_id.as_deref().unwrap_or("-"),
                region = f.region.as_deref().unwrap_or("-"),
                group = group_id,
                rule = f.rule_id.as_deref().unwrap_or("-"),
                peer = %f.peer,
                policy_rule = f.violations.first().map_or("-", |v| v.policy_rule.as_str()),
                outcome = entry.outcome.as_str(),
                "finding"
            );
        }
        recorded
    }
}

/// Fills in the entries of every prefix list the rules use (each list read once).
pub(crate) async fn resolve_prefix_lists(
    ec2: &Ec2,
    rules: &mut [SecurityGroupRule],
    known: &mut HashMap<String, Vec<ipnet::IpNet>>,
) -> Result<(), AwsError> {
    for rule in rules.iter_mut() {
        if let Peer::PrefixList { id, entries } = &mut rule.peer {
            if !known.contains_key(id.as_str()) {
                let resolved = ec2.prefix_list_entries(id).await?;
                known.insert(id.clone(), resolved);
            }
            *entries = known.get(id.as_str()).cloned();
        }
    }
    Ok(())
}

/// The SNS notification for an outcome.
pub fn notification_for(outcome: &EventOutcome) -> Notification {
    let account = outcome.account_id.as_deref().unwrap_or("unknown account");
    let region = outcome.region.as_deref().unwrap_or("unknown region");
    let groups: Vec<&str> = {
        let mut ids: Vec<&str> = outcome
            .findings
            .iter()
            .filter_map(|f| f.finding.group_id.as_deref())
            .collect();
        ids.dedup();
        if ids.is_empty() {
            outcome.groups.iter().map(|g| g.group_id.as_str()).collect()
        } else {
            ids
        }
    };
    let (revoked, would, failed, exempt, reported) = (
        outcome.count(Outcome::Revoked),
        outcome.count(Outcome::WouldRevoke),
        outcome.count(Outcome::Failed),
        outcome.count(Outcome::Exempt),
        outcome.count(Outcome::Reported),
    );
    let action = if failed > 0 || (outcome.status == Status::Failed && outcome.findings.is_empty())
    {
        "failed"
    } else if revoked > 0 {
        "revoked"
    } else if would > 0 {
        "would_revoke"
    } else if reported > 0 {
        "reported"
    } else if exempt > 0 {
        "exempt"
    } else {
        "already_gone"
    };
    let what = match action {
        "failed" if outcome.findings.is_empty() => "could not check".to_owned(),
        "failed" => format!("FAILED to revoke {failed} rule(s)"),
        "revoked" => format!("revoked {revoked} rule(s)"),
        "would_revoke" => format!("would revoke {would} rule(s) (audit)"),
        "reported" => format!("{reported} finding(s)"),
        "exempt" => format!("{exempt} exempt finding(s)"),
        _ => "rule(s) already gone".to_owned(),
    };
    let group_text = match groups.as_slice() {
        [] => String::new(),
        [one] => format!(" {one}"),
        [first, rest @ ..] => format!(" {first} +{}", rest.len()),
    };
    let mut subject = format!("sgguard: {what} in {account} {region}{group_text}");
    if subject.chars().count() > 100 {
        subject = subject.chars().take(99).collect::<String>() + "…";
    }
    let severity = outcome
        .findings
        .iter()
        .map(|f| f.finding.severity())
        .max()
        .unwrap_or(Severity::Info);

    let mut text = String::new();
    let name = outcome
        .account_name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    text.push_str(&format!("Account: {account}{name}\nRegion: {region}\n"));
    text.push_str(&format!(
        "Event: {} {} at {}\nActor: {} ({})\nSource IP: {}\nMode: {}\n",
        outcome.event.name,
        outcome.event.id.as_deref().unwrap_or("-"),
        outcome.event.time.as_deref().unwrap_or("-"),
        outcome.event.actor_arn.as_deref().unwrap_or("unknown"),
        outcome.event.actor_type.as_deref().unwrap_or("-"),
        outcome.event.source_ip.as_deref().unwrap_or("-"),
        outcome.mode,
    ));
    for entry in &outcome.findings {
        let f = &entry.finding;
        let ports = match (f.from_port, f.to_port) {
            (Some(a), Some(b)) if a == b => format!(" {a}"),
            (Some(a), Some(b)) => format!(" {a}-{b}"),
            _ => String::new(),
        };
        text.push_str(&format!(
            "\n- {}: group {} rule {} ({} {}{} {} {})\n",
            entry.outcome.as_str().to_uppercase(),
            f.group_id.as_deref().unwrap_or("-"),
            f.rule_id.as_deref().unwrap_or("-"),
            f.direction,
            f.protocol,
            ports,
            if f.direction == Direction::Ingress {
                "from"
            } else {
                "to"
            },
            f.peer,
        ));
        for v in &f.violations {
            text.push_str(&format!(
                "  broke {} [{} {}]: {}\n",
                v.policy_rule, v.severity, v.action, v.reason
            ));
        }
        if let Some(exemption) = &f.exemption {
            text.push_str(&format!(
                "  exempt: {} ({})\n",
                exemption.reason, exemption.matched
            ));
        }
        if let Some(error) = &entry.error {
            text.push_str(&format!("  error: {error}\n"));
        }
    }
    for error in &outcome.errors {
        text.push_str(&format!("\nError: {error}\n"));
    }
    let json = serde_json::to_string(outcome).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    Notification {
        subject,
        text,
        json,
        attributes: vec![
            ("account_id", account.to_owned()),
            (
                "actor_arn",
                outcome
                    .event
                    .actor_arn
                    .clone()
                    .unwrap_or_else(|| "unknown".to_owned()),
            ),
            ("region", region.to_owned()),
            ("group_id", groups.join(",")),
            ("action", action.to_owned()),
            ("severity", severity.to_string()),
        ],
    }
}

/// One structured log line and one CloudWatch Embedded Metric Format line per event.
fn log_outcome(outcome: &EventOutcome) {
    tracing::info!(
        account = outcome.account_id.as_deref().unwrap_or("-"),
        region = outcome.region.as_deref().unwrap_or("-"),
        event = %outcome.event.name,
        event_id = outcome.event.id.as_deref().unwrap_or("-"),
        status = ?outcome.status,
        findings = outcome.findings.len(),
        revoked = outcome.count(Outcome::Revoked),
        failed = outcome.count(Outcome::Failed),
        "event handled"
    );
}

/// The CloudWatch Embedded Metric Format document for an outcome (printed by the Lambda).
pub fn metrics_line(outcome: &EventOutcome, timestamp_ms: u128) -> String {
    let mut properties = serde_json::Map::new();
    properties.insert("account_id".to_owned(), outcome.account_id.clone().into());
    properties.insert("region".to_owned(), outcome.region.clone().into());
    properties.insert("event_id".to_owned(), outcome.event.id.clone().into());
    crate::report::emf_line(
        timestamp_ms,
        outcome.mode,
        &[
            ("Findings", "Count", outcome.findings.len().into()),
            ("Revoked", "Count", outcome.count(Outcome::Revoked).into()),
            ("Failed", "Count", outcome.count(Outcome::Failed).into()),
            ("Exempt", "Count", outcome.count(Outcome::Exempt).into()),
        ],
        properties,
    )
}
