//! What a long sweep meets: member credentials rejected as expired mid-way (refreshed, the sweep
//! completes), and a violation past the first thousand rules of a region (a later page).

use aws_sdk_ec2::types::IpPermission;
use serde_json::{Value, json};
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::scope::Scope;
use sgguard::enforce::state::HubState;
use sgguard::enforce::sweep::Sweep;
use sgguard::outcome::Outcome;

use super::{baseline, found, regions, seed, sweep};
use crate::emulator::{HUB_REGION, Org, tcp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_rejected_as_expired_mid_sweep_are_refreshed_and_the_sweep_completes() {
    let seeded = seed().await;
    let expiring = seeded.account("prod-b");
    let aws = seeded.org.aws().await;
    let scope = Scope::parse(&["org".to_owned()], &[], &regions()).unwrap();
    // The first EC2 call made with prod-b's credentials, once every account is reached: AWS
    // says the session token expired.
    seeded.org.emulator.control(
        "deny",
        Some(json!({"action": "*", "account": expiring, "code": "ExpiredToken", "status": 400,
                    "times": 1, "message": "The security token included in the request is expired"})),
    );
    let report = Sweep::new(&*aws, &baseline(), &HubState::in_process(Limits::default()))
        .remediate(true)
        // One account-region at a time: the call after the rejected one is its retry.
        .concurrency(1)
        .run(&scope)
        .await
        .unwrap();

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!report.incomplete());
    assert_eq!(found(&report), seeded.expected(true, &seeded.org.members));
    // The role was assumed once more for prod-b, and only for it.
    assert_eq!(seeded.org.emulator.count("sts:AssumeRole"), 6);
    assert_eq!(aws.credentials().assume_calls(), 6);
    let role = format!("arn:aws:iam::{expiring}:role/sgguard-remediation");
    let assumed = seeded.org.emulator.assumed();
    assert_eq!(assumed.iter().filter(|a| **a == role).count(), 2);
    // The rejected call was made again at once, with the new credentials, and every later call
    // of prod-b used them.
    let counts = seeded.org.emulator.control("counts", None);
    let calls: Vec<&Value> = counts["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["account"] == expiring.as_str())
        .collect();
    let rejected = calls.iter().position(|r| r["denied"] == true).unwrap();
    assert_eq!(calls[rejected]["status"], 400);
    let (stale, retry) = (calls[rejected], calls[rejected + 1]);
    assert_eq!(retry["action"], stale["action"]);
    assert_eq!(retry["status"], 200);
    assert_ne!(retry["access_key"], stale["access_key"]);
    assert!(
        calls[rejected + 1..]
            .iter()
            .all(|r| r["access_key"] == retry["access_key"] && r["status"] == 200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_violation_past_the_first_thousand_rules_of_a_region_is_found_on_a_later_page() {
    let org = Org::with_members(&["big-a"]).await;
    let member = org.members[0].clone();
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    // 18 groups of 59 private HTTPS rules (a VPC group holds at most 60), created one call per
    // group; the last group also lets SSH in from the world.
    let mut ssh = None;
    for g in 0..18u8 {
        let group = crate::emulator::new_group(&ec2, &format!("bulk-{g:02}"), &[]).await;
        let mut https = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443);
        for i in 0..59u8 {
            https = https.ip_ranges(
                aws_sdk_ec2::types::IpRange::builder()
                    .cidr_ip(format!("10.{g}.{i}.0/24"))
                    .build(),
            );
        }
        let mut permissions = vec![https.build()];
        if g == 17 {
            permissions.push(tcp(22, "0.0.0.0/0"));
        }
        ec2.authorize_security_group_ingress()
            .group_id(&group)
            .set_ip_permissions(Some(permissions))
            .send()
            .await
            .unwrap();
        if g == 17 {
            ssh = crate::emulator::group_rules(&ec2, &group)
                .await
                .iter()
                .find(|r| r.from_port() == Some(22))
                .and_then(|r| r.security_group_rule_id().map(str::to_owned));
        }
    }
    let ssh = ssh.unwrap();
    // Read in one answer (no MaxResults: not paginated), the SSH rule lies past the first 1,000.
    let everything = ec2.describe_security_group_rules().send().await.unwrap();
    let all = everything.security_group_rules();
    let position = all
        .iter()
        .position(|r| r.security_group_rule_id() == Some(ssh.as_str()))
        .unwrap();
    assert!(position >= 1000, "at {position} of {}", all.len());

    let aws = org.aws().await;
    org.emulator.reset();
    let scope = Scope::parse(std::slice::from_ref(&member), &[], &[HUB_REGION.to_owned()]).unwrap();
    let report = sweep(&aws, &baseline(), &scope, true).await;

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.totals.counts.rules, all.len(), "every page was read");
    let revoked: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Revoked)
        .filter_map(|f| f.finding.rule.rule_id.as_deref())
        .collect();
    assert_eq!(revoked, [ssh.as_str()]);
    assert_eq!(
        describe_rule_calls(&org),
        all.len().div_ceil(1000),
        "one DescribeSecurityGroupRules per page of 1,000"
    );
    let left = ec2.describe_security_group_rules().send().await.unwrap();
    assert_eq!(left.security_group_rules().len(), all.len() - 1);
}

/// The DescribeSecurityGroupRules calls the emulator answered since its last reset.
fn describe_rule_calls(org: &Org) -> usize {
    usize::try_from(org.emulator.count("ec2:DescribeSecurityGroupRules")).unwrap()
}
