//! The messages' tests: what they say, and that they fit SNS.

use super::*;
use crate::finding::{Action, Finding};
use crate::outcome::{AccountSummary, EventOutcome, Outcome, SweepReport};
use crate::outcome::{Mode, RegionSummary};

fn finding(account: &str, n: usize) -> FindingOutcome {
    let group = format!("sg-{n:017x}");
    let rule = format!("sgr-{n:017x}");
    FindingOutcome {
        finding: Finding {
            source: Some("sweep".to_owned()),
            ..Finding::ssh_open(account, &group, Some(&rule), Action::Revoke)
        },
        outcome: Outcome::Revoked,
        group: None,
        attribution: None,
        removed: None,
        error: None,
        aws_error: None,
    }
}

/// 40 accounts with 100 revoked findings each, and one failed account.
fn big_report() -> SweepReport {
    let mut report = SweepReport {
        version: 1,
        mode: Mode::Enforce,
        remediate: true,
        rules_evaluated: 0,
        totals: crate::outcome::SweepTotals::default(),
        accounts: Vec::new(),
        skipped_accounts: Vec::new(),
        findings: Vec::new(),
        errors: vec!["account 999999999999: AssumeRole failed: AccessDenied".to_owned()],
        tampering: Vec::new(),
        undelivered: Vec::new(),
        gaps: Vec::new(),
        coverage_gaps: Vec::new(),
        breaker: None,
        seconds: 12.5,
        coverage: None,
        stored: Some(crate::outcome::StoredReport::new(
            "sgguard-reports-123456789012-eu-west-1",
            "sweeps/2026/12/02/20261202T060000Z.json",
            "eu-west-1",
        )),
    };
    for a in 0..40 {
        let account = format!("{:012}", 100_000_000_000_u64 + a);
        let findings: Vec<FindingOutcome> = (0..100).map(|n| finding(&account, n)).collect();
        let counts = Counts {
            groups: 100,
            rules: 1000,
            ..Counts::of_findings(&findings)
        };
        report.totals.counts.add(&counts);
        report.accounts.push(AccountSummary {
            account_id: account,
            account_name: None,
            mode: Mode::Enforce,
            mode_by: None,
            counts,
            regions: vec![RegionSummary {
                region: "eu-west-1".to_owned(),
                counts,
                error: None,
                skipped: None,
                forwarding_queue: None,
                forwarding_rule: None,
            }],
            error: None,
        });
        report.findings.extend(findings);
    }
    report
}

#[test]
fn the_summary_notification_fits_sns_and_says_what_failed() {
    let report = big_report();
    let notification = sweep_notification(&report, "123456789012");
    assert!(notification.subject.chars().count() < 100);
    assert!(
        notification
            .subject
            .starts_with("sgguard sweep: 1 failure(s), 4000 revoked")
    );
    // SNS takes at most 256 KB for the whole message (text and JSON are both sent).
    assert!(notification.text.len() + 2 * notification.json.len() < 200_000);
    let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
    assert_eq!(json["totals"]["revoked"], 4000);
    assert_eq!(
        json["top_findings"].as_array().unwrap().len(),
        NOTIFIED_FINDINGS
    );
    assert_eq!(json["errors_total"], 1);
    assert!(notification.text.contains("account 999999999999"));
    // The whole report is linked: what the 25-finding cap leaves out is there.
    assert!(notification.text.contains(
        "Full report: s3://sgguard-reports-123456789012-eu-west-1/sweeps/2026/12/02/20261202T060000Z.json\nhttps://s3.console.aws.amazon.com/s3/object/sgguard-reports-123456789012-eu-west-1?region=eu-west-1&prefix=sweeps/2026/12/02/20261202T060000Z.json"
    ));
    assert_eq!(
        json["report"]["uri"],
        "s3://sgguard-reports-123456789012-eu-west-1/sweeps/2026/12/02/20261202T060000Z.json"
    );
    let attribute = |name: &str| {
        notification
            .attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(attribute("account_id"), "multiple", "40 accounts");
    assert_eq!(attribute("action"), "failed");
    assert_eq!(attribute("kind"), "sweep");
}

#[test]
fn the_metrics_line_is_embedded_metric_format() {
    let line: serde_json::Value =
        serde_json::from_str(&crate::report::metrics::sweep_metrics_line(
            &Default::default(),
            &big_report(),
            1_700_000_000_000,
        ))
        .unwrap();
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "sgguard");
    assert_eq!(line["SweepAccounts"], 40);
    assert_eq!(line["SweepRevoked"], 4000);
    assert_eq!(line["SweepFailures"], 1);
    assert_eq!(line["Mode"], "enforce");
    assert_eq!(line["SgguardVersion"], env!("CARGO_PKG_VERSION"));
    let event =
        crate::report::metrics::event_metrics_line(&Default::default(), &crowded_event(), false, 1);
    let event: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["SgguardVersion"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn every_message_says_which_release_wrote_it() {
    for notification in [
        sweep_notification(&big_report(), "123456789012"),
        event_notification(&crowded_event()),
    ] {
        let version = env!("CARGO_PKG_VERSION");
        let attribute = notification
            .attributes
            .iter()
            .find(|(name, _)| *name == "sgguard_version")
            .map(|(_, value)| value.as_str());
        assert_eq!(attribute, Some(version));
        let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
        assert_eq!(json["sgguard_version"], version);
        assert!(notification.text.contains(&format!("sgguard {version}")));
        // SNS takes at most 10 message attributes.
        assert!(notification.attributes.len() <= 10);
    }
}

/// An event whose group held 500 violating rules.
fn crowded_event() -> EventOutcome {
    let mut outcome = EventOutcome::new(Mode::Enforce);
    outcome.account_id = Some("111122223333".to_owned());
    outcome.region = Some("eu-west-1".to_owned());
    outcome.event.name = "AuthorizeSecurityGroupIngress".to_owned();
    outcome.event.id = Some("ev-500".to_owned());
    outcome.findings = (0..500).map(|n| finding("111122223333", n)).collect();
    if let Some(last) = outcome.findings.last_mut() {
        last.outcome = Outcome::Failed;
        last.error = Some("UnauthorizedOperation: ".to_owned() + &"x".repeat(2000));
    }
    outcome
}

#[test]
fn an_event_with_500_findings_fits_sns_and_says_what_it_left_out() {
    let outcome = crowded_event();
    let notification = event_notification(&outcome);
    assert!(body_bytes(&notification.text, &notification.json) <= MESSAGE_BUDGET);
    assert!(notification.subject.chars().count() < 100);
    let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
    assert_eq!(json["findings_total"], 500);
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        NOTIFIED_EVENT_FINDINGS
    );
    assert_eq!(json["findings_omitted"], 500 - NOTIFIED_EVENT_FINDINGS);
    // The failure is listed first, whatever its place in the group.
    assert_eq!(json["findings"][0]["outcome"], "failed");
    assert!(notification.text.contains("and 450 more finding(s)"));
    assert!(notification.text.contains("live:ev-500"));
}

#[test]
fn long_findings_are_cut_until_the_message_fits() {
    let mut outcome = crowded_event();
    for f in &mut outcome.findings {
        f.finding.violations[0].reason = "r".repeat(8000);
    }
    let notification = event_notification(&outcome);
    assert!(body_bytes(&notification.text, &notification.json) <= MESSAGE_BUDGET);
    let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
    let listed = json["findings"].as_array().unwrap().len();
    assert!(listed > 0 && listed < NOTIFIED_EVENT_FINDINGS, "{listed}");
}

#[test]
fn a_sweep_with_300_failing_accounts_fits_sns() {
    let mut report = big_report();
    for a in 0..300 {
        let account = format!("{:012}", 900_000_000_000_u64 + a);
        report.errors.push(format!(
            "account {account}: AssumeRole of arn:aws:iam::{account}:role/sgguard-remediation \
             failed: AccessDenied: {}",
            "denied ".repeat(40)
        ));
        report.accounts.push(AccountSummary {
            account_id: account,
            account_name: Some("a-long-account-name-for-a-workload".to_owned()),
            mode: Mode::Audit,
            mode_by: Some("ou-ab12-cdef3456".to_owned()),
            counts: Counts::default(),
            regions: Vec::new(),
            error: Some("AccessDenied".to_owned()),
        });
    }
    let notification = sweep_notification(&report, "123456789012");
    assert!(body_bytes(&notification.text, &notification.json) <= MESSAGE_BUDGET);
    assert!(notification.subject.chars().count() < 100);
    let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
    assert_eq!(json["errors_total"], 301);
    assert!(notification.text.contains("… and 240 more"));
}

/// Issue #21: the coverage gaps (by account and region) and the regions denied by policy are
/// counted and named in the summary, the metrics line and the table; neither is a failure.
#[test]
fn coverage_gaps_and_regions_denied_are_counted_and_named_never_silent() {
    use crate::outcome::{CoverageGap, Forwarding, Skipped};
    let mut report = big_report();
    report.errors.clear();
    let account = report.accounts[0].account_id.clone();
    report.accounts[0].regions.push(RegionSummary {
        region: "ap-south-1".to_owned(),
        counts: Counts::default(),
        error: None,
        skipped: Some(Skipped::DeniedByPolicy),
        forwarding_rule: None,
        forwarding_queue: None,
    });
    let gap = |region: &str, forwarding| CoverageGap {
        account_id: account.clone(),
        region: region.to_owned(),
        forwarding,
    };
    report.coverage_gaps = vec![
        gap("ap-southeast-2", Forwarding::NotDeployed),
        gap("eu-west-1", Forwarding::Expected),
        gap("sa-east-1", Forwarding::NotDeployed),
    ];
    report.totals.coverage_gaps = 3;
    report.totals.regions_denied = 1;

    let notification = sweep_notification(&report, "123456789012");
    assert!(
        notification.subject.contains("3 coverage gap(s)"),
        "{}",
        notification.subject
    );
    assert_eq!(notification.headline, Headline::Revoked, "no failure");
    let text = &notification.text;
    assert!(
        text.contains("COVERAGE GAPS: 3 enabled account-region(s)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "- {account}: ap-southeast-2, sa-east-1 — the spokes are not deployed"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("- {account}: eu-west-1 — the spokes are deployed")),
        "{text}"
    );
    assert!(
        text.contains("Denied by policy: 1 account-region(s) a service control policy denies")
            && text.contains(&format!("{account} ap-south-1")),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&notification.json).unwrap();
    assert_eq!(json["totals"]["coverage_gaps"], 3);
    assert_eq!(json["totals"]["regions_denied"], 1);
    assert_eq!(
        json["totals"]["revoked"], 4000,
        "the counts are flat beside them"
    );
    assert_eq!(
        json["coverage_gaps"][0],
        serde_json::json!({"account_id": account, "forwarding": "not_deployed",
                           "regions": ["ap-southeast-2", "sa-east-1"]})
    );
    assert_eq!(
        json["regions_denied"],
        serde_json::json!([{"account_id": account, "region": "ap-south-1"}])
    );
    assert_eq!(json["regions_skipped"], 1);

    let line: serde_json::Value =
        serde_json::from_str(&crate::report::metrics::sweep_metrics_line(
            &Default::default(),
            &report,
            1_700_000_000_000,
        ))
        .unwrap();
    assert_eq!(
        (
            &line["SweepCoverageGaps"],
            &line["SweepRegionsDenied"],
            &line["SweepFailures"]
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!(1),
            &serde_json::json!(0)
        )
    );
    let defined: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["Name"].as_str())
        .collect();
    assert!(defined.contains(&"SweepCoverageGaps") && defined.contains(&"SweepRegionsDenied"));

    let table = crate::report::sweep_table(&report);
    assert!(
        table.contains(&format!(
            "coverage gap: {account} ap-southeast-2,sa-east-1: no forwarding rule;"
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!("denied by policy: {account} ap-south-1:")),
        "{table}"
    );
    assert!(
        table.contains("; 3 coverage gap(s); 1 region(s) denied by policy in"),
        "{table}"
    );
}
