//! SARIF 2.1.0 for code-scanning tools (GitHub code scanning among them): one result per
//! violation, the baseline's rules as the tool's rules, exempt findings as suppressed results.

use std::collections::BTreeMap;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run,
    Sarif, Suppression, Tool, ToolComponent,
};

use crate::finding::{Finding, Report, Severity};
use crate::policy::Baseline;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// GitHub's `security-severity` score for a severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn text(value: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(value.into())
        .build()
}

fn descriptor(rule: &crate::policy::BaselineRule) -> ReportingDescriptor {
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_owned(),
        json!(security_severity(rule.severity)),
    );
    extra.insert("action".to_owned(), json!(rule.action.to_string()));
    let mut tags = vec!["security".to_owned(), "aws-security-group".to_owned()];
    tags.extend(rule.references.iter().cloned());
    let full = rule.description.clone().unwrap_or_else(|| {
        format!(
            "{}. Action: {}; severity: {}.",
            rule.title, rule.action, rule.severity
        )
    });
    ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(rule.id.clone())
        .short_description(text(rule.title.clone()))
        .full_description(text(full))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(rule.severity).to_string()))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(extra)
                .build(),
        )
        .build()
}

fn location(finding: &Finding) -> Location {
    let uri = finding
        .source
        .clone()
        .unwrap_or_else(|| "sgguard".to_owned());
    let subject = format!(
        "{} {} {}",
        finding.rule.account_id.as_deref().unwrap_or("-"),
        finding.rule.region.as_deref().unwrap_or("-"),
        finding.rule.group_id.as_deref().unwrap_or("-"),
    );
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(uri).build())
                .region(Region::builder().start_line(1).build())
                .build(),
        )
        .message(Message::builder().text(subject).build())
        .build()
}

/// Renders the report as a SARIF 2.1.0 log.
pub fn sarif(report: &Report, baseline: &Baseline) -> Result<String, serde_json::Error> {
    let mut results = Vec::new();
    for finding in &report.findings {
        for violation in &finding.violations {
            let rule_index = baseline
                .rules
                .iter()
                .position(|r| r.id == violation.policy_rule)
                .and_then(|i| i64::try_from(i).ok());
            let fingerprint = format!(
                "{}/{}/{}/{}/{}/{}/{}",
                finding.rule.account_id.as_deref().unwrap_or("-"),
                finding.rule.region.as_deref().unwrap_or("-"),
                finding.rule.group_id.as_deref().unwrap_or("-"),
                finding.rule.rule_id.as_deref().unwrap_or("-"),
                finding.rule.direction,
                finding.rule.peer,
                violation.policy_rule
            );
            let mut properties = BTreeMap::new();
            properties.insert("finding".to_owned(), serde_json::to_value(finding)?);
            let builder = SarifResult::builder()
                .rule_id(violation.policy_rule.clone())
                .level(level(violation.severity))
                .message(
                    Message::builder()
                        .text(format!(
                            "{} ({} {}, group {}, rule {})",
                            violation.reason,
                            violation.action,
                            violation.severity,
                            finding.rule.group_id.as_deref().unwrap_or("-"),
                            finding.rule.rule_id.as_deref().unwrap_or("-")
                        ))
                        .build(),
                )
                .locations(vec![location(finding)])
                .partial_fingerprints(BTreeMap::from([(
                    "sgguardFinding/v1".to_owned(),
                    fingerprint,
                )]))
                .properties(
                    PropertyBag::builder()
                        .additional_properties(properties)
                        .build(),
                );
            let result = match (&violation.exemption, rule_index) {
                (Some(reason), Some(index)) => builder
                    .rule_index(index)
                    .suppressions(vec![exempted(reason)])
                    .build(),
                (Some(reason), None) => builder.suppressions(vec![exempted(reason)]).build(),
                (None, Some(index)) => builder.rule_index(index).build(),
                (None, None) => builder.build(),
            };
            results.push(result);
        }
    }
    let driver = ToolComponent::builder()
        .name("sgguard".to_owned())
        .version(env!("CARGO_PKG_VERSION").to_owned())
        .semantic_version(env!("CARGO_PKG_VERSION").to_owned())
        .rules(baseline.rules.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA.to_owned())
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log)
}

fn exempted(reason: &str) -> Suppression {
    Suppression::builder()
        .kind(json!("external"))
        .justification(reason.to_owned())
        .build()
}
