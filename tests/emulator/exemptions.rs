//! Exemption changes announced, against the emulator: hubs (Lambda instances) built as the
//! Lambda builds them read the exemptions file from S3, and the first to read a version tells
//! the inbox once, with what changed since the version before and who wrote it when sgguard
//! did; a version read again, by the same hub or a new one, is not told again.

use serde_json::Value;
use sgguard::aws::S3Uri;

use crate::emulator::Org;
use crate::staging::{hub, s3};
use crate::state::table;

const BUCKET: &str = "sgguard-exemptions-announced";
const KEY: &str = "config/exemptions.yaml";

const V1: &str = "version: 1
exemptions:
  - reason: approved bastion, CHG-12
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-01-31
";

/// V1 with the bastion exempt for longer, and a whole account exempt.
const V2: &str = "version: 1
acknowledge: [account-wide]
exemptions:
  - reason: approved bastion, CHG-12
    group_ids: [sg-0123456789abcdef0]
    rules: [admin-ports-from-internet]
    expires: 2027-06-30
  - reason: sandbox account, CHG-13
    account_ids: ['111122223333']
    rules: [admin-ports-from-internet]
    expires: 2027-03-31
";

async fn put(s3: &aws_sdk_s3::Client, text: &str) {
    s3.put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(text.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
}

/// The exemptions messages in the inbox (drained): subject, message JSON and attributes.
async fn announced(org: &Org) -> Vec<(String, Value, Value)> {
    org.inbox()
        .await
        .into_iter()
        .filter(|(_, message, _)| message["kind"] == "exemptions")
        .collect()
}

fn attribute<'a>(attributes: &'a Value, name: &str) -> &'a str {
    attributes[name]["Value"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_version_of_the_exemptions_file_is_announced_once_with_what_changed() {
    let org = Org::new().await;
    let s3 = s3(&org);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    // Versioned, as the hub module's bucket is: a version is told by its id.
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
    let uri = format!("s3://{BUCKET}/{KEY}");
    let state = table(&org, "sgguard-state-exemptions").await;
    let env = [
        ("SGGUARD_EXEMPTIONS_URI", uri.clone()),
        ("SGGUARD_STATE_TABLE", state),
    ];
    put(&s3, V1).await;
    org.inbox().await;

    // Two Lambda instances start and read the first version: one message, every entry added.
    let instances = [hub(&org, &env).await, hub(&org, &env).await];
    for instance in &instances {
        instance.current().await.unwrap();
    }
    let first = announced(&org).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let (subject, message, attributes) = &first[0];
    assert_eq!(subject, "sgguard: exemptions changed: 1 added");
    assert_eq!(message["uri"], uri.as_str());
    assert_eq!(message["previous_etag"], Value::Null);
    assert_eq!(
        message["added"][0]["scope"],
        "group(s) sg-0123456789abcdef0"
    );
    assert_eq!(attribute(attributes, "severity"), "high");
    assert_eq!(attribute(attributes, "kind"), "exemptions");

    // Read again (the TTL here is zero) and by a new instance: the same version, no message.
    for instance in &instances {
        instance.current().await.unwrap();
    }
    hub(&org, &env).await.current().await.unwrap();
    assert_eq!(announced(&org).await.len(), 0);

    // Widened and an account added, by a writer sgguard does not know: one message, the
    // difference from the first version, the writer not recorded.
    put(&s3, V2).await;
    for instance in &instances {
        instance.current().await.unwrap();
    }
    let second = announced(&org).await;
    assert_eq!(second.len(), 1, "{second:?}");
    let (subject, message, attributes) = &second[0];
    assert_eq!(subject, "sgguard: exemptions changed: 1 added, 1 widened");
    assert_eq!(
        message["previous_etag"], first[0].1["etag"],
        "the difference is from the version announced before"
    );
    assert_eq!(
        message["added"][0]["scope"],
        "every group of account(s) 111122223333"
    );
    assert_eq!(
        message["widened"][0]["after"],
        "admin-ports-from-internet until 2027-06-30"
    );
    assert_eq!(
        message["widened"][0]["before"],
        "admin-ports-from-internet until 2027-01-31"
    );
    assert_eq!(message["written_by"], Value::Null);
    assert_eq!(attribute(attributes, "actor_arn"), "unknown");

    // Back to the first version's text (its entity tag again), written as `sgguard restore`
    // writes: a new version, narrowed and removed, told with the writer.
    let aws = org.aws().await;
    let object = S3Uri::parse(&uri).unwrap();
    let etag = s3
        .head_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap()
        .e_tag()
        .map(str::to_owned);
    assert!(
        aws.put_text_if(&object, V1, etag.as_deref(), "sgguard restore")
            .await
            .unwrap()
    );
    instances[1].current().await.unwrap();
    instances[0].current().await.unwrap();
    let third = announced(&org).await;
    assert_eq!(third.len(), 1, "{third:?}");
    let (subject, message, attributes) = &third[0];
    assert_eq!(
        subject,
        "sgguard: exemptions changed: 1 narrowed, 1 removed"
    );
    let writer = message["written_by"].as_str().unwrap();
    assert!(
        writer.starts_with("sgguard restore as arn:aws:"),
        "{writer}"
    );
    assert_eq!(attribute(attributes, "actor_arn"), writer);
    assert_eq!(attribute(attributes, "severity"), "low");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_state_table_the_file_is_used_and_nothing_is_announced() {
    let org = Org::new().await;
    let s3 = s3(&org);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let uri = format!("s3://{BUCKET}/{KEY}");
    put(&s3, V1).await;
    org.inbox().await;
    let instance = hub(&org, &[("SGGUARD_EXEMPTIONS_URI", uri)]).await;
    let current = instance.current().await.unwrap();
    let own = instance.baseline.exemptions.len();
    assert_eq!(current.baseline.exemptions.len(), own + 1);
    assert_eq!(announced(&org).await.len(), 0);
}
