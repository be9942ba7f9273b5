//! What the spoke stack put in a member account's EventBridge, read back for the sweep's tamper
//! check (the forwarding rule on the default bus: state, pattern, targets), and the one event
//! sgguard puts on a bus itself.

use super::AwsError;
use crate::ids::Arn;

/// The forwarding rule as EventBridge has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingRule {
    /// `ENABLED`, `DISABLED`, `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    /// The event pattern (JSON text), if the rule has one.
    pub pattern: Option<String>,
    /// The rule's targets.
    pub targets: Vec<RuleTarget>,
}

/// One target of the forwarding rule, as much of it as decides where the events go and in
/// what shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTarget {
    pub id: String,
    pub arn: String,
    /// The role EventBridge sends as (`RoleArn`).
    pub role_arn: Option<String>,
    /// How the target rewrites the event, when it does (`Input`, `InputPath`,
    /// `InputTransformer`): the hub then receives something other than the CloudTrail event.
    pub rewrites: Vec<&'static str>,
}

impl RuleTarget {
    fn of(target: &aws_sdk_eventbridge::types::Target) -> RuleTarget {
        let rewrites = [
            ("Input", target.input().is_some()),
            ("InputPath", target.input_path().is_some()),
            ("InputTransformer", target.input_transformer().is_some()),
        ];
        RuleTarget {
            id: target.id().to_owned(),
            arn: target.arn().to_owned(),
            role_arn: target.role_arn().map(str::to_owned),
            rewrites: rewrites
                .into_iter()
                .filter_map(|(field, present)| present.then_some(field))
                .collect(),
        }
    }
}

/// The rule `name` on the default bus, with its targets; `None` when there is no such rule.
pub async fn forwarding_rule(
    events: &aws_sdk_eventbridge::Client,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<ForwardingRule>, AwsError> {
    let rule = match events.describe_rule().name(name).send().await {
        Ok(rule) => rule,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(AwsError::new("DescribeRule", account, region, &error)),
    };
    let mut targets = Vec::new();
    let mut token = None;
    loop {
        let page = events
            .list_targets_by_rule()
            .rule(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::new("ListTargetsByRule", account, region, &e))?;
        targets.extend(page.targets().iter().map(RuleTarget::of));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(Some(ForwardingRule {
        state: rule
            .state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        pattern: rule.event_pattern().map(str::to_owned),
        targets,
    }))
}

/// Puts one event (`source: sgguard`) on the bus `bus_arn`; the event id. An entry EventBridge
/// refuses is an error with its code.
pub async fn put_event(
    events: &aws_sdk_eventbridge::Client,
    bus_arn: &str,
    detail_type: &str,
    detail: &str,
) -> Result<String, AwsError> {
    let arn = bus_arn.parse::<Arn>().ok();
    let (account, region) = arn
        .as_ref()
        .map_or(("?", "?"), |a| (a.account(), a.region()));
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source("sgguard")
        .detail_type(detail_type)
        .detail(detail)
        .event_bus_name(bus_arn)
        .build();
    let output = events
        .put_events()
        .entries(entry)
        .send()
        .await
        .map_err(|e| AwsError::new("PutEvents", account, region, &e))?;
    match output.entries().first() {
        Some(result) if result.error_code().is_none() => {
            Ok(result.event_id().unwrap_or_default().to_owned())
        }
        Some(result) => Err(AwsError {
            operation: "PutEvents",
            account: account.to_owned(),
            region: region.to_owned(),
            code: result.error_code().map(str::to_owned),
            message: result.error_message().unwrap_or("refused").to_owned(),
        }),
        None => Err(AwsError {
            operation: "PutEvents",
            account: account.to_owned(),
            region: region.to_owned(),
            code: None,
            message: "no entry in the answer".to_owned(),
        }),
    }
}
