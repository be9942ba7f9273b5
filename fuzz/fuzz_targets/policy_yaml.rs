//! Any policy text is validated or rejected with an error naming the problem, never a panic;
//! a valid policy's examples are checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(baseline) = sgguard::policy::Baseline::from_yaml(text, "fuzz.yaml") {
            let _ = sgguard::policy::check_examples(&baseline);
        }
    }
});
