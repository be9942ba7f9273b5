//! The sweep on the in-memory hub: accounts listed, skipped and unreachable; regions enabled,
//! denied by policy, failing and out of time; findings acted on by mode and breaker; the spokes'
//! tamper check and coverage gaps; the scheduled sweep's stored report and summary.

use super::*;
use crate::enforce::breaker::Limits;
use crate::enforce::fake::{self, Fake, HUB_ACCOUNT, ssh_open};
use crate::enforce::scope::Scope;
use crate::finding::Tags;
use crate::outcome::{CoverageGap, Forwarding, Outcome};

const PROD: &str = "111122223333";
const DEV: &str = "444455556666";
const LOCKED: &str = "777788889999";
const GONE: &str = "121212121212";

/// An account with one group holding `open` SSH rules to the internet, in `regions`.
fn account(group: &str, open: usize, regions: &[&str]) -> Fake {
    let rules = (0..open)
        .map(|n| ssh_open(group, &format!("sgr-{group}-{n}")))
        .collect();
    Fake::default()
        .with_group(group, Tags::new(), rules)
        .in_regions(regions)
}

/// The hub: PROD (one open rule, two regions), DEV (two open rules), LOCKED (the role cannot be
/// assumed) and GONE (suspended).
fn organization() -> (Fake, Fake, Fake) {
    let prod = account("sg-prod", 1, &["eu-west-1", "us-east-1"]);
    let dev = account("sg-dev", 2, &["eu-west-1"]);
    let hub = Fake::default()
        .member(PROD, "prod", Some(prod.clone()))
        .member(DEV, "dev", Some(dev.clone()))
        .member(LOCKED, "locked", None)
        .closed(GONE, "SUSPENDED");
    (hub, prod, dev)
}

fn org_scope() -> Scope {
    Scope::parse(&["org".to_owned()], &[], &[]).unwrap()
}

fn baseline() -> Baseline {
    Baseline::default_baseline().unwrap()
}

#[tokio::test]
async fn without_remediate_every_account_is_read_and_nothing_is_revoked() {
    let (hub, prod, dev) = organization();
    let (baseline, state) = (baseline(), HubState::in_process(Limits::default()));
    let report = Sweep::new(&hub, &baseline, &state)
        .run(&org_scope())
        .await
        .unwrap();

    assert_eq!(report.mode, Mode::Audit, "no remediate: audit");
    let swept: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    // The organization's accounts, the hub's own among them (listed or not).
    assert_eq!(swept, [PROD, DEV, LOCKED, HUB_ACCOUNT]);
    assert_eq!(report.skipped_accounts.len(), 1);
    assert_eq!(report.skipped_accounts[0].account_id, GONE);
    assert_eq!(
        report.skipped_accounts[0].reason,
        "the account is suspended"
    );
    // Each enabled region of each reachable account, the home region's first.
    let prod_regions: Vec<&str> = report.accounts[0]
        .regions
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(prod_regions, ["eu-west-1", "us-east-1"]);
    // The fake holds the same group in both of prod's regions: found in each.
    assert_eq!(report.totals.counts.would_revoke, 2 + 2);
    assert_eq!(report.totals.counts.revoked, 0);
    assert!(prod.revoke_calls().is_empty() && dev.revoke_calls().is_empty());
    // The locked account is reported with the reason, and the sweep is incomplete.
    let locked = &report.accounts[2];
    assert!(
        locked.error.as_deref().unwrap().contains("AssumeRole"),
        "{locked:?}"
    );
    assert!(report.incomplete());
    assert_fails_with(&report, &format!("account {LOCKED}:"));
}

/// The report lists a failure starting with `start`.
pub(super) fn assert_fails_with(report: &SweepReport, start: &str) {
    assert!(
        report.errors.iter().any(|e| e.starts_with(start)),
        "no failure `{start}…` in {:?}",
        report.errors
    );
}

#[tokio::test]
async fn with_remediate_the_sweep_revokes_within_the_breaker_and_says_what_it_held_back() {
    let (hub, prod, dev) = organization();
    let baseline = baseline();
    let state = HubState::in_process(Limits {
        per_sweep: 2,
        ..Limits::default()
    });
    let report = Sweep::new(&hub, &baseline, &state)
        .remediate(true)
        .concurrency(1)
        .run(&Scope::parse(&[PROD.to_owned(), DEV.to_owned()], &[], &[]).unwrap())
        .await
        .unwrap();

    assert_eq!(report.mode, Mode::Enforce);
    // prod's rule goes in its first region (the fake's second region holds the same group, now
    // without it); of dev's two, the limit lets one go and holds the other back.
    assert_eq!(
        (
            report.totals.counts.revoked,
            report.totals.counts.would_revoke
        ),
        (2, 1)
    );
    assert!(prod.rule_ids("sg-prod").is_empty());
    assert_eq!(dev.rule_ids("sg-dev").len(), 1, "one rule held back");
    let reason = report.breaker.as_deref().unwrap();
    assert!(reason.contains('2'), "{reason}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.starts_with("circuit breaker tripped")),
        "{:?}",
        report.errors
    );
}

/// What the breaker held back is kept (never dropped): a sweep that only reports leaves it
/// held; the hub's scheduled sweep re-checks it in the account's own mode, without
/// `remediate`, and forgets it once settled.
#[tokio::test]
async fn held_back_rules_wait_for_the_sweep_that_revokes_them() {
    let (hub, _prod, dev) = organization();
    let baseline = baseline();
    let dev_only = Scope::parse(&[DEV.to_owned()], &[], &[]).unwrap();
    let state = HubState::in_process(Limits {
        per_sweep: 1,
        ..Limits::default()
    });
    let first = Sweep::new(&hub, &baseline, &state)
        .remediate(true)
        .run(&dev_only)
        .await
        .unwrap();
    assert_eq!(
        (
            first.totals.counts.revoked,
            first.totals.counts.would_revoke
        ),
        (1, 1)
    );
    let held = state.journal.held(DEV).await.unwrap();
    assert_eq!(held.len(), 1, "the rule held back is kept");
    let held_id = held[0].rule_id().to_owned();
    assert!(
        first.findings.iter().any(|f| f
            .error
            .as_deref()
            .is_some_and(|e| e.contains("kept for the next sweep to re-check"))),
        "{:?}",
        first.findings
    );

    // A sweep that only reports: the rule is named as held back, nothing revoked, still held.
    let reading = Sweep::new(&hub, &baseline, &state)
        .run(&dev_only)
        .await
        .unwrap();
    let rechecked: Vec<_> = reading
        .findings
        .iter()
        .filter(|f| f.attribution == Some(Attribution::HeldBack))
        .collect();
    assert_eq!(rechecked.len(), 1);
    assert_eq!(rechecked[0].outcome, Outcome::WouldRevoke);
    assert_eq!(dev.rule_ids("sg-dev"), std::slice::from_ref(&held_id));
    assert_eq!(state.journal.held(DEV).await.unwrap().len(), 1);

    // The hub's scheduled sweep (no remediate): revoked in the account's mode, and forgotten.
    let scheduled = Sweep::new(&hub, &baseline, &state)
        .revoke_held(true)
        .run(&dev_only)
        .await
        .unwrap();
    assert_eq!(scheduled.mode, Mode::Audit, "the sweep itself only reports");
    assert_eq!(scheduled.totals.counts.revoked, 1);
    assert_eq!(
        scheduled.findings[0].attribution,
        Some(Attribution::HeldBack)
    );
    assert!(dev.rule_ids("sg-dev").is_empty());
    assert!(state.journal.held(DEV).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_region_denied_by_policy_is_skipped_a_failing_one_is_an_error() {
    let prod = account("sg-prod", 1, &["eu-west-1", "ap-south-1", "us-east-1"])
        .failing_region(
            "ap-south-1",
            "UnauthorizedOperation",
            "with an explicit deny in a service control policy",
        )
        .failing_region("us-east-1", "RequestLimitExceeded", "slow down");
    let hub = Fake::default().member(PROD, "prod", Some(prod));
    let (baseline, state) = (baseline(), HubState::in_process(Limits::default()));
    let report = Sweep::new(&hub, &baseline, &state)
        .run(&org_scope())
        .await
        .unwrap();

    let regions = &report.accounts[0].regions;
    assert_eq!(regions.len(), 3);
    assert_eq!(regions[1].region, "ap-south-1");
    assert_eq!(regions[1].skipped, Some(Skipped::DeniedByPolicy));
    assert_eq!(report.totals.regions_denied, 1, "counted");
    assert_eq!(
        report.denied_regions().collect::<Vec<_>>(),
        [(PROD, "ap-south-1")],
        "and named"
    );
    assert!(regions[1].error.is_none());
    assert!(regions[2].error.as_deref().unwrap().contains("slow down"));
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].starts_with(&format!("account {PROD} region us-east-1:")));
    assert_eq!(
        report.totals.counts.would_revoke, 1,
        "eu-west-1 still swept"
    );
}

#[tokio::test]
async fn past_the_deadline_no_region_is_read() {
    let (hub, _, _) = organization();
    let (baseline, state) = (baseline(), HubState::in_process(Limits::default()));
    let report = Sweep::new(&hub, &baseline, &state)
        .remediate(true)
        .deadline(Some(Instant::now()))
        .run(&org_scope())
        .await
        .unwrap();
    assert!(report.findings.is_empty());
    let late: Vec<&String> = report
        .errors
        .iter()
        .filter(|e| e.contains("ran out of time"))
        .collect();
    assert_eq!(
        late.len(),
        4,
        "prod's two regions, dev's and the hub's one: {late:?}"
    );
}

#[tokio::test]
async fn an_organization_that_cannot_be_listed_fails_the_sweep_with_the_way_out() {
    let hub = Fake::default();
    let (baseline, state) = (baseline(), HubState::in_process(Limits::default()));
    let error = Sweep::new(&hub, &baseline, &state)
        .run(&org_scope())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("--accounts ID,..."), "{text}");
    // `self` needs no listing: the hub's own account.
    let own = Sweep::new(&hub, &baseline, &state)
        .run(&Scope::parse(&["self".to_owned()], &[], &[]).unwrap())
        .await
        .unwrap();
    assert_eq!(own.accounts[0].account_id, HUB_ACCOUNT);
}

#[tokio::test]
async fn the_spokes_are_checked_in_members_only() {
    let prod = account("sg-prod", 0, &["eu-west-1", "us-east-1"]);
    let intact = fake::intact_forwarding_rule(PROD);
    let (hub_role, trust) = hub_trust();
    let hub = Fake::default()
        .member(PROD, "prod", Some(prod))
        .member(HUB_ACCOUNT, "hub", None)
        .with_forwarding_rule(PROD, "eu-west-1", intact)
        .with_trust(PROD, &trust);
    let check = TamperCheck {
        forwarding_regions: Some(vec!["eu-west-1".to_owned(), "us-east-1".to_owned()]),
        ..fake::tamper_check(vec![hub_role])
    };
    let report = checked_sweep(&hub, &check, &[PROD]).await;

    // us-east-1, where the spokes deploy it, has no forwarding rule: tampering there, and
    // only there, and a coverage gap.
    assert_eq!(report.tampering.len(), 1, "{:?}", report.tampering);
    let t = &report.tampering[0];
    assert_eq!(
        (t.account_id.as_str(), t.region.as_deref()),
        (PROD, Some("us-east-1"))
    );
    assert!(t.problem.contains("is missing"), "{}", t.problem);
    assert!(report.errors.iter().any(|e| e.contains("tampering")));
    assert_eq!(
        report.coverage_gaps,
        [gap(PROD, "us-east-1", Forwarding::Expected)]
    );
}

/// Issue #21: every enabled region of each account is swept by default, an explicit list
/// narrows it; an enabled region without the forwarding rule is a coverage gap, reported by
/// account and region, counted, and still swept; a region denied by policy is counted and
/// named, not read.
#[tokio::test]
async fn every_enabled_region_is_swept_and_one_without_forwarding_is_a_gap() {
    let regions = ["eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"];
    let prod = account("sg-prod", 1, &regions).failing_region(
        "sa-east-1",
        "UnauthorizedOperation",
        "with an explicit deny in a service control policy",
    );
    let own = account("sg-hub", 0, &["eu-west-1", "us-east-1"]);
    let (hub_role, trust) = hub_trust();
    let hub = Fake::default()
        .member(PROD, "prod", Some(prod))
        .member(HUB_ACCOUNT, "hub", Some(own))
        .with_forwarding_rule(PROD, "eu-west-1", fake::intact_forwarding_rule(PROD))
        .with_trust(PROD, &trust);
    // The spokes are deployed to eu-west-1 only (the old default swept just that).
    let check = TamperCheck {
        forwarding_regions: Some(vec!["eu-west-1".to_owned()]),
        ..fake::tamper_check(vec![hub_role])
    };
    let report = checked_sweep(&hub, &check, &[PROD, HUB_ACCOUNT]).await;

    assert_eq!(report.accounts[0].account_id, PROD);
    // Every enabled region of prod, and the open rule found in each it can be read in,
    // forwarding or not (the fake holds the same group in all of them).
    let swept: Vec<(&str, usize)> = report.accounts[0]
        .regions
        .iter()
        .map(|r| (r.region.as_str(), r.counts.findings))
        .collect();
    assert_eq!(
        swept,
        [
            ("eu-west-1", 1),
            ("us-east-1", 1),
            ("ap-south-1", 1),
            ("sa-east-1", 0)
        ]
    );
    // No rule where the spokes are not deployed: gaps, not tampering. The hub's home region
    // is its own rule's; its other region is a gap too.
    assert_eq!(
        report.coverage_gaps,
        [
            gap(PROD, "ap-south-1", Forwarding::NotDeployed),
            gap(PROD, "us-east-1", Forwarding::NotDeployed),
            gap(HUB_ACCOUNT, "us-east-1", Forwarding::NotDeployed),
        ]
    );
    assert!(report.tampering.is_empty(), "{:?}", report.tampering);
    assert!(!report.incomplete(), "{:?}", report.errors);
    assert_eq!(
        (report.totals.coverage_gaps, report.totals.regions_denied),
        (3, 1)
    );
    assert_eq!(
        report.denied_regions().collect::<Vec<_>>(),
        [(PROD, "sa-east-1")]
    );
    assert_eq!(
        report.gaps_by_account()[0],
        (
            PROD,
            Forwarding::NotDeployed,
            vec!["ap-south-1", "us-east-1"]
        )
    );

    // An explicit list narrows it: only those regions, only their gaps.
    let (baseline, state) = (baseline(), HubState::in_process(Limits::default()));
    let narrowed = Sweep::new(&hub, &baseline, &state)
        .tamper(Some(&check))
        .run(&Scope::parse(&[PROD.to_owned()], &[], &["eu-west-1".to_owned()]).unwrap())
        .await
        .unwrap();
    assert_eq!(narrowed.accounts[0].regions.len(), 1);
    assert!(narrowed.coverage_gaps.is_empty());
    assert_eq!(narrowed.totals.counts.would_revoke, 1);
}

/// Where the spokes are deployed is not known: a missing rule is a gap of unknown kind, and
/// no tampering is claimed.
#[tokio::test]
async fn without_the_forwarding_regions_a_missing_rule_is_a_gap_of_unknown_kind() {
    let (hub_role, trust) = hub_trust();
    let hub = Fake::default()
        .member(PROD, "prod", Some(account("sg-prod", 0, &["eu-west-1"])))
        .with_trust(PROD, &trust);
    let report = checked_sweep(&hub, &fake::tamper_check(vec![hub_role]), &[PROD]).await;
    assert_eq!(
        report.coverage_gaps,
        [gap(PROD, "eu-west-1", Forwarding::Unknown)]
    );
    assert!(report.tampering.is_empty() && !report.incomplete());
}

fn gap(account: &str, region: &str, forwarding: Forwarding) -> CoverageGap {
    CoverageGap {
        account_id: account.to_owned(),
        region: region.to_owned(),
        forwarding,
    }
}

#[tokio::test]
async fn a_remediation_role_stripped_of_its_permissions_is_tampering_of_the_account() {
    let prod = account("sg-prod", 0, &["eu-west-1"]);
    let (hub_role, trust) = hub_trust();
    let mut stripped = fake::intact_role_policies();
    stripped.inline[0].document =
        r#"{"Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#.to_owned();
    let hub = Fake::default()
        .member(PROD, "prod", Some(prod))
        .with_forwarding_rule(PROD, "eu-west-1", fake::intact_forwarding_rule(PROD))
        .with_trust(PROD, &trust)
        .with_role_policies(PROD, stripped);
    let report = checked_sweep(&hub, &fake::tamper_check(vec![hub_role]), &[PROD]).await;

    assert_eq!(report.tampering.len(), 1, "{:?}", report.tampering);
    let t = &report.tampering[0];
    assert_eq!((t.account_id.as_str(), t.region.as_deref()), (PROD, None));
    assert!(
        t.problem.contains("no longer allowed")
            && t.problem.contains("`ec2:RevokeSecurityGroupIngress`"),
        "{}",
        t.problem
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.starts_with(&format!("account {PROD}: tampering: the remediation role")))
    );
}

/// The hub's role, and a trust policy letting it (only) into the remediation role.
fn hub_trust() -> (String, String) {
    let role = format!("arn:aws:iam::{HUB_ACCOUNT}:role/hub");
    let trust = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{role}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    (role, trust)
}

/// A sweep of `accounts` in every enabled region, with the spoke check `check`.
async fn checked_sweep(hub: &Fake, check: &TamperCheck, accounts: &[&str]) -> SweepReport {
    let (baseline, state) = (baseline(), HubState::in_process(Limits::default()));
    let accounts: Vec<String> = accounts.iter().map(|a| (*a).to_owned()).collect();
    Sweep::new(hub, &baseline, &state)
        .tamper(Some(check))
        .run(&Scope::parse(&accounts, &[], &[]).unwrap())
        .await
        .unwrap()
}
