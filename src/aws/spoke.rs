//! What the spoke stack put in a member account, read back for the sweep's tamper check: the
//! forwarding rule on the default bus (state, pattern, targets) and the remediation role's
//! trust policy.

use super::AwsError;
use crate::ids::Arn;

/// The forwarding rule as EventBridge has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingRule {
    /// `ENABLED`, `DISABLED`, `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    /// The event pattern (JSON text), if the rule has one.
    pub pattern: Option<String>,
    /// The ARNs of the rule's targets.
    pub targets: Vec<String>,
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
        targets.extend(page.targets().iter().map(|t| t.arn().to_owned()));
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

/// The trust policy of role `name` (JSON text, URL-decoded as IAM returns it encoded); `None`
/// when there is no such role.
pub async fn role_trust(
    iam: &aws_sdk_iam::Client,
    account: &str,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let role = match iam.get_role().role_name(name).send().await {
        Ok(output) => output.role,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(AwsError::new("GetRole", account, "global", &error)),
    };
    let document = role
        .and_then(|r| r.assume_role_policy_document)
        .unwrap_or_default();
    Ok(Some(decode_policy(&document)))
}

/// IAM returns policy documents URL-encoded (RFC 3986); a document that is already JSON is
/// taken as it is.
fn decode_policy(document: &str) -> String {
    if document.trim_start().starts_with('{') {
        return document.to_owned();
    }
    percent_encoding::percent_decode_str(document)
        .decode_utf8_lossy()
        .into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_decoded_once() {
        assert_eq!(
            decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(decode_policy(r#"{"a":"%41"}"#), r#"{"a":"%41"}"#);
    }
}
