//! The scheduled sweep as the hub runs it: its payload, the sweep, the coverage check merged
//! into the report, the whole report stored in the report bucket, one summary delivered, and
//! what the invocation answers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::HubApi;
use super::coverage::{CoverageCheck, RoleCheck, StackSet};
use super::disposition::{Disposition, Failure};
use super::event::HandleError;
use super::scope::{Scope, ScopeError};
use super::sweep::Sweep;
use crate::aws::OrgAccount;
use crate::outcome::{StoredReport, SweepReport, SweepTotals};
use crate::report::deliver::Delivery;
use crate::report::notify::sweep_notification;
use crate::report::record;

/// Account × regions a scheduled sweep works on at once, unless the payload says.
pub const SWEEP_CONCURRENCY: usize = 16;

/// The scheduled sweep's payload (hub/schedule.tf, hub/sweep-payload.schema.json):
/// `{"sgguard": "sweep", "regions": [...], "remediate": true}`, optionally with `accounts`
/// (`["org"]`, `["self"]` or ids), `ous` and `concurrency`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRequest {
    sgguard: String,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    pub remediate: bool,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    ous: Vec<String>,
    concurrency: Option<usize>,
}

impl SweepRequest {
    /// Whether an invocation's payload asks for the sweep rather than carrying an event.
    pub fn is_request(payload: &Value) -> bool {
        payload.get("sgguard").is_some()
    }

    /// Reads the payload; a wrong key or value is a [`Failure::SweepRequest`] naming it.
    pub fn parse(payload: Value) -> Result<SweepRequest, Failure> {
        SweepRequest::parse_as(payload, "sweep")
    }

    /// Reads the payload of `step` (`sweep`, or `sweep-plan`: the same keys).
    pub fn parse_as(payload: Value, step: &str) -> Result<SweepRequest, Failure> {
        let request: SweepRequest =
            serde_json::from_value(payload).map_err(|e| Failure::SweepRequest(e.to_string()))?;
        if request.sgguard != step {
            return Err(Failure::SweepRequest(format!(
                "`sgguard` is `{}`: expected `{step}` (the hub's requests are `sweep`, \
                 `sweep-plan`, `sweep-summarize` and the Map's batches)",
                request.sgguard
            )));
        }
        Ok(request)
    }

    /// The accounts and regions to sweep; `regions` when the payload names none.
    pub fn scope(&self, regions: &[String]) -> Result<Scope, Failure> {
        let regions = if self.regions.is_empty() {
            regions
        } else {
            &self.regions
        };
        Scope::parse(&self.accounts, &self.ous, regions)
            .map_err(|e| Failure::SweepRequest(e.to_string()))
    }

    /// Account × regions worked on at once (1 to 256).
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(SWEEP_CONCURRENCY).clamp(1, 256)
    }
}

/// What the invocation answers for a sweep.
#[derive(Debug, Serialize)]
pub struct SweepResult {
    pub sgguard: &'static str,
    /// `complete`, or `incomplete` when some part failed (the summary says which).
    pub status: &'static str,
    pub accounts: usize,
    pub totals: SweepTotals,
    pub errors: Vec<String>,
    pub seconds: f64,
    /// The record queue's message id when the summary could not be sent.
    pub recorded: Option<String>,
}

/// The hub's sweep and what it does besides sweeping.
pub struct ScheduledSweep<'a, H> {
    /// The sweep, with the hub and the tamper check the rest uses too.
    pub sweep: Sweep<'a, H>,
    /// The spoke StackSet whose coverage is checked (with the sweep's tamper check); none: no
    /// coverage check.
    pub stack_set: Option<StackSet>,
    /// Where the whole report is stored (`SGGUARD_REPORT_BUCKET`); none: not stored.
    pub report_bucket: Option<&'a str>,
    pub delivery: Delivery<'a>,
    /// What the report must tell besides (an exemptions file that could not be reloaded).
    pub caveat: Option<String>,
}

impl<H: HubApi> ScheduledSweep<'_, H> {
    /// Sweeps `scope` and tells the summary. An incomplete sweep is reported, not failed:
    /// Lambda's retry would sweep the whole organization again; the summary says what failed
    /// and `SweepFailures` has its own alarm. A summary that could not be sent is kept in the
    /// record queue with the whole report; only when that fails too does the invocation fail
    /// (so the on-failure destination keeps it).
    pub async fn run(&self, scope: &Scope) -> Disposition<SweepResult> {
        match self.sweep.run(scope).await {
            Ok(report) => self.finish(scope, report).await,
            Err(ScopeError::Aws(error)) => Disposition::Retry(HandleError::from_aws(error).into()),
            Err(other) => Disposition::Retry(Failure::SweepRequest(other.to_string())),
        }
    }

    /// What follows a sweep of `scope`, whether one process swept it or many workers did and
    /// their parts were merged: coverage, the stored report, the metrics line, one summary.
    pub async fn finish(&self, scope: &Scope, mut report: SweepReport) -> Disposition<SweepResult> {
        if let Some(caveat) = &self.caveat {
            report.errors.push(caveat.clone());
        }
        self.check_coverage(scope, &mut report).await;
        if let Some(bucket) = self.report_bucket {
            self.store(bucket, &mut report).await;
        }
        self.delivery.outputs.metrics.sweep(&report);
        let t = &report.totals;
        tracing::info!(
            accounts = report.accounts.len(),
            rules = t.counts.rules,
            findings = t.counts.findings,
            revoked = t.counts.revoked,
            coverage_gaps = t.coverage_gaps,
            regions_denied = t.regions_denied,
            failed = report.errors.len(),
            seconds = report.seconds,
            "sweep finished"
        );
        let notification = sweep_notification(&report, self.sweep.hub().hub_account());
        let delivered = self
            .delivery
            .send(self.sweep.hub(), &notification, |reason| {
                Some(record::undelivered_sweep(&report, reason))
            })
            .await;
        report.errors.extend(delivered.errors.iter().cloned());
        if delivered.lost()
            && let Some(error) = delivered.undelivered
        {
            return Disposition::Retry(HandleError::Notification(error).into());
        }
        let result = SweepResult {
            sgguard: "sweep",
            status: if report.incomplete() {
                "incomplete"
            } else {
                "complete"
            },
            accounts: report.accounts.len(),
            totals: report.totals,
            errors: report.errors,
            seconds: report.seconds,
            recorded: delivered.recorded,
        };
        match result.recorded {
            Some(_) => Disposition::Recorded(result),
            None => Disposition::Done(result),
        }
    }

    /// Checks the coverage of the accounts the sweep just listed (the active ones of the
    /// scope, not listed again), judging the regions and forwarding rules the sweep read
    /// (not read again), and merges it into the report.
    async fn check_coverage(&self, scope: &Scope, report: &mut SweepReport) {
        let (Some(stack_set), Some(tamper)) = (&self.stack_set, self.sweep.tamper_check()) else {
            return;
        };
        let accounts = report
            .accounts
            .iter()
            .map(|a| OrgAccount {
                id: a.account_id.clone(),
                name: a.account_name.clone(),
                status: "ACTIVE".to_owned(),
            })
            .collect();
        let check = CoverageCheck {
            hub: self.sweep.hub(),
            stack_set: Some(stack_set),
            tamper,
            accounts,
            swept: Some(report),
            role_check: RoleCheck::Assume,
        };
        let checked = check.run(scope).await;
        match checked {
            Ok(coverage) => {
                report.errors.extend(coverage.errors.iter().cloned());
                report.coverage = Some(coverage);
            }
            Err(error) => report.errors.push(format!("coverage: {error}")),
        }
    }

    /// Writes the whole report (the document `scan --format json` prints) to the report
    /// bucket, under `sweeps/YYYY/MM/DD/`; the summary then links to it. A report that cannot
    /// be written is a failure the summary lists (the summary itself still goes out).
    async fn store(&self, bucket: &str, report: &mut SweepReport) {
        let now = jiff::Timestamp::now();
        let key = format!(
            "sweeps/{}/{}-{:08x}.json",
            now.strftime("%Y/%m/%d"),
            now.strftime("%Y%m%dT%H%M%SZ"),
            now.subsec_nanosecond()
        );
        let body = match serde_json::to_vec_pretty(&report) {
            Ok(body) => body,
            Err(error) => {
                report
                    .errors
                    .push(format!("the sweep report could not be written: {error}"));
                return;
            }
        };
        match self.sweep.hub().put_report(bucket, &key, body).await {
            Ok(()) => {
                let stored = StoredReport::new(bucket, &key, self.sweep.hub().home_region());
                tracing::info!(uri = %stored.uri, "sweep report stored");
                report.stored = Some(stored);
            }
            Err(error) => {
                tracing::error!(error = %error, "sweep report not stored");
                report
                    .errors
                    .push(format!("the sweep report could not be stored: {error}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hub/sweep-payload.schema.json` is the payload's contract (the schedule and its tests read
    /// it): every property it names is a field of [`SweepRequest`], and nothing else is taken.
    #[test]
    fn the_sweep_request_is_the_schema_s_payload() {
        let schema: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/hub/sweep-payload.schema.json"
        )))
        .unwrap();
        assert_eq!(schema["additionalProperties"], false);
        let examples = serde_json::json!({
            "sgguard": "sweep", "regions": ["eu-west-1"], "remediate": true,
            "accounts": ["org"], "ous": ["ou-ab12-cdef3456"], "concurrency": 4,
        });
        let properties = schema["properties"].as_object().unwrap();
        let names: Vec<&String> = properties.keys().collect();
        let given: Vec<&String> = examples.as_object().unwrap().keys().collect();
        assert_eq!(names.len(), given.len(), "{names:?} vs {given:?}");
        for name in names {
            let mut one = serde_json::json!({"sgguard": "sweep"});
            one[name.as_str()] = examples[name.as_str()].clone();
            assert!(
                SweepRequest::parse(one).is_ok(),
                "schema property `{name}` is not a field of SweepRequest"
            );
        }
        let all = SweepRequest::parse(examples).unwrap();
        assert_eq!(all.concurrency(), 4);
        let extra = serde_json::json!({"sgguard": "sweep", "region": ["eu-west-1"]});
        let error = SweepRequest::parse(extra).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `region`"),
            "{error}"
        );
        assert_eq!(error.error_type(), "Sgguard.BadSweepRequest");
        let other = SweepRequest::parse(serde_json::json!({"sgguard": "scan"})).unwrap_err();
        assert!(
            other
                .to_string()
                .contains("the hub's requests are `sweep`, `sweep-plan`"),
            "{other}"
        );
    }

    /// The scheduled sweep on the in-memory hub: the coverage check merged, the whole report
    /// stored and linked, one summary published, and a lost summary kept as a record.
    #[tokio::test]
    async fn the_scheduled_sweep_stores_its_report_and_tells_one_summary() {
        use crate::aws::StackInstance;
        use crate::enforce::breaker::Limits;
        use crate::enforce::fake::Fake;
        use crate::enforce::state::HubState;
        use crate::policy::Baseline;
        use crate::report::deliver::Outputs;

        let member = "111122223333";
        let hub = Fake::default()
            .member(member, "prod", Some(Fake::default()))
            .with_stack_instance(StackInstance {
                account: member.to_owned(),
                region: "eu-west-1".to_owned(),
                status: "CURRENT".to_owned(),
                detailed_status: String::new(),
                reason: None,
            });
        let (baseline, state) = (
            Baseline::default_baseline().unwrap(),
            HubState::in_process(Limits::default()),
        );
        let check = crate::enforce::fake::tamper_check(Vec::new());
        let outputs = Outputs::default();
        let scheduled = ScheduledSweep {
            sweep: Sweep::new(&hub, &baseline, &state).tamper(Some(&check)),
            stack_set: Some(StackSet {
                name: "sgguard-spoke".to_owned(),
                call_as: "SELF".to_owned(),
            }),
            report_bucket: Some("reports"),
            delivery: Delivery {
                topic_arn: Some("arn:aws:sns:eu-west-1:999988887777:inbox"),
                record_queue: Some("https://sqs.eu-west-1.amazonaws.com/999988887777/records"),
                outputs: &outputs,
            },
            caveat: Some("the exemptions file could not be reloaded".to_owned()),
        };
        let scope = Scope::parse(&[member.to_owned()], &[], &[]).unwrap();
        let Disposition::Done(result) = scheduled.run(&scope).await else {
            panic!("a sweep whose summary went out is done");
        };
        // The member has no forwarding rule: the coverage check and the tamper check say so.
        assert_eq!(result.status, "incomplete");
        assert!(
            result.errors.iter().any(|e| e.contains("reloaded")),
            "the caveat is told: {:?}",
            result.errors
        );
        let reports = hub.reports();
        assert_eq!(reports.len(), 1);
        let (bucket, key, body) = &reports[0];
        assert_eq!(bucket, "reports");
        assert!(
            key.starts_with("sweeps/") && key.ends_with(".json"),
            "{key}"
        );
        let stored: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(stored["coverage"]["places"][0]["account_id"], member);
        assert_eq!(stored["coverage"]["places"][0]["covered"], false);
        let published = hub.published();
        assert_eq!(published.len(), 1, "one summary");
        assert!(
            published[0].json.contains(key.as_str()),
            "the summary links the stored report"
        );

        // The inbox refuses: the summary is kept as a record, and the sweep says so.
        let refusing = hub.clone().failing_publish();
        let scheduled = ScheduledSweep {
            sweep: Sweep::new(&refusing, &baseline, &state),
            stack_set: None,
            report_bucket: None,
            caveat: None,
            ..scheduled
        };
        let Disposition::Recorded(result) = scheduled.run(&scope).await else {
            panic!("a summary kept as a record is handled and recorded");
        };
        assert!(result.recorded.is_some());
        assert_eq!(refusing.recorded().len(), 1);
    }
}
