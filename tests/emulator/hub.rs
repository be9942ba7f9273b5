//! The hub flow against the AWS API emulator (moto server, over HTTP on loopback): an
//! Organization with the hub and member accounts in two regions, members reached only through
//! AssumeRole, notifications read back from an SQS queue subscribed to the topic
//! (`emulator.rs`). Here: the events the tests send and the handler that takes them; the tests,
//! by subject, in `hub/`.

mod attribution;
mod consistency;
mod failures;
mod prefix_lists;
mod revocation;
mod tags;
mod throttling;

use serde_json::{Value, json};
use sgguard::aws::Aws;
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::event::EventHandler;
use sgguard::enforce::state::HubState;
use sgguard::outcome::Mode;
use sgguard::policy::Baseline;

pub(crate) fn actor(account: &str, who: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/Developer/{who}")
}

/// An EventBridge event as the hub bus delivers it.
fn event(
    account: &str,
    region: &str,
    name: &str,
    actor_arn: &str,
    request: Value,
    response: Value,
) -> Value {
    json!({
        "version": "0",
        "id": format!("evt-{name}-{account}-{region}"),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": account,
        "time": "2026-11-27T08:00:00Z",
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"type": "AssumedRole", "arn": actor_arn, "accountId": account},
            "eventTime": "2026-11-27T08:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": "198.51.100.23",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": request,
            "responseElements": response,
            "eventID": format!("{name}-{account}"),
            "recipientAccountId": account,
        }
    })
}

pub(crate) fn authorize_event(
    account: &str,
    region: &str,
    who: &str,
    group_id: &str,
    rules: &[Value],
) -> Value {
    event(
        account,
        region,
        "AuthorizeSecurityGroupIngress",
        &actor(account, who),
        json!({"groupId": group_id, "ipPermissions": {"items": []}}),
        json!({"_return": true, "securityGroupRuleSet": {"items": rules}}),
    )
}

pub(crate) fn remediator<'a>(
    aws: &'a Aws,
    baseline: &'a Baseline,
    mode: Mode,
    topic: &'a str,
) -> EventHandler<'a, Aws> {
    EventHandler {
        hub: aws,
        baseline,
        staging: mode.into(),
        topic_arn: Some(topic),
        // Each handler its own breaker with the default limits (a test's process lives briefly).
        state: Box::leak(Box::new(HubState::in_process(Limits::default()))),
        record_queue: None,
        caveat: None,
        unloaded: None,
        outputs: Default::default(),
        deadline: None,
    }
}
