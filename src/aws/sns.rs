//! Notifications: one SNS message per event, readable text for email and the outcome JSON for
//! machines, with message attributes that subscriptions can filter on.

use aws_sdk_sns::types::MessageAttributeValue;

use super::AwsError;

/// What to publish; built by the remediation flow from an event's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// At most 100 characters (SNS's limit for email subjects).
    pub subject: String,
    pub text: String,
    pub json: String,
    /// `account_id`, `actor_arn`, `region`, `group_id`, `action`, `severity`.
    pub attributes: Vec<(&'static str, String)>,
}

/// Publishes a notification; the hub's own credentials, the topic's region.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    notification: &Notification,
) -> Result<String, AwsError> {
    let region = topic_arn.split(':').nth(3).unwrap_or("?");
    let account = topic_arn.split(':').nth(4).unwrap_or("?");
    let body = serde_json::json!({
        "default": notification.json,
        "email": notification.text,
        "email-json": notification.json,
        "sqs": notification.json,
        "lambda": notification.json,
        "https": notification.json,
    });
    let mut request = sns
        .publish()
        .topic_arn(topic_arn)
        .subject(&notification.subject)
        .message_structure("json")
        .message(body.to_string());
    for (name, value) in &notification.attributes {
        if value.is_empty() {
            continue;
        }
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| AwsError {
                operation: "Publish",
                account: account.to_owned(),
                region: region.to_owned(),
                code: None,
                message: format!("message attribute `{name}`: {e}"),
            })?;
        request = request.message_attributes(*name, attribute);
    }
    let output = request
        .send()
        .await
        .map_err(|e| AwsError::new("Publish", account, region, &e))?;
    Ok(output.message_id().unwrap_or_default().to_owned())
}
