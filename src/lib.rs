//! sgguard: a self-healing guard for AWS security groups across an AWS Organization.
//!
//! The pipeline, as the modules read: inputs ([`event`], [`input`]) decode into normalized
//! [`rule`]s; the [`policy`] baseline evaluates them (with [`exposure`] deciding what "the
//! internet" is) into [`finding`]s; [`report`] renders them; [`cli`] drives it all.

pub mod cli;
pub mod event;
pub mod exposure;
pub mod finding;
pub mod input;
pub mod policy;
pub mod report;
pub mod rule;
