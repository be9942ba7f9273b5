//! The sweep's two ways in: the scheduled sweep in the Lambda's handler (one summary) and the
//! `scan` command (report, remediate, exit codes as documented).

use serde_json::{Value, json};

use super::{REGIONS, Seeded, hub_for, policy_yaml, seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_runs_in_the_handler_and_sends_one_summary() {
    let seeded = seed().await;
    let hub = hub_for(&seeded, None).await;
    let payload = json!({"sgguard": "sweep", "regions": REGIONS, "remediate": true});

    let result = sgguard::lambda::handle(&hub, payload, None).await.unwrap();

    assert_eq!(result["totals"]["revoked"], 6);
    let inbox = seeded.org.inbox().await;
    assert_eq!(inbox.len(), 1, "one summary message: {inbox:?}");
    let (subject, document, attributes) = &inbox[0];
    assert!(
        subject.starts_with("sgguard sweep: revoked 6 rule(s) in 6 account(s)"),
        "{subject}"
    );
    assert_eq!(document["kind"], "sweep");
    assert_eq!(document["totals"]["revoked"], 6);
    assert_eq!(
        document["top_findings"][0]["violations"][0]["severity"],
        "critical"
    );
    assert_eq!(attributes["kind"]["Value"], "sweep");
    assert_eq!(attributes["action"]["Value"], "revoked");
    let listed = attributes["account_id"]["Value"].as_str().unwrap();
    for name in ["prod-a", "prod-b", "dev-sandbox-d", "root-e"] {
        assert!(listed.contains(&seeded.account(name)), "{listed}");
    }
    // dev-c has only an exempt finding: nothing to tell about it.
    assert!(!listed.contains(&seeded.account("dev-c")), "{listed}");

    // A broken account is reported by the summary and the result; the invocation succeeds so
    // that Lambda does not sweep the whole organization again.
    let broken = seeded.account("root-e");
    seeded.org.emulator.deny(
        "sts:AssumeRole",
        &format!("{broken}:role/sgguard-remediation"),
    );
    let fresh = hub_for(&seeded, None).await;
    let payload = json!({"sgguard": "sweep", "regions": REGIONS, "remediate": true});
    let result = sgguard::lambda::handle(&fresh, payload, None)
        .await
        .unwrap();
    assert_eq!(result["status"], "incomplete");
    assert!(result["errors"][0].as_str().unwrap().contains(&broken));
    let inbox = seeded.org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "failed");
    assert!(inbox[0].1["errors"][0].as_str().unwrap().contains(&broken));

    // A payload sgguard does not understand changes nothing.
    seeded.org.emulator.reset();
    for bad in [
        json!({"sgguard": "sweep", "region": ["us-east-1"]}),
        json!({"sgguard": "sweep", "regions": ["not a region"]}),
        json!({"sgguard": "purge"}),
    ] {
        let error = sgguard::lambda::handle(&fresh, bad.clone(), None)
            .await
            .unwrap_err();
        assert_eq!(error.0.error_type(), "Sgguard.BadSweepRequest", "{bad}");
    }
    assert_eq!(
        seeded.org.emulator.control("counts", None)["requests"],
        json!([])
    );
}

pub(super) fn scan(seeded: &Seeded, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, policy_yaml()).unwrap();
    crate::emulator::ran(
        &seeded
            .org
            .cli()
            .arg("scan")
            .arg("--policy")
            .arg(&policy)
            .args(args)
            .output()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_command_reports_remediates_and_exits_as_documented() {
    let seeded = seed().await;
    let regions = REGIONS.join(",");

    let (code, stdout, stderr) = scan(&seeded, &["--regions", &regions, "--format", "json"]);
    assert_eq!(code, Some(1), "findings: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["remediate"], false);
    assert_eq!(report["accounts"].as_array().unwrap().len(), 6);
    assert_eq!(report["totals"]["would_revoke"], 6);

    let (code, stdout, stderr) = scan(&seeded, &["--regions", &regions, "--remediate"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("6 revoked"), "{stdout}");
    assert!(
        stdout.contains("ACCOUNT") && stdout.contains("REVOKED"),
        "{stdout}"
    );

    let broken = seeded.account("dev-c");
    seeded.org.emulator.deny(
        "sts:AssumeRole",
        &format!("{broken}:role/sgguard-remediation"),
    );
    let (code, stdout, stderr) = scan(&seeded, &["--regions", &regions, "--format", "sarif"]);
    assert_eq!(code, Some(2), "a failed account: {stdout}");
    assert!(stderr.contains(&format!("account {broken}")), "{stderr}");
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // Every enabled region of the own account, as DescribeRegions lists them.
    let (code, stdout, stderr) = scan(&seeded, &["--accounts", "self", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let swept = report["accounts"][0]["regions"].as_array().unwrap().len();
    assert!(swept > 10, "every enabled region, got {swept}");

    // Bad arguments: exit 2 before any AWS call.
    seeded.org.emulator.reset();
    for bad in [
        &["--accounts", "12345"][..],
        &["--regions", "eu_west_1"],
        &["--accounts", "self", "--ou", "ou-ab12-cdef3456"],
        &["--concurrency", "0"],
    ] {
        let (code, _, stderr) = scan(&seeded, bad);
        assert_eq!(code, Some(2), "{bad:?}: {stderr}");
        assert!(stderr.contains("error"), "{stderr}");
    }
    assert_eq!(
        seeded.org.emulator.control("counts", None)["requests"],
        json!([])
    );
}
