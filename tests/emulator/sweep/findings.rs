//! What a sweep finds and revokes: exactly the violations (report only), exactly the violating
//! revoke rules (remediate), no more than the circuit breaker allows, only the accounts of an
//! OU (nested units included), and the others when an account lacks the role.

use std::collections::BTreeSet;

use sgguard::enforce::breaker::Limits;
use sgguard::enforce::scope::Scope;
use sgguard::enforce::state::HubState;
use sgguard::enforce::sweep::Sweep;
use sgguard::outcome::{Mode, Outcome};

use super::{baseline, found, is_live, regions, rule_count, seed, sweep, swept_accounts};
use crate::emulator::live_rules;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_only_sweep_finds_exactly_the_violations_and_changes_nothing() {
    let seeded = seed().await;
    let aws = seeded.org.aws().await;
    let scope = Scope::parse(&["org".to_owned()], &[], &regions()).unwrap();
    let before = rule_count(&seeded).await;
    seeded.org.emulator.reset();

    let report = sweep(&aws, &baseline(), &scope, false).await;

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut everyone = seeded.org.members.clone();
    everyone.push(seeded.org.hub.clone());
    everyone.sort();
    assert_eq!(
        swept_accounts(&report),
        everyone,
        "the hub and all five members"
    );
    assert_eq!(found(&report), seeded.expected(false, &seeded.org.members));
    assert_eq!(
        report.mode,
        Mode::Audit,
        "without --remediate nothing is revoked"
    );
    for account in &report.accounts {
        assert_eq!(account.regions.len(), 2, "{}", account.account_id);
    }
    let prod_b = report
        .accounts
        .iter()
        .find(|a| a.account_id == seeded.account("prod-b"))
        .unwrap();
    assert_eq!(
        (
            prod_b.counts.findings,
            prod_b.counts.would_revoke,
            prod_b.counts.revoked
        ),
        (3, 3, 0)
    );
    // One AssumeRole per member account (the hub uses its own credentials), no revocation.
    assert_eq!(seeded.org.emulator.count("sts:AssumeRole"), 5);
    assert_eq!(aws.credentials().assume_calls(), 5);
    assert_eq!(
        seeded.org.emulator.count("ec2:RevokeSecurityGroupIngress"),
        0
    );
    assert_eq!(rule_count(&seeded).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_revokes_exactly_the_violating_revoke_rules() {
    let seeded = seed().await;
    let aws = seeded.org.aws().await;
    let baseline = baseline();
    let scope = Scope::parse(&["org".to_owned()], &[], &regions()).unwrap();

    let report = sweep(&aws, &baseline, &scope, true).await;

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(found(&report), seeded.expected(true, &seeded.org.members));
    assert_eq!(report.totals.counts.revoked, 6);
    // What is left: every rule that was not to be revoked, and nothing else.
    for (account, region, group, rule, outcome) in &seeded.rules {
        let kept = *outcome != Some(Outcome::Revoked);
        assert_eq!(
            is_live(&seeded, account, region, rule).await,
            kept,
            "{account} {region} {group} {rule} {outcome:?}"
        );
    }
    // A second sweep finds only what the baseline reports without revoking.
    let again = sweep(&aws, &baseline, &scope, true).await;
    let outcomes: BTreeSet<Outcome> = again.findings.iter().map(|f| f.outcome).collect();
    assert_eq!(
        outcomes,
        BTreeSet::from([Outcome::Reported, Outcome::Exempt])
    );
    assert_eq!(again.totals.counts.revoked, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_breaker_holds_back_revocations_past_the_sweep_limit() {
    let seeded = seed().await;
    let aws = seeded.org.aws().await;
    let baseline = baseline();
    let scope = Scope::parse(&["org".to_owned()], &[], &regions()).unwrap();
    let report = Sweep::new(
        &*aws,
        &baseline,
        &HubState::in_process(Limits {
            per_sweep: 4,
            ..Limits::default()
        }),
    )
    .remediate(true)
    .concurrency(4)
    .run(&scope)
    .await
    .unwrap();

    // Six rules were to be revoked: four are, two are held back, and the sweep says why.
    assert_eq!(
        (
            report.totals.counts.revoked,
            report.totals.counts.would_revoke
        ),
        (4, 2)
    );
    let mut gone = 0;
    for (account, region, _, rule, _) in &seeded.rules {
        gone += usize::from(!is_live(&seeded, account, region, rule).await);
    }
    assert_eq!(gone, 4, "exactly four seeded rules revoked");
    let held: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::WouldRevoke)
        .collect();
    assert_eq!(held.len(), 2);
    assert!(
        held.iter()
            .all(|f| f.error.as_deref().unwrap().contains("circuit breaker"))
    );
    assert!(report.breaker.as_deref().unwrap().contains("more than 4"));
    assert!(report.incomplete(), "a tripped breaker fails the sweep");
    let summary = sgguard::report::notify::sweep_notification(&report, &seeded.org.hub);
    assert!(
        summary.subject.contains("circuit breaker tripped"),
        "{}",
        summary.subject
    );
    assert!(
        summary
            .attributes
            .contains(&("severity", "critical".to_owned()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ou_limits_the_accounts_nested_units_included() {
    let seeded = seed().await;
    let aws = seeded.org.aws().await;
    let baseline = baseline();

    let scope = Scope::parse(
        &["org".to_owned()],
        std::slice::from_ref(&seeded.dev),
        &regions(),
    )
    .unwrap();
    let report = sweep(&aws, &baseline, &scope, false).await;
    let mut dev = vec![seeded.account("dev-c"), seeded.account("dev-sandbox-d")];
    dev.sort();
    // The units' accounts, and the organization's own: the hub (here also the management
    // account), in no unit, is swept all the same.
    let mut with_hub = [dev.clone(), vec![seeded.org.hub.clone()]].concat();
    with_hub.sort();
    assert_eq!(swept_accounts(&report), with_hub);
    assert_eq!(found(&report), seeded.expected(false, &dev));

    let units = [seeded.prod.clone(), seeded.dev.clone()];
    let scope = Scope::parse(&[], &units, &regions()).unwrap();
    let report = sweep(&aws, &baseline, &scope, false).await;
    let mut four: Vec<String> = ["prod-a", "prod-b", "dev-c", "dev-sandbox-d"]
        .iter()
        .map(|n| seeded.account(n))
        .collect();
    four.push(seeded.org.hub.clone());
    four.sort();
    assert_eq!(swept_accounts(&report), four, "root-e is in no unit");

    // Past the deadline (the Lambda's time is up) no region is started, and the report says so.
    seeded.org.emulator.reset();
    let late = Sweep::new(&*aws, &baseline, &HubState::in_process(Limits::default()))
        .remediate(true)
        .concurrency(4)
        .deadline(Some(std::time::Instant::now()))
        .run(&scope)
        .await
        .unwrap();
    assert!(late.findings.is_empty());
    assert_eq!(
        late.errors.len(),
        10,
        "5 accounts (the hub's too) x 2 regions: {:?}",
        late.errors
    );
    assert!(late.errors.iter().all(|e| e.contains("ran out of time")));
    assert_eq!(
        seeded.org.emulator.count("ec2:DescribeSecurityGroupRules"),
        0
    );

    let bad = Scope::parse(&["self".to_owned()], &units, &regions()).unwrap_err();
    assert!(bad.to_string().contains("--ou"), "{bad}");
    let unknown = Scope::parse(&[], &["ou-zzzz-00000000".to_owned()], &regions()).unwrap();
    let error = Sweep::new(&*aws, &baseline, &HubState::in_process(Limits::default()))
        .concurrency(1)
        .run(&unknown)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("ou-zzzz-00000000"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_the_role_is_reported_and_the_others_complete() {
    let seeded = seed().await;
    let broken = seeded.account("prod-b");
    seeded.org.emulator.deny(
        "sts:AssumeRole",
        &format!("arn:aws:iam::{broken}:role/sgguard-remediation"),
    );
    let aws = seeded.org.aws().await;
    let scope = Scope::parse(&["org".to_owned()], &[], &regions()).unwrap();

    let report = sweep(&aws, &baseline(), &scope, true).await;

    assert!(report.incomplete());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].contains(&broken), "{}", report.errors[0]);
    let summary = report
        .accounts
        .iter()
        .find(|a| a.account_id == broken)
        .unwrap();
    let reason = summary.error.as_deref().unwrap();
    assert!(
        reason.contains("AccessDenied") && reason.contains("sgguard-remediation"),
        "{reason}"
    );
    assert!(summary.regions.is_empty());
    let others: Vec<String> = seeded
        .org
        .members
        .iter()
        .filter(|m| **m != broken)
        .cloned()
        .collect();
    assert_eq!(found(&report), seeded.expected(true, &others));
    // prod-b's rules are untouched: nothing is changed where sgguard could not look.
    for (account, region, group, _, _) in seeded.rules.iter().filter(|r| r.0 == broken) {
        let ec2 = seeded.org.member_ec2(account, region).await;
        assert!(!live_rules(&ec2, group).await.is_empty());
    }
}
