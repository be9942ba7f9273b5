//! The guard itself on the in-memory hub: an organization sweep by unit keeps the hub's and the
//! management account; a management account without its stack is a named gap, not a failure;
//! the forwarding dead-letter queues tell undelivered events and failures, in the report, the
//! metrics and the summary (a region without a spoke is its coverage gap, told once).

use super::tests::assert_fails_with;
use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::{self, Fake, HOME_REGION, HUB_ACCOUNT, ssh_open};
use crate::enforce::scope::Scope;
use crate::finding::Tags;
use crate::outcome::{ForwardingQueue, GapKind};

const PROD: &str = "111122223333";
const DEV: &str = "444455556666";
const MANAGEMENT: &str = "121212121212";
const OTHER_REGION: &str = "us-east-1";

/// An account with one group holding one open SSH rule, in `regions`.
fn account(group: &str, regions: &[&str]) -> Fake {
    Fake::default()
        .with_group(
            group,
            Tags::new(),
            vec![ssh_open(group, &format!("sgr-{group}"))],
        )
        .in_regions(regions)
}

fn swept_ids(report: &SweepReport) -> Vec<&str> {
    report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect()
}

async fn sweep(hub: &Fake, scope: &Scope, check: Option<&TamperCheck>) -> SweepReport {
    let (baseline, state) = (
        Baseline::default_baseline().unwrap(),
        HubState::in_process(Limits::default()),
    );
    Sweep::new(hub, &baseline, &state)
        .tamper(check)
        .run(scope)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_organization_sweep_by_unit_keeps_the_hub_and_the_management_account() {
    let hub = Fake::default()
        .member(PROD, "prod", Some(account("sg-prod", &[HOME_REGION])))
        .member(DEV, "dev", Some(account("sg-dev", &[HOME_REGION])))
        .member(
            MANAGEMENT,
            "management",
            Some(account("sg-m", &[HOME_REGION])),
        )
        .in_units(PROD, &["ou-ab12-prod0000", "r-ab12"])
        .in_units(DEV, &["ou-ab12-dev00000", "r-ab12"])
        .management(MANAGEMENT);
    let by_unit = Scope::parse(&[], &["ou-ab12-prod0000".to_owned()], &[]).unwrap();
    let report = sweep(&hub, &by_unit, None).await;

    // The unit's account, and the organization's own two, never the other unit's.
    assert_eq!(swept_ids(&report), [PROD, MANAGEMENT, HUB_ACCOUNT]);
    let management = &report.accounts[1];
    assert_eq!(management.account_name.as_deref(), Some("workload-a"));
    assert_eq!(management.counts.would_revoke, 1, "swept like any member");
    assert!(report.gaps.is_empty() && !report.incomplete(), "{report:?}");

    // Named accounts are swept as named.
    let named = sweep(
        &hub,
        &Scope::parse(&[DEV.to_owned()], &[], &[]).unwrap(),
        None,
    )
    .await;
    assert_eq!(swept_ids(&named), [DEV]);
}

#[tokio::test]
async fn a_management_account_without_its_stack_is_a_gap_and_other_locked_accounts_fail() {
    const LOCKED: &str = "777788889999";
    let hub = Fake::default()
        .member(PROD, "prod", Some(account("sg-prod", &[HOME_REGION])))
        .member(MANAGEMENT, "management", None)
        .management(MANAGEMENT);
    let report = sweep(&hub, &Scope::parse(&[], &[], &[]).unwrap(), None).await;

    assert_eq!(swept_ids(&report), [PROD, MANAGEMENT, HUB_ACCOUNT]);
    assert_eq!(report.gaps.len(), 1, "{:?}", report.gaps);
    let gap = &report.gaps[0];
    assert_eq!(
        (gap.account_id.as_str(), gap.kind, gap.region.as_deref()),
        (MANAGEMENT, GapKind::ManagementGuardNotDeployed, None)
    );
    assert!(gap.detail.contains("docs/deploy.md"), "{}", gap.detail);
    assert!(
        gap.line()
            .starts_with("management account: guard not deployed (account 121212121212)"),
        "{}",
        gap.line()
    );
    // Told, not failed: the sweep is complete and the account says why it was not swept.
    assert!(!report.incomplete(), "{:?}", report.errors);
    assert_eq!(
        report.accounts[1].error.as_deref(),
        Some(gap.line().as_str())
    );
    let table = crate::report::sweep_table(&report);
    assert!(
        table.contains("NOT GUARDED: management account: guard not deployed")
            && table.contains("gap: management account: guard not deployed"),
        "{table}"
    );

    // Any other account whose role cannot be assumed is still a failure.
    let hub = hub.member(LOCKED, "locked", None);
    let report = sweep(&hub, &Scope::parse(&[], &[], &[]).unwrap(), None).await;
    assert_eq!(report.gaps.len(), 1);
    assert!(report.incomplete());
    assert_fails_with(&report, &format!("account {LOCKED}:"));
    assert!(!report.errors.iter().any(|e| e.contains(MANAGEMENT)));
}

#[tokio::test]
async fn the_forwarding_queues_tell_undelivered_events_gaps_and_failures() {
    let prod = account("sg-prod", &[HOME_REGION, OTHER_REGION]);
    let dev = account("sg-dev", &[HOME_REGION]);
    let hub = Fake::default()
        .in_regions(&[HOME_REGION, OTHER_REGION])
        .member(PROD, "prod", Some(prod))
        .member(DEV, "dev", Some(dev))
        .with_forwarding_queue(PROD, HOME_REGION, 3)
        .failing_queue(DEV, HOME_REGION, "AccessDenied")
        .with_forwarding_queue(HUB_ACCOUNT, OTHER_REGION, 0);
    let check = fake::tamper_check(Vec::new());
    let report = sweep(&hub, &Scope::parse(&[], &[], &[]).unwrap(), Some(&check)).await;

    // PROD's home region holds three undelivered events.
    assert_eq!(report.undelivered.len(), 1, "{:?}", report.undelivered);
    let u = &report.undelivered[0];
    assert_eq!(
        (u.account_id.as_str(), u.region.as_str(), u.messages),
        (PROD, HOME_REGION, 3)
    );
    assert_eq!(report.undelivered_events(), 3);
    // PROD's other region has no queue: no spoke there, told once, by its forwarding rule's
    // absence (a coverage gap), not again as a gap. The hub's home region has its own rule (no
    // queue expected); its other region has its spoke, an empty queue.
    assert!(report.gaps.is_empty(), "{:?}", report.gaps);
    assert!(
        report
            .coverage_gaps
            .iter()
            .any(|g| (g.account_id.as_str(), g.region.as_str()) == (PROD, OTHER_REGION)),
        "{:?}",
        report.coverage_gaps
    );
    let region = |account: &str, name: &str| {
        report
            .accounts
            .iter()
            .find(|a| a.account_id == account)
            .and_then(|a| a.regions.iter().find(|r| r.region == name))
            .and_then(|r| r.forwarding_queue.clone())
    };
    assert_eq!(region(PROD, OTHER_REGION), Some(ForwardingQueue::Missing));
    assert_eq!(region(HUB_ACCOUNT, HOME_REGION), None);
    assert_eq!(
        region(HUB_ACCOUNT, OTHER_REGION),
        Some(ForwardingQueue::Read { messages: 0 })
    );
    // DEV's queue cannot be read: a failure naming the account and region, never a crash.
    assert_fails_with(
        &report,
        &format!(
            "account {DEV} region {HOME_REGION}: the forwarding dead-letter queue cannot be read"
        ),
    );
    assert!(matches!(
        region(DEV, HOME_REGION),
        Some(ForwardingQueue::Unreadable { .. })
    ));

    // The metrics and the summary carry them.
    let metrics: serde_json::Value = serde_json::from_str(
        &crate::report::metrics::sweep_metrics_line(&Default::default(), &report, 0),
    )
    .unwrap();
    assert_eq!(metrics["SweepUndeliveredEvents"], 3);
    assert_eq!(metrics["SweepGaps"], 0);
    let summary = crate::report::notify::sweep_notification(&report, HUB_ACCOUNT);
    assert!(
        summary
            .text
            .contains("UNDELIVERED: 3 event(s) the hub never received"),
        "{}",
        summary.text
    );
    assert!(
        summary
            .text
            .contains(&format!("- {PROD} (prod) {HOME_REGION}: 3 event(s)"))
    );
    assert!(!summary.text.contains("Gaps:"), "{}", summary.text);
    let document: serde_json::Value = serde_json::from_str(&summary.json).unwrap();
    assert_eq!(document["undelivered"]["events"], 3);
    assert_eq!(document["undelivered"]["places"][0]["account_id"], PROD);
}

#[tokio::test]
async fn without_the_spoke_check_no_queue_is_read() {
    let hub = Fake::default()
        .member(PROD, "prod", Some(account("sg-prod", &[HOME_REGION])))
        .with_forwarding_queue(PROD, HOME_REGION, 5);
    let report = sweep(
        &hub,
        &Scope::parse(&[PROD.to_owned()], &[], &[]).unwrap(),
        None,
    )
    .await;
    assert!(report.undelivered.is_empty() && report.gaps.is_empty());
    assert_eq!(report.accounts[0].regions[0].forwarding_queue, None);
}
