//! The plan step: the scope's accounts listed once (Organizations), written to the report
//! bucket as the Map's items (`items.json`, thousands of accounts exceed a state's payload),
//! with the request kept beside them for the summarize step.

use serde_json::Value;

use super::{BatchInput, PlanResult, PlannedAccount, run_prefix};
use crate::enforce::HubApi;
use crate::enforce::disposition::Failure;
use crate::enforce::event::HandleError;
use crate::enforce::scheduled::SweepRequest;
use crate::enforce::scope::{Scope, ScopeError};
use crate::enforce::sweep::accounts;

/// Lists the accounts of `scope` and writes them as the items of sweep `sweep_id` to `bucket`
/// (`payload` is the request as sent, kept as `plan.json`). The accounts that cannot be listed
/// fail the step: nothing is swept on a partial list.
pub async fn plan<H: HubApi>(
    hub: &H,
    request: &SweepRequest,
    payload: &Value,
    scope: &Scope,
    bucket: &str,
    sweep_id: &str,
) -> Result<PlanResult, Failure> {
    let listed = accounts(hub, scope).await.map_err(|error| match error {
        ScopeError::Aws(error) => HandleError::from_aws(error).into(),
        other => Failure::SweepRequest(other.to_string()),
    })?;
    let items: Vec<PlannedAccount> = listed.into_iter().map(PlannedAccount::from).collect();
    let prefix = run_prefix(sweep_id);
    let items_key = format!("{prefix}/items.json");
    let write = |key: String, body: Vec<u8>| async move {
        hub.put_report(bucket, &key, body)
            .await
            .map_err(|error| Failure::from(HandleError::from_aws(error)))
    };
    write(
        format!("{prefix}/plan.json"),
        payload.to_string().into_bytes(),
    )
    .await?;
    let body = serde_json::to_vec(&items)?;
    write(items_key.clone(), body).await?;
    tracing::info!(sweep_id, accounts = items.len(), "sweep planned");
    Ok(PlanResult {
        sgguard: "sweep-plan",
        sweep_id: sweep_id.to_owned(),
        bucket: bucket.to_owned(),
        items_key,
        accounts: items.len(),
        batch_input: BatchInput {
            sgguard: "sweep-worker".to_owned(),
            sweep_id: sweep_id.to_owned(),
            bucket: bucket.to_owned(),
            // The scope's regions (the payload's, else `SGGUARD_REGIONS`): the workers and
            // the summarize step's coverage check walk the same ones.
            regions: scope.regions.named().to_vec(),
            remediate: request.remediate,
            concurrency: request.concurrency(),
        },
    })
}

/// A new sweep's id: when it was planned (UTC, to the second) and 8 hex digits.
pub fn new_sweep_id() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{}-{:08x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        now.subsec_nanosecond()
    )
}
