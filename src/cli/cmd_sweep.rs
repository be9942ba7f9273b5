//! `sgguard sweep plan|worker|summarize`: one step of the hub's distributed sweep, with the
//! payload its state machine sends, run as the hub's functions run it (the same handler); its
//! answer as JSON on stdout.

use std::sync::Arc;

use super::{EXIT_CLEAN, EXIT_ERROR, LiveSetup, SweepArgs, SweepStep, print_error};
use crate::aws::Aws;
use crate::enforce::distributed::Step;
use crate::handler::{Hub, handle};
use crate::input::read_input;
use crate::report::metrics::MetricsOut;

pub fn run(args: &SweepArgs) -> u8 {
    let LiveSetup {
        mut settings,
        baseline,
        runtime,
    } = match args
        .hub
        .setup(&[("SGGUARD_REPORT_BUCKET", args.report_bucket.clone())])
    {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    // Standard output is the step's answer; the metrics line goes to standard error.
    settings.outputs.metrics.out = MetricsOut::Stderr;
    // The payload is read and checked to be the named step's before any AWS call.
    let payload = match read_payload(&args.payload, args.step) {
        Ok(payload) => payload,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    runtime.block_on(async {
        let started = match Aws::from_env(&settings.role_name).await {
            Ok(aws) => Hub::start(settings, Arc::new(baseline), aws)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let hub = match started {
            Ok(hub) => hub,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        match handle(&hub, payload, None).await {
            Ok(answer) => {
                println!("{answer:#}");
                EXIT_CLEAN
            }
            Err(error) => {
                print_error(format!(
                    "the sweep's {} step failed ({}): {}",
                    name(args.step),
                    error.0.error_type(),
                    error.0
                ));
                EXIT_ERROR
            }
        }
    })
}

fn name(step: SweepStep) -> &'static str {
    match step {
        SweepStep::Plan => "plan",
        SweepStep::Worker => "worker",
        SweepStep::Summarize => "summarize",
    }
}

/// The payload in `file`, when it reads as a payload of `step`.
fn read_payload(file: &str, step: SweepStep) -> Result<serde_json::Value, String> {
    let bytes = read_input(file).map_err(|e| e.to_string())?;
    let payload: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("`{file}` is not valid JSON: {e}"))?;
    let is = match Step::parse(&payload) {
        None => None,
        Some(Err(failure)) => return Err(format!("`{file}`: {failure}")),
        Some(Ok(Step::Plan(..))) => Some(SweepStep::Plan),
        Some(Ok(Step::Worker(_))) => Some(SweepStep::Worker),
        Some(Ok(Step::Summarize(_))) => Some(SweepStep::Summarize),
    };
    match is {
        Some(is) if is == step => Ok(payload),
        Some(is) => Err(format!(
            "`{file}` is the payload of the {} step, not of the {} step",
            name(is),
            name(step)
        )),
        None => Err(format!(
            "`{file}` is no step of the distributed sweep: expected `\"sgguard\": \"sweep-plan\"`, \
             `\"sweep-summarize\"` or a Map batch (`BatchInput`, `Items`)"
        )),
    }
}
