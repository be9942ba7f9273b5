//! Logging: readable text on a terminal (the CLI), one JSON object per line in Lambda
//! (CloudWatch Logs). The filter is the settings' (`SGGUARD_LOG`, else the face's default).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the command line).
    Text,
    /// Structured JSON (Lambda, read by CloudWatch Logs Insights).
    Json,
}

/// Installs the process's logger on stderr with `filter` (`info` when it does not parse); a
/// second call does nothing.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}
