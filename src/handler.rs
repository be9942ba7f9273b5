//! The hub's handler: what one invocation does with its payload (a CloudTrail event, the
//! scheduled sweep, a step of the distributed sweep), for the Lambda (`lambda.rs`) and the
//! `sweep` command alike; [`Hub`] is what every invocation shares.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::aws::Aws;
use crate::enforce::coverage::StackSet;
use crate::enforce::disposition::{self, Disposition, Failure};
use crate::enforce::distributed::Step;
use crate::enforce::event::{EventHandler, HandleError};
use crate::enforce::exemptions::{Current, ExemptionStore, Unloaded};
use crate::enforce::scheduled::{ScheduledSweep, SweepRequest};
use crate::enforce::staging::Staging;
use crate::enforce::state::HubState;
use crate::enforce::sweep::Sweep;
use crate::enforce::tamper::TamperCheck;
use crate::outcome::Mode;
use crate::policy::Baseline;
use crate::report::deliver::Delivery;
use crate::settings::Settings;

mod steps;

/// Time kept back from the Lambda's deadline to finish a sweep's report and notification.
const SWEEP_RESERVE: Duration = Duration::from_secs(45);

/// What every invocation shares.
pub struct Hub {
    pub settings: Settings,
    /// The baseline as built (with the exemptions file's entries: [`Hub::current`]).
    pub baseline: Arc<Baseline>,
    /// The exemptions file (`SGGUARD_EXEMPTIONS_URI`), kept fresh; none when unset.
    pub exemptions: Option<ExemptionStore>,
    pub aws: Arc<Aws>,
    /// The mode per scope, read and its scopes confirmed by Organizations at start.
    pub staging: Staging,
    /// Shared by every invocation of this instance (per-account limits span invocations).
    pub state: HubState,
    /// What the scheduled sweep checks of each member's spoke stack (the Lambda always checks).
    pub tamper: Option<TamperCheck>,
}

impl Hub {
    /// The hub of `settings`, as the Lambda's init and the `sweep` command start it: the
    /// exemptions file's store, the state, the tamper check, and the mode per scope (read from
    /// S3 now when it is kept there), whose scopes must be the organization's (an object that
    /// cannot be read or an unknown scope is the error, naming it).
    pub async fn start(
        settings: Settings,
        baseline: Arc<Baseline>,
        aws: Arc<Aws>,
    ) -> Result<Hub, crate::enforce::staging::ScopeCheckError> {
        let staging = settings.checked_staging(&aws).await?;
        let exemptions = settings.exemptions_uri.clone().map(|uri| {
            ExemptionStore::new(
                uri,
                settings.exemptions_ttl,
                settings.exemptions_max_days,
                Arc::clone(&baseline),
            )
        });
        Ok(Hub {
            staging,
            state: settings.hub_state(&aws),
            tamper: Some(settings.tamper_check(&aws)),
            settings,
            baseline,
            exemptions,
            aws,
        })
    }

    /// The baseline to judge with now: the built one with the exemptions file's entries, and
    /// what the messages must say when that file could not be reloaded; [`Unloaded`] while no
    /// good file was ever read.
    /// A version of the file read for the first time in this process is announced (once for
    /// the whole hub, through the hub state's announcements); an announcement that fails is logged, never fails
    /// the invocation.
    pub async fn current(&self) -> Result<Current, Unloaded> {
        let Some(store) = &self.exemptions else {
            return Ok(Current {
                baseline: Arc::clone(&self.baseline),
                caveat: None,
            });
        };
        let current = store.current(self.aws.as_ref()).await;
        if let Some(news) = store.take_news().await {
            let announced = self
                .state
                .announcements
                .announce(
                    self.aws.as_ref(),
                    &self.delivery(),
                    store.base(),
                    store.uri(),
                    &news,
                    self.aws.hub_account(),
                )
                .await;
            match announced {
                Ok(announced) => {
                    tracing::info!(uri = %store.uri(), ?announced, "exemptions version announced")
                }
                Err(error) => {
                    tracing::error!(uri = %store.uri(), error = %error, "the exemptions change could not be announced; the next process that reads this version tries again")
                }
            }
        }
        current
    }

    /// Where this hub's messages go.
    fn delivery(&self) -> Delivery<'_> {
        Delivery {
            topic_arn: self.settings.topic_arn.as_deref(),
            record_queue: self.settings.record_queue_url.as_deref(),
            outputs: &self.settings.outputs,
        }
    }
}

/// The invocation error the Lambda service sees: `errorType` says what kind.
#[derive(Debug)]
pub struct InvocationError(pub Failure);

/// Handles one invocation: the handler takes its dependencies as arguments. `deadline` is when
/// the invocation must end (a sweep stops starting new work before it).
pub async fn handle(
    hub: &Hub,
    payload: Value,
    deadline: Option<Instant>,
) -> Result<Value, InvocationError> {
    // A step of the distributed sweep (the hub's state machine), before the one-process
    // sweep: its payloads are no events either.
    if let Some(step) = Step::parse(&payload) {
        return match step {
            Ok(step) => steps::run(hub, step, payload, deadline).await,
            Err(failure) => answer(Disposition::<Value>::Retry(failure)),
        };
    }
    if SweepRequest::is_request(&payload) {
        return answer(sweep(hub, payload, deadline).await);
    }
    let current = hub.current().await;
    let (baseline, caveat, unloaded) = match &current {
        Ok(current) => (&current.baseline, current.caveat.as_deref(), None),
        Err(unloaded) => (&hub.baseline, None, Some(unloaded)),
    };
    let handler = EventHandler {
        hub: hub.aws.as_ref(),
        baseline,
        staging: hub.staging.clone(),
        topic_arn: hub.settings.topic_arn.as_deref(),
        state: &hub.state,
        record_queue: hub.settings.record_queue_url.as_deref(),
        caveat,
        unloaded,
        outputs: hub.settings.outputs.clone(),
        deadline,
    };
    let (outcome, error) = handler.handle(&payload).await;
    let undecided = matches!(error, Some(HandleError::Undecided(_)));
    hub.settings.outputs.metrics.event(&outcome, undecided);
    answer(disposition::of_event(outcome, error))
}

/// The runtime's answer to a disposition: the result as JSON, or the invocation's error.
fn answer<T: Serialize>(disposition: Disposition<T>) -> Result<Value, InvocationError> {
    match disposition {
        Disposition::Done(result) | Disposition::Recorded(result) => {
            serde_json::to_value(result).map_err(|e| InvocationError(e.into()))
        }
        Disposition::Retry(failure) => Err(InvocationError(failure)),
    }
}

/// The scheduled sweep: every account and region, one summary notification.
async fn sweep(
    hub: &Hub,
    payload: Value,
    deadline: Option<Instant>,
) -> Disposition<crate::enforce::scheduled::SweepResult> {
    let request = match SweepRequest::parse(payload) {
        Ok(request) => request,
        Err(failure) => return Disposition::Retry(failure),
    };
    let scope = match request.scope(hub.settings.regions.as_deref().unwrap_or_default()) {
        Ok(scope) => scope,
        Err(failure) => return Disposition::Retry(failure),
    };
    tracing::info!(?scope, remediate = request.remediate, mode = %hub.settings.mode, "sweep started");
    let (current, staging) = sweep_judging(hub).await;
    let sweep = hub_sweep(
        hub,
        &current,
        staging,
        request.remediate,
        request.concurrency(),
    )
    .deadline(deadline.map(|d| d.checked_sub(SWEEP_RESERVE).unwrap_or(d)));
    scheduled(hub, sweep, &current).run(&scope).await
}

/// What a sweep judges with: the baseline with the exemptions file, and the modes. Without a
/// good exemptions file the sweep only reports (what is exempt is unknown), and says why in
/// its summary.
async fn sweep_judging(hub: &Hub) -> (Current, Staging) {
    match hub.current().await {
        Ok(current) => (current, hub.staging.clone()),
        Err(unloaded) => (
            Current {
                baseline: Arc::clone(&hub.baseline),
                caveat: Some(format!(
                    "{unloaded}: nothing was revoked, findings are reported"
                )),
            },
            Staging::uniform(Mode::Audit),
        ),
    }
}

/// The hub's sweep (one process, or one worker of a distributed sweep): held-back rules
/// settled, the spokes checked.
fn hub_sweep<'a>(
    hub: &'a Hub,
    current: &'a Current,
    staging: Staging,
    remediate: bool,
    concurrency: usize,
) -> Sweep<'a, Aws> {
    Sweep::new(&*hub.aws, &current.baseline, &hub.state)
        .staging(staging)
        .remediate(remediate)
        .revoke_held(true)
        .concurrency(concurrency)
        .tamper(hub.tamper.as_ref())
        .context_tags(hub.settings.outputs.context_tags.clone())
}

/// What follows the hub's sweep: coverage, the stored report, one summary.
fn scheduled<'a>(
    hub: &'a Hub,
    sweep: Sweep<'a, Aws>,
    current: &Current,
) -> ScheduledSweep<'a, Aws> {
    ScheduledSweep {
        sweep,
        stack_set: hub.settings.stackset_name.clone().map(|name| StackSet {
            name,
            call_as: hub.settings.stackset_call_as.clone(),
        }),
        report_bucket: hub.settings.report_bucket.as_deref(),
        delivery: hub.delivery(),
        caveat: current.caveat.clone(),
    }
}
