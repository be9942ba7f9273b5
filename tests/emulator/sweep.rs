//! The organization sweep against the AWS API emulator: five member accounts, four of them in
//! two organizational units (one nested), two regions, seeded through the real EC2 API with
//! compliant and violating rules (`emulator.rs`). Here: the seeding and what the tests read of a
//! sweep; the tests, by subject, in `sweep/`.

mod distributed;
mod entry_points;
mod findings;
mod long_sweeps;

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{IpPermission, Ipv6Range};
use serde_json::{Value, json};
use sgguard::aws::Aws;
use sgguard::enforce::breaker::Limits;
use sgguard::enforce::scope::Scope;
use sgguard::enforce::state::HubState;
use sgguard::enforce::sweep::Sweep;
use sgguard::lambda::Hub;
use sgguard::outcome::{Outcome, SweepReport};
use sgguard::policy::Baseline;
use sgguard::settings::Settings;

use crate::emulator::{
    HUB_REGION, OTHER_REGION, Org, live_rules, open_rules, open_tagged_rules, tcp,
};

const REGIONS: [&str; 2] = [HUB_REGION, OTHER_REGION];
const ACCOUNTS: [&str; 5] = ["prod-a", "prod-b", "dev-c", "dev-sandbox-d", "root-e"];

/// The default baseline plus one exemption by tag, as a policy file would add it.
fn policy_yaml() -> String {
    format!(
        "{}\nexemptions:\n  - reason: approved bastion\n    tag: {{key: sgguard-exempt, value: bastion}}\n",
        sgguard::policy::DEFAULT_BASELINE_YAML
    )
}

fn baseline() -> Baseline {
    Baseline::from_yaml(&policy_yaml(), "test-policy.yaml").unwrap()
}

/// The Lambda's hub over the seeded organization, with the whole report stored in `bucket`.
async fn hub_for(seeded: &Seeded, bucket: Option<&str>) -> Hub {
    let topic = seeded.org.topic_arn.clone();
    let settings = Settings::from_lookup(|name| match name {
        "SGGUARD_TOPIC_ARN" => Some(topic.clone()),
        "SGGUARD_REPORT_BUCKET" => bucket.map(str::to_owned),
        _ => None,
    })
    .unwrap();
    Hub {
        staging: settings.inline_staging().unwrap(),
        state: HubState::in_process(settings.limits),
        settings,
        baseline: std::sync::Arc::new(baseline()),
        exemptions: None,
        aws: seeded.org.aws().await,
        // This world has no spoke stacks to check (tamper.rs has).
        tamper: None,
    }
}

/// What the seeding created: the OUs and, per seeded rule, where it is and what the sweep must
/// do with it.
struct Seeded {
    org: Org,
    /// `prod` (prod-a, prod-b) and `dev` (dev-c, and dev-sandbox-d in the nested `sandbox`).
    prod: String,
    dev: String,
    /// (account, region, group, rule id, expected outcome when remediating; None: compliant).
    rules: Vec<(String, String, String, String, Option<Outcome>)>,
}

impl Seeded {
    fn account(&self, name: &str) -> String {
        let index = ACCOUNTS.iter().position(|n| *n == name).unwrap();
        self.org.members[index].clone()
    }

    /// The expected findings as (account, region, rule id, outcome), remediating or not.
    fn expected(
        &self,
        remediate: bool,
        accounts: &[String],
    ) -> BTreeSet<(String, String, String, Outcome)> {
        self.rules
            .iter()
            .filter(|r| accounts.contains(&r.0))
            .filter_map(|(account, region, _, rule, outcome)| {
                let outcome = match (*outcome)? {
                    Outcome::Revoked if !remediate => Outcome::WouldRevoke,
                    other => other,
                };
                Some((account.clone(), region.clone(), rule.clone(), outcome))
            })
            .collect()
    }
}

/// A group to create: account, region, name, and its rules with the expected outcome of each.
type Planned = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(IpPermission, Option<Outcome>)>,
);

async fn seed() -> Seeded {
    // prod-a, prod-b in `prod`; dev-c in `dev`; dev-sandbox-d in `sandbox`, nested in `dev`;
    // root-e below the root.
    let ous = ["prod", "prod", "dev", "sandbox"];
    let members: Vec<Value> = ACCOUNTS
        .iter()
        .enumerate()
        .map(|(index, name)| json!({"name": name, "ou": ous.get(index)}))
        .collect();
    let org = Org::world(json!({
        "ous": ["prod", "dev", {"name": "sandbox", "parent": "dev"}],
        "members": members,
    }))
    .await;
    let (prod, dev) = (org.ous["prod"].clone(), org.ous["dev"].clone());

    let mut seeded = Seeded {
        prod,
        dev,
        rules: Vec::new(),
        org,
    };
    let all_from_ipv6 = IpPermission::builder()
        .ip_protocol("-1")
        .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
        .build();
    let plan: Vec<Planned> = vec![
        (
            "prod-a",
            HUB_REGION,
            "web",
            vec![
                (tcp(22, "0.0.0.0/0"), Some(Outcome::Revoked)),
                (tcp(443, "0.0.0.0/0"), None),
            ],
        ),
        (
            "prod-a",
            OTHER_REGION,
            "api",
            vec![(tcp(8443, "0.0.0.0/0"), Some(Outcome::Reported))],
        ),
        (
            "prod-b",
            HUB_REGION,
            "legacy",
            vec![(all_from_ipv6, Some(Outcome::Revoked))],
        ),
        (
            "prod-b",
            OTHER_REGION,
            "db",
            vec![
                (tcp(5432, "0.0.0.0/1"), Some(Outcome::Revoked)),
                (tcp(5432, "128.0.0.0/1"), Some(Outcome::Revoked)),
            ],
        ),
        (
            "dev-c",
            HUB_REGION,
            "internal",
            vec![(tcp(22, "10.0.0.0/8"), None)],
        ),
        (
            "dev-sandbox-d",
            HUB_REGION,
            "rdp",
            vec![(tcp(3389, "0.0.0.0/0"), Some(Outcome::Revoked))],
        ),
        (
            "root-e",
            HUB_REGION,
            "ssh",
            vec![(tcp(22, "0.0.0.0/0"), Some(Outcome::Revoked))],
        ),
    ];
    for (name, region, group, rules) in plan {
        let account = seeded.account(name);
        let ec2 = seeded.org.member_ec2(&account, region).await;
        let (permissions, outcomes): (Vec<_>, Vec<_>) = rules.into_iter().unzip();
        let (group_id, created) = open_rules(&ec2, group, permissions).await;
        assert_eq!(created.len(), outcomes.len(), "one rule per permission");
        for (rule, outcome) in created.iter().zip(outcomes) {
            let id = rule["securityGroupRuleId"].as_str().unwrap().to_owned();
            seeded.rules.push((
                account.clone(),
                region.to_owned(),
                group_id.clone(),
                id,
                outcome,
            ));
        }
    }
    // An exempt bastion in dev-c's second region: SSH open, tagged as approved.
    let account = seeded.account("dev-c");
    let ec2 = seeded.org.member_ec2(&account, OTHER_REGION).await;
    let tags = [("sgguard-exempt", "bastion")];
    let (group_id, created) =
        open_tagged_rules(&ec2, "bastion", &tags, vec![tcp(22, "0.0.0.0/0")]).await;
    let rule = created[0]["securityGroupRuleId"]
        .as_str()
        .unwrap()
        .to_owned();
    seeded.rules.push((
        account,
        OTHER_REGION.to_owned(),
        group_id,
        rule,
        Some(Outcome::Exempt),
    ));
    seeded.org.emulator.reset();
    seeded
}

fn regions() -> Vec<String> {
    REGIONS.iter().map(|r| (*r).to_owned()).collect()
}

async fn sweep(aws: &Aws, baseline: &Baseline, scope: &Scope, remediate: bool) -> SweepReport {
    Sweep::new(aws, baseline, &HubState::in_process(Limits::default()))
        .remediate(remediate)
        .concurrency(4)
        .run(scope)
        .await
        .unwrap()
}

fn found(report: &SweepReport) -> BTreeSet<(String, String, String, Outcome)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.finding.rule.account_id.clone().unwrap(),
                f.finding.rule.region.clone().unwrap(),
                f.finding.rule.rule_id.clone().unwrap(),
                f.outcome,
            )
        })
        .collect()
}

fn swept_accounts(report: &SweepReport) -> Vec<String> {
    report
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect()
}

async fn rule_count(seeded: &Seeded) -> usize {
    let mut total = 0;
    for (account, region, group, _, _) in &seeded.rules {
        let ec2 = seeded.org.member_ec2(account, region).await;
        total += live_rules(&ec2, group).await.len();
    }
    total
}

/// Whether the seeded rule is still in its group.
async fn is_live(seeded: &Seeded, account: &str, region: &str, rule: &str) -> bool {
    let ec2 = seeded.org.member_ec2(account, region).await;
    ec2.describe_security_group_rules()
        .security_group_rule_ids(rule)
        .send()
        .await
        .is_ok_and(|o| o.security_group_rules().len() == 1)
}
