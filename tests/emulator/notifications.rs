//! Where the security inbox's messages also go, against the emulator: every handled event's
//! outcome as an EventBridge event (`source: sgguard`) reaching a queue through a rule of the
//! findings bus, the chat topic's messages in the documented custom-notification format, a
//! subscription filter policy on the `severity` attribute, and the minimum severity. The
//! documents are checked against `docs/finding-event.schema.json` and
//! `docs/chatbot-notification.schema.json`.

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::IpPermission;
use serde_json::{Value, json};
use sgguard::aws::Aws;
use sgguard::enforce::Outputs;
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::event::EventHandler;
use sgguard::enforce::state::HubState;
use sgguard::finding::Severity;
use sgguard::outcome::Mode;
use sgguard::policy::Baseline;

use crate::emulator::{HUB_REGION, Org, open_tagged_rules, tcp};
use crate::hub::authorize_event;

pub(crate) fn schema(name: &str) -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

pub(crate) fn valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

/// A queue of the hub account: its URL and ARN.
async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    (url, arn)
}

/// The bodies in the queue, waiting up to a few seconds for `at_least` of them.
pub(crate) async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, at_least: usize) -> Vec<Value> {
    let mut bodies = Vec::new();
    let start = Instant::now();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in got.messages() {
            bodies.push(serde_json::from_str(message.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if got.messages().is_empty()
            && (bodies.len() >= at_least || start.elapsed() > Duration::from_secs(8))
        {
            return bodies;
        }
    }
}

/// The findings bus `sgguard-findings` (the hub module's, which only sgguard writes) and a rule
/// sending sgguard's events (`source: sgguard`) to a queue, as a user would route them: the bus
/// ARN and the queue URL.
pub(crate) async fn bus_to_queue(org: &Org) -> (String, String) {
    let hub = org.emulator.hub_config(HUB_REGION);
    let (sqs, events) = (
        aws_sdk_sqs::Client::new(&hub),
        aws_sdk_eventbridge::Client::new(&hub),
    );
    let bus = events
        .create_event_bus()
        .name("sgguard-findings")
        .send()
        .await
        .unwrap()
        .event_bus_arn()
        .unwrap()
        .to_owned();
    let (url, arn) = queue(&sqs, "sgguard-findings").await;
    events
        .put_rule()
        .name("sgguard-findings-to-queue")
        .event_bus_name("sgguard-findings")
        .event_pattern(json!({"source": ["sgguard"]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("sgguard-findings-to-queue")
        .event_bus_name("sgguard-findings")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (bus, url)
}

fn handler<'a>(
    aws: &'a Aws,
    baseline: &'a Baseline,
    org: &'a Org,
    outputs: Outputs,
) -> EventHandler<'a, Aws> {
    EventHandler {
        hub: aws,
        baseline,
        staging: Mode::Enforce.into(),
        topic_arn: Some(&org.topic_arn),
        state: Box::leak(Box::new(HubState::in_process(Limits::default()))),
        record_queue: None,
        caveat: None,
        unloaded: None,
        outputs,
        deadline: None,
    }
}

/// A new group of `account` (tagged `Owner=payments`, `CostCenter=42`) with these rules opened,
/// and the event that opened them.
async fn opened(org: &Org, account: &str, name: &str, permissions: Vec<IpPermission>) -> Value {
    let ec2 = org.member_ec2(account, HUB_REGION).await;
    let tags = [("Owner", "payments"), ("CostCenter", "42")];
    let (group, rules) = open_tagged_rules(&ec2, name, &tags, permissions).await;
    authorize_event(account, HUB_REGION, "erin", &group, &rules)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_reach_the_bus_the_chat_topic_and_the_subscriptions_their_filters_allow() {
    let org = Org::new().await;
    let member = org.members[0].clone();
    let hub = org.emulator.hub_config(HUB_REGION);
    let (sqs, sns) = (
        aws_sdk_sqs::Client::new(&hub),
        aws_sdk_sns::Client::new(&hub),
    );

    // The findings bus with a rule for sgguard's events, as a user would route them.
    let (bus, findings_url) = bus_to_queue(&org).await;
    // The pager: only `critical` messages (docs/notifications.md, "Routing messages").
    let (pager_url, pager_arn) = queue(&sqs, "pager").await;
    sns.subscribe()
        .topic_arn(&org.topic_arn)
        .protocol("sqs")
        .endpoint(&pager_arn)
        .attributes(
            "FilterPolicy",
            json!({"severity": ["critical"]}).to_string(),
        )
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    // The chat topic, read through a queue.
    let chat_topic = sns
        .create_topic()
        .name("sgguard-chat")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let (chat_url, chat_arn) = queue(&sqs, "chat").await;
    sns.subscribe()
        .topic_arn(&chat_topic)
        .protocol("sqs")
        .endpoint(&chat_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();

    let aws = org.aws().await;
    let baseline = Baseline::default_baseline().unwrap();
    let outputs = Outputs {
        min_severity: None,
        chat_topic_arn: Some(chat_topic.clone()),
        event_bus_arn: Some(bus.clone()),
        context_tags: vec!["Owner".to_owned(), "Team".to_owned()],
        security_hub: true,
        ..Outputs::default()
    };
    // SSH to the internet (critical), then an unapproved port (medium, reported).
    let ssh = opened(&org, &member, "ssh", vec![tcp(22, "0.0.0.0/0")]).await;
    let api = opened(&org, &member, "api", vec![tcp(8443, "0.0.0.0/0")]).await;
    let all = handler(&aws, &baseline, &org, outputs.clone());
    assert_eq!(all.handle(&ssh).await.1, None);
    assert_eq!(all.handle(&api).await.1, None);

    // Every message in the inbox; only the critical one on the pager.
    assert_eq!(org.inbox().await.len(), 2);
    let paged = drain(&sqs, &pager_url, 1).await;
    assert_eq!(paged.len(), 1, "{paged:#?}");
    assert_eq!(
        paged[0]["findings"][0]["group_id"],
        ssh["detail"]["requestParameters"]["groupId"]
    );

    // The chat messages: the documented custom-notification format.
    let chat_schema = schema("chatbot-notification.schema.json");
    let chats = drain(&sqs, &chat_url, 2).await;
    assert_eq!(chats.len(), 2, "{chats:#?}");
    for chat in &chats {
        valid(&chat_schema, chat);
        assert!(
            chat["content"]["title"]
                .as_str()
                .unwrap()
                .contains("sgguard:")
        );
    }

    // The bus: one `Security Group Finding` per event, with the finding's attribution.
    let event_schema = schema("finding-event.schema.json");
    let put = drain(&sqs, &findings_url, 2).await;
    assert_eq!(put.len(), 2, "{put:#?}");
    for event in &put {
        valid(&event_schema, event);
        assert_eq!(event["detail-type"], "Security Group Finding");
        let finding = &event["detail"]["findings"][0];
        assert_eq!(finding["attribution"], "this_change");
        // Whose group it is and where: name, VPC, the owner tags asked for, the console.
        let group = &finding["group"];
        assert!(["ssh", "api"].contains(&group["group_name"].as_str().unwrap()));
        assert!(group["vpc_id"].as_str().unwrap().starts_with("vpc-"));
        assert_eq!(group["tags"], json!({"Owner": "payments"}));
        assert!(group["console_url"].as_str().unwrap().ends_with(&format!(
            "#SecurityGroup:groupId={}",
            finding["group_id"].as_str().unwrap()
        )));
    }

    // Security Hub in the member account: both findings, ASFF, the revoked one resolved.
    // The SDK's GetFindings answer (hundreds of nested ASFF attributes) needs more stack than
    // a test thread has in a debug build: read it on a thread of its own.
    let config = org.member_config(&member, HUB_REGION);
    let statuses: Vec<(String, String)> = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let found = aws_sdk_securityhub::Client::new(&config)
                    .get_findings()
                    .send()
                    .await
                    .unwrap();
                found
                    .findings()
                    .iter()
                    .map(|f| {
                        let label = f.severity().and_then(|s| s.label());
                        let status = f.workflow().and_then(|w| w.status());
                        (
                            label.map(|l| l.as_str().to_owned()).unwrap_or_default(),
                            status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(
        statuses.contains(&("CRITICAL".to_owned(), "RESOLVED".to_owned())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("MEDIUM".to_owned(), "NEW".to_owned())),
        "{statuses:?}"
    );

    // A minimum severity of `high`: the medium finding reaches the bus, not the topics.
    let quiet = handler(
        &aws,
        &baseline,
        &org,
        Outputs {
            min_severity: Some(Severity::High),
            ..outputs
        },
    );
    let later = opened(&org, &member, "api-2", vec![tcp(8443, "0.0.0.0/0")]).await;
    assert_eq!(quiet.handle(&later).await.1, None);
    assert!(org.inbox().await.is_empty());
    assert!(drain(&sqs, &chat_url, 0).await.is_empty());
    let put = drain(&sqs, &findings_url, 1).await;
    assert_eq!(put.len(), 1);
    valid(&event_schema, &put[0]);
    assert_eq!(org.emulator.count("events:PutEvents"), 3);
}
