//! Issue #21 against the emulator: the sweep walks every region enabled in each account
//! (DescribeRegions through the assumed role), not only the regions the spokes forward from. A
//! rule opened in a region outside the StackSet's is found and fixed, the missing forwarding
//! rule there is a coverage gap named by account and region, and a region a service control
//! policy denies is counted and named; the scheduled sweep's summary (its coverage judged from
//! the sweep's own reads) and the `scan` command say both.

use serde_json::{Value, json};
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::scope::Scope;
use sgguard::enforce::state::HubState;
use sgguard::enforce::sweep::Sweep;
use sgguard::lambda::{Hub, handle};
use sgguard::outcome::{CoverageGap, Forwarding};
use sgguard::policy::Baseline;
use sgguard::settings::Settings;

use crate::emulator::{HUB_REGION, OTHER_REGION, Org, live_rules, open_rules, ran, tcp};

/// Where the spokes forward from: the old default of the sweep's regions.
const FORWARDING: [&str; 2] = [HUB_REGION, OTHER_REGION];
/// An enabled region outside them.
const ELSEWHERE: &str = "ap-southeast-2";
/// An enabled region a service control policy denies.
const DENIED: &str = "sa-east-1";

/// One member with the spoke StackSet in the two forwarding regions, an SSH rule open to the
/// internet in [`ELSEWHERE`], and [`DENIED`] denied to it; the member and the group.
async fn world() -> (Org, String, String) {
    let org = Org::world(json!({
        "ous": ["prod"],
        "members": [{"name": "app", "ou": "prod"}],
        "spokes": {"ous": ["prod"], "regions": FORWARDING},
    }))
    .await;
    let app = org.members[0].clone();
    let ec2 = org.member_ec2(&app, ELSEWHERE).await;
    let (group, _) = open_rules(&ec2, "far-away", vec![tcp(22, "0.0.0.0/0")]).await;
    org.emulator.deny_region(Some(&app), DENIED);
    (org, app, group)
}

/// The hub's settings in this world: the spokes' regions known, no sweep regions named.
fn settings(org: &Org) -> Settings {
    let bus = format!(
        "arn:aws:events:{HUB_REGION}:{}:event-bus/sgguard-hub",
        org.hub
    );
    Settings::from_lookup(|name| match name {
        "SGGUARD_TOPIC_ARN" => Some(org.topic_arn.clone()),
        "SGGUARD_HUB_BUS_ARN" => Some(bus.clone()),
        "SGGUARD_TRUSTED_PRINCIPALS" => {
            Some(format!("arn:aws:iam::{}:role/sgguard-lambda", org.hub))
        }
        "SGGUARD_FORWARDING_REGIONS" => Some(FORWARDING.join(",")),
        "SGGUARD_STACKSET_NAME" => Some("sgguard-spoke".to_owned()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_enabled_region_is_swept_and_one_without_forwarding_is_a_coverage_gap() {
    let (org, app, group) = world().await;
    let settings = settings(&org);
    let aws = org.aws().await;
    let check = settings.tamper_check(&aws);
    org.emulator.reset();

    // The default scope: every enabled region of the account.
    let baseline = Baseline::default_baseline().unwrap();
    let state = HubState::in_process(Limits::default());
    let report = Sweep::new(&*aws, &baseline, &state)
        .concurrency(8)
        .tamper(Some(&check))
        .run(&Scope::parse(std::slice::from_ref(&app), &[], &[]).unwrap())
        .await
        .unwrap();

    let swept: Vec<&str> = report.accounts[0]
        .regions
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    for region in [HUB_REGION, OTHER_REGION, ELSEWHERE, DENIED] {
        assert!(swept.contains(&region), "{region} not in {swept:?}");
    }
    assert_eq!(org.emulator.count("ec2:DescribeRegions"), 1, "asked once");
    // The rule outside the spokes' regions is found.
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.finding.rule.region.as_deref().unwrap(),
                f.finding.rule.group_id.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [(ELSEWHERE, group.as_str())]);
    // Every enabled region but the spokes' (and the denied one) is a gap, named by account
    // and region, of the regions the spokes are not deployed to; none is tampering.
    let elsewhere = CoverageGap {
        account_id: app.clone(),
        region: ELSEWHERE.to_owned(),
        forwarding: Forwarding::NotDeployed,
    };
    assert!(
        report.coverage_gaps.contains(&elsewhere),
        "{:?}",
        report.coverage_gaps
    );
    assert_eq!(report.coverage_gaps.len(), swept.len() - 3);
    assert!(
        report
            .coverage_gaps
            .iter()
            .all(|g| g.forwarding == Forwarding::NotDeployed
                && !FORWARDING.contains(&g.region.as_str())
                && g.region != DENIED),
        "{:?}",
        report.coverage_gaps
    );
    assert!(report.tampering.is_empty(), "{:?}", report.tampering);
    assert!(!report.incomplete(), "{:?}", report.errors);
    assert_eq!(report.totals.coverage_gaps, report.coverage_gaps.len());
    assert_eq!(
        report.denied_regions().collect::<Vec<_>>(),
        [(app.as_str(), DENIED)]
    );
    assert_eq!(report.totals.regions_denied, 1);
    // One read of the forwarding rule per region swept serves the tamper check and the gap
    // (none where the policy denies the region).
    assert_eq!(
        org.emulator.count("events:DescribeRule"),
        u64::try_from(swept.len() - 1).unwrap()
    );

    // An explicit list narrows it: the spokes' regions only, no gap, the rule not seen.
    let narrowed = Sweep::new(&*aws, &baseline, &state)
        .tamper(Some(&check))
        .run(
            &Scope::parse(
                std::slice::from_ref(&app),
                &[],
                &FORWARDING.map(str::to_owned),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(narrowed.accounts[0].regions.len(), 2);
    assert!(narrowed.coverage_gaps.is_empty() && narrowed.findings.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_fixes_the_far_rule_and_names_the_gaps_and_the_denied_region() {
    let (org, app, group) = world().await;
    let settings = settings(&org);
    let aws = org.aws().await;
    let hub = Hub {
        staging: settings.inline_staging().unwrap(),
        state: HubState::in_process(settings.limits),
        tamper: Some(settings.tamper_check(&aws)),
        settings,
        baseline: std::sync::Arc::new(Baseline::default_baseline().unwrap()),
        exemptions: None,
        aws,
    };
    org.emulator.reset();
    // No `regions`, no SGGUARD_REGIONS: every enabled region.
    let result = handle(
        &hub,
        json!({"sgguard": "sweep", "remediate": true, "accounts": [app]}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(result["status"], "complete", "{result}");
    assert_eq!(result["totals"]["revoked"], 1, "{result}");
    assert_eq!(result["totals"]["regions_denied"], 1, "{result}");
    let gaps = result["totals"]["coverage_gaps"].as_u64().unwrap();
    assert!(gaps > 0, "{result}");
    // The coverage merged into the summary judged what the sweep read: the regions listed
    // once, each forwarding rule read once (none where the policy denies the region).
    assert_eq!(org.emulator.count("ec2:DescribeRegions"), 1);
    assert_eq!(org.emulator.count("events:DescribeRule"), gaps + 2);
    let ec2 = org.member_ec2(&app, ELSEWHERE).await;
    assert!(live_rules(&ec2, &group).await.is_empty(), "revoked there");

    let (subject, message) = org.sweep_summary().await;
    assert!(
        subject.contains(&format!("{gaps} coverage gap(s)")),
        "{subject}"
    );
    let listed: &Value = &message["coverage_gaps"][0];
    assert_eq!(listed["account_id"], app.as_str());
    assert_eq!(listed["forwarding"], "not_deployed");
    assert!(
        listed["regions"]
            .as_array()
            .unwrap()
            .contains(&json!(ELSEWHERE)),
        "{message}"
    );
    assert_eq!(
        message["regions_denied"],
        json!([{"account_id": app, "region": DENIED}])
    );
    assert_eq!(message["totals"]["coverage_gaps"], gaps);
    assert_eq!(message["coverage"]["not_covered"], gaps, "{message}");
    assert_eq!(message["coverage"]["covered"], 2, "{message}");
    assert_eq!(message["coverage"]["skipped"], 1, "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_with_the_spoke_check_names_the_gap_and_exits_1() {
    let (org, app, _) = world().await;
    let scan = |args: &[&str]| {
        ran(&org
            .cli()
            .env("SGGUARD_FORWARDING_REGIONS", FORWARDING.join(","))
            .args(["scan", "--accounts", &app, "--check-spokes"])
            .args(args)
            .output()
            .unwrap())
    };
    // No finding in these regions, one gap: found (1), not failed (2).
    let regions = format!("{HUB_REGION},eu-west-3");
    let (code, stdout, stderr) = scan(&["--regions", &regions, "--format", "json"]);
    assert_eq!(code, Some(1), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["totals"]["findings"], 0);
    assert_eq!(report["errors"], json!([]));
    assert_eq!(
        report["coverage_gaps"],
        json!([{"account_id": app, "region": "eu-west-3", "forwarding": "not_deployed"}])
    );

    // Every enabled region: the far rule, its region's gap and the denied region, named.
    let (code, table, stderr) = scan(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        table.contains(&format!("coverage gap: {app} ")) && table.contains(ELSEWHERE),
        "{table}"
    );
    assert!(
        table.contains(&format!("denied by policy: {app} {DENIED}")),
        "{table}"
    );
    assert!(table.contains("region(s) denied by policy in"), "{table}");
}
