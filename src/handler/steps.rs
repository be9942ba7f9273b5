//! The distributed sweep's steps as the hub runs them (its Lambda, the `sweep` command): plan, a worker's batch, summarize
//! (`enforce::distributed`), each with the hub's settings, state and judging.

use std::time::Instant;

use serde_json::Value;

use super::{Hub, SWEEP_RESERVE, answer, hub_sweep, scheduled, sweep_judging};
use crate::enforce::HubApi as _;
use crate::enforce::disposition::{Disposition, Failure};
use crate::enforce::distributed::{self, Step};
use crate::enforce::scheduled::SweepRequest;

/// Runs one step and answers it. A worker's deadline stops it from starting new account ×
/// regions (what it could not sweep is in its part as not swept).
pub(super) async fn run(
    hub: &Hub,
    step: Step,
    payload: Value,
    deadline: Option<Instant>,
) -> Result<Value, super::InvocationError> {
    let regions = hub.settings.regions.as_deref().unwrap_or_default();
    match step {
        Step::Plan(request, _) => {
            let Some(bucket) = hub.settings.report_bucket.as_deref() else {
                return answer(Disposition::<Value>::Retry(no_bucket()));
            };
            let scope = match request.scope(regions) {
                Ok(scope) => scope,
                Err(failure) => return answer(Disposition::<Value>::Retry(failure)),
            };
            let planned = distributed::plan(
                hub.aws.as_ref(),
                &request,
                &payload,
                &scope,
                bucket,
                &distributed::new_sweep_id(),
            )
            .await;
            answer(disposition(planned))
        }
        Step::Worker(request) => {
            let (current, staging) = sweep_judging(hub).await;
            let sweep = hub_sweep(
                hub,
                &current,
                staging,
                request.batch.remediate,
                request.batch.concurrency,
            )
            .deadline(deadline.map(|d| d.checked_sub(SWEEP_RESERVE).unwrap_or(d)));
            answer(disposition(distributed::work(&sweep, request).await))
        }
        Step::Summarize(request) => {
            // The scope the plan was asked for (the coverage check walks its regions).
            let plan_key = format!("{}/{}/plan.json", distributed::RUNS, request.sweep_id);
            let plan = match hub.aws.read_report(&request.bucket, &plan_key).await {
                Ok(text) => text,
                Err(error) => {
                    return answer(Disposition::<Value>::Retry(
                        crate::enforce::event::HandleError::from_aws(error).into(),
                    ));
                }
            };
            let scope = serde_json::from_str::<Value>(&plan)
                .map_err(|e| Failure::SweepStep(format!("`{plan_key}` cannot be read: {e}")))
                .and_then(|plan| SweepRequest::parse_as(plan, "sweep-plan"))
                .and_then(|plan| plan.scope(regions).map(|scope| (plan, scope)));
            let (plan, scope) = match scope {
                Ok(read) => read,
                Err(failure) => return answer(Disposition::<Value>::Retry(failure)),
            };
            let report = match distributed::summarize(hub.aws.as_ref(), &request).await {
                Ok(report) => report,
                Err(failure) => return answer(Disposition::<Value>::Retry(failure)),
            };
            let (current, staging) = sweep_judging(hub).await;
            let sweep = hub_sweep(hub, &current, staging, plan.remediate, plan.concurrency());
            answer(scheduled(hub, sweep, &current).finish(&scope, report).await)
        }
    }
}

fn disposition<T>(result: Result<T, Failure>) -> Disposition<T> {
    match result {
        Ok(done) => Disposition::Done(done),
        Err(failure) => Disposition::Retry(failure),
    }
}

fn no_bucket() -> Failure {
    Failure::SweepRequest(
        "the distributed sweep keeps its items and parts in the report bucket: set \
         `SGGUARD_REPORT_BUCKET`"
            .to_owned(),
    )
}
