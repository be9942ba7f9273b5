//! The distributed sweep's three steps through the Lambda's handler against the emulator: the
//! plan's items in S3, the Map's batches and `ResultWriter` files written as Step Functions
//! writes them, summarize merging one report — the same findings as the one-process sweep, one
//! summary, and a failed batch's accounts named as not swept.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sgguard::lambda::{Hub, handle};
use sgguard::outcome::SweepReport;

use super::entry_points::scan;
use super::{REGIONS, Seeded, found, hub_for, policy_yaml, seed};
use crate::staging::s3;

const BUCKET: &str = "sgguard-distributed-reports";

/// The seeded organization with the report bucket the steps keep their files in.
async fn seeded() -> Seeded {
    let seeded = seed().await;
    s3(&seeded.org)
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    seeded
}

async fn read(client: &aws_sdk_s3::Client, key: &str) -> Value {
    let object = client
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("s3://{BUCKET}/{key}: {e:?}"));
    serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap()
}

async fn write(client: &aws_sdk_s3::Client, key: &str, document: &Value) {
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(document.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
}

/// The Map as Step Functions runs it: the plan's items read from S3, two accounts per batch with
/// the plan's `batch_input`, the worker function once per batch (batches in `fail` fail as a
/// timed-out worker does), the child executions written as `SUCCEEDED_0.json` /
/// `FAILED_0.json` with their `manifest.json`; the manifest's key.
async fn map(hub: &Hub, client: &aws_sdk_s3::Client, planned: &Value, fail: &[usize]) -> String {
    let items = read(client, planned["items_key"].as_str().unwrap()).await;
    let (mut succeeded, mut failed) = (Vec::new(), Vec::new());
    for (n, batch) in items.as_array().unwrap().chunks(2).enumerate() {
        let input = json!({"BatchInput": planned["batch_input"], "Items": batch});
        if fail.contains(&n) {
            failed.push(json!({"Input": input.to_string(), "Status": "FAILED",
                "Error": "States.Timeout", "Cause": "the worker ran past its timeout"}));
            continue;
        }
        let output = handle(hub, input.clone(), None).await.unwrap();
        assert!(
            output["part_key"]
                .as_str()
                .unwrap()
                .starts_with("sweeps/runs/"),
            "{output}"
        );
        succeeded.push(
            json!({"Input": input.to_string(), "Output": output.to_string(),
            "Status": "SUCCEEDED"}),
        );
    }
    results(
        client,
        planned["sweep_id"].as_str().unwrap(),
        succeeded,
        failed,
    )
    .await
}

/// The Map's `ResultWriter` files of these child executions, as Step Functions writes them;
/// the manifest's key.
async fn results(
    client: &aws_sdk_s3::Client,
    sweep_id: &str,
    succeeded: Vec<Value>,
    failed: Vec<Value>,
) -> String {
    let prefix = format!("sweeps/runs/results/{sweep_id}");
    let mut files = json!({"FAILED": [], "PENDING": [], "SUCCEEDED": []});
    for (kind, executions) in [("SUCCEEDED", succeeded), ("FAILED", failed)] {
        if !executions.is_empty() {
            let key = format!("{prefix}/{kind}_0.json");
            write(client, &key, &Value::from(executions)).await;
            files[kind] = json!([{"Key": key, "Size": 1}]);
        }
    }
    let manifest_key = format!("{prefix}/manifest.json");
    let manifest = json!({"DestinationBucket": BUCKET, "ResultFiles": files,
        "MapRunArn": "arn:aws:states:us-east-1:111111111111:mapRun:sgguard-sweep/SweepAccounts:1"});
    write(client, &manifest_key, &manifest).await;
    manifest_key
}

/// Plan, the Map, summarize; the merged report as summarize stored it, and the one message
/// sent for the whole sweep (none per worker): its document and attributes.
async fn distributed(
    seeded: &Seeded,
    remediate: bool,
    fail: &[usize],
) -> (SweepReport, Value, Value) {
    let hub = hub_for(seeded, Some(BUCKET)).await;
    let client = s3(&seeded.org);
    let plan = json!({"sgguard": "sweep-plan", "regions": REGIONS, "remediate": remediate});
    let planned = handle(&hub, plan, None).await.unwrap();
    // The five members and the organization's management account (the hub's, here).
    assert_eq!(planned["accounts"], 6, "{planned}");
    let manifest_key = map(&hub, &client, &planned, fail).await;
    let summarize = json!({"sgguard": "sweep-summarize", "sweep_id": planned["sweep_id"],
        "bucket": BUCKET, "manifest_key": manifest_key});
    let result = handle(&hub, summarize, None).await.unwrap();
    let mut inbox = seeded.org.inbox().await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let (_, summary, attributes) = inbox.remove(0);
    assert_eq!(summary["kind"], "sweep");
    assert_eq!(summary["totals"], result["totals"]);
    let uri = summary["report"]["uri"].as_str().unwrap();
    let key = uri.strip_prefix(&format!("s3://{BUCKET}/")).unwrap();
    let report = serde_json::from_value(read(&client, key).await).unwrap();
    (report, summary, attributes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_workers_and_summarize_revoke_what_the_one_process_sweep_revokes() {
    let seeded = seeded().await;

    let (report, summary, _) = distributed(&seeded, true, &[]).await;

    let members = seeded.org.members.clone();
    assert_eq!(found(&report), seeded.expected(true, &members));
    assert!(!report.incomplete(), "{:?}", report.errors);
    let swept: BTreeSet<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(swept.len(), 6);
    assert_eq!(summary["totals"]["revoked"], report.totals.counts.revoked);
    // Revoked for real: a second sweep, one process, finds nothing left to revoke.
    let again = handle(
        &hub_for(&seeded, None).await,
        json!({"sgguard": "sweep", "regions": REGIONS}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(again["totals"]["would_revoke"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_s_accounts_are_named_and_the_sweep_is_incomplete() {
    let seeded = seeded().await;

    let (report, _, attributes) = distributed(&seeded, false, &[1]).await;

    // Items in account-id order, two per batch: batch 1 holds the third and fourth.
    let mut listed: Vec<String> = report
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    listed.sort();
    let lost = &listed[2..4];
    let swept: Vec<String> = seeded
        .org
        .members
        .iter()
        .filter(|m| !lost.contains(m))
        .cloned()
        .collect();
    assert_eq!(found(&report), seeded.expected(false, &swept));
    assert!(report.incomplete());
    for account in lost {
        let summary = report
            .accounts
            .iter()
            .find(|a| &a.account_id == account)
            .unwrap();
        assert!(
            summary
                .error
                .as_deref()
                .unwrap()
                .contains("not swept: its batch failed: States.Timeout"),
            "{summary:?}"
        );
    }
    assert_eq!(attributes["action"]["Value"], "failed");
}

/// `sgguard sweep <step> PAYLOAD` against the emulator: (exit code, stdout as JSON or null,
/// stderr).
fn step(seeded: &Seeded, step: &str, payload: &Value) -> (Option<i32>, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, policy_yaml()).unwrap();
    let file = dir.path().join("payload.json");
    std::fs::write(&file, payload.to_string()).unwrap();
    let output = seeded
        .org
        .cli()
        .args(["sweep", step])
        .arg(&file)
        .args([
            "--report-bucket",
            BUCKET,
            "--topic-arn",
            &seeded.org.topic_arn,
        ])
        .arg("--policy")
        .arg(&policy)
        .output()
        .unwrap();
    (
        output.status.code(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_command_runs_each_step_and_finds_what_scan_finds() {
    let seeded = seeded().await;
    let client = s3(&seeded.org);

    let plan = json!({"sgguard": "sweep-plan", "regions": REGIONS});
    // A payload of another step is refused before any AWS call.
    seeded.org.emulator.reset();
    let (code, _, stderr) = step(&seeded, "worker", &plan);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("is the payload of the plan step, not of the worker step"),
        "{stderr}"
    );
    assert_eq!(
        seeded.org.emulator.control("counts", None)["requests"],
        json!([])
    );

    let (code, planned, stderr) = step(&seeded, "plan", &plan);
    assert_eq!(code, Some(0), "{stderr}");
    let items = read(&client, planned["items_key"].as_str().unwrap()).await;
    let batch = json!({"BatchInput": planned["batch_input"], "Items": items});
    let (code, worked, stderr) = step(&seeded, "worker", &batch);
    assert_eq!(code, Some(0), "{stderr}");
    let execution =
        json!({"Input": batch.to_string(), "Output": worked.to_string(), "Status": "SUCCEEDED"});
    let sweep_id = planned["sweep_id"].as_str().unwrap();
    let manifest_key = results(&client, sweep_id, vec![execution], Vec::new()).await;
    let summarize = json!({"sgguard": "sweep-summarize", "sweep_id": sweep_id, "bucket": BUCKET, "manifest_key": manifest_key});
    let (code, summarized, stderr) = step(&seeded, "summarize", &summarize);
    assert_eq!(code, Some(0), "{stderr}");
    // The hub's steps check the spokes, as the Lambda does; this world has no spoke stacks.
    let errors = summarized["errors"].as_array().unwrap();
    assert!(
        !errors.is_empty()
            && errors
                .iter()
                .all(|e| e.as_str().unwrap().contains("tampering")),
        "{summarized}"
    );
    let (_, summary) = seeded.org.sweep_summary().await;
    let key = summary["report"]["uri"]
        .as_str()
        .unwrap()
        .strip_prefix(&format!("s3://{BUCKET}/"))
        .unwrap()
        .to_owned();
    let stepped: SweepReport = serde_json::from_value(read(&client, &key).await).unwrap();

    let (code, scanned, stderr) = scan(
        &seeded,
        &["--regions", &REGIONS.join(","), "--format", "json"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let scanned: SweepReport = serde_json::from_str(&scanned).unwrap();
    assert_eq!(found(&stepped), found(&scanned));
    assert_eq!(found(&stepped), seeded.expected(false, &seeded.org.members));
    assert_eq!(stepped.totals.counts, scanned.totals.counts);
    // The steps checked the spokes (none here): each region swept is a coverage gap; the scan
    // without `--check-spokes` judged no forwarding rule.
    assert_eq!(stepped.totals.coverage_gaps, stepped.coverage_gaps.len());
    assert!(stepped.totals.coverage_gaps > 0 && scanned.coverage_gaps.is_empty());
}
