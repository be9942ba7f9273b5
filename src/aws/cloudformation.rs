//! CloudFormation: the spoke StackSet's instances, one per account × region (coverage).

use aws_sdk_cloudformation::types::CallAs;

use super::AwsError;

/// One stack instance of the StackSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInstance {
    pub account: String,
    pub region: String,
    /// `CURRENT`, `OUTDATED` or `INOPERABLE`, as CloudFormation says it.
    pub status: String,
    /// `SUCCEEDED`, `FAILED`, `RUNNING`, …; empty when not given.
    pub detailed_status: String,
    pub reason: Option<String>,
}

/// Every instance of the StackSet `name` (ListStackInstances, paginated), called as the
/// management account (`SELF`) or a delegated administrator (`DELEGATED_ADMIN`).
pub async fn stack_instances(
    cloudformation: &aws_sdk_cloudformation::Client,
    name: &str,
    call_as: &str,
) -> Result<Vec<StackInstance>, AwsError> {
    let region = cloudformation
        .config()
        .region()
        .map_or_else(|| "?".to_owned(), ToString::to_string);
    let mut pages = cloudformation
        .list_stack_instances()
        .stack_set_name(name)
        .call_as(CallAs::from(call_as))
        .into_paginator()
        .send();
    let mut instances = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let mut error = AwsError::new("ListStackInstances", "hub", &region, &e);
            error.message = format!("StackSet `{name}`: {}", error.message);
            error
        })?;
        for summary in page.summaries() {
            instances.push(StackInstance {
                account: summary.account().unwrap_or_default().to_owned(),
                region: summary.region().unwrap_or_default().to_owned(),
                status: summary
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                detailed_status: summary
                    .stack_instance_status()
                    .and_then(|s| s.detailed_status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: summary.status_reason().map(str::to_owned),
            });
        }
    }
    Ok(instances)
}
