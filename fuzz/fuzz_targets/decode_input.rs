//! Any bytes given to `sgguard check` are decoded or rejected with an error, never a panic;
//! whatever decodes is evaluated with the default baseline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sgguard::policy::{Baseline, Evaluator};

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = sgguard::input::decode("fuzz", data) {
        if let Ok(baseline) = Baseline::default_baseline() {
            let evaluator = Evaluator::new(&baseline, Evaluator::today_utc());
            let _ = evaluator.evaluate_rules(&document.rules, |rule| document.tags_of(rule));
        }
    }
});
