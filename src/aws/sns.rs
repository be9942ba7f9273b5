//! SNS: publishing one message with readable text for email, JSON for every other protocol,
//! and message attributes that subscriptions can filter on.

use aws_sdk_sns::types::MessageAttributeValue;

use super::AwsError;
use crate::ids::Arn;

/// The `MessageStructure=json` body: the JSON once, as `default`, which every protocol but
/// email (SQS, Lambda, HTTPS, email-json) receives; the text for email.
pub fn message_body(text: &str, json: &str) -> String {
    serde_json::json!({"default": json, "email": text}).to_string()
}

/// Publishes a message (`subject` under 100 characters); the hub's own credentials, the
/// topic's region. Attributes with empty values are left out.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    subject: &str,
    text: &str,
    json: &str,
    attributes: &[(&'static str, String)],
) -> Result<String, AwsError> {
    let arn = topic_arn.parse::<Arn>().ok();
    let (account, region) = arn
        .as_ref()
        .map_or(("?", "?"), |a| (a.account(), a.region()));
    let body = message_body(text, json);
    let mut request = sns
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message_structure("json")
        .message(body);
    for (name, value) in attributes {
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
