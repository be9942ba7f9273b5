//! Security Hub in a member account: sgguard's findings imported in ASFF (BatchImportFindings),
//! through the role sgguard assumes there.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, Partition, RecordState, Resource, Severity,
    SeverityLabel, Workflow, WorkflowStatus,
};

use super::AwsError;
use crate::finding::AsffFinding;

fn typed(finding: &AsffFinding) -> AwsSecurityFinding {
    let mut builder = AwsSecurityFinding::builder()
        .schema_version(&finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(finding.severity.label.as_str()))
                .build(),
        )
        .title(&finding.title)
        .description(&finding.description)
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(finding.compliance.status.as_str()))
                .build(),
        )
        .workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(finding.workflow.status.as_str()))
                .build(),
        )
        .record_state(RecordState::from(finding.record_state.as_str()));
    for kind in &finding.types {
        builder = builder.types(kind);
    }
    for resource in &finding.resources {
        builder = builder.resources(
            Resource::builder()
                .r#type(&resource.kind)
                .id(&resource.id)
                .partition(Partition::from(resource.partition.as_str()))
                .region(&resource.region)
                .build(),
        );
    }
    for (key, value) in &finding.product_fields {
        builder = builder.product_fields(key, value);
    }
    builder.build()
}

/// Imports the findings (at most 100 per call, as Security Hub takes them); how many were
/// imported. A finding Security Hub refuses is an error naming it.
pub async fn import(
    client: &aws_sdk_securityhub::Client,
    account: &str,
    region: &str,
    findings: &[AsffFinding],
) -> Result<usize, AwsError> {
    let mut imported = 0;
    for chunk in findings.chunks(100) {
        let output = client
            .batch_import_findings()
            .set_findings(Some(chunk.iter().map(typed).collect()))
            .send()
            .await
            .map_err(|e| AwsError::new("BatchImportFindings", account, region, &e))?;
        imported += usize::try_from(output.success_count().unwrap_or(0)).unwrap_or(0);
        if let Some(failed) = output.failed_findings().first() {
            return Err(AwsError {
                operation: "BatchImportFindings",
                account: account.to_owned(),
                region: region.to_owned(),
                code: failed.error_code().map(str::to_owned),
                message: format!(
                    "finding `{}`: {}",
                    failed.id().unwrap_or("?"),
                    failed.error_message().unwrap_or("refused")
                ),
            });
        }
    }
    Ok(imported)
}
