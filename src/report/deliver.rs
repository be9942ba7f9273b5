//! Delivery: one message to every configured output (the security inbox topic, the chat topic,
//! the hub event bus) and, when the inbox cannot be reached, the durable record. The event flow
//! and the sweep both deliver through [`Delivery::send`], so `SGGUARD_MIN_SEVERITY` and every
//! delivery failure mean the same for both.

use std::future::Future;

use crate::aws::{Aws, AwsError};
use crate::finding::Severity;
use crate::report::notify::Notification;
use crate::report::record::Record;

/// Where messages can go: the topics, the event bus and the record queue. The hub's AWS
/// clients implement it, and the in-memory fake in unit tests.
pub trait Outlets: Sync {
    /// Publishes a notification; the message id.
    fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Puts an event (`source: sgguard`, `detail_type`, `detail`: a JSON object) on the event
    /// bus; the event id.
    fn put_event(
        &self,
        bus_arn: &str,
        detail_type: &str,
        detail: &str,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Sends a durable record (what the notification could not carry) to the queue; the
    /// message id.
    fn record(
        &self,
        queue_url: &str,
        record: &Record,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// Where outcomes go besides the notification topic, and which messages the topics get.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    /// `SGGUARD_MIN_SEVERITY`: messages below it are not published to the topics (the event
    /// bus and the log still get them; a failure or a tripped breaker always is); all when
    /// unset. It holds for events and sweeps alike.
    pub min_severity: Option<Severity>,
    /// `SGGUARD_CHAT_TOPIC_ARN`: a second topic that gets each message in the chat-application
    /// format (Amazon Q Developer in chat applications, formerly AWS Chatbot); none when unset.
    pub chat_topic_arn: Option<String>,
    /// `SGGUARD_EVENT_BUS_ARN`: the event bus every handled event's outcome (`Security Group
    /// Finding`) and every sweep summary (`Sweep Summary`) is put on, `source: sgguard`; none
    /// when unset.
    pub event_bus_arn: Option<String>,
    /// `SGGUARD_CONTEXT_TAGS`: the group tags a finding's message shows (comma-separated, any
    /// case); `Owner,Team,Contact` when unset.
    pub context_tags: Vec<String>,
    /// `SGGUARD_SECURITY_HUB`: import each event's findings into AWS Security Hub (ASFF) in the
    /// member account, through the remediation role; off when unset.
    pub security_hub: bool,
    /// The metrics lines (Embedded Metric Format): their namespace (`SGGUARD_METRICS_NAMESPACE`)
    /// and where they go: the Lambda's log, or the command's standard error when its standard
    /// output is its answer.
    pub metrics: super::metrics::Metrics,
}

/// Every output one message may go to.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The security inbox (`SGGUARD_TOPIC_ARN`); none: the log is the inbox.
    pub topic_arn: Option<&'a str>,
    /// Where the durable record goes when the inbox cannot be reached
    /// (`SGGUARD_RECORD_QUEUE_URL`); none: the log is the only record.
    pub record_queue: Option<&'a str>,
    pub outputs: &'a Outputs,
}

/// What became of one message.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Each output that could not be reached (chat topic, event bus, record queue), said as the
    /// outcome's errors say it. None of these fails an event or a sweep by itself.
    pub errors: Vec<String>,
    /// Why the inbox topic could not be reached, when it could not.
    pub undelivered: Option<AwsError>,
    /// The record queue's message id, when the message's record was kept there.
    pub recorded: Option<String>,
}

impl Delivered {
    /// The inbox was not reached and the record queue does not hold the message either: only
    /// the log has it.
    pub fn lost(&self) -> bool {
        self.undelivered.is_some() && self.recorded.is_none()
    }
}

impl Delivery<'_> {
    /// Sends `notification` to every configured output: the event bus always, the topics when
    /// the message [reaches](Notification::reaches) the minimum severity. When the inbox topic
    /// fails, the record `make_record` builds (given the reason) goes to the record queue;
    /// `None` from it: the caller keeps a record of its own.
    pub async fn send<O: Outlets>(
        &self,
        outlets: &O,
        notification: &Notification,
        make_record: impl FnOnce(&str) -> Option<Record>,
    ) -> Delivered {
        let mut delivered = Delivered::default();
        let loud = notification.reaches(self.outputs.min_severity);
        if !loud {
            tracing::info!(severity = %notification.severity, kind = %notification.kind, "below SGGUARD_MIN_SEVERITY: not published");
        }
        if let Some(chat) = self.outputs.chat_topic_arn.as_deref()
            && loud
            && let Err(error) = outlets.publish(chat, &notification.for_chat()).await
        {
            tracing::error!(error = %error, "chat message failed");
            delivered.errors.push(error.to_string());
        }
        if let Some(bus) = self.outputs.event_bus_arn.as_deref() {
            let detail_type = notification.kind.detail_type();
            match outlets
                .put_event(bus, detail_type, &notification.json)
                .await
            {
                Ok(id) => tracing::info!(event_id = %id, detail_type, "event put on the bus"),
                Err(error) => {
                    tracing::error!(error = %error, "event not put on the bus");
                    delivered.errors.push(error.to_string());
                }
            }
        }
        if let Some(topic) = self.topic_arn
            && loud
        {
            match outlets.publish(topic, notification).await {
                Ok(id) => {
                    tracing::info!(message_id = %id, subject = %notification.subject, "notified")
                }
                Err(error) => {
                    tracing::error!(error = %error, "notification failed");
                    delivered.errors.push(error.to_string());
                    if let Some(record) = make_record(&error.to_string()) {
                        match self.keep(outlets, &record).await {
                            Some(Ok(id)) => delivered.recorded = Some(id),
                            Some(Err(lost)) => delivered.errors.push(lost.to_string()),
                            None => {}
                        }
                    }
                    delivered.undelivered = Some(error);
                }
            }
        }
        delivered
    }

    /// Sends a durable record to the record queue; `None` when no queue is configured.
    pub async fn keep<O: Outlets>(
        &self,
        outlets: &O,
        record: &Record,
    ) -> Option<Result<String, AwsError>> {
        let queue = self.record_queue?;
        let kept = outlets.record(queue, record).await;
        match &kept {
            Ok(id) => {
                tracing::warn!(message_id = %id, kind = %record.kind, "outcome recorded in the queue")
            }
            Err(error) => {
                tracing::error!(error = %error, kind = %record.kind, "the durable record failed too")
            }
        }
        Some(kept)
    }
}

impl Outlets for Aws {
    async fn publish(
        &self,
        topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, AwsError> {
        crate::aws::publish(
            self.sns(),
            topic_arn,
            &notification.subject,
            &notification.text,
            &notification.json,
            &notification.attributes,
        )
        .await
    }

    async fn put_event(
        &self,
        bus_arn: &str,
        detail_type: &str,
        detail: &str,
    ) -> Result<String, AwsError> {
        Aws::put_event(self, bus_arn, detail_type, detail).await
    }

    async fn record(&self, queue_url: &str, record: &Record) -> Result<String, AwsError> {
        crate::aws::send_record(
            self.sqs(),
            queue_url,
            &record.body,
            record.kind.into(),
            record.account.as_deref(),
        )
        .await
    }
}
