//! The Lambda face: one-time initialization (settings, baseline, AWS clients), then the
//! runtime loop. A baseline that fails to load fails the init: nothing is ever revoked with a
//! policy sgguard could not read.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::Value;

use crate::aws::Aws;
use crate::aws::OrgAccount;
use crate::enforce::HubApi as _;
use crate::enforce::breaker::Breaker;
use crate::enforce::coverage::{CoverageCheck, StackSet};
use crate::enforce::event::{EventHandler, HandleError};
use crate::enforce::exemptions::{Current, ExemptionStore};
use crate::enforce::scope::{Scope, ScopeError};
use crate::enforce::staging::Staging;
use crate::enforce::sweep::Sweep;
use crate::enforce::tamper::TamperCheck;
use crate::outcome::{Mode, StoredReport, SweepReport};
use crate::policy::Baseline;
use crate::report::metrics::{event_metrics_line, sweep_metrics_line};
use crate::report::notify::{SWEEP_DETAIL_TYPE, sweep_notification};
use crate::report::record;
use crate::settings::Settings;
use crate::telemetry::{self, LogFormat};

/// Time kept back from the Lambda's deadline to finish a sweep's report and notification.
const SWEEP_RESERVE: Duration = Duration::from_secs(45);
/// Account × regions a scheduled sweep works on at once, unless the payload says.
const SWEEP_CONCURRENCY: usize = 16;

/// The scheduled sweep's payload (hub/schedule.tf):
/// `{"sgguard": "sweep", "regions": [...], "remediate": true}`, optionally with `accounts`
/// (`["org"]`, `["self"]` or ids), `ous` and `concurrency`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepRequest {
    sgguard: String,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    remediate: bool,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    ous: Vec<String>,
    concurrency: Option<usize>,
}

/// What every invocation shares.
pub struct Hub {
    pub settings: Settings,
    /// The baseline as built (with the exemptions file's entries: [`Hub::current`]).
    pub baseline: Arc<Baseline>,
    /// The exemptions file (`SGGUARD_EXEMPTIONS_URI`), kept fresh; none when unset.
    pub exemptions: Option<ExemptionStore>,
    pub aws: Arc<Aws>,
    /// Shared by every invocation of this instance (per-account limits span invocations).
    pub breaker: Breaker,
    /// What the scheduled sweep checks of each member's spoke stack (the Lambda always checks).
    pub tamper: Option<TamperCheck>,
}

impl Hub {
    /// The baseline to judge with now: the built one with the exemptions file's entries, and
    /// what the messages must say when that file could not be (re)loaded.
    pub async fn current(&self) -> Current {
        match &self.exemptions {
            Some(store) => store.current(self.aws.as_ref()).await,
            None => Current {
                baseline: Arc::clone(&self.baseline),
                caveat: None,
                audit_only: false,
            },
        }
    }

    /// The mode per scope; one `audit` everywhere while no good exemptions file was read.
    fn staging(&self, current: &Current) -> Staging {
        if current.audit_only {
            Staging::uniform(Mode::Audit)
        } else {
            self.settings.staging()
        }
    }
}

/// The invocation error the Lambda service sees: `errorType` says what kind.
#[derive(Debug)]
pub struct InvocationError(pub HandleError);

impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: error.0.error_type().to_owned(),
            error_message: error.0.to_string(),
        }
    }
}

/// Handles one invocation: the handler takes its dependencies as arguments. `deadline` is when
/// the invocation must end (a sweep stops starting new work before it).
pub async fn handle(
    hub: &Hub,
    payload: Value,
    deadline: Option<Instant>,
) -> Result<Value, InvocationError> {
    if payload.get("sgguard").is_some() {
        return sweep(hub, payload, deadline).await;
    }
    let current = hub.current().await;
    let handler = EventHandler {
        hub: hub.aws.as_ref(),
        baseline: &current.baseline,
        staging: hub.staging(&current),
        topic_arn: hub.settings.topic_arn.as_deref(),
        breaker: &hub.breaker,
        record_queue: hub.settings.record_queue_url.as_deref(),
        caveat: current.caveat.as_deref(),
        outputs: hub.settings.outputs.clone(),
    };
    let (outcome, error) = handler.handle(&payload).await;
    println!(
        "{}",
        event_metrics_line(&outcome, now_ms().unwrap_or_default())
    );
    let handled = match &error {
        None => true,
        // A tripped breaker is handled, not failed: Lambda's retry would bring a fresh budget
        // and revoke another batch. The critical message is sent and the `BreakerTripped`
        // metric has its own alarm.
        Some(HandleError::CircuitBreaker(_)) => true,
        // An event sgguard cannot read is handled once its record (with the event) is in the
        // queue: a retry would read it no better. Without the record, Lambda's on-failure
        // destination keeps it.
        Some(HandleError::Malformed(_)) => outcome.recorded.is_some(),
        Some(_) => false,
    };
    match error {
        Some(error) if !handled => Err(InvocationError(error)),
        _ => serde_json::to_value(&outcome)
            .map_err(|e| InvocationError(HandleError::Malformed(e.to_string()))),
    }
}

/// The scheduled sweep: every account and region, one summary notification. Failures of some
/// accounts or regions are reported in the notification, the result and the `SweepFailures`
/// metric; the invocation still succeeds, so Lambda does not sweep everything again.
async fn sweep(
    hub: &Hub,
    payload: Value,
    deadline: Option<Instant>,
) -> Result<Value, InvocationError> {
    let malformed = |message: String| InvocationError(HandleError::Malformed(message));
    let request: SweepRequest =
        serde_json::from_value(payload).map_err(|e| malformed(format!("sweep payload: {e}")))?;
    if request.sgguard != "sweep" {
        return Err(malformed(format!(
            "`sgguard` is `{}`: the only request is `sweep`",
            request.sgguard
        )));
    }
    let regions = if request.regions.is_empty() {
        hub.settings.regions.clone().unwrap_or_default()
    } else {
        request.regions
    };
    let scope = Scope::parse(&request.accounts, &request.ous, &regions)
        .map_err(|e| malformed(format!("sweep payload: {e}")))?;
    tracing::info!(?scope, remediate = request.remediate, mode = %hub.settings.mode, "sweep started");
    let current = hub.current().await;
    let sweep = Sweep {
        aws: &hub.aws,
        baseline: &current.baseline,
        staging: hub.staging(&current),
        remediate: request.remediate,
        concurrency: request
            .concurrency
            .unwrap_or(SWEEP_CONCURRENCY)
            .clamp(1, 256),
        deadline: deadline.map(|d| d.checked_sub(SWEEP_RESERVE).unwrap_or(d)),
        progress: indicatif::ProgressBar::hidden(),
        breaker: &hub.breaker,
        tamper: hub.tamper.as_ref(),
        context_tags: hub.settings.outputs.context_tags.clone(),
    };
    let mut report = sweep.run(&scope).await.map_err(|e| {
        InvocationError(match e {
            ScopeError::Aws(error) => HandleError::from_aws(error),
            other => HandleError::Malformed(other.to_string()),
        })
    })?;
    if let Some(caveat) = current.caveat {
        report.errors.push(caveat);
    }
    if let (Some(name), Some(tamper)) = (&hub.settings.stackset_name, &hub.tamper) {
        let stack_set = StackSet {
            name: name.clone(),
            call_as: hub.settings.stackset_call_as.clone(),
        };
        // The accounts the sweep just listed (the active ones of the scope): not listed again.
        let accounts = report
            .accounts
            .iter()
            .map(|a| OrgAccount {
                id: a.account_id.clone(),
                name: a.account_name.clone(),
                status: "ACTIVE".to_owned(),
            })
            .collect();
        let check = CoverageCheck {
            aws: &hub.aws,
            stack_set: Some(&stack_set),
            tamper,
            accounts,
        };
        match check.run(&scope).await {
            Ok(coverage) => {
                report.errors.extend(coverage.errors.iter().cloned());
                report.coverage = Some(coverage);
            }
            Err(error) => report.errors.push(format!("coverage: {error}")),
        }
    }
    if let Some(bucket) = hub.settings.report_bucket.as_deref() {
        store_report(hub, bucket, &mut report).await;
    }
    println!(
        "{}",
        sweep_metrics_line(&report, now_ms().unwrap_or_default())
    );
    let t = &report.totals;
    tracing::info!(
        accounts = report.accounts.len(),
        rules = t.rules,
        findings = t.findings,
        revoked = t.revoked,
        failed = report.errors.len(),
        seconds = report.seconds,
        "sweep finished"
    );
    // An incomplete sweep is reported, not failed: Lambda's retry would sweep the whole
    // organization again. The summary says what failed and `SweepFailures` has its own alarm.
    // A summary that could not be sent goes to the record queue with the whole report; only
    // when that fails too does the invocation fail (so the on-failure destination keeps it).
    let mut recorded = None;
    let notification = sweep_notification(&report, hub.aws.hub_account());
    // The summary also goes to the event bus and the chat topic; neither failure fails the
    // sweep (the inbox's summary is the record).
    let outputs = &hub.settings.outputs;
    if let Some(bus) = outputs.event_bus_arn.as_deref()
        && let Err(error) = hub
            .aws
            .put_event(bus, SWEEP_DETAIL_TYPE, &notification.json)
            .await
    {
        tracing::error!(error = %error, "sweep summary not put on the bus");
    }
    if let Some(chat) = outputs.chat_topic_arn.as_deref()
        && let Err(error) = hub.aws.publish(chat, &notification.for_chat()).await
    {
        tracing::error!(error = %error, "sweep chat message failed");
    }
    if let Some(topic) = hub.settings.topic_arn.as_deref() {
        match hub.aws.publish(topic, &notification).await {
            Ok(id) => tracing::info!(message_id = %id, subject = %notification.subject, "notified"),
            Err(error) => {
                tracing::error!(error = %error, "sweep notification failed");
                let kept = match hub.settings.record_queue_url.as_deref() {
                    Some(queue) => hub
                        .aws
                        .record(
                            queue,
                            &record::undelivered_sweep(&report, &error.to_string()),
                        )
                        .await
                        .inspect_err(
                            |e| tracing::error!(error = %e, "the sweep's record failed too"),
                        )
                        .ok(),
                    None => None,
                };
                match kept {
                    Some(id) => {
                        tracing::warn!(message_id = %id, "sweep report recorded in the queue");
                        recorded = Some(id);
                    }
                    None => return Err(InvocationError(HandleError::Notification(error))),
                }
            }
        }
    }
    serde_json::to_value(serde_json::json!({
        "sgguard": "sweep",
        "status": if report.incomplete() { "incomplete" } else { "complete" },
        "accounts": report.accounts.len(),
        "totals": report.totals,
        "errors": report.errors,
        "seconds": report.seconds,
        "recorded": recorded,
    }))
    .map_err(|e| malformed(e.to_string()))
}

/// Writes the whole report (the document `scan --format json` prints) to the report bucket,
/// under `sweeps/YYYY/MM/DD/`; the summary then links to it. A report that cannot be written is
/// a failure the summary lists (the summary itself still goes out).
async fn store_report(hub: &Hub, bucket: &str, report: &mut SweepReport) {
    let now = jiff::Timestamp::now();
    let key = format!(
        "sweeps/{}/{}-{:08x}.json",
        now.strftime("%Y/%m/%d"),
        now.strftime("%Y%m%dT%H%M%SZ"),
        now.subsec_nanosecond()
    );
    let body = match serde_json::to_vec_pretty(&report) {
        Ok(body) => body,
        Err(error) => {
            report
                .errors
                .push(format!("the sweep report could not be written: {error}"));
            return;
        }
    };
    match hub.aws.put_json(bucket, &key, body).await {
        Ok(()) => {
            let stored = StoredReport::new(bucket, &key, hub.aws.home_region());
            tracing::info!(uri = %stored.uri, "sweep report stored");
            report.stored = Some(stored);
        }
        Err(error) => {
            tracing::error!(error = %error, "sweep report not stored");
            report
                .errors
                .push(format!("the sweep report could not be stored: {error}"));
        }
    }
}

/// Milliseconds since the epoch (EMF timestamps, the runtime's deadline).
fn now_ms() -> Option<u128> {
    Some(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis(),
    )
}

/// When the invocation must end, from the runtime's deadline (milliseconds since the epoch).
fn deadline_of(context: &lambda_runtime::Context) -> Option<Instant> {
    let left = u128::from(context.deadline).checked_sub(now_ms()?)?;
    Instant::now().checked_add(Duration::from_millis(u64::try_from(left).ok()?))
}

/// The Lambda entry point.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::Json, "info");
    let settings = Settings::from_env()?;
    let baseline = Arc::new(Baseline::load_or_default(settings.policy.as_deref())?);
    let aws = Aws::from_env(&settings.role_name).await?;
    let exemptions = settings
        .exemptions_uri
        .clone()
        .map(|uri| ExemptionStore::new(uri, settings.exemptions_ttl, Arc::clone(&baseline)));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        mode = %settings.mode,
        rules = baseline.rules.len(),
        hub_account = aws.hub_account(),
        "sgguard ready"
    );
    let hub = Arc::new(Hub {
        breaker: Breaker::new(settings.limits),
        tamper: Some(TamperCheck::for_hub(
            &aws,
            settings.hub_bus_arn.clone(),
            &settings.trusted_principals,
            &settings.role_name,
        )),
        settings,
        baseline,
        exemptions,
        aws,
    });
    // The exemptions file is read now, so that a bad one is in the log from the start.
    let _ = hub.current().await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let hub = Arc::clone(&hub);
        async move {
            let deadline = deadline_of(&event.context);
            handle(&hub, event.payload, deadline).await
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hub/sweep-payload.schema.json` is the payload's contract (the schedule and its tests read
    /// it): every property it names is a field of [`SweepRequest`], and nothing else is taken.
    #[test]
    fn the_sweep_request_is_the_schema_s_payload() {
        let schema: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/hub/sweep-payload.schema.json"
        )))
        .unwrap();
        assert_eq!(schema["additionalProperties"], false);
        let examples = serde_json::json!({
            "sgguard": "sweep", "regions": ["eu-west-1"], "remediate": true,
            "accounts": ["org"], "ous": ["ou-ab12-cdef3456"], "concurrency": 4,
        });
        let properties = schema["properties"].as_object().unwrap();
        let names: Vec<&String> = properties.keys().collect();
        let given: Vec<&String> = examples.as_object().unwrap().keys().collect();
        assert_eq!(names.len(), given.len(), "{names:?} vs {given:?}");
        for name in names {
            let mut one = serde_json::json!({"sgguard": "sweep"});
            one[name.as_str()] = examples[name.as_str()].clone();
            assert!(
                serde_json::from_value::<SweepRequest>(one).is_ok(),
                "schema property `{name}` is not a field of SweepRequest"
            );
        }
        let all: SweepRequest = serde_json::from_value(examples).unwrap();
        assert_eq!(all.concurrency, Some(4));
        let extra = serde_json::json!({"sgguard": "sweep", "region": ["eu-west-1"]});
        assert!(serde_json::from_value::<SweepRequest>(extra).is_err());
    }
}
