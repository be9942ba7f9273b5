//! Rendering findings: a table for people, the finding JSON contract for machines, and SARIF
//! 2.1.0 for code-scanning tools.

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

/// One CloudWatch Embedded Metric Format line in the `sgguard` namespace, by `Mode`: `metrics`
/// are (name, unit, value); `properties` are logged with them but are not metrics.
pub fn emf_line(
    timestamp_ms: u128,
    mode: crate::settings::Mode,
    metrics: &[(&str, &str, serde_json::Value)],
    mut properties: serde_json::Map<String, serde_json::Value>,
) -> String {
    let definitions: Vec<serde_json::Value> = metrics
        .iter()
        .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit}))
        .collect();
    properties.insert(
        "_aws".to_owned(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "sgguard",
                "Dimensions": [["Mode"]],
                "Metrics": definitions,
            }]
        }),
    );
    properties.insert("Mode".to_owned(), mode.to_string().into());
    for (name, _, value) in metrics {
        properties.insert((*name).to_owned(), value.clone());
    }
    serde_json::Value::Object(properties).to_string()
}
