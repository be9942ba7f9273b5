//! The organization sweep against the AWS API emulator: five member accounts, four of them in
//! two organizational units (one nested), two regions, seeded through the real EC2 API with
//! compliant and violating rules (`emulator.rs`).

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{IpPermission, Ipv6Range};
use serde_json::{Value, json};
use sgguard::aws::Aws;
use sgguard::enforce::breaker::{Breaker, Limits};
use sgguard::enforce::scope::Scope;
use sgguard::enforce::sweep::Sweep;
use sgguard::lambda::Hub;
use sgguard::outcome::Mode;
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
    Sweep {
        aws,
        baseline,
        staging: Mode::Enforce.into(),
        remediate,
        concurrency: 4,
        deadline: None,
        progress: indicatif::ProgressBar::hidden(),
        breaker: &Breaker::new(Limits::default()),
        tamper: None,
        context_tags: Vec::new(),
    }
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
                f.finding.account_id.clone().unwrap(),
                f.finding.region.clone().unwrap(),
                f.finding.rule_id.clone().unwrap(),
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
    assert_eq!(report.totals.revoked, 6);
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
    assert_eq!(again.totals.revoked, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_breaker_holds_back_revocations_past_the_sweep_limit() {
    let seeded = seed().await;
    let aws = seeded.org.aws().await;
    let baseline = baseline();
    let scope = Scope::parse(&["org".to_owned()], &[], &regions()).unwrap();
    let report = Sweep {
        aws: &aws,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        remediate: true,
        concurrency: 4,
        deadline: None,
        progress: indicatif::ProgressBar::hidden(),
        breaker: &Breaker::new(Limits {
            per_sweep: 4,
            ..Limits::default()
        }),
        tamper: None,
        context_tags: Vec::new(),
    }
    .run(&scope)
    .await
    .unwrap();

    // Six rules were to be revoked: four are, two are held back, and the sweep says why.
    assert_eq!((report.totals.revoked, report.totals.would_revoke), (4, 2));
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
    assert_eq!(swept_accounts(&report), dev);
    assert_eq!(found(&report), seeded.expected(false, &dev));

    let units = [seeded.prod.clone(), seeded.dev.clone()];
    let scope = Scope::parse(&[], &units, &regions()).unwrap();
    let report = sweep(&aws, &baseline, &scope, false).await;
    let mut four: Vec<String> = ["prod-a", "prod-b", "dev-c", "dev-sandbox-d"]
        .iter()
        .map(|n| seeded.account(n))
        .collect();
    four.sort();
    assert_eq!(swept_accounts(&report), four, "root-e is in no unit");

    // Past the deadline (the Lambda's time is up) no region is started, and the report says so.
    seeded.org.emulator.reset();
    let late = Sweep {
        aws: &aws,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        remediate: true,
        concurrency: 4,
        deadline: Some(std::time::Instant::now()),
        progress: indicatif::ProgressBar::hidden(),
        breaker: &Breaker::new(Limits::default()),
        tamper: None,
        context_tags: Vec::new(),
    }
    .run(&scope)
    .await
    .unwrap();
    assert!(late.findings.is_empty());
    assert_eq!(
        late.errors.len(),
        8,
        "4 accounts x 2 regions: {:?}",
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
    let error = Sweep {
        aws: &aws,
        baseline: &baseline,
        staging: Mode::Enforce.into(),
        remediate: false,
        concurrency: 1,
        deadline: None,
        progress: indicatif::ProgressBar::hidden(),
        breaker: &Breaker::new(Limits::default()),
        tamper: None,
        context_tags: Vec::new(),
    }
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

fn hub_for(aws: std::sync::Arc<Aws>, topic: &str) -> Hub {
    let settings = Settings::from_lookup(|name| match name {
        "SGGUARD_TOPIC_ARN" => Some(topic.to_owned()),
        _ => None,
    })
    .unwrap();
    Hub {
        breaker: Breaker::new(settings.limits),
        settings,
        baseline: std::sync::Arc::new(baseline()),
        exemptions: None,
        aws,
        // This world has no spoke stacks to check (tamper.rs has).
        tamper: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_runs_in_the_handler_and_sends_one_summary() {
    let seeded = seed().await;
    let hub = hub_for(seeded.org.aws().await, &seeded.org.topic_arn);
    let payload = json!({"sgguard": "sweep", "regions": REGIONS, "remediate": true});

    let result = sgguard::lambda::handle(&hub, payload, None).await.unwrap();

    assert_eq!(result["totals"]["revoked"], 6);
    let inbox = seeded.org.inbox().await;
    assert_eq!(inbox.len(), 1, "one summary message: {inbox:?}");
    let (subject, document, attributes) = &inbox[0];
    assert!(
        subject.starts_with("sgguard sweep: revoked 6 rule(s) in 6 account(s)"),
        "{subject}"
    );
    assert_eq!(document["kind"], "sweep");
    assert_eq!(document["totals"]["revoked"], 6);
    assert_eq!(
        document["top_findings"][0]["violations"][0]["severity"],
        "critical"
    );
    assert_eq!(attributes["kind"]["Value"], "sweep");
    assert_eq!(attributes["action"]["Value"], "revoked");
    let listed = attributes["account_id"]["Value"].as_str().unwrap();
    for name in ["prod-a", "prod-b", "dev-sandbox-d", "root-e"] {
        assert!(listed.contains(&seeded.account(name)), "{listed}");
    }
    // dev-c has only an exempt finding: nothing to tell about it.
    assert!(!listed.contains(&seeded.account("dev-c")), "{listed}");

    // A broken account is reported by the summary and the result; the invocation succeeds so
    // that Lambda does not sweep the whole organization again.
    let broken = seeded.account("root-e");
    seeded.org.emulator.deny(
        "sts:AssumeRole",
        &format!("{broken}:role/sgguard-remediation"),
    );
    let fresh = hub_for(seeded.org.aws().await, &seeded.org.topic_arn);
    let payload = json!({"sgguard": "sweep", "regions": REGIONS, "remediate": true});
    let result = sgguard::lambda::handle(&fresh, payload, None)
        .await
        .unwrap();
    assert_eq!(result["status"], "incomplete");
    assert!(result["errors"][0].as_str().unwrap().contains(&broken));
    let inbox = seeded.org.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].2["action"]["Value"], "failed");
    assert!(inbox[0].1["errors"][0].as_str().unwrap().contains(&broken));

    // A payload sgguard does not understand changes nothing.
    seeded.org.emulator.reset();
    for bad in [
        json!({"sgguard": "sweep", "region": ["us-east-1"]}),
        json!({"sgguard": "sweep", "regions": ["not a region"]}),
        json!({"sgguard": "purge"}),
    ] {
        let error = sgguard::lambda::handle(&fresh, bad.clone(), None)
            .await
            .unwrap_err();
        assert_eq!(error.0.error_type(), "Sgguard.MalformedEvent", "{bad}");
    }
    assert_eq!(
        seeded.org.emulator.control("counts", None)["requests"],
        json!([])
    );
}

fn scan(seeded: &Seeded, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, policy_yaml()).unwrap();
    let output = seeded
        .org
        .cli()
        .arg("scan")
        .arg("--policy")
        .arg(&policy)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_command_reports_remediates_and_exits_as_documented() {
    let seeded = seed().await;
    let regions = REGIONS.join(",");

    let (code, stdout, stderr) = scan(&seeded, &["--regions", &regions, "--format", "json"]);
    assert_eq!(code, Some(1), "findings: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["remediate"], false);
    assert_eq!(report["accounts"].as_array().unwrap().len(), 6);
    assert_eq!(report["would_revoke"], 6);

    let (code, stdout, stderr) = scan(&seeded, &["--regions", &regions, "--remediate"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("6 revoked"), "{stdout}");
    assert!(
        stdout.contains("ACCOUNT") && stdout.contains("REVOKED"),
        "{stdout}"
    );

    let broken = seeded.account("dev-c");
    seeded.org.emulator.deny(
        "sts:AssumeRole",
        &format!("{broken}:role/sgguard-remediation"),
    );
    let (code, stdout, stderr) = scan(&seeded, &["--regions", &regions, "--format", "sarif"]);
    assert_eq!(code, Some(2), "a failed account: {stdout}");
    assert!(stderr.contains(&format!("account {broken}")), "{stderr}");
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // Every enabled region of the own account, as DescribeRegions lists them.
    let (code, stdout, stderr) = scan(&seeded, &["--accounts", "self", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let swept = report["accounts"][0]["regions"].as_array().unwrap().len();
    assert!(swept > 10, "every enabled region, got {swept}");

    // Bad arguments: exit 2 before any AWS call.
    seeded.org.emulator.reset();
    for bad in [
        &["--accounts", "12345"][..],
        &["--regions", "eu_west_1"],
        &["--accounts", "self", "--ou", "ou-ab12-cdef3456"],
        &["--concurrency", "0"],
    ] {
        let (code, _, stderr) = scan(&seeded, bad);
        assert_eq!(code, Some(2), "{bad:?}: {stderr}");
        assert!(stderr.contains("error"), "{stderr}");
    }
    assert_eq!(
        seeded.org.emulator.control("counts", None)["requests"],
        json!([])
    );
}

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
    let report = Sweep {
        aws: &aws,
        baseline: &baseline(),
        staging: Mode::Enforce.into(),
        remediate: true,
        // One account-region at a time: the call after the rejected one is its retry.
        concurrency: 1,
        deadline: None,
        progress: indicatif::ProgressBar::hidden(),
        breaker: &Breaker::new(Limits::default()),
        tamper: None,
        context_tags: Vec::new(),
    }
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
    assert_eq!(report.totals.rules, all.len(), "every page was read");
    let revoked: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Revoked)
        .filter_map(|f| f.finding.rule_id.as_deref())
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
