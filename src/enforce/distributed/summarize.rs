//! The summarize step: the Map's results read as AWS writes them (`ResultWriter`: a
//! `manifest.json` naming `SUCCEEDED_n.json`, `FAILED_n.json` and `PENDING_n.json` files, each a
//! JSON array of child executions with their `Input` and `Output` as JSON text), every
//! succeeded worker's part merged into one report, every account of a failed or unfinished
//! batch named as not swept (the sweep is then incomplete), and the report then finished as the
//! one-process sweep's is (coverage, stored report, metrics, one summary).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::{MapEnd, PlannedAccount, SummarizeRequest, WorkerRequest, WorkerResult, run_prefix};
use crate::enforce::HubApi;
use crate::enforce::disposition::Failure;
use crate::enforce::event::HandleError;
use crate::enforce::sweep::in_report_order;
use crate::outcome::{AccountSummary, Counts, SweepReport, SweepTotals};

/// `manifest.json`, the parts sgguard reads.
#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "ResultFiles")]
    files: ResultFiles,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResultFiles {
    #[serde(rename = "SUCCEEDED")]
    succeeded: Vec<ResultFile>,
    #[serde(rename = "FAILED")]
    failed: Vec<ResultFile>,
    #[serde(rename = "PENDING")]
    pending: Vec<ResultFile>,
}

#[derive(Deserialize)]
struct ResultFile {
    #[serde(rename = "Key")]
    key: String,
}

/// One child execution as a result file lists it.
#[derive(Deserialize)]
struct Execution {
    #[serde(rename = "Input", default)]
    input: Option<String>,
    #[serde(rename = "Output", default)]
    output: Option<String>,
    #[serde(rename = "Error", default)]
    error: Option<String>,
    #[serde(rename = "Cause", default)]
    cause: Option<String>,
}

/// Reads the Map's results of sweep `request.sweep_id` and merges the workers' parts into one
/// report. A file that cannot be read fails the step (it is retried; nothing is told on half
/// the results); a batch that failed is data: its accounts are named as not swept.
pub async fn summarize<H: HubApi>(
    hub: &H,
    request: &SummarizeRequest,
) -> Result<SweepReport, Failure> {
    let bucket = request.bucket.as_str();
    let read = |key: String| async move {
        hub.read_report(bucket, &key)
            .await
            .map_err(|error| Failure::from(HandleError::from_aws(error)))
    };
    let parse = |what: &str, key: &str, error: serde_json::Error| {
        Failure::SweepStep(format!(
            "{what} `s3://{bucket}/{key}` cannot be read: {error}"
        ))
    };
    let mut parts = Vec::new();
    let mut not_swept: Vec<(String, String)> = Vec::new();
    let manifest_key = match &request.end {
        MapEnd::Manifest(key) => key,
        MapEnd::Failed(failed) => {
            // No manifest: every planned account the sweep would have swept is named, with
            // the Map's error.
            let items_key = format!("{}/items.json", run_prefix(&request.sweep_id));
            let items: Vec<PlannedAccount> = serde_json::from_str(&read(items_key.clone()).await?)
                .map_err(|e| parse("the plan's items", &items_key, e))?;
            let why = format!("the sweep's Map failed: {}: {}", failed.error, failed.cause);
            not_swept.extend(
                items
                    .into_iter()
                    .filter(|a| a.status == "ACTIVE")
                    .map(|a| (a.account_id, why.clone())),
            );
            let mut report = merge(parts, not_swept);
            report.seconds = since_planned(&request.sweep_id).unwrap_or(report.seconds);
            return Ok(report);
        }
    };
    let manifest: Manifest = serde_json::from_str(&read(manifest_key.clone()).await?)
        .map_err(|e| parse("the Map's manifest", manifest_key, e))?;
    for file in &manifest.files.succeeded {
        let executions: Vec<Execution> = serde_json::from_str(&read(file.key.clone()).await?)
            .map_err(|e| parse("the Map's result file", &file.key, e))?;
        for execution in executions {
            let output = execution.output.as_deref().unwrap_or("null");
            let result: WorkerResult = serde_json::from_str(output)
                .map_err(|e| parse("a worker's answer in", &file.key, e))?;
            if result.sweep_id != request.sweep_id {
                return Err(Failure::SweepStep(format!(
                    "`s3://{bucket}/{}` holds a worker of sweep `{}`, not of `{}`",
                    file.key, result.sweep_id, request.sweep_id
                )));
            }
            let part = read(result.part_key.clone()).await?;
            parts.push(
                serde_json::from_str::<SweepReport>(&part)
                    .map_err(|e| parse("the part", &result.part_key, e))?,
            );
        }
    }
    for (file, how) in manifest
        .files
        .failed
        .iter()
        .map(|f| (f, "failed"))
        .chain(manifest.files.pending.iter().map(|f| (f, "did not finish")))
    {
        let executions: Vec<Execution> = serde_json::from_str(&read(file.key.clone()).await?)
            .map_err(|e| parse("the Map's result file", &file.key, e))?;
        for execution in executions {
            let why = match (&execution.error, &execution.cause) {
                (Some(error), Some(cause)) => format!("its batch {how}: {error}: {cause}"),
                (Some(error), None) => format!("its batch {how}: {error}"),
                _ => format!("its batch {how}"),
            };
            for account in batch_accounts(execution.input.as_deref()) {
                not_swept.push((account, why.clone()));
            }
        }
    }
    let mut report = merge(parts, not_swept);
    if let Some(took) = since_planned(&request.sweep_id) {
        report.seconds = took.max(report.seconds);
    }
    Ok(report)
}

/// Seconds from the sweep's plan to now (its id says when it was planned).
fn since_planned(sweep_id: &str) -> Option<f64> {
    let planned = sweep_id
        .get(..16)
        .and_then(|at| jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", at).ok())
        .and_then(|at| at.to_datetime().ok())
        .and_then(|at| at.to_zoned(jiff::tz::TimeZone::UTC).ok())?;
    Some(
        jiff::Timestamp::now()
            .duration_since(planned.timestamp())
            .as_secs_f64(),
    )
}

/// The accounts of a batch, from a child execution's `Input` (the worker's payload); none
/// when it cannot be read (then the report says a batch's accounts are unknown).
fn batch_accounts(input: Option<&str>) -> Vec<String> {
    let request = input
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|value| serde_json::from_value::<WorkerRequest>(value).ok());
    match request {
        Some(request) => request.items.into_iter().map(|a| a.account_id).collect(),
        None => vec!["(a batch whose accounts cannot be read)".to_owned()],
    }
}

/// The workers' parts as one report, the accounts of failed batches named as not swept.
fn merge(parts: Vec<SweepReport>, not_swept: Vec<(String, String)>) -> SweepReport {
    let mut parts = parts.into_iter();
    let mut report = parts.next().unwrap_or_else(empty);
    for part in parts {
        report.rules_evaluated += part.rules_evaluated;
        report.totals.add(&part.totals);
        report.accounts.extend(part.accounts);
        report.skipped_accounts.extend(part.skipped_accounts);
        report.findings.extend(part.findings);
        report.errors.extend(part.errors);
        report.tampering.extend(part.tampering);
        report.undelivered.extend(part.undelivered);
        report.gaps.extend(part.gaps);
        report.coverage_gaps.extend(part.coverage_gaps);
        report.breaker = report.breaker.or(part.breaker);
        report.seconds = report.seconds.max(part.seconds);
    }
    let swept: BTreeSet<String> = report
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    for (account, why) in not_swept {
        if swept.contains(&account) {
            continue;
        }
        report
            .errors
            .push(format!("account {account}: not swept: {why}"));
        report.accounts.push(AccountSummary {
            account_id: account,
            account_name: None,
            mode: report.mode,
            mode_by: None,
            counts: Counts::default(),
            regions: Vec::new(),
            error: Some(format!("not swept: {why}")),
        });
    }
    in_report_order(&mut report);
    report
}

/// The report of a sweep no worker reported on.
fn empty() -> SweepReport {
    SweepReport {
        version: 1,
        mode: crate::outcome::Mode::Audit,
        remediate: false,
        rules_evaluated: 0,
        totals: SweepTotals::default(),
        accounts: Vec::new(),
        skipped_accounts: Vec::new(),
        findings: Vec::new(),
        errors: Vec::new(),
        tampering: Vec::new(),
        undelivered: Vec::new(),
        gaps: Vec::new(),
        coverage_gaps: Vec::new(),
        breaker: None,
        seconds: 0.0,
        coverage: None,
        stored: None,
    }
}
