//! sgguard: a self-healing guard for AWS security groups across an AWS Organization.
//!
//! The pipeline, as the modules read: inputs ([`input`]) decode into normalized
//! [`rule`]s; the [`policy`] baseline evaluates them (with [`exposure`] deciding what "the
//! internet" is) into [`finding`]s; [`report`] renders them. In the hub, [`remediate`] takes
//! one event end to end through the [`aws`] adapters, and [`sweep`] every account and region; [`lambda`] and [`cli`] are the two faces
//! of the one binary, configured by [`settings`].

pub mod aws;
pub mod cli;
pub mod exposure;
pub mod finding;
pub mod input;
pub mod lambda;
pub mod policy;
pub mod remediate;
pub mod report;
pub mod rule;
pub mod settings;
pub mod sweep;
