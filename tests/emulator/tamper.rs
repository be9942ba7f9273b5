//! The sweep's tamper check against the emulator: an Organization with the spoke StackSet
//! deployed (hub/stackset.tf as the world builds it), then changed by member administrators the
//! ways that switch the guard off or take it over; the sweep reports each, naming the account
//! (and region), and nothing else.

use std::collections::BTreeSet;

use serde_json::json;
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::scope::Scope;
use sgguard::enforce::state::HubState;
use sgguard::enforce::sweep::Sweep;
use sgguard::enforce::tamper::{FORWARDER_ROLE, FORWARDING_RULE, TamperCheck};
use sgguard::outcome::SweepReport;
use sgguard::policy::Baseline;
use sgguard::report::notify::sweep_notification;

use crate::emulator::{HUB_REGION, OTHER_REGION, Org};

async fn sweep(org: &Org, check: &TamperCheck) -> SweepReport {
    let aws = org.aws().await;
    let regions = vec![HUB_REGION.to_owned(), OTHER_REGION.to_owned()];
    Sweep::new(
        &*aws,
        &Baseline::default_baseline().unwrap(),
        &HubState::in_process(Limits::default()),
    )
    .concurrency(4)
    .tamper(Some(check))
    .run(&Scope::parse(&[], &[], &regions).unwrap())
    .await
    .unwrap()
}

/// (account, region, the problem's first words) of every tampering found.
fn found(report: &SweepReport) -> BTreeSet<(String, String, String)> {
    report
        .tampering
        .iter()
        .map(|t| {
            let words: Vec<&str> = t.problem.split(' ').take(5).collect();
            (
                t.account_id.clone(),
                t.region.clone().unwrap_or_else(|| "-".to_owned()),
                words.join(" "),
            )
        })
        .collect()
}

/// An organization of four members below one OU, the spoke StackSet deployed in both regions;
/// the members' ids in the order of `names`.
async fn spokes(names: [&str; 4]) -> (Org, [String; 4]) {
    let members: Vec<serde_json::Value> = names
        .iter()
        .map(|name| json!({"name": name, "ou": "prod"}))
        .collect();
    let org = Org::world(json!({
        "ous": ["prod"],
        "members": members,
        "spokes": {"ous": ["prod"], "regions": [HUB_REGION, OTHER_REGION]},
    }))
    .await;
    let ids = [0, 1, 2, 3].map(|i| org.members[i].clone());
    (org, ids)
}

/// The check of the world's hub (`hub_bus`: whether the hub bus's exact ARN is known).
fn hub_check(org: &Org, hub_bus: bool) -> TamperCheck {
    TamperCheck {
        hub_account: org.hub.clone(),
        hub_bus_arn: hub_bus.then(|| {
            format!(
                "arn:aws:events:{HUB_REGION}:{}:event-bus/sgguard-hub",
                org.hub
            )
        }),
        trusted: vec![format!("arn:aws:iam::{}:role/sgguard-lambda", org.hub)],
        remediation_role: "sgguard-remediation".to_owned(),
        forwarder_role: FORWARDER_ROLE.to_owned(),
        // Where `spokes` deploys the StackSet: a rule deleted there is tampering.
        forwarding_regions: Some(vec![HUB_REGION.to_owned(), OTHER_REGION.to_owned()]),
    }
}

/// `found`'s rows for (account, region or `-`, first words).
fn rows(expected: &[(&String, &str, &str)]) -> BTreeSet<(String, String, String)> {
    expected
        .iter()
        .map(|(a, r, p)| ((*a).clone(), (*r).to_owned(), (*p).to_owned()))
        .collect()
}

/// A managed policy `name` made by a member administrator; its ARN.
async fn managed_policy(
    iam: &aws_sdk_iam::Client,
    name: &str,
    document: &serde_json::Value,
) -> String {
    let created = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    created.policy().unwrap().arn().unwrap().to_owned()
}

/// How many lines of the report's `errors` are tampering.
fn tampering_lines(report: &SweepReport) -> usize {
    report
        .errors
        .iter()
        .filter(|e| e.contains(": tampering: "))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reports_a_disabled_redirected_or_deleted_rule_and_a_widened_trust() {
    let (org, [intact, disabled, redirected, deleted]) =
        spokes(["intact", "disabled", "redirected", "deleted"]).await;
    let check = hub_check(&org, true);

    // As deployed, nothing is reported.
    let before = sweep(&org, &check).await;
    assert!(before.tampering.is_empty(), "{:?}", before.tampering);
    assert!(!before.incomplete(), "{:?}", before.errors);

    let events = |account: &str, region: &str| {
        aws_sdk_eventbridge::Client::new(&org.member_config(account, region))
    };
    events(&disabled, OTHER_REGION)
        .disable_rule()
        .name(FORWARDING_RULE)
        .send()
        .await
        .unwrap();
    let to_elsewhere = events(&redirected, HUB_REGION);
    to_elsewhere
        .remove_targets()
        .rule(FORWARDING_RULE)
        .ids("sgguard-hub-bus")
        .send()
        .await
        .unwrap();
    to_elsewhere
        .put_targets()
        .rule(FORWARDING_RULE)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("elsewhere")
                .arn("arn:aws:events:us-east-1:999999999999:event-bus/elsewhere")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let gone = events(&deleted, HUB_REGION);
    gone.remove_targets()
        .rule(FORWARDING_RULE)
        .ids("sgguard-hub-bus")
        .send()
        .await
        .unwrap();
    gone.delete_rule()
        .name(FORWARDING_RULE)
        .send()
        .await
        .unwrap();
    let widened = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": check.trusted[0]}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
         "Action": "sts:AssumeRole"},
    ]});
    aws_sdk_iam::Client::new(&org.member_config(&redirected, HUB_REGION))
        .update_assume_role_policy()
        .role_name("sgguard-remediation")
        .policy_document(widened.to_string())
        .send()
        .await
        .unwrap();

    let after = sweep(&org, &check).await;
    let expected = rows(&[
        (
            &disabled,
            OTHER_REGION,
            "the forwarding rule `sgguard-forward-sg-changes` is",
        ),
        (&redirected, HUB_REGION, "the forwarding rule no longer"),
        (&redirected, HUB_REGION, "the forwarding rule also sends"),
        (&redirected, "-", "the remediation role also trusts"),
        (
            &deleted,
            HUB_REGION,
            "the forwarding rule `sgguard-forward-sg-changes` is",
        ),
    ]);
    assert_eq!(found(&after), expected, "{:#?}", after.tampering);
    let problems = |account: &str| -> Vec<&str> {
        after
            .tampering
            .iter()
            .filter(|t| t.account_id == account)
            .map(|t| t.problem.as_str())
            .collect()
    };
    assert!(problems(&disabled)[0].contains("DISABLED"));
    assert!(problems(&deleted)[0].contains("missing"));
    assert!(
        problems(&redirected)
            .iter()
            .any(|p| p.contains("arn:aws:iam::999999999999:root"))
    );
    assert!(problems(&intact).is_empty());

    // Each is a failure naming its account, counted in the summary.
    assert!(after.incomplete());
    assert_eq!(tampering_lines(&after), 5);
    assert!(
        after
            .errors
            .iter()
            .any(|e| e.starts_with(&format!("account {deleted} region {HUB_REGION}: tampering")))
    );
    let message = sweep_notification(&after, &org.hub);
    assert!(
        message
            .text
            .contains("TAMPERING: 5 change(s) to the sgguard spoke in 3 account(s)"),
        "{}",
        message.text
    );
    let document: serde_json::Value = serde_json::from_str(&message.json).unwrap();
    assert_eq!(document["tampering_total"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reports_a_narrowed_pattern_and_a_remediation_role_stripped_or_bounded() {
    let (org, [intact, narrowed, stripped, bounded]) =
        spokes(["intact", "narrowed", "stripped", "bounded"]).await;
    let check = hub_check(&org, false);
    let before = sweep(&org, &check).await;
    assert!(before.tampering.is_empty(), "{:?}", before.tampering);

    // Forwarded only when made by one principal: every other change goes unseen.
    let mut pattern: serde_json::Value =
        serde_json::from_str(include_str!("../../hub/event-pattern.json")).unwrap();
    pattern["detail"]["userIdentity"] = json!({"arn": ["arn:aws:iam::123456789012:user/nobody"]});
    aws_sdk_eventbridge::Client::new(&org.member_config(&narrowed, OTHER_REGION))
        .put_rule()
        .name(FORWARDING_RULE)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();

    // The role's own policy replaced by a managed one that only reads.
    let iam = aws_sdk_iam::Client::new(&org.member_config(&stripped, HUB_REGION));
    iam.delete_role_policy()
        .role_name("sgguard-remediation")
        .policy_name("sgguard-remediation")
        .send()
        .await
        .unwrap();
    let reads = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["ec2:Describe*", "ec2:Get*", "events:*", "iam:Get*", "iam:List*", "ram:*",
                   "securityhub:*", "sqs:GetQueueAttributes"],
        "Resource": "*"}]});
    let reads_arn = managed_policy(&iam, "reads-only", &reads).await;
    iam.attach_role_policy()
        .role_name("sgguard-remediation")
        .policy_arn(&reads_arn)
        .send()
        .await
        .unwrap();

    // The role's policy left alone, but a boundary that allows only reads.
    let iam = aws_sdk_iam::Client::new(&org.member_config(&bounded, HUB_REGION));
    let boundary_arn = managed_policy(&iam, "boundary", &reads).await;
    iam.put_role_permissions_boundary()
        .role_name("sgguard-remediation")
        .permissions_boundary(&boundary_arn)
        .send()
        .await
        .unwrap();

    let after = sweep(&org, &check).await;
    let expected = rows(&[
        (&narrowed, OTHER_REGION, "the forwarding rule's pattern no"),
        (&stripped, "-", "the remediation role is no"),
        (&bounded, "-", "the remediation role's permissions boundary"),
    ]);
    assert_eq!(found(&after), expected, "{:#?}", after.tampering);
    let problem = |account: &str| -> &str {
        &after
            .tampering
            .iter()
            .find(|t| t.account_id == account)
            .unwrap()
            .problem
    };
    assert!(
        problem(&narrowed).contains("narrowed by `detail.userIdentity.arn`"),
        "{}",
        problem(&narrowed)
    );
    let revokes = "`ec2:RevokeSecurityGroupEgress`, `ec2:RevokeSecurityGroupIngress`";
    assert!(
        problem(&stripped).contains(revokes),
        "{}",
        problem(&stripped)
    );
    assert!(
        problem(&bounded).contains(&format!(
            "`{boundary_arn}` does not allow `ec2:RestoreManagedPrefixListVersion`, {revokes}"
        )),
        "{}",
        problem(&bounded)
    );
    assert!(after.tampering.iter().all(|t| t.account_id != intact));
    assert_eq!(tampering_lines(&after), 3);
}
