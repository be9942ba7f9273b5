//! Rendering: findings as a table for people, the finding JSON contract for machines and SARIF
//! 2.1.0 for code-scanning tools; outcomes as [`notify`] messages and [`metrics`] lines.

pub mod asff;
pub mod deliver;
pub mod metrics;
pub mod notify;
pub mod record;
mod sarif;
mod table;

pub use sarif::sarif;
pub use table::{sweep_table, table};

use crate::finding::Report;

/// Output formats of `check` and `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

/// Writes the report in `format` to `out`, streaming (large reports are not held twice).
pub fn write(
    out: &mut dyn std::io::Write,
    report: &Report,
    format: Format,
    baseline: &crate::policy::Baseline,
) -> std::io::Result<()> {
    match format {
        Format::Table => out.write_all(table(report).as_bytes())?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")?;
        }
        Format::Sarif => {
            out.write_all(sarif(report, baseline)?.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}
