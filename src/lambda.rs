//! The Lambda face: one-time initialization (settings, baseline, AWS clients, the [`Hub`]),
//! then the runtime loop handing each payload to the hub's handler (`handler.rs`). A baseline
//! that fails to load fails the init: nothing is ever revoked with a policy sgguard could not
//! read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

use crate::aws::Aws;
pub use crate::handler::{Hub, InvocationError, handle};
use crate::policy::Baseline;
use crate::report::metrics::now_ms;
use crate::settings::Settings;
use crate::telemetry::{self, LogFormat};

impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: error.0.error_type().to_owned(),
            error_message: error.0.to_string(),
        }
    }
}

/// When the invocation must end, from the runtime's deadline (milliseconds since the epoch).
fn deadline_of(context: &lambda_runtime::Context) -> Option<Instant> {
    let left = u128::from(context.deadline).checked_sub(now_ms())?;
    Instant::now().checked_add(Duration::from_millis(u64::try_from(left).ok()?))
}

/// The Lambda entry point.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::Json, &crate::settings::log_filter("info"));
    let settings = Settings::from_env()?;
    let baseline = Arc::new(Baseline::load_or_default(settings.policy.as_deref())?);
    let aws = Aws::from_env(&settings.role_name).await?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        mode = %settings.mode,
        rules = baseline.rules.len(),
        hub_account = aws.hub_account(),
        "sgguard ready"
    );
    let hub = Arc::new(Hub::start(settings, baseline, aws).await?);
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
