//! The one delivery path over the in-memory fake: events and sweep summaries are delivered by
//! the same rules.

use super::fake::Fake;
use crate::finding::Severity;
use crate::report::deliver::{Delivery, Outputs};
use crate::report::notify::Notification;
use crate::report::notify::{Headline, Kind, Told};
use crate::report::record::Record;
use crate::report::record::RecordKind;

const TOPIC: &str = "arn:aws:sns:eu-west-1:999999999999:sgguard";
const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/999999999999/sgguard-dlq";

fn message(kind: Kind, headline: Headline, found: Severity) -> Notification {
    let told = Told {
        kind,
        headline,
        found,
        breaker: false,
        place: vec![("account_id", "111122223333".to_owned())],
    };
    Notification::new(
        told,
        "subject".to_owned(),
        "text".to_owned(),
        "{}".to_owned(),
    )
}

fn outputs(min: Severity) -> Outputs {
    Outputs {
        min_severity: Some(min),
        chat_topic_arn: Some(format!("{TOPIC}-chat")),
        event_bus_arn: Some("arn:aws:events:eu-west-1:999999999999:event-bus/hub".to_owned()),
        ..Outputs::default()
    }
}

fn record(reason: &str) -> Option<Record> {
    Some(Record {
        kind: RecordKind::UndeliveredNotification,
        body: reason.to_owned(),
        account: None,
    })
}

/// Events and sweep summaries are delivered by the same rule: the bus always gets them,
/// the topics only at the minimum severity unless a failure makes them urgent.
#[tokio::test]
async fn the_minimum_severity_holds_alike_for_events_and_sweeps() {
    for kind in [Kind::Event, Kind::Sweep] {
        let outputs = outputs(Severity::High);
        let delivery = Delivery {
            topic_arn: Some(TOPIC),
            record_queue: Some(QUEUE),
            outputs: &outputs,
        };
        let fake = Fake::default();
        let quiet = message(kind, Headline::Reported, Severity::Medium);
        let delivered = delivery.send(&fake, &quiet, record).await;
        assert!(delivered.errors.is_empty() && delivered.undelivered.is_none());
        assert!(fake.published().is_empty(), "{kind}: below the minimum");
        assert_eq!(fake.events().len(), 1, "{kind}: the bus gets every message");
        assert_eq!(fake.events()[0].0, kind.detail_type());
        let loud = message(kind, Headline::Revoked, Severity::High);
        delivery.send(&fake, &loud, record).await;
        assert_eq!(fake.published().len(), 2, "{kind}: inbox and chat");
        let failed = message(kind, Headline::Failed, Severity::Low);
        delivery.send(&fake, &failed, record).await;
        assert_eq!(
            fake.published().len(),
            4,
            "{kind}: a failure always goes out"
        );
        assert_eq!(fake.events().len(), 3);
    }
}

/// A failed output is told the same way whichever path sent the message: the bus and the
/// chat topic are errors; the inbox topic is undelivered and its record kept.
#[tokio::test]
async fn every_delivery_failure_is_told_alike_for_events_and_sweeps() {
    for kind in [Kind::Event, Kind::Sweep] {
        let outputs = outputs(Severity::Info);
        let delivery = Delivery {
            topic_arn: Some(TOPIC),
            record_queue: Some(QUEUE),
            outputs: &outputs,
        };
        let fake = Fake::default().failing_bus();
        let loud = message(kind, Headline::Revoked, Severity::High);
        let delivered = delivery.send(&fake, &loud, record).await;
        assert_eq!(delivered.errors.len(), 1, "{kind}: {:?}", delivered.errors);
        assert!(
            delivered.errors[0].contains("PutEvents"),
            "{:?}",
            delivered.errors
        );
        assert!(delivered.undelivered.is_none() && !delivered.lost());

        let fake = Fake::default().failing_publish();
        let delivered = delivery.send(&fake, &loud, record).await;
        assert!(delivered.undelivered.is_some(), "{kind}");
        assert_eq!(delivered.recorded.as_deref(), Some("record-1"));
        assert!(!delivered.lost(), "{kind}: the record queue holds it");
        assert_eq!(fake.recorded().len(), 1);
        assert!(
            fake.recorded()[0].body.contains("Publish"),
            "the reason is recorded"
        );

        let fake = Fake::default().failing_publish().failing_record();
        let delivered = delivery.send(&fake, &loud, record).await;
        assert!(delivered.lost(), "{kind}: neither inbox nor queue has it");
    }
}
