//! SQS: the durable record of an outcome the notification topic could not carry (built by the
//! report layer), sent to the queue the operator watches.

use aws_sdk_sqs::types::MessageAttributeValue;

use super::AwsError;

/// Sends `body` to the queue at `queue_url` (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`)
/// with `kind` and `account_id` (the `member` account it is about) as message attributes; the
/// message id.
pub async fn send_record(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    body: &str,
    kind: &str,
    member: Option<&str>,
) -> Result<String, AwsError> {
    let mut parts = queue_url.trim_end_matches('/').rsplit('/');
    let _name = parts.next();
    let account = parts.next().unwrap_or("?");
    let region = sqs.config().region().map_or("?", |r| r.as_ref());
    let failure = |message: String| AwsError {
        operation: "SendMessage",
        account: account.to_owned(),
        region: region.to_owned(),
        code: None,
        message,
    };
    let mut request = sqs.send_message().queue_url(queue_url).message_body(body);
    let attributes = [("kind", Some(kind)), ("account_id", member)];
    for (name, value) in attributes {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| failure(format!("message attribute `{name}`: {e}")))?;
        request = request.message_attributes(name, attribute);
    }
    let output = request
        .send()
        .await
        .map_err(|e| AwsError::new("SendMessage", account, region, &e))?;
    Ok(output.message_id().unwrap_or_default().to_owned())
}
