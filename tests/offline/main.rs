//! sgguard's offline integration tests, compiled as one binary: everything that needs neither
//! the network nor the project venv, so a plain `cargo test` runs them on a fresh clone. The
//! tests against the AWS API emulator are the other binary, `tests/emulator/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod baseline;
mod cli;
#[path = "../support/common.rs"]
mod common;
mod decoders;
mod fixtures;
mod iam;
mod layout;
mod properties;
mod readme;
#[path = "../support/readme_commands.rs"]
mod readme_commands;
mod sarif;
mod summary;
