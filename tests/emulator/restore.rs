//! `sgguard restore` against the emulator: a rule the hub revoked (journaled in the state
//! table) is put back exactly (its description too) from the inbox message, then exempted for
//! a time, and the next event leaves it; a forged message and one of audit mode restore nothing
//! and call nothing that changes AWS.

use serde_json::{Value, json};
use sgguard::lambda::handle;

use crate::emulator::{HUB_REGION, Org, group_rules, rule_set_item};
use crate::hub::authorize_event;
use crate::staging::{hub, s3};

const BUCKET: &str = "sgguard-reports-restore";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_rule_is_restored_exactly_exempted_and_left_by_the_next_event() {
    let org = Org::with_members(&["workload-a"]).await;
    let member = org.members[0].clone();
    let uri = format!("s3://{BUCKET}/config/exemptions.yaml");
    let s3 = s3(&org);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key("config/exemptions.yaml")
        .body(b"version: 1\nexemptions: []\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let table = crate::state::table(&org, "sgguard-state-restore").await;
    let env = |mode: &str| {
        [
            ("SGGUARD_EXEMPTIONS_URI", uri.clone()),
            ("SGGUARD_MODE", mode.to_owned()),
            ("SGGUARD_STATE_TABLE", table.clone()),
        ]
    };

    // A reporting tool's PostgreSQL rule, with its description, opened to the internet.
    let ec2 = org.member_ec2(&member, HUB_REGION).await;
    let group = crate::emulator::new_group(&ec2, "reports-db", &[]).await;
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .description("reporting tool, CHG-9")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let live =
        |rules: Vec<aws_sdk_ec2::types::SecurityGroupRule>| -> Vec<(Option<i32>, String, String)> {
            rules
                .iter()
                .filter(|r| !r.is_egress().unwrap_or(false))
                .map(|r| {
                    (
                        r.from_port(),
                        r.cidr_ipv4().unwrap_or_default().to_owned(),
                        r.description().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        };
    let opened: Vec<Value> = group_rules(&ec2, &group)
        .await
        .iter()
        .filter(|r| !r.is_egress().unwrap_or(false))
        .map(rule_set_item)
        .collect();
    let before = live(group_rules(&ec2, &group).await);

    // The hub revokes it; the inbox message is what the operator restores from.
    let enforcing = hub(&org, &env("enforce")).await;
    let event = authorize_event(&member, HUB_REGION, "frank", &group, &opened);
    let outcome = handle(&enforcing, event, None).await.unwrap();
    assert_eq!(outcome["findings"][0]["outcome"], "revoked", "{outcome}");
    assert!(live(group_rules(&ec2, &group).await).is_empty());
    let (_, message, _) = org.inbox().await.pop().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.json");
    std::fs::write(&path, message.to_string()).unwrap();

    // A forged message: the same finding with another peer is refused, nothing called but
    // the journal's read.
    let mut forged = message.clone();
    forged["findings"][0]["peer"] = "10.0.0.0/8".into();
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    org.emulator.reset();
    let output = org
        .cli()
        .env("SGGUARD_EXEMPTIONS_URI", &uri)
        .env("SGGUARD_STATE_TABLE", &table)
        .args(["restore", "--role-name", "OrganizationAccountAccessRole"])
        .args(["--exempt-days", "7"])
        .arg("--message")
        .arg(&forged_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nothing restored")
            && stderr.contains("the message says peer `10.0.0.0/8`"),
        "{stderr}"
    );
    assert!(live(group_rules(&ec2, &group).await).is_empty());
    let calls = org.emulator.control("counts", None)["requests"].to_string();
    assert!(
        !calls.contains("Authorize") && !calls.contains("PutObject"),
        "{calls}"
    );
    // Without a state table, restore refuses unless told the revocation was checked.
    let output = org
        .cli()
        .args(["restore", "--role-name", "OrganizationAccountAccessRole"])
        .arg("--message")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`--without-journal`"), "{stderr}");

    let output = org
        .cli()
        .env("SGGUARD_EXEMPTIONS_URI", &uri)
        .env("SGGUARD_STATE_TABLE", &table)
        .args(["restore", "--role-name", "OrganizationAccountAccessRole"])
        .args([
            "--exempt-days",
            "7",
            "--reason",
            "CHG-9: reporting tool until migration",
        ])
        .arg("--message")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("exemption written") && stdout.contains("restored"),
        "{stdout}"
    );
    // Exactly the rule, description included.
    assert_eq!(live(group_rules(&ec2, &group).await), before);
    // The exemption, with its end date, in the file the hub reads.
    let file = s3
        .get_object()
        .bucket(BUCKET)
        .key("config/exemptions.yaml")
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(file.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let added = &doc["exemptions"][0];
    assert_eq!(added["group_ids"], json!([group]), "{text}");
    assert_eq!(
        added["rules"],
        outcome["findings"][0]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["policy_rule"].clone())
            .collect::<Value>(),
        "{text}"
    );
    assert!(added["expires"].is_string(), "{text}");

    // The restoring change is an event too: the hub leaves the rule, exempt.
    let restored: Vec<Value> = group_rules(&ec2, &group)
        .await
        .iter()
        .filter(|r| !r.is_egress().unwrap_or(false))
        .map(rule_set_item)
        .collect();
    let mut again = authorize_event(&member, HUB_REGION, "frank", &group, &restored);
    // Another event than the first (the state table handles each event id once).
    again["detail"]["eventID"] = "restore-authorize-again".into();
    let outcome = handle(&enforcing, again, None).await.unwrap();
    assert_eq!(outcome["findings"][0]["outcome"], "exempt", "{outcome}");
    assert_eq!(live(group_rules(&ec2, &group).await), before);

    // An audit-mode message (`would_revoke`) restores nothing.
    let auditing = hub(&org, &env("audit")).await;
    let other = crate::emulator::new_group(&ec2, "audited", &[]).await;
    ec2.authorize_security_group_ingress()
        .group_id(&other)
        .ip_permissions(crate::emulator::tcp(22, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let items: Vec<Value> = group_rules(&ec2, &other)
        .await
        .iter()
        .filter(|r| !r.is_egress().unwrap_or(false))
        .map(rule_set_item)
        .collect();
    let rule = items[0]["securityGroupRuleId"].as_str().unwrap().to_owned();
    let mut audited = authorize_event(&member, HUB_REGION, "gina", &other, &items);
    audited["detail"]["eventID"] = "restore-audited".into();
    handle(&auditing, audited, None).await.unwrap();
    let (_, audit_message, _) = org.inbox().await.pop().unwrap();
    std::fs::write(&path, audit_message.to_string()).unwrap();
    org.emulator.reset();
    let output = org
        .cli()
        .env("SGGUARD_STATE_TABLE", &table)
        .args([
            "restore",
            "--role-name",
            "OrganizationAccountAccessRole",
            "--rule",
            &rule,
        ])
        .arg("--message")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("was never revoked (outcome `would_revoke`)"),
        "{stderr}"
    );
    assert_eq!(org.emulator.control("counts", None)["requests"], json!([]));
}
