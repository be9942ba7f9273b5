//! CloudWatch Embedded Metric Format: one line per event and per sweep, printed by the Lambda,
//! in the hub's namespace (`SGGUARD_METRICS_NAMESPACE`, `sgguard` by default), by `Mode` and in
//! total. Counts follow [`Counts`], so an alarm counts what the
//! notification and the exit code count.

use crate::outcome::{Counts, EventOutcome, Mode, SweepReport};

/// The CloudWatch namespace of sgguard's metrics (`SGGUARD_METRICS_NAMESPACE`): one per hub, so
/// that two hubs in one account (a staging hub beside production) do not count each other's.
/// CloudWatch's rules: 1 to 255 of `0-9A-Za-z.-_/#:` and space, not only spaces, not `AWS/…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Default for Namespace {
    fn default() -> Self {
        Namespace("sgguard".to_owned())
    }
}

impl std::str::FromStr for Namespace {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
        let valid = (1..=255).contains(&text.len())
            && text.chars().all(allowed)
            && !text.trim().is_empty()
            && !text.starts_with("AWS/")
            && !text.starts_with(':');
        if valid {
            Ok(Namespace(text.to_owned()))
        } else {
            Err(())
        }
    }
}

impl Namespace {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where sgguard's metrics go: their namespace, and the stream the lines are written to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    pub namespace: Namespace,
    pub out: MetricsOut,
}

impl Metrics {
    /// The metrics of one event, written.
    pub fn event(&self, outcome: &EventOutcome, undecided: bool) {
        self.out.emit(&event_metrics_line(
            &self.namespace,
            outcome,
            undecided,
            now_ms(),
        ));
    }

    /// The metrics of a sweep, written.
    pub fn sweep(&self, report: &SweepReport) {
        self.out
            .emit(&sweep_metrics_line(&self.namespace, report, now_ms()));
    }
}

/// One CloudWatch Embedded Metric Format line in `namespace`, by `Mode` and in total: `metrics`
/// are (name, unit, value); `properties` are logged with them but are not metrics.
fn emf_line(
    namespace: &Namespace,
    timestamp_ms: u128,
    mode: Mode,
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
                "Namespace": namespace.as_str(),
                // By mode, and without a dimension for the alarms (a sweep without
                // `remediate` runs in audit mode whatever the hub's mode).
                "Dimensions": [["Mode"], []],
                "Metrics": definitions,
            }]
        }),
    );
    properties.insert("Mode".to_owned(), mode.to_string().into());
    properties.insert(
        "SgguardVersion".to_owned(),
        crate::report::notify::VERSION.into(),
    );
    for (name, _, value) in metrics {
        properties.insert((*name).to_owned(), value.clone());
    }
    serde_json::Value::Object(properties).to_string()
}

/// Milliseconds since the epoch, as EMF timestamps (and the Lambda's deadline) count them.
/// Where a metrics line is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetricsOut {
    /// Standard output: in Lambda, the function's log, where CloudWatch reads EMF from.
    #[default]
    Stdout,
    /// Standard error: a command whose standard output is its JSON answer.
    Stderr,
}

impl MetricsOut {
    pub fn emit(self, line: &str) {
        match self {
            MetricsOut::Stdout => println!("{line}"),
            MetricsOut::Stderr => eprintln!("{line}"),
        }
    }
}

pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// The metrics of one event; `undecided`: it failed because what decides its mode (the
/// exemptions file, an account's organizational unit) could not be read.
pub fn event_metrics_line(
    namespace: &Namespace,
    outcome: &EventOutcome,
    undecided: bool,
    timestamp_ms: u128,
) -> String {
    let mut properties = serde_json::Map::new();
    properties.insert("account_id".to_owned(), outcome.account_id.clone().into());
    properties.insert("region".to_owned(), outcome.region.clone().into());
    properties.insert("event_id".to_owned(), outcome.event.id.clone().into());
    let counts: Counts = outcome.counts();
    emf_line(
        namespace,
        timestamp_ms,
        outcome.mode,
        &[
            ("Findings", "Count", counts.findings.into()),
            ("Revoked", "Count", counts.revoked.into()),
            ("Failed", "Count", counts.failed.into()),
            ("Exempt", "Count", counts.exempt.into()),
            ("Protected", "Count", counts.protected.into()),
            (
                "BreakerTripped",
                "Count",
                usize::from(outcome.breaker.is_some()).into(),
            ),
            ("Undecided", "Count", usize::from(undecided).into()),
        ],
        properties,
    )
}

/// The metrics of a sweep: the counts an alarm or a dashboard follows. An enabled account ×
/// region without the forwarding rule (`SweepCoverageGaps`) and one a service control policy
/// denies (`SweepRegionsDenied`) are no failure, and each has its own alarm.
pub fn sweep_metrics_line(
    namespace: &Namespace,
    report: &SweepReport,
    timestamp_ms: u128,
) -> String {
    let t = &report.totals.counts;
    emf_line(
        namespace,
        timestamp_ms,
        report.mode,
        &[
            ("SweepAccounts", "Count", report.accounts.len().into()),
            ("SweepRules", "Count", t.rules.into()),
            ("SweepFindings", "Count", t.findings.into()),
            ("SweepRevoked", "Count", t.revoked.into()),
            ("SweepProtected", "Count", t.protected.into()),
            ("SweepFailures", "Count", report.errors.len().into()),
            (
                "SweepBreakerTripped",
                "Count",
                usize::from(report.breaker.is_some()).into(),
            ),
            // Events the members' forwarding rules could not deliver (their dead-letter
            // queues), and the places not guarded in real time.
            (
                "SweepUndeliveredEvents",
                "Count",
                report.undelivered_events().into(),
            ),
            ("SweepGaps", "Count", report.gaps.len().into()),
            (
                "SweepCoverageGaps",
                "Count",
                report.totals.coverage_gaps.into(),
            ),
            (
                "SweepRegionsDenied",
                "Count",
                report.totals.regions_denied.into(),
            ),
            ("SweepSeconds", "Seconds", report.seconds.into()),
        ],
        serde_json::Map::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_follows_cloudwatch_rules() {
        for good in ["sgguard", "sgguard-staging", "Security/sgguard#2", "a b"] {
            assert_eq!(good.parse::<Namespace>().unwrap().as_str(), good);
        }
        let long = "x".repeat(256);
        for bad in [
            "",
            "   ",
            "AWS/Lambda",
            ":x",
            "sg$guard",
            "é",
            long.as_str(),
        ] {
            assert!(bad.parse::<Namespace>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_lines_carry_the_hubs_namespace() {
        let staging: Namespace = "sgguard-staging".parse().unwrap();
        for (namespace, want) in [
            (Namespace::default(), "sgguard"),
            (staging, "sgguard-staging"),
        ] {
            let line = emf_line(
                &namespace,
                1,
                Mode::Audit,
                &[("SweepRules", "Count", 1.into())],
                serde_json::Map::new(),
            );
            let line: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], want);
        }
    }
}
