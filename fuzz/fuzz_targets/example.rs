//! The example notation (`tcp 22 from 0.0.0.0/1 + 128.0.0.0/1`) parses or errors, never panics;
//! what parses is evaluated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sgguard::finding::Tags;
use sgguard::policy::{Baseline, Evaluator, Example};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let (Ok(example), Ok(baseline)) = (Example::parse(text), Baseline::default_baseline()) {
            let evaluator = Evaluator::new(&baseline, Evaluator::today_utc());
            let _ = evaluator.evaluate_group(&example.rules, &Tags::new());
        }
    }
});
