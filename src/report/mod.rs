//! Rendering findings: a table for people, the finding JSON contract for machines, and SARIF
//! 2.1.0 for code-scanning tools.

mod sarif;
mod table;

pub use sarif::sarif;
pub use table::table;

use crate::finding::Report;

/// Output formats of `check` and `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// The finding JSON document, pretty-printed.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report)
}
