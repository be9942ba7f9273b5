//! sgguard's integration tests, compiled as one binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod baseline;
mod cli;
mod common;
mod coverage;
mod decoders;
mod emulator;
mod fixtures;
mod hub;
mod iam;
mod lambda;
mod layout;
mod notifications;
mod properties;
mod readme;
mod record;
mod restore;
mod sarif;
mod staging;
mod sweep;
mod tamper;
