//! `sgguard coverage` on the in-memory hub: each account × region's stack instance, forwarding
//! rule and role told, the hub's and the management account's own lines, the sweep's reads reused.

use super::*;
use crate::enforce::fake::{self, Fake};

const COVERED: &str = "111122223333";
const NO_STACK: &str = "444455556666";
const LOCKED: &str = "777788889999";
const MANAGEMENT: &str = "121212121212";

fn instance(account: &str) -> StackInstance {
    StackInstance {
        account: account.to_owned(),
        region: "eu-west-1".to_owned(),
        status: "CURRENT".to_owned(),
        detailed_status: String::new(),
        reason: None,
    }
}

#[tokio::test]
async fn each_place_is_told_covered_or_why_not() {
    let hub = Fake::default()
        .member(COVERED, "covered", Some(Fake::default()))
        .member(NO_STACK, "no-stack", Some(Fake::default()))
        .member(LOCKED, "locked", None)
        .member(MANAGEMENT, "management", Some(Fake::default()))
        .management(MANAGEMENT)
        .with_stack_instance(instance(COVERED))
        .with_forwarding_rule(COVERED, "eu-west-1", fake::intact_forwarding_rule(COVERED))
        .with_forwarding_rule(
            NO_STACK,
            "eu-west-1",
            fake::intact_forwarding_rule(NO_STACK),
        );
    let tamper = fake::tamper_check(Vec::new());
    let scope = Scope::parse(&["org".to_owned()], &[], &[]).unwrap();
    let stack_set = StackSet {
        name: "sgguard-spoke".to_owned(),
        call_as: "SELF".to_owned(),
    };
    let coverage = CoverageCheck {
        hub: &hub,
        stack_set: Some(&stack_set),
        tamper: &tamper,
        accounts: accounts_in(&hub, &scope).await.unwrap(),
        swept: None,
        role_check: RoleCheck::Assume,
    }
    .run(&scope)
    .await
    .unwrap();

    assert_eq!(coverage.management_account.as_deref(), Some(MANAGEMENT));
    // The hub's own account is in every organization scope: its home region has its rule.
    assert_eq!((coverage.covered, coverage.not_covered), (2, 3));
    assert_eq!(
        coverage
            .places
            .iter()
            .find(|p| p.account_id == fake::HUB_ACCOUNT)
            .map(|p| p.rule.as_str()),
        Some("hub rule")
    );
    let place = |account: &str| {
        coverage
            .places
            .iter()
            .find(|p| p.account_id == account)
            .unwrap()
    };
    assert!(place(COVERED).covered);
    assert_eq!(place(COVERED).stack, "CURRENT");
    assert!(place(NO_STACK).problems[0].contains("no spoke stack instance"));
    assert_eq!(place(LOCKED).role, "not assumable");
    assert_eq!(place(MANAGEMENT).stack, "management account");
    assert!(
        place(MANAGEMENT).problems[0].contains("deploy spoke-infra/sgguard-spoke.yaml"),
        "{:?}",
        place(MANAGEMENT).problems
    );
}

/// After the sweep, coverage judges what the sweep read (its regions, its forwarding
/// rules, its denied regions) instead of reading them again: a rule added since is not
/// seen until the next sweep, while `sgguard coverage` (nothing swept) reads it.
#[tokio::test]
async fn after_a_sweep_what_it_read_is_judged_not_read_again() {
    use crate::enforce::breaker::Limits;
    use crate::enforce::state::HubState;
    use crate::enforce::sweep::Sweep;
    use crate::policy::Baseline;

    let member = Fake::default()
        .in_regions(&["eu-west-1", "us-east-1", "sa-east-1"])
        .failing_region(
            "sa-east-1",
            "UnauthorizedOperation",
            "with an explicit deny in a service control policy",
        );
    let hub = Fake::default()
        .member(COVERED, "covered", Some(member))
        .with_stack_instance(instance(COVERED))
        .with_forwarding_rule(COVERED, "eu-west-1", fake::intact_forwarding_rule(COVERED));
    let tamper = fake::tamper_check(Vec::new());
    let scope = Scope::parse(&[COVERED.to_owned()], &[], &[]).unwrap();
    let (baseline, state) = (
        Baseline::default_baseline().unwrap(),
        HubState::in_process(Limits::default()),
    );
    let report = Sweep::new(&hub, &baseline, &state)
        .tamper(Some(&tamper))
        .run(&scope)
        .await
        .unwrap();
    // The rule is deployed to us-east-1 after the sweep read it there.
    let hub = hub.with_forwarding_rule(COVERED, "us-east-1", fake::intact_forwarding_rule(COVERED));
    let stack_set = StackSet {
        name: "sgguard-spoke".to_owned(),
        call_as: "SELF".to_owned(),
    };
    let check = |swept| CoverageCheck {
        hub: &hub,
        stack_set: Some(&stack_set),
        tamper: &tamper,
        accounts: vec![OrgAccount {
            id: COVERED.to_owned(),
            name: None,
            status: "ACTIVE".to_owned(),
        }],
        swept,
        role_check: RoleCheck::Assume,
    };
    let rules = |coverage: &Coverage| -> Vec<(String, String)> {
        coverage
            .places
            .iter()
            .map(|p| (p.region.clone(), p.rule.clone()))
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(r, s)| ((*r).to_owned(), (*s).to_owned()))
            .collect()
    };

    let judged = check(Some(&report)).run(&scope).await.unwrap();
    assert_eq!(
        rules(&judged),
        pairs(&[
            ("eu-west-1", "ENABLED"),
            ("sa-east-1", "denied by policy"),
            ("us-east-1", "missing"),
        ]),
        "as the sweep read them"
    );
    assert_eq!(
        (judged.covered, judged.not_covered, judged.skipped),
        (1, 1, 1)
    );
    let missing = judged.uncovered().next().unwrap();
    assert!(missing.problems.iter().any(|p| p.contains("is missing")));

    let read = check(None).run(&scope).await.unwrap();
    assert_eq!(
        rules(&read)[2],
        ("us-east-1".to_owned(), "ENABLED".to_owned()),
        "read now"
    );
}

/// Reached through another role (the audit role), the remediation role is read: there and
/// trusting the hub's role is `present`; missing, or trusting someone else, is not covered.
#[tokio::test]
async fn through_another_role_the_remediation_role_is_read_not_assumed() {
    const HUB_ROLE: &str = "arn:aws:iam::999999999999:role/sgguard-lambda";
    const NO_ROLE: &str = "222222222222";
    const WRONG: &str = "333333333333";
    let trusting = |principal: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
        .to_string()
    };
    let hub = Fake::default()
        .member(COVERED, "covered", Some(Fake::default()))
        .member(NO_ROLE, "no-role", Some(Fake::default()))
        .member(WRONG, "wrong", Some(Fake::default()))
        .member(LOCKED, "locked", None)
        .with_trust(COVERED, &trusting(HUB_ROLE))
        .with_trust(WRONG, &trusting("arn:aws:iam::123412341234:role/someone"));
    let hub = [COVERED, NO_ROLE, WRONG]
        .into_iter()
        .fold(hub, |hub, account| {
            hub.with_forwarding_rule(account, "eu-west-1", fake::intact_forwarding_rule(account))
        });
    let tamper = fake::tamper_check(vec![HUB_ROLE.to_owned()]);
    let scope = Scope::parse(
        &[COVERED, NO_ROLE, WRONG, LOCKED].map(str::to_owned),
        &[],
        &["eu-west-1".to_owned()],
    )
    .unwrap();
    let coverage = CoverageCheck {
        hub: &hub,
        stack_set: None,
        tamper: &tamper,
        accounts: accounts_in(&hub, &scope).await.unwrap(),
        swept: None,
        role_check: RoleCheck::ReadThrough,
    }
    .run(&scope)
    .await
    .unwrap();
    let row = |account: &str| {
        let place = coverage
            .places
            .iter()
            .find(|p| p.account_id == account)
            .unwrap();
        (
            place.role.as_str(),
            place.covered,
            place.problems.join("; "),
        )
    };
    assert_eq!(row(COVERED), ("present", true, String::new()));
    let (role, covered, problems) = row(NO_ROLE);
    assert_eq!((role, covered), ("not usable", false));
    assert!(
        problems.contains("the remediation role is missing"),
        "{problems}"
    );
    let (role, covered, problems) = row(WRONG);
    assert_eq!((role, covered), ("not usable", false));
    assert!(problems.contains("someone"), "{problems}");
    let (role, covered, problems) = row(LOCKED);
    assert_eq!((role, covered), ("not assumable", false));
    assert!(
        problems.contains("reaches the account through"),
        "{problems}"
    );
}
