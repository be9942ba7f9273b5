//! SQS: the durable record of an outcome the notification topic could not carry (built by the
//! report layer), sent to the queue the operator watches; and the depth of a spoke's forwarding
//! dead-letter queue, read in the account that holds it.

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};

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

/// The URL of the queue `name` of `account` in `region`, in `partition` (SQS names a queue by
/// URL: `https://sqs.REGION.DOMAIN/ACCOUNT/NAME`).
pub fn queue_url(partition: &str, region: &str, account: &str, name: &str) -> String {
    let domain = match partition {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        _ => "amazonaws.com",
    };
    format!("https://sqs.{region}.{domain}/{account}/{name}")
}

/// The queue's `ApproximateNumberOfMessages` (`GetQueueAttributes`); `None` when there is no
/// such queue (SQS says `QueueDoesNotExist`, or `AWS.SimpleQueueService.NonExistentQueue`).
pub async fn queue_depth(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    account: &str,
    region: &str,
) -> Result<Option<u64>, AwsError> {
    const OPERATION: &str = "GetQueueAttributes";
    let output = match sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
    {
        Ok(output) => output,
        Err(error) => {
            let error = AwsError::new(OPERATION, account, region, &error);
            if error.code_is("QueueDoesNotExist")
                || error.code_is("AWS.SimpleQueueService.NonExistentQueue")
            {
                return Ok(None);
            }
            return Err(error);
        }
    };
    let count = output
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .ok_or_else(|| AwsError {
            operation: OPERATION,
            account: account.to_owned(),
            region: region.to_owned(),
            code: None,
            message: format!("SQS returned no `ApproximateNumberOfMessages` for `{queue_url}`"),
        })?;
    count.parse().map(Some).map_err(|_| AwsError {
        operation: OPERATION,
        account: account.to_owned(),
        region: region.to_owned(),
        code: None,
        message: format!(
            "`ApproximateNumberOfMessages` of `{queue_url}` is `{count}`, not a count"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::queue_url;

    #[test]
    fn a_queue_url_is_built_in_the_partition_s_domain() {
        assert_eq!(
            queue_url("aws", "eu-west-1", "111122223333", "q"),
            "https://sqs.eu-west-1.amazonaws.com/111122223333/q"
        );
        assert_eq!(
            queue_url("aws-cn", "cn-north-1", "111122223333", "q"),
            "https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q"
        );
        assert_eq!(
            queue_url("aws-us-gov", "us-gov-west-1", "111122223333", "q"),
            "https://sqs.us-gov-west-1.amazonaws.com/111122223333/q"
        );
    }
}
