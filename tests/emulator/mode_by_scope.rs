//! The mode per scope kept in S3 (`SGGUARD_MODE_BY_SCOPE_URI` and
//! `SGGUARD_MODE_BY_SCOPE_VERSION`, as the hub module writes them): a hub started with it
//! enforces in the unit it names and audits elsewhere, reads the version its configuration
//! names and nothing after the start, and does not start when the object cannot be read or
//! names what the organization does not have. `handle-event` takes the same variables.

use std::sync::Arc;

use serde_json::{Value, json};
use sgguard::lambda::{Hub, handle};
use sgguard::policy::Baseline;
use sgguard::settings::Settings;

use crate::emulator::Org;
use crate::staging::{is_open, open_ssh, outcomes, s3};

const BUCKET: &str = "sgguard-reports-scopes";
const KEY: &str = "config/mode-by-scope.json";

/// The hub as the Lambda's init starts it, with these environment variables.
async fn start(org: &Org, env: &[(&str, String)]) -> Result<Hub, String> {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env.push(("SGGUARD_TOPIC_ARN".to_owned(), org.topic_arn.clone()));
    let settings =
        Settings::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap();
    let baseline = Arc::new(Baseline::default_baseline().unwrap());
    Hub::start(settings, baseline, org.aws().await)
        .await
        .map_err(|e| e.to_string())
}

/// The report bucket, versioned as the hub module's is.
async fn bucket(s3: &aws_sdk_s3::Client) {
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Writes the mode per scope; the version id S3 gave it.
async fn write(s3: &aws_sdk_s3::Client, scopes: &Value) -> String {
    s3.put_object()
        .bucket(BUCKET)
        .key(KEY)
        .content_type("application/json")
        .body(scopes.to_string().into_bytes().into())
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned()
}

/// The object's reads so far (of a named version or the current one).
fn reads(org: &Org) -> u64 {
    org.emulator.count("s3:GetObject") + org.emulator.count("s3:GetObjectVersion")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_started_with_the_mode_per_scope_in_s3_enforces_in_the_unit_it_names_only() {
    let org = Org::world(json!({
        "ous": ["prod", "dev"],
        "members": [{"name": "prod-a", "ou": "prod"}, {"name": "dev-b", "ou": "dev"}],
    }))
    .await;
    let (prod, dev) = (org.members[0].clone(), org.members[1].clone());
    let prod_ou = org.ous["prod"].clone();
    let s3 = s3(&org);
    bucket(&s3).await;
    let written = write(&s3, &json!({ &prod_ou: "enforce" })).await;
    // Written after: the other way round. The hub reads the version it is told, not this one.
    write(
        &s3,
        &json!({ &prod_ou: "audit", &org.ous["dev"]: "enforce" }),
    )
    .await;
    let uri = format!("s3://{BUCKET}/{KEY}");
    let env = [
        ("SGGUARD_MODE", "audit".to_owned()),
        ("SGGUARD_MODE_BY_SCOPE_URI", uri.clone()),
        ("SGGUARD_MODE_BY_SCOPE_VERSION", written.clone()),
    ];
    let hub = start(&org, &env).await.unwrap();
    assert_eq!(reads(&org), 1);

    let (prod_group, prod_event) = open_ssh(&org, &prod, "web").await;
    let (dev_group, dev_event) = open_ssh(&org, &dev, "web").await;
    let prod_outcome = handle(&hub, prod_event, None).await.unwrap();
    let dev_outcome = handle(&hub, dev_event.clone(), None).await.unwrap();
    assert_eq!(prod_outcome["mode"], "enforce", "{prod_outcome}");
    assert_eq!(prod_outcome["mode_by"], prod_ou.as_str());
    assert_eq!(outcomes(&prod_outcome), ["revoked"]);
    assert!(!is_open(&org, &prod, &prod_group).await);
    assert_eq!(dev_outcome["mode"], "audit", "{dev_outcome}");
    assert_eq!(dev_outcome["mode_by"], "default");
    assert_eq!(outcomes(&dev_outcome), ["would_revoke"]);
    assert!(is_open(&org, &dev, &dev_group).await);
    // Read once, when the hub started: events do not read it again.
    assert_eq!(reads(&org), 1);

    // The command line takes the same variables: dev is audited there too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, dev_event.to_string()).unwrap();
    let output = org
        .cli()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .arg("handle-event")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let outcome: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(outcome["mode"], "audit", "{outcome}");
    assert_eq!(outcomes(&outcome), ["would_revoke"]);
    assert!(is_open(&org, &dev, &dev_group).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_does_not_start_when_its_mode_per_scope_cannot_be_read_or_is_wrong() {
    let org = Org::world(json!({
        "ous": ["prod"],
        "members": [{"name": "prod-a", "ou": "prod"}],
    }))
    .await;
    let s3 = s3(&org);
    bucket(&s3).await;
    let uri = format!("s3://{BUCKET}/{KEY}");
    let at = |version: Option<&str>| {
        let mut env = vec![("SGGUARD_MODE_BY_SCOPE_URI", uri.clone())];
        env.extend(version.map(|v| ("SGGUARD_MODE_BY_SCOPE_VERSION", v.to_owned())));
        env
    };

    // No object: the start fails, naming it; never a guessed mode.
    let error = start(&org, &at(None)).await.err().unwrap();
    assert!(
        error.contains(&format!("`{uri}`")) && error.contains("could not be read"),
        "{error}"
    );
    let output = org
        .cli()
        .env("SGGUARD_MODE_BY_SCOPE_URI", &uri)
        .args(["handle-event", "-"])
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&uri), "{stderr}");

    // Not a mode per scope, or a unit the organization does not have: named with the object.
    let bad = write(&s3, &json!({ &org.ous["prod"]: "on" })).await;
    let error = start(&org, &at(Some(&bad))).await.err().unwrap();
    assert!(
        error.contains(&format!("`{uri}` (version `{bad}`)"))
            && error.contains("`enforce` or `audit`"),
        "{error}"
    );
    let unknown = write(&s3, &json!({ "ou-zz99-notthere": "enforce" })).await;
    let error = start(&org, &at(Some(&unknown))).await.err().unwrap();
    assert!(
        error.contains(&format!(
            "`{uri}` (version `{unknown}`) names `ou-zz99-notthere`"
        )),
        "{error}"
    );
    // A version that is not the object's: not read, not replaced by the current one.
    let good = write(&s3, &json!({ &org.ous["prod"]: "enforce" })).await;
    assert!(start(&org, &at(Some(&good))).await.is_ok());
    let error = start(&org, &at(Some("not-a-version-of-it")))
        .await
        .err()
        .unwrap();
    assert!(error.contains("could not be read"), "{error}");
}
