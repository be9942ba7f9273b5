//! `sgguard handle-event`: exactly what the Lambda does, for each event file, in one process
//! (one credential cache); one outcome JSON per event on stdout.

use std::io::Write;

use super::{EXIT_ERROR, HandleEventArgs, LiveSetup, print_error};
use crate::aws::Aws;
use crate::enforce::event::EventHandler;
use crate::input::read_input;
use crate::outcome::exit_code;

pub fn run(args: &HandleEventArgs) -> u8 {
    let LiveSetup {
        settings,
        baseline,
        runtime,
    } = match args.hub.setup(&[]) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    // Read every event first: a bad file is reported before anything is changed in AWS.
    let mut events = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let parsed = read_input(file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| format!("`{file}` is not valid JSON: {e}"))
            });
        match parsed {
            Ok(value) => events.push((file, value)),
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        }
    }
    runtime.block_on(async {
        let aws = match Aws::from_env(&settings.role_name).await {
            Ok(aws) => aws,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        let baseline = match super::with_exemptions(&aws, &settings, baseline).await {
            Ok(baseline) => baseline,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        let staging = match settings.checked_staging(&aws).await {
            Ok(staging) => staging,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        let state = settings.hub_state(&aws);
        let handler = EventHandler {
            hub: aws.as_ref(),
            baseline: &baseline,
            staging,
            topic_arn: settings.topic_arn.as_deref(),
            state: &state,
            record_queue: settings.record_queue_url.as_deref(),
            caveat: None,
            unloaded: None,
            outputs: settings.outputs.clone(),
            deadline: None,
        };
        let mut errors = false;
        let mut findings = 0;
        let mut stdout = std::io::stdout().lock();
        for (file, value) in &events {
            let (outcome, error) = handler.handle(value).await;
            if let Some(error) = &error {
                print_error(format!("`{file}`: {error}"));
                errors = true;
            }
            findings += outcome.counts().findings;
            let line = serde_json::to_string(&outcome).unwrap_or_default();
            if writeln!(stdout, "{line}").is_err() {
                return EXIT_ERROR;
            }
        }
        exit_code(errors, findings)
    })
}
