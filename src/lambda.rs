//! The Lambda face: one-time initialization (settings, baseline, AWS clients), then the
//! runtime loop. A baseline that fails to load fails the init: nothing is ever revoked with a
//! policy sgguard could not read.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

use crate::aws::Aws;
use crate::policy::Baseline;
use crate::remediate::{HandleError, Remediator, metrics_line};
use crate::settings::Settings;

/// What every invocation shares.
pub struct Hub {
    pub settings: Settings,
    pub baseline: Baseline,
    pub aws: Arc<Aws>,
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

/// Structured JSON logs to stderr (CloudWatch), level from `SGGUARD_LOG` (default `info`).
pub fn init_logging(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SGGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}

/// Handles one invocation: the handler takes its dependencies as arguments.
pub async fn handle(hub: &Hub, payload: Value) -> Result<Value, InvocationError> {
    let remediator = Remediator {
        aws: &hub.aws,
        baseline: &hub.baseline,
        mode: hub.settings.mode,
        topic_arn: hub.settings.topic_arn.as_deref(),
    };
    let (outcome, error) = remediator.handle(&payload).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    println!("{}", metrics_line(&outcome, now));
    match error {
        Some(error) => Err(InvocationError(error)),
        None => serde_json::to_value(&outcome)
            .map_err(|e| InvocationError(HandleError::Malformed(e.to_string()))),
    }
}

/// The Lambda entry point.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    init_logging("info");
    let settings = Settings::from_env()?;
    let baseline = crate::cli::load_baseline(settings.policy.as_deref())?;
    let aws = Aws::from_env(&settings.role_name).await?;
    tracing::info!(
        mode = %settings.mode,
        rules = baseline.rules.len(),
        hub_account = aws.hub_account(),
        "sgguard ready"
    );
    let hub = Arc::new(Hub {
        settings,
        baseline,
        aws,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let hub = Arc::clone(&hub);
        async move { handle(&hub, event.payload).await }
    }))
    .await
}
