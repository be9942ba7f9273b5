//! The worker step: one batch of the plan's accounts swept exactly as the one-process sweep
//! sweeps them (one AssumeRole per account, its regions concurrently, the tamper check), its
//! report written as the sweep's part; it answers small (counts and the part's key), since the
//! Map keeps every answer. An account that fails is data in the part, never the worker's error;
//! only a part that cannot be written fails the worker (the Map retries it, and the summarize
//! step names its accounts as not swept if it never succeeds).

use super::{WorkerRequest, WorkerResult, run_prefix};
use crate::aws::OrgAccount;
use crate::enforce::HubApi;
use crate::enforce::disposition::Failure;
use crate::enforce::event::HandleError;
use crate::enforce::scope::Scope;
use crate::enforce::sweep::Sweep;

/// Sweeps the batch's accounts with `sweep` (its hub, baseline, state and modes) and writes
/// the part. The sweep's revocations count against the one per-sweep limit of every worker.
pub async fn work<H: HubApi>(
    sweep: &Sweep<'_, H>,
    request: WorkerRequest,
) -> Result<WorkerResult, Failure> {
    let batch = request.batch;
    let scope = Scope::parse(&[], &[], &batch.regions)
        .map_err(|e| Failure::SweepRequest(format!("`BatchInput.regions`: {e}")))?;
    let ids: Vec<String> = request.items.iter().map(|a| a.account_id.clone()).collect();
    let Some(first) = ids.first() else {
        return Err(Failure::SweepRequest("`Items` is empty".to_owned()));
    };
    let accounts: Vec<OrgAccount> = request.items.into_iter().map(OrgAccount::from).collect();
    let budget = sweep.state().breaker.shared_sweep(&batch.sweep_id);
    let report = sweep.run_listed(accounts, &scope.regions, budget).await;
    // One part per batch: the Map never gives an account to two batches, so the first
    // account and the batch's size name it (a retried batch writes the same part again).
    let part_key = format!(
        "{}/parts/{first}-{}.json",
        run_prefix(&batch.sweep_id),
        ids.len()
    );
    let body = serde_json::to_vec(&report)?;
    sweep
        .hub()
        .put_report(&batch.bucket, &part_key, body)
        .await
        .map_err(|error| Failure::from(HandleError::from_aws(error)))?;
    tracing::info!(sweep_id = %batch.sweep_id, accounts = ids.len(), findings = report.totals.counts.findings, "sweep batch done");
    Ok(WorkerResult {
        sgguard: "sweep-worker".to_owned(),
        sweep_id: batch.sweep_id,
        part_key,
        accounts: ids,
        totals: report.totals,
        errors: report.errors.len(),
    })
}
