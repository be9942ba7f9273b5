//! sgguard's integration tests that need the project venv (`make venv`), compiled as one
//! binary: the hub flow, the sweep, the Lambda binary and the rest against the AWS API emulator
//! (moto behind a counting, fault-injecting proxy: `emulator.rs`), and README's `aws` commands
//! against botocore's API models (`readme_aws.rs`). Built only with the `emulator` feature, so
//! that a plain `cargo test` passes on a clone without the venv; `make test` runs them (`cargo
//! test --all-features`). The offline tests are `tests/offline/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

#[path = "../support/common.rs"]
mod common;
mod coverage;
mod emulator;
mod exemptions;
mod guard;
mod hub;
mod lambda;
mod mode_by_scope;
mod notifications;
mod readme_aws;
#[path = "../support/readme_commands.rs"]
mod readme_commands;
mod record;
mod regions;
mod restore;
mod staging;
mod state;
mod sweep;
mod tamper;
mod walkthrough;
