//! The guard itself against the emulator: the members' forwarding dead-letter queues read by the
//! sweep through the role it assumes (undelivered events in the report and the summary, a
//! member without a spoke a coverage gap only, a queue it may not read as a failure), and the management
//! account, swept once its stack is deployed and a named gap while it is not.
//!
//! moto lets any AssumeRole succeed, the role there or not; a management account without the
//! spoke's role is emulated as AWS answers it, `AccessDenied` on that AssumeRole.

use serde_json::{Value, json};
use sgguard::aws::Aws;
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::scope::Scope;
use sgguard::enforce::state::HubState;
use sgguard::enforce::sweep::{FORWARDING_QUEUE, Sweep};
use sgguard::enforce::tamper::TamperCheck;
use sgguard::outcome::{ForwardingQueue, GapKind, SweepReport};
use sgguard::policy::Baseline;
use sgguard::report::notify::sweep_notification;
use sgguard::settings::Settings;

use crate::emulator::{HUB_REGION, OTHER_REGION, Org};

const REGIONS: [&str; 2] = [HUB_REGION, OTHER_REGION];

/// The organization sweep of `aws`'s hub in both regions; the spokes checked with `check`.
async fn sweep(aws: &Aws, check: Option<&TamperCheck>) -> SweepReport {
    let regions: Vec<String> = REGIONS.iter().map(|r| (*r).to_owned()).collect();
    Sweep::new(
        aws,
        &Baseline::default_baseline().unwrap(),
        &HubState::in_process(Limits::default()),
    )
    .concurrency(4)
    .tamper(check)
    .run(&Scope::parse(&[], &[], &regions).unwrap())
    .await
    .unwrap()
}

/// Sends `count` messages to the forwarding dead-letter queue of the account and region of
/// `config`, as the forwarding rule does with the events the hub bus refused.
async fn undeliver(config: &aws_config::SdkConfig, count: usize) {
    let sqs = aws_sdk_sqs::Client::new(config);
    let url = sqs
        .get_queue_url()
        .queue_name(FORWARDING_QUEUE)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    for n in 0..count {
        sqs.send_message()
            .queue_url(&url)
            .message_body(json!({"detail-type": "AWS API Call via CloudTrail", "n": n}).to_string())
            .send()
            .await
            .unwrap();
    }
}

fn queue_of(report: &SweepReport, account: &str, region: &str) -> Option<ForwardingQueue> {
    report
        .accounts
        .iter()
        .find(|a| a.account_id == account)
        .and_then(|a| a.regions.iter().find(|r| r.region == region))
        .and_then(|r| r.forwarding_queue.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reads_the_members_forwarding_queues_through_their_role() {
    let org = Org::world(json!({
        "ous": ["prod"],
        "members": [{"name": "spoked", "ou": "prod"}, "bare"],
        "spokes": {"ous": ["prod"], "regions": REGIONS},
    }))
    .await;
    let (spoked, bare) = (org.members[0].clone(), org.members[1].clone());
    undeliver(&org.member_config(&spoked, OTHER_REGION), 2).await;
    let aws = org.aws().await;
    let check = Settings::from_lookup(|_| None).unwrap().tamper_check(&aws);
    org.emulator.reset();

    let report = sweep(&aws, Some(&check)).await;

    // The two events wait in the member's queue of the other region, read as that member.
    let undelivered: Vec<(&str, &str, u64)> = report
        .undelivered
        .iter()
        .map(|u| (u.account_id.as_str(), u.region.as_str(), u.messages))
        .collect();
    assert_eq!(undelivered, [(spoked.as_str(), OTHER_REGION, 2)]);
    assert_eq!(
        queue_of(&report, &spoked, HUB_REGION),
        Some(ForwardingQueue::Read { messages: 0 })
    );
    assert!(
        org.emulator
            .assumed()
            .contains(&format!("arn:aws:iam::{spoked}:role/sgguard-remediation"))
    );
    // Every account × region read once (the hub's home region too: a queue there would count).
    assert_eq!(org.emulator.count("sqs:GetQueueAttributes"), 3 * 2);
    // The member without a spoke has no queue in either region, nor the hub (here also the
    // management account) outside its home: no failure, and no gap of their own; each is told
    // once, by its missing forwarding rule, as a coverage gap.
    assert!(report.gaps.is_empty(), "{:?}", report.gaps);
    assert_eq!(
        queue_of(&report, &bare, HUB_REGION),
        Some(ForwardingQueue::Missing)
    );
    assert_eq!(
        queue_of(&report, &bare, OTHER_REGION),
        Some(ForwardingQueue::Missing)
    );
    let mut coverage: Vec<(&str, &str)> = report
        .coverage_gaps
        .iter()
        .map(|g| (g.account_id.as_str(), g.region.as_str()))
        .collect();
    coverage.sort();
    let mut expected = vec![
        (bare.as_str(), HUB_REGION),
        (bare.as_str(), OTHER_REGION),
        (org.hub.as_str(), OTHER_REGION),
    ];
    expected.sort();
    assert_eq!(coverage, expected);
    assert!(
        !report.errors.iter().any(|e| e.contains("dead-letter")),
        "{:?}",
        report.errors
    );

    // The summary tells them, and the metrics count them.
    let summary = sweep_notification(&report, &org.hub);
    assert!(
        summary
            .text
            .contains(&format!("- {spoked} (spoked) {OTHER_REGION}: 2 event(s)")),
        "{}",
        summary.text
    );
    let document: Value = serde_json::from_str(&summary.json).unwrap();
    assert_eq!(document["undelivered"]["events"], 2);
    assert_eq!(document["gaps"]["total"], 0);

    // A queue the role may not read is a failure naming the account and region, not a crash.
    org.emulator.deny(
        "sqs:GetQueueAttributes",
        &format!("{spoked}/{FORWARDING_QUEUE}"),
    );
    let denied = sweep(&aws, Some(&check)).await;
    assert!(denied.undelivered.is_empty());
    for region in REGIONS {
        assert!(
            denied.errors.iter().any(|e| e.starts_with(&format!(
                "account {spoked} region {region}: the forwarding dead-letter queue cannot be read"
            ))),
            "{:?}",
            denied.errors
        );
    }
    assert_eq!(denied.totals, report.totals, "the rest swept as before");
}

/// The hub as a delegated administrator (a member), the organization's management account
/// apart: the sweep holds it, tells it as a gap while its role cannot be assumed, and sweeps it
/// once the spoke template's stack is there (docs/deploy.md, step 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_account_is_a_gap_until_its_stack_is_deployed_then_swept() {
    let org = Org::with_members(&["security", "app"]).await;
    let (hub, management) = (org.members[0].clone(), org.hub.clone());
    let aws = Aws::from_config(org.member_config(&hub, HUB_REGION), "sgguard-remediation")
        .await
        .unwrap();
    assert_eq!(aws.hub_account(), hub);
    let role = format!("{management}:role/sgguard-remediation");
    org.emulator.deny("sts:AssumeRole", &role);

    let before = sweep(&aws, None).await;
    assert!(
        before.accounts.iter().any(|a| a.account_id == management),
        "the management account is in the sweep"
    );
    let gap = before
        .gaps
        .iter()
        .find(|g| g.account_id == management)
        .expect("a gap for the management account");
    assert_eq!(gap.kind, GapKind::ManagementGuardNotDeployed);
    assert!(
        gap.line()
            .starts_with("management account: guard not deployed"),
        "{}",
        gap.line()
    );
    assert!(
        !before.errors.iter().any(|e| e.contains(&management)),
        "a gap, not a failure: {:?}",
        before.errors
    );

    // Step 4: the spoke template as a stack in each region, the roles from the first one.
    deploy_management_stacks(&org, &hub).await;
    org.emulator.control("allow", None);
    undeliver(&org.emulator.hub_config(OTHER_REGION), 1).await;
    let check = Settings::from_lookup(|_| None).unwrap().tamper_check(&aws);
    let after = sweep(&aws, Some(&check)).await;

    assert!(!after.gaps.iter().any(|g| g.account_id == management));
    let swept = after
        .accounts
        .iter()
        .find(|a| a.account_id == management)
        .unwrap();
    assert_eq!(swept.error, None);
    assert_eq!(swept.regions.len(), 2);
    assert_eq!(
        queue_of(&after, &management, OTHER_REGION),
        Some(ForwardingQueue::Read { messages: 1 })
    );
    assert!(
        org.emulator
            .assumed()
            .contains(&format!("arn:aws:iam::{role}"))
    );
}

/// docs/deploy.md step 4 as the management account: one stack per region, `PrimaryRegion`
/// first, the hub a member.
async fn deploy_management_stacks(org: &Org, hub: &str) {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spoke-infra/sgguard-spoke.yaml"
    ))
    .unwrap();
    let parameters = [
        ("HubAccountId", hub.to_owned()),
        ("HubRegion", HUB_REGION.to_owned()),
        ("HubEventBusName", "sgguard-hub".to_owned()),
        (
            "HubLambdaRoleArn",
            format!("arn:aws:iam::{hub}:role/sgguard-lambda"),
        ),
        ("OrganizationId", org.organization_id.clone()),
        ("PrimaryRegion", HUB_REGION.to_owned()),
    ];
    for region in REGIONS {
        let cfn = aws_sdk_cloudformation::Client::new(&org.emulator.hub_config(region));
        let mut create = cfn
            .create_stack()
            .stack_name("sgguard-spoke")
            .template_body(&template)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam);
        for (key, value) in &parameters {
            create = create.parameters(
                aws_sdk_cloudformation::types::Parameter::builder()
                    .parameter_key(*key)
                    .parameter_value(value)
                    .build(),
            );
        }
        create.send().await.unwrap();
    }
}
