//! sgguard: a self-healing guard for AWS security groups across an AWS Organization.
//!
//! The pipeline, as the modules read:
//! - [`input`] decodes CloudTrail events, describe output and Terraform plans into [`rule`]s;
//! - [`policy`] judges them against the baseline into [`finding`]s;
//! - [`enforce`] plans what happens to each finding and revokes through the [`aws`] adapters,
//!   for one event ([`enforce::event`]) or every account and region ([`enforce::sweep`]),
//!   recording [`outcome`]s;
//! - [`report`] renders findings and outcomes: table, JSON, SARIF, notifications, metrics.
//!
//! AWS identifiers (account, unit and root ids, ARNs) are parsed once, into [`ids`].
//!
//! [`cli`] and [`lambda`] are the two faces of the one binary: they only wire, configured by
//! [`settings`], logging through [`telemetry`]; [`handler`] is the hub's handler both hand a
//! payload to (the Lambda's every invocation, the `sweep` command's steps).

pub mod aws;
pub mod cli;
pub mod enforce;
pub mod finding;
pub mod handler;
pub mod ids;
pub mod input;
pub mod lambda;
pub mod outcome;
pub mod policy;
pub mod report;
pub mod rule;
pub mod settings;
pub mod telemetry;
