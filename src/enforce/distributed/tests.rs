//! The distributed sweep on the in-memory hub: plan, the Map's batches (its `ItemBatcher` and
//! `ResultWriter` files as AWS writes them) and summarize give the same report as the
//! one-process sweep; a failed batch's accounts are named as not swept; the per-sweep limit
//! holds across workers.

use serde_json::{Value, json};

use super::*;
use crate::enforce::HubApi;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::{Fake, ssh_open};
use crate::enforce::scope::Scope;
use crate::enforce::state::HubState;
use crate::enforce::sweep::Sweep;
use crate::finding::Tags;
use crate::outcome::SweepReport;
use crate::policy::Baseline;

const BUCKET: &str = "sgguard-reports";

/// Five members, each a group with `open` SSH rules to the internet, and one suspended.
fn organization(open: usize) -> Fake {
    let mut hub = Fake::default();
    for n in 0..5 {
        let group = format!("sg-{n}");
        let rules = (0..open)
            .map(|r| ssh_open(&group, &format!("sgr-{n}-{r}")))
            .collect();
        let member = Fake::default().with_group(&group, Tags::new(), rules);
        hub = hub.member(
            &format!("11112222000{n}"),
            &format!("member-{n}"),
            Some(member),
        );
    }
    hub.closed("999988887777", "SUSPENDED")
}

fn request(remediate: bool) -> (SweepRequest, Value) {
    let payload =
        json!({"sgguard": "sweep-plan", "regions": ["eu-west-1"], "remediate": remediate});
    let Some(Ok(Step::Plan(request, payload))) = Step::parse(&payload) else {
        panic!("a plan payload");
    };
    (request, payload)
}

/// The Map as Step Functions runs it: items read from S3, batched with the plan's
/// `batch_input`, one worker per batch (`fail` names batches whose worker fails), the results
/// written as `manifest.json` and `SUCCEEDED_0.json` / `FAILED_0.json`; the manifest's key.
async fn map(hub: &Fake, sweep: &Sweep<'_, Fake>, planned: &PlanResult, fail: &[usize]) -> String {
    let items: Vec<Value> =
        serde_json::from_str(&hub.read_report(BUCKET, &planned.items_key).await.unwrap()).unwrap();
    let (mut succeeded, mut failed) = (Vec::new(), Vec::new());
    for (n, batch) in items.chunks(2).enumerate() {
        let input = json!({"BatchInput": planned.batch_input, "Items": batch});
        let Some(Ok(Step::Worker(request))) = Step::parse(&input) else {
            panic!("a worker payload");
        };
        if fail.contains(&n) {
            failed.push(json!({"Input": input.to_string(), "Error": "Lambda.Unknown", "Cause": "the worker timed out", "Status": "FAILED"}));
            continue;
        }
        let output = work(sweep, request).await.unwrap();
        succeeded.push(json!({"Input": input.to_string(), "Output": serde_json::to_string(&output).unwrap(), "Status": "SUCCEEDED"}));
    }
    let prefix = "sweeps/runs/results/map-run-1";
    let mut files = json!({"SUCCEEDED": [], "FAILED": [], "PENDING": []});
    for (kind, executions) in [("SUCCEEDED", succeeded), ("FAILED", failed)] {
        if executions.is_empty() {
            continue;
        }
        let key = format!("{prefix}/{kind}_0.json");
        hub.put_report(BUCKET, &key, serde_json::to_vec(&executions).unwrap())
            .await
            .unwrap();
        files[kind] = json!([{"Key": key, "Size": 1}]);
    }
    let manifest_key = format!("{prefix}/manifest.json");
    let manifest = json!({"DestinationBucket": BUCKET, "MapRunArn": "arn:aws:states:eu-west-1:999999999999:mapRun:sweep/map:1", "ResultFiles": files});
    hub.put_report(BUCKET, &manifest_key, manifest.to_string().into_bytes())
        .await
        .unwrap();
    manifest_key
}

/// Findings as a report tells them: where, which rule, what became of it.
fn told(report: &SweepReport) -> Vec<(String, String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.finding.rule.account_id.clone().unwrap_or_default(),
                f.finding.rule.rule_id.clone().unwrap_or_default(),
                f.outcome.to_string(),
            )
        })
        .collect()
}

/// The plan of a sweep of the whole organization in one region.
async fn planned(hub: &Fake, remediate: bool) -> PlanResult {
    let (request, payload) = request(remediate);
    let scope = request.scope(&[]).unwrap();
    plan(
        hub,
        &request,
        &payload,
        &scope,
        BUCKET,
        "20261205T090000Z-0000abcd",
    )
    .await
    .unwrap()
}

async fn distributed(hub: &Fake, state: &HubState, remediate: bool, fail: &[usize]) -> SweepReport {
    let baseline = Baseline::default_baseline().unwrap();
    let sweep = Sweep::new(hub, &baseline, state).remediate(remediate);
    let planned = planned(hub, remediate).await;
    assert_eq!(
        planned.accounts, 6,
        "every listed account, the suspended one too"
    );
    planned_and_summarized(hub, &sweep, &planned, fail).await
}

/// The Map of `planned` with `sweep`'s workers, then the summary.
async fn planned_and_summarized(
    hub: &Fake,
    sweep: &Sweep<'_, Fake>,
    planned: &PlanResult,
    fail: &[usize],
) -> SweepReport {
    let manifest_key = map(hub, sweep, planned, fail).await;
    let summarize_payload = json!({"sgguard": "sweep-summarize", "sweep_id": planned.sweep_id, "bucket": BUCKET, "manifest_key": manifest_key});
    let Some(Ok(Step::Summarize(request))) = Step::parse(&summarize_payload) else {
        panic!("a summarize payload");
    };
    summarize(hub, &request).await.unwrap()
}

#[tokio::test]
async fn plan_workers_and_summarize_tell_what_the_one_process_sweep_tells() {
    let baseline = Baseline::default_baseline().unwrap();
    let one = organization(2);
    let state = HubState::in_process(Limits::default());
    let whole = Sweep::new(&one, &baseline, &state)
        .run(&Scope::parse(&[], &[], &["eu-west-1".to_owned()]).unwrap())
        .await
        .unwrap();

    let many = organization(2);
    let state = HubState::in_process(Limits::default());
    let merged = distributed(&many, &state, false, &[]).await;
    assert_eq!(told(&merged), told(&whole));
    assert_eq!(merged.totals, whole.totals);
    assert_eq!(merged.accounts.len(), whole.accounts.len());
    assert_eq!(merged.skipped_accounts.len(), 1);
    assert_eq!(merged.errors, whole.errors);
    // The merged report reads back as the one-process report writes it.
    let as_written = |r: &SweepReport| {
        let mut v = serde_json::to_value(r).unwrap();
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    assert_eq!(as_written(&merged), as_written(&whole));
}

/// Every worker's gaps, coverage gaps and undelivered events reach the merged report as the
/// one-process sweep tells them.
#[tokio::test]
async fn the_workers_gaps_and_undelivered_events_are_merged() {
    const MANAGEMENT: &str = "121212121212";
    let organization = || {
        organization(0)
            .member(MANAGEMENT, "management", None)
            .management(MANAGEMENT)
            .with_forwarding_queue("111122220001", "eu-west-1", 4)
            .with_forwarding_queue("111122220004", "eu-west-1", 0)
    };
    let (baseline, check) = (
        Baseline::default_baseline().unwrap(),
        crate::enforce::fake::tamper_check(Vec::new()),
    );
    let state = HubState::in_process(Limits::default());
    let one = organization();
    let whole = Sweep::new(&one, &baseline, &state)
        .tamper(Some(&check))
        .run(&Scope::parse(&[], &[], &["eu-west-1".to_owned()]).unwrap())
        .await
        .unwrap();
    let many = organization();
    let sweep = Sweep::new(&many, &baseline, &state).tamper(Some(&check));
    let merged = planned_and_summarized(&many, &sweep, &planned(&many, false).await, &[]).await;

    assert_eq!(merged.undelivered, whole.undelivered);
    assert_eq!(merged.gaps, whole.gaps);
    assert_eq!(merged.coverage_gaps, whole.coverage_gaps);
    assert_eq!(merged.undelivered_events(), 4);
    let kinds: Vec<crate::outcome::GapKind> = merged.gaps.iter().map(|g| g.kind).collect();
    assert_eq!(
        kinds,
        [crate::outcome::GapKind::ManagementGuardNotDeployed],
        "{:?}",
        merged.gaps
    );
    // No member has a forwarding rule here: each region swept is a coverage gap.
    assert!(!merged.coverage_gaps.is_empty());
    assert_eq!(merged.totals.coverage_gaps, whole.totals.coverage_gaps);
}

#[tokio::test]
async fn a_failed_batch_s_accounts_are_named_as_not_swept() {
    let hub = organization(1);
    let state = HubState::in_process(Limits::default());
    let merged = distributed(&hub, &state, false, &[1]).await;
    // Batch 1 held the third and fourth accounts (the plan's order: by id).
    let not_swept: Vec<&str> = merged
        .accounts
        .iter()
        .filter(|a| {
            a.error
                .as_deref()
                .is_some_and(|e| e.starts_with("not swept"))
        })
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(not_swept, ["111122220002", "111122220003"]);
    assert!(merged.incomplete());
    assert!(
        merged.errors.iter().any(|e| e.contains(
            "111122220002: not swept: its batch failed: Lambda.Unknown: the worker timed out"
        )),
        "{:?}",
        merged.errors
    );
    assert_eq!(
        merged.totals.counts.would_revoke, 3,
        "the three accounts swept"
    );
}

#[tokio::test]
async fn the_sweep_s_limit_holds_across_its_workers() {
    let hub = organization(1);
    let state = HubState::in_process(Limits {
        per_sweep: 2,
        ..Limits::default()
    });
    let merged = distributed(&hub, &state, true, &[]).await;
    // Three workers, one budget of the sweep in this process (the table counts it for every
    // process; tests/emulator proves that part).
    assert_eq!(
        (
            merged.totals.counts.revoked,
            merged.totals.counts.would_revoke
        ),
        (2, 3)
    );
    assert!(merged.breaker.is_some());
}

#[tokio::test]
async fn a_failed_map_names_every_planned_account_as_not_swept() {
    let hub = organization(1);
    let planned = planned(&hub, false).await;
    let failed = json!({"sgguard": "sweep-summarize", "sweep_id": planned.sweep_id, "bucket": BUCKET,
        "map_error": {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "The specified tolerated failure threshold was exceeded"}});
    let Some(Ok(Step::Summarize(request))) = Step::parse(&failed) else {
        panic!("a summarize payload");
    };
    let report = summarize(&hub, &request).await.unwrap();
    assert!(report.incomplete());
    let named: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(
        named,
        [
            "111122220000",
            "111122220001",
            "111122220002",
            "111122220003",
            "111122220004"
        ]
    );
    assert!(
        report
            .accounts
            .iter()
            .all(|a| a
                .error
                .as_deref()
                .is_some_and(|e| e
                    .contains("the sweep's Map failed: States.ExceedToleratedFailureThreshold")))
    );
    assert_eq!(report.findings.len(), 0);
}

#[test]
fn a_step_payload_that_does_not_read_is_refused_naming_what() {
    for (payload, named) in [
        (
            json!({"sgguard": "sweep-plan", "region": ["eu-west-1"]}),
            "region",
        ),
        (
            json!({"sgguard": "sweep-summarize", "sweep_id": "../x", "bucket": "b", "manifest_key": "k"}),
            "../x",
        ),
        (
            json!({"sgguard": "sweep-summarize", "sweep_id": "x", "bucket": "b"}),
            "either `manifest_key`",
        ),
        (
            json!({"sgguard": "sweep-summarize", "sweep_id": "x", "bucket": "b", "manifest_key": "k", "map_error": {}}),
            "not both",
        ),
        (
            json!({"BatchInput": {"sgguard": "sweep-plan", "sweep_id": "s", "bucket": "b", "regions": [], "remediate": false, "concurrency": 1}, "Items": []}),
            "sweep-worker",
        ),
    ] {
        let Some(Err(failure)) = Step::parse(&payload) else {
            panic!("{payload} is refused");
        };
        assert!(failure.to_string().contains(named), "{failure}");
        assert_eq!(failure.error_type(), "Sgguard.BadSweepRequest");
    }
    assert!(Step::parse(&json!({"sgguard": "sweep"})).is_none());
    assert!(Step::parse(&json!({"detail-type": "AWS API Call via CloudTrail"})).is_none());
}
