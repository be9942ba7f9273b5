//! A first deployment's stages against the emulator, through the Lambda's own handler: staged
//! enforcement (one organization, two OUs, one enforced and one audited, the same change in
//! both), exemptions read from S3 outside the zip (a bad file keeps the last good one), and the
//! scheduled sweep's full report written to the report bucket.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sgguard::aws::S3Uri;
use sgguard::enforce::exemptions::ExemptionStore;
use sgguard::lambda::{Hub, handle};
use sgguard::policy::Baseline;
use sgguard::settings::Settings;

use crate::emulator::{HUB_REGION, Org, live_rules, open_rules, tcp};
use crate::hub::authorize_event;

const BUCKET: &str = "sgguard-reports-test";
const EXEMPTIONS_KEY: &str = "config/exemptions.yaml";

/// The Lambda's hub with these environment variables (and the org's topic).
pub(crate) async fn hub(org: &Org, env: &[(&str, String)]) -> Hub {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env.push(("SGGUARD_TOPIC_ARN".to_owned(), org.topic_arn.clone()));
    let settings =
        Settings::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    let baseline = Arc::new(Baseline::default_baseline().unwrap());
    // The TTL is zero here: every invocation reads the file again (the Lambda's is minutes).
    let exemptions = settings.exemptions_uri.clone().map(|uri| {
        ExemptionStore::new(
            uri,
            Duration::ZERO,
            settings.exemptions_max_days,
            Arc::clone(&baseline),
        )
    });
    let aws = org.aws().await;
    Hub {
        staging: settings.inline_staging().unwrap(),
        // In this process, unless the test names a state table (`SGGUARD_STATE_TABLE`).
        state: settings.hub_state(&aws),
        settings,
        baseline,
        exemptions,
        aws,
        tamper: None,
    }
}

/// The Lambda's hub auditing by default, with the unit `enforced` enforced.
async fn audited_but(org: &Org, enforced: &str) -> Hub {
    hub(
        org,
        &[
            ("SGGUARD_MODE", "audit".to_owned()),
            (
                "SGGUARD_MODE_BY_SCOPE",
                json!({ enforced: "enforce" }).to_string(),
            ),
        ],
    )
    .await
}

/// An S3 client of the hub account on the emulator.
pub(crate) fn s3(org: &Org) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&org.emulator.hub_config(HUB_REGION))
            .force_path_style(true)
            .build(),
    )
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, text: &str) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(text.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
}

/// SSH opened to the internet in a new group of `account`: the group and the event.
pub(crate) async fn open_ssh(org: &Org, account: &str, name: &str) -> (String, Value) {
    let ec2 = org.member_ec2(account, HUB_REGION).await;
    let (group, rules) = open_rules(&ec2, name, vec![tcp(22, "0.0.0.0/0")]).await;
    let event = authorize_event(account, HUB_REGION, "dana", &group, &rules);
    (group, event)
}

pub(crate) async fn is_open(org: &Org, account: &str, group: &str) -> bool {
    let ec2 = org.member_ec2(account, HUB_REGION).await;
    live_rules(&ec2, group)
        .await
        .iter()
        .any(|(_, port, cidr)| *port == Some(22) && cidr == "0.0.0.0/0")
}

/// The outcomes of the findings of a handled event.
pub(crate) fn outcomes(outcome: &Value) -> Vec<String> {
    outcome["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_enforcement_revokes_in_the_enforced_unit_only_in_events_and_sweeps() {
    let org = Org::world(json!({
        "ous": ["prod", "dev"],
        "members": [{"name": "prod-a", "ou": "prod"}, {"name": "dev-b", "ou": "dev"}],
    }))
    .await;
    let (prod, dev) = (org.members[0].clone(), org.members[1].clone());
    let prod_ou = org.ous["prod"].clone();
    // Audit by default; the prod OU enforced.
    let hub = audited_but(&org, &prod_ou).await;

    // The same change in both accounts.
    let (prod_group, prod_event) = open_ssh(&org, &prod, "web").await;
    let (dev_group, dev_event) = open_ssh(&org, &dev, "web").await;
    org.emulator.reset();
    let prod_outcome = handle(&hub, prod_event.clone(), None).await.unwrap();
    let dev_outcome = handle(&hub, dev_event, None).await.unwrap();

    assert_eq!(prod_outcome["mode"], "enforce");
    assert_eq!(prod_outcome["mode_by"], prod_ou.as_str());
    assert_eq!(outcomes(&prod_outcome), ["revoked"]);
    assert!(!is_open(&org, &prod, &prod_group).await);
    assert_eq!(dev_outcome["mode"], "audit");
    assert_eq!(dev_outcome["mode_by"], "default");
    assert_eq!(outcomes(&dev_outcome), ["would_revoke"]);
    assert!(is_open(&org, &dev, &dev_group).await);
    // Exactly one revoke, in prod; the OUs read once per account (then cached).
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 1);
    let parents = org.emulator.count("organizations:ListParents");
    assert!(parents >= 2, "{parents}");
    handle(&hub, prod_event, None).await.unwrap();
    assert_eq!(org.emulator.count("organizations:ListParents"), parents);

    // The inbox says which mode and why.
    let inbox = org.inbox().await;
    assert!(
        inbox
            .iter()
            .any(|(_, m, _)| m["mode"] == "enforce" && m["mode_by"] == prod_ou.as_str()),
        "{inbox:?}"
    );

    // The scheduled sweep honours the same scopes: prod's new rule revoked, dev's reported.
    let (prod_later, _) = open_ssh(&org, &prod, "api").await;
    let sweep = handle(
        &hub,
        json!({"sgguard": "sweep", "regions": [HUB_REGION], "remediate": true}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(sweep["status"], "complete", "{sweep}");
    assert!(!is_open(&org, &prod, &prod_later).await);
    assert!(is_open(&org, &dev, &dev_group).await);
    let (_, summary) = org.sweep_summary().await;
    let modes: Vec<(String, String)> = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account_id"].as_str().unwrap().to_owned(),
                a["mode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        modes.contains(&(dev.clone(), "audit".to_owned())),
        "{modes:?}"
    );
}

/// What decides a mode must be readable: a scope id the organization does not have stops the
/// start, naming it; an account whose units cannot be read (Organizations throttled) is not
/// audited on a guess, its event fails for a retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_scope_stops_the_start_and_an_unreadable_unit_fails_the_event() {
    let org = Org::world(json!({
        "ous": ["prod"],
        "members": [{"name": "prod-a", "ou": "prod"}],
    }))
    .await;
    let prod = org.members[0].clone();
    let prod_ou = org.ous["prod"].clone();
    let aws = org.aws().await;
    let settings_with = |scopes: serde_json::Value| {
        let scopes = scopes.to_string();
        Settings::from_lookup(|name| (name == "SGGUARD_MODE_BY_SCOPE").then(|| scopes.clone()))
            .unwrap()
    };
    // The real unit, the root and the member: confirmed by Organizations.
    let root = org.root.clone();
    let known = settings_with(json!({ &prod_ou: "enforce", &root: "audit", &prod: "enforce" }));
    assert!(known.checked_staging(&aws).await.is_ok());
    // A mistyped unit (well formed, not in the organization), an unknown account: named.
    for unknown in ["ou-zz99-notthere", "999988887777"] {
        let settings = settings_with(json!({ unknown: "enforce" }));
        let error = settings
            .checked_staging(&aws)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(unknown) && error.contains("the organization does not have"),
            "{error}"
        );
    }

    let hub = audited_but(&org, &prod_ou).await;
    let (group, event) = open_ssh(&org, &prod, "web").await;
    org.emulator.deny("organizations:ListParents", "");
    let failed = handle(&hub, event.clone(), None).await.unwrap_err();
    assert_eq!(failed.0.error_type(), "Sgguard.Undecided");
    assert!(
        failed
            .0
            .to_string()
            .contains(&format!("organizational unit of account {prod}")),
        "{}",
        failed.0
    );
    assert!(
        is_open(&org, &prod, &group).await,
        "nothing done on a guess"
    );
    // Readable again: the retry decides (enforced by the unit) and revokes.
    org.emulator.control("allow", None);
    let outcome = handle(&hub, event, None).await.unwrap();
    assert_eq!(outcomes(&outcome), ["revoked"], "{outcome}");
    assert!(!is_open(&org, &prod, &group).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exemptions_in_s3_apply_without_a_rebuild_and_a_bad_file_keeps_the_last_good_one() {
    let org = Org::with_members(&["workload-a"]).await;
    let member = org.members[0].clone();
    let s3 = s3(&org);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let uri = format!("s3://{BUCKET}/{EXEMPTIONS_KEY}");
    let hub = hub(&org, &[("SGGUARD_EXEMPTIONS_URI", uri.clone())]).await;
    assert_eq!(hub.settings.exemptions_uri, S3Uri::parse(&uri));

    // No file yet: what is exempt is unknown, so nothing is decided: the event fails for a
    // retry (never audited and finished), the rule is left as it is, the message says why.
    let (group, event) = open_ssh(&org, &member, "bastion").await;
    let failed = handle(&hub, event.clone(), None).await.unwrap_err();
    assert_eq!(failed.0.error_type(), "Sgguard.Undecided");
    assert!(
        failed.0.to_string().contains(&uri) && failed.0.to_string().contains("nothing is decided"),
        "{}",
        failed.0
    );
    assert!(is_open(&org, &member, &group).await);
    assert_eq!(org.emulator.count("ec2:RevokeSecurityGroupIngress"), 0);

    // A good file exempting the group: the rule stays, exempt.
    let good = format!(
        "version: 1\nexemptions:\n  - reason: approved bastion, CHG-12\n    group_ids: [{group}]\n    rules: [admin-ports-from-internet, unapproved-ports-from-internet]\n    expires: 2027-01-31\n"
    );
    put(&s3, EXEMPTIONS_KEY, &good).await;
    let outcome = handle(&hub, event.clone(), None).await.unwrap();
    assert_eq!(outcomes(&outcome), ["exempt"], "{outcome}");
    assert_eq!(outcome["errors"], json!([]));

    // A bad file (an unknown rule id): the last good one stays, and every message says so.
    put(
        &s3,
        EXEMPTIONS_KEY,
        &good.replace("admin-ports-from-internet", "admin-ports-from-anywhere"),
    )
    .await;
    let outcome = handle(&hub, event.clone(), None).await.unwrap();
    assert_eq!(outcomes(&outcome), ["exempt"], "{outcome}");
    let caveat = outcome["errors"][0].as_str().unwrap();
    assert!(
        caveat.contains(&uri)
            && caveat.contains("admin-ports-from-anywhere")
            && caveat.contains("last good"),
        "{caveat}"
    );
    assert!(is_open(&org, &member, &group).await);

    // The exemption removed from the file: the next event revokes the rule.
    put(&s3, EXEMPTIONS_KEY, "version: 1\nexemptions: []\n").await;
    let outcome = handle(&hub, event, None).await.unwrap();
    assert_eq!(outcomes(&outcome), ["revoked"], "{outcome}");
    assert!(!is_open(&org, &member, &group).await);
    assert!(org.emulator.count("s3:GetObject") >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_stores_its_whole_report_and_the_summary_links_it() {
    let org = Org::with_members(&["workload-a"]).await;
    let member = org.members[0].clone();
    let s3 = s3(&org);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    // More findings than the summary lists (25): the stored report keeps them all.
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let ports: Vec<i32> = (0..30).map(|n| 9000 + n).collect();
    let (_, _) = open_rules(
        &ec2,
        "wide",
        ports.iter().map(|p| tcp(*p, "0.0.0.0/0")).collect(),
    )
    .await;
    // The summary also goes to the findings bus, where a rule routes it to a queue.
    let (bus, queue) = crate::notifications::bus_to_queue(&org).await;
    let hub = hub(
        &org,
        &[
            ("SGGUARD_REPORT_BUCKET", BUCKET.to_owned()),
            ("SGGUARD_EVENT_BUS_ARN", bus),
        ],
    )
    .await;
    let result = handle(
        &hub,
        json!({"sgguard": "sweep", "regions": [HUB_REGION]}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(result["status"], "complete", "{result}");

    let (_, summary) = org.sweep_summary().await;
    let uri = summary["report"]["uri"].as_str().unwrap().to_owned();
    let key = uri
        .strip_prefix(&format!("s3://{BUCKET}/"))
        .unwrap()
        .to_owned();
    assert!(
        key.starts_with("sweeps/") && key.ends_with(".json"),
        "{key}"
    );
    assert!(
        summary["report"]["console_url"]
            .as_str()
            .unwrap()
            .contains(&key)
    );
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap();
    let stored: Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    // The same document as `scan --format json`: every finding, beyond the summary's cap.
    let findings = stored["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 30);
    assert!(summary["top_findings"].as_array().unwrap().len() < findings.len());
    assert_eq!(summary["totals"]["findings"], 30);
    // Each finding says whose group it is, in the sweep too.
    assert_eq!(findings[0]["group"]["group_name"], "wide");
    assert!(
        findings[0]["group"]["vpc_id"]
            .as_str()
            .unwrap()
            .starts_with("vpc-")
    );
    assert_eq!(org.emulator.count("s3:PutObject"), 1);
    let sqs = aws_sdk_sqs::Client::new(&org.emulator.hub_config(HUB_REGION));
    let put = crate::notifications::drain(&sqs, &queue, 1).await;
    assert_eq!(put.len(), 1, "{put:#?}");
    assert_eq!(put[0]["detail-type"], "Sweep Summary");
    assert_eq!(put[0]["detail"]["report"]["uri"], summary["report"]["uri"]);
    crate::notifications::valid(
        &crate::notifications::schema("finding-event.schema.json"),
        &put[0],
    );
}
