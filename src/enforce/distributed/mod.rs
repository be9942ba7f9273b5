//! The organization sweep in three steps, for Step Functions Distributed Map (the hub module's
//! state machine): **plan** lists the scope's accounts and writes them to the report bucket,
//! the Map hands them out in batches to **workers** (each sweeps its accounts as the one-process
//! sweep does and writes its part of the report), and **summarize** reads the Map's results
//! (AWS's `ResultWriter` files), merges one report and tells it once. Each step is a payload of
//! the one binary, so the Lambda and the CLI run the same code; the sweep's circuit breaker is
//! one for all workers (the hub state table's per-sweep counter).

mod plan;
mod summarize;
#[cfg(test)]
mod tests;
mod worker;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::disposition::Failure;
use super::scheduled::SweepRequest;
use crate::aws::OrgAccount;
use crate::outcome::SweepTotals;

pub use plan::{new_sweep_id, plan};
pub use summarize::summarize;
pub use worker::work;

/// Where a distributed sweep keeps its files in the report bucket: `<RUNS>/<sweep id>/…`.
pub const RUNS: &str = "sweeps/runs";

/// One step's payload.
#[derive(Debug)]
pub enum Step {
    /// `{"sgguard": "sweep-plan", ...}`: the keys of the scheduled sweep's payload (kept as
    /// sent too: the summarize step reads the scope from it).
    Plan(SweepRequest, Value),
    /// `{"BatchInput": {"sgguard": "sweep-worker", ...}, "Items": [...]}`: what the Map's
    /// `ItemBatcher` gives each worker.
    Worker(WorkerRequest),
    /// `{"sgguard": "sweep-summarize", "sweep_id", "bucket", "manifest_key" | "map_error"}`.
    Summarize(SummarizeRequest),
}

impl Step {
    /// The step `payload` asks for; `None` when it is no step of the distributed sweep; a
    /// payload that names a step but does not read as one is a [`Failure::SweepRequest`].
    pub fn parse(payload: &Value) -> Option<Result<Step, Failure>> {
        let read = |e: serde_json::Error| Failure::SweepRequest(e.to_string());
        if payload.get("BatchInput").is_some() {
            return Some(
                serde_json::from_value::<WorkerRequest>(payload.clone())
                    .map_err(read)
                    .and_then(WorkerRequest::checked)
                    .map(Step::Worker),
            );
        }
        match payload.get("sgguard").and_then(Value::as_str)? {
            "sweep-plan" => Some(
                SweepRequest::parse_as(payload.clone(), "sweep-plan")
                    .map(|request| Step::Plan(request, payload.clone())),
            ),
            "sweep-summarize" => Some(
                serde_json::from_value::<SummarizePayload>(payload.clone())
                    .map_err(read)
                    .and_then(SummarizeRequest::try_from)
                    .map(Step::Summarize),
            ),
            _ => None,
        }
    }
}

/// One account as the plan writes it (`items.json`, one JSON array) and a worker reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedAccount {
    pub account_id: String,
    #[serde(default)]
    pub account_name: Option<String>,
    pub status: String,
}

impl From<OrgAccount> for PlannedAccount {
    fn from(account: OrgAccount) -> Self {
        PlannedAccount {
            account_id: account.id,
            account_name: account.name,
            status: account.status,
        }
    }
}

impl From<PlannedAccount> for OrgAccount {
    fn from(account: PlannedAccount) -> Self {
        OrgAccount {
            id: account.account_id,
            name: account.account_name,
            status: account.status,
        }
    }
}

/// What every worker of one sweep is told besides its accounts (the Map's `BatchInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// `sweep-worker`.
    pub sgguard: String,
    pub sweep_id: String,
    /// The report bucket the parts are written to.
    pub bucket: String,
    /// The regions to sweep in each account (empty: every enabled one).
    pub regions: Vec<String>,
    pub remediate: bool,
    /// Account × regions one worker sweeps at once.
    pub concurrency: usize,
}

/// A worker's payload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerRequest {
    #[serde(rename = "BatchInput")]
    pub batch: BatchInput,
    #[serde(rename = "Items")]
    pub items: Vec<PlannedAccount>,
}

impl WorkerRequest {
    fn checked(self) -> Result<WorkerRequest, Failure> {
        if self.batch.sgguard != "sweep-worker" {
            return Err(Failure::SweepRequest(format!(
                "`BatchInput.sgguard` is `{}`: expected `sweep-worker`",
                self.batch.sgguard
            )));
        }
        check_sweep_id(&self.batch.sweep_id)?;
        Ok(self)
    }
}

/// The summarize step's payload as sent: the sweep and either the Map's
/// `ResultWriterDetails.Key` or the error the Map failed with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SummarizePayload {
    /// `sweep-summarize` (the step is chosen by it before this is read).
    #[serde(rename = "sgguard")]
    _step: String,
    sweep_id: String,
    bucket: String,
    #[serde(default)]
    manifest_key: Option<String>,
    #[serde(default)]
    map_error: Option<MapError>,
}

/// The summarize step's request.
#[derive(Debug)]
pub struct SummarizeRequest {
    pub sweep_id: String,
    pub bucket: String,
    pub end: MapEnd,
}

/// A failed state's error as Step Functions hands it to a `Catch`.
#[derive(Debug, Clone, Deserialize)]
pub struct MapError {
    #[serde(rename = "Error", default)]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// How the Map ended, which says what summarize reads.
#[derive(Debug, Clone)]
pub enum MapEnd {
    /// The Map ended; its `manifest.json`.
    Manifest(String),
    /// The Map failed (past its tolerated failures, or its items or results unreadable):
    /// every planned account is named as not swept.
    Failed(MapError),
}

impl TryFrom<SummarizePayload> for SummarizeRequest {
    type Error = Failure;

    fn try_from(payload: SummarizePayload) -> Result<Self, Failure> {
        check_sweep_id(&payload.sweep_id)?;
        let end = match (payload.manifest_key, payload.map_error) {
            (Some(key), None) => MapEnd::Manifest(key),
            (None, Some(error)) => MapEnd::Failed(error),
            _ => {
                return Err(Failure::SweepRequest(
                    "a `sweep-summarize` payload names either `manifest_key` (the Map ended) \
                     or `map_error` (it failed), and not both"
                        .to_owned(),
                ));
            }
        };
        Ok(SummarizeRequest {
            sweep_id: payload.sweep_id,
            bucket: payload.bucket,
            end,
        })
    }
}

/// What the plan answers (the state machine reads `bucket`, `items_key`, `batch_input`).
#[derive(Debug, Clone, Serialize)]
pub struct PlanResult {
    pub sgguard: &'static str,
    pub sweep_id: String,
    pub bucket: String,
    pub items_key: String,
    pub accounts: usize,
    pub batch_input: BatchInput,
}

/// What a worker answers: small (the Map keeps every answer), its findings in its part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerResult {
    pub sgguard: String,
    pub sweep_id: String,
    /// Its part of the report (a whole report of its accounts) in the report bucket.
    pub part_key: String,
    pub accounts: Vec<String>,
    pub totals: SweepTotals,
    pub errors: usize,
}

/// A sweep id names files in the bucket: only what the plan makes (time and hex digits).
fn check_sweep_id(id: &str) -> Result<(), Failure> {
    let fine = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if fine {
        Ok(())
    } else {
        Err(Failure::SweepRequest(format!(
            "`sweep_id` `{id}` is not a sweep id (letters, digits and `-`)"
        )))
    }
}

/// The sweep's own folder in the bucket.
fn run_prefix(sweep_id: &str) -> String {
    format!("{RUNS}/{sweep_id}")
}
