//! Coverage and the audit phase against the emulator's Organization with the spoke StackSet
//! deployed (hub/stackset.tf as the world builds it): `sgguard coverage` over an organization
//! where one account lacks the stack and one region lacks the rule; a scan through the read-only
//! audit role that changes nothing; and a scheduled sweep in an organization whose service
//! control policy denies a region, with the coverage in its summary.

use serde_json::{Value, json};
use sgguard::enforce::state::HubState;
use sgguard::enforce::tamper::{FORWARDER_ROLE, FORWARDING_RULE, TamperCheck};
use sgguard::lambda::{Hub, handle};
use sgguard::policy::Baseline;
use sgguard::settings::Settings;

use crate::emulator::{HUB_REGION, OTHER_REGION, Org, live_rules, open_rules, ran, tcp};

const REGIONS: [&str; 2] = [HUB_REGION, OTHER_REGION];

/// `covered` (two accounts) gets the StackSet; `late` (one account) does not.
async fn world() -> Org {
    Org::world(json!({
        "ous": ["covered", "late"],
        "members": [
            {"name": "app-a", "ou": "covered"},
            {"name": "app-b", "ou": "covered"},
            {"name": "newcomer", "ou": "late"},
        ],
        "spokes": {"ous": ["covered"], "regions": REGIONS},
    }))
    .await
}

fn hub_bus(org: &Org) -> String {
    format!(
        "arn:aws:events:{HUB_REGION}:{}:event-bus/sgguard-hub",
        org.hub
    )
}

/// `sgguard ARGS` as the hub, against the emulator.
fn sgguard(org: &Org, args: &[&str]) -> (Option<i32>, String, String) {
    ran(&org
        .cli()
        .env("SGGUARD_HUB_BUS_ARN", hub_bus(org))
        .args(args)
        .output()
        .unwrap())
}

/// Deletes the forwarding rule of `account` in `region`, as a member administrator could.
async fn delete_rule(org: &Org, account: &str, region: &str) {
    let events = aws_sdk_eventbridge::Client::new(&org.member_config(account, region));
    events
        .remove_targets()
        .rule(FORWARDING_RULE)
        .ids("sgguard-hub-bus")
        .send()
        .await
        .unwrap();
    events
        .delete_rule()
        .name(FORWARDING_RULE)
        .send()
        .await
        .unwrap();
}

/// (account, region) → (covered, stack, rule) of a coverage document.
fn places(coverage: &Value) -> Vec<(String, String, bool, String, String)> {
    coverage["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["account_id"].as_str().unwrap().to_owned(),
                p["region"].as_str().unwrap().to_owned(),
                p["covered"].as_bool().unwrap(),
                p["stack"].as_str().unwrap().to_owned(),
                p["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_names_the_account_without_the_stack_and_the_region_without_the_rule() {
    let org = world().await;
    let [app_a, app_b, newcomer] = [0, 1, 2].map(|i| org.members[i].clone());
    delete_rule(&org, &app_b, OTHER_REGION).await;
    let regions = REGIONS.join(",");

    let (code, stdout, stderr) = sgguard(
        &org,
        &[
            "coverage",
            "--stack-set",
            "sgguard-spoke",
            "--regions",
            &regions,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let coverage: Value = serde_json::from_str(&stdout).unwrap();
    let got = places(&coverage);
    let expect = |account: &str, region: &str, covered: bool, stack: &str, rule: &str| {
        (
            account.to_owned(),
            region.to_owned(),
            covered,
            stack.to_owned(),
            rule.to_owned(),
        )
    };
    for place in [
        expect(&app_a, HUB_REGION, true, "CURRENT", "ENABLED"),
        expect(&app_a, OTHER_REGION, true, "CURRENT", "ENABLED"),
        expect(&app_b, HUB_REGION, true, "CURRENT", "ENABLED"),
        // The rule deleted in one region.
        expect(&app_b, OTHER_REGION, false, "CURRENT", "missing"),
        // An account of an OU the StackSet does not deploy to.
        expect(&newcomer, HUB_REGION, false, "missing", "missing"),
        expect(&newcomer, OTHER_REGION, false, "missing", "missing"),
        // The hub (the management account here): its own rule in its home region.
        expect(&org.hub, HUB_REGION, true, "hub account", "hub rule"),
    ] {
        assert!(got.contains(&place), "{place:?} not in {got:#?}");
    }
    assert_eq!(coverage["management_account"], org.hub.as_str());
    assert_eq!(coverage["stack_set"], "sgguard-spoke");

    // The table names what is not covered and why.
    let (code, table, _) = sgguard(
        &org,
        &[
            "coverage",
            "--stack-set",
            "sgguard-spoke",
            "--regions",
            &regions,
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        table.contains(&format!("{newcomer} {HUB_REGION}: no spoke stack instance")),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "{app_b} {OTHER_REGION}: the forwarding rule `{FORWARDING_RULE}` is missing"
        )),
        "{table}"
    );
    assert!(table.contains("NOT covered"), "{table}");

    // Only covered accounts and the home region: exit 0.
    let (code, _, stderr) = sgguard(
        &org,
        &[
            "coverage",
            "--stack-set",
            "sgguard-spoke",
            "--accounts",
            &app_a,
            "--regions",
            HUB_REGION,
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(org.emulator.count("cloudformation:ListStackInstances") >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_through_the_audit_role_reports_and_changes_nothing() {
    let org = world().await;
    let app_a = org.members[0].clone();
    let ec2 = org.member_ec2(&app_a, HUB_REGION).await;
    let (group, _) = open_rules(&ec2, "web", vec![tcp(22, "0.0.0.0/0")]).await;
    let before = live_rules(&ec2, &group).await;
    org.emulator.reset();

    let (code, stdout, stderr) = sgguard(
        &org,
        &[
            "scan",
            "--role-name",
            "sgguard-audit",
            "--accounts",
            &app_a,
            "--regions",
            HUB_REGION,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(1), "findings reported: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["findings"][0]["outcome"], "would_revoke");
    assert_eq!(live_rules(&ec2, &group).await, before);
    // Every role assumed was the audit role, and no revoke was even attempted.
    let assumed = org.emulator.assumed();
    assert!(!assumed.is_empty());
    assert!(
        assumed
            .iter()
            .all(|arn| arn.ends_with(":role/sgguard-audit")),
        "{assumed:?}"
    );
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupEgress"), 0);

    // Asking it to revoke is refused before any AWS call.
    org.emulator.reset();
    let (code, _, stderr) = sgguard(
        &org,
        &["scan", "--role-name", "sgguard-audit", "--remediate"],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("`--role-name sgguard-audit` is for reading"),
        "{stderr}"
    );
    assert_eq!(org.emulator.control("counts", None)["requests"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_denied_by_a_service_control_policy_is_skipped_not_failed() {
    let org = world().await;
    let [app_a, app_b, _] = [0, 1, 2].map(|i| org.members[i].clone());
    let ec2 = org.member_ec2(&app_a, HUB_REGION).await;
    let (group, _) = open_rules(&ec2, "web", vec![tcp(3389, "0.0.0.0/0")]).await;
    // app-b's organization unit denies OTHER_REGION, as an SCP with aws:RequestedRegion would.
    org.emulator.deny_region(Some(&app_b), OTHER_REGION);
    let settings = Settings::from_lookup(|name| match name {
        "SGGUARD_TOPIC_ARN" => Some(org.topic_arn.clone()),
        "SGGUARD_HUB_BUS_ARN" => Some(hub_bus(&org)),
        "SGGUARD_STACKSET_NAME" => Some("sgguard-spoke".to_owned()),
        _ => None,
    })
    .unwrap();
    let aws = org.aws().await;
    let tamper = TamperCheck {
        hub_account: org.hub.clone(),
        hub_bus_arn: settings.hub_bus_arn.clone(),
        trusted: vec![format!("arn:aws:iam::{}:role/sgguard-lambda", org.hub)],
        remediation_role: "sgguard-remediation".to_owned(),
        forwarder_role: FORWARDER_ROLE.to_owned(),
        forwarding_regions: Some(REGIONS.map(str::to_owned).to_vec()),
    };
    let hub = Hub {
        staging: settings.inline_staging().unwrap(),
        state: HubState::in_process(settings.limits),
        settings,
        baseline: std::sync::Arc::new(Baseline::default_baseline().unwrap()),
        exemptions: None,
        aws,
        tamper: Some(tamper),
    };
    let result = handle(
        &hub,
        json!({"sgguard": "sweep", "regions": REGIONS, "remediate": true,
               "accounts": [app_a, app_b]}),
        None,
    )
    .await
    .unwrap();
    // Complete: the denied region is no failure, and the rest was swept (and fixed).
    assert_eq!(result["status"], "complete", "{result}");
    assert_eq!(result["errors"], json!([]));
    assert!(live_rules(&ec2, &group).await.is_empty());

    let (subject, message) = org.sweep_summary().await;
    assert!(!subject.contains("failure"), "{subject}");
    assert_eq!(message["regions_skipped"], 1);
    // The coverage is in the summary: both members covered where allowed.
    assert_eq!(message["coverage"]["not_covered"], 0, "{message}");
    assert_eq!(message["coverage"]["skipped"], 1, "{message}");
}
