//! The exemptions store: reloads after its TTL, the last good file kept, nothing decided
//! before a good one.

use std::sync::Mutex;

use super::*;

/// An exemptions file that changes between reads.
struct Files {
    next: Mutex<Vec<Result<Fetched, AwsError>>>,
    reads: Mutex<usize>,
}

impl Files {
    fn new(mut answers: Vec<Result<Fetched, AwsError>>) -> Files {
        answers.reverse();
        Files {
            next: Mutex::new(answers),
            reads: Mutex::new(0),
        }
    }
}

impl ExemptionSource for Files {
    async fn fetch(&self, _uri: &S3Uri) -> Result<Fetched, AwsError> {
        *self.reads.lock().unwrap() += 1;
        self.next.lock().unwrap().pop().expect("a read too many")
    }
}

fn file(text: &str, etag: &str) -> Result<Fetched, AwsError> {
    Ok(Fetched {
        text: text.to_owned(),
        etag: Some(etag.to_owned()),
        written_by: None,
        version: None,
    })
}

fn missing() -> Result<Fetched, AwsError> {
    Err(AwsError {
        operation: "GetObject",
        account: "hub".to_owned(),
        region: "eu-west-1".to_owned(),
        code: Some("NoSuchKey".to_owned()),
        message: "NoSuchKey: The specified key does not exist.".to_owned(),
    })
}

const GOOD: &str = "version: 1\nexemptions:\n  - reason: bastion\n    group_ids: [sg-0123456789abcdef0]\n    rules: [admin-ports-from-internet]\n    expires: 2027-01-31\n";
const BAD_RULE: &str = "version: 1\nexemptions:\n  - reason: typo\n    group_ids: [sg-1]\n    rules: [no-such-rule]\n    expires: 2027-01-31\n";

fn store(ttl: Duration) -> ExemptionStore {
    ExemptionStore::new(
        S3Uri::parse("s3://reports-bucket/config/exemptions.yaml").unwrap(),
        ttl,
        crate::policy::DEFAULT_MAX_DAYS,
        Arc::new(Baseline::default_baseline().unwrap()),
    )
}

#[tokio::test]
async fn a_bad_file_keeps_the_last_good_one_and_says_so() {
    let files = Files::new(vec![
        file(GOOD, "\"1\""),
        file(BAD_RULE, "\"2\""),
        missing(),
        file("version: 1\nexemptions: []\n", "\"3\""),
    ]);
    let store = store(Duration::ZERO);
    let base = Baseline::default_baseline().unwrap().exemptions.len();

    let first = store.current(&files).await.unwrap();
    assert_eq!(first.baseline.exemptions.len(), base + 1);
    assert!(first.caveat.is_none());

    // An unknown rule id: refused, naming the file and the rule; the good one stays.
    let second = store.current(&files).await.unwrap();
    assert_eq!(second.baseline.exemptions.len(), base + 1);
    let caveat = second.caveat.unwrap();
    assert!(
        caveat.contains("s3://reports-bucket/config/exemptions.yaml")
            && caveat.contains("no-such-rule")
            && caveat.contains("last good"),
        "{caveat}"
    );

    // Deleted: still the last good one.
    let third = store.current(&files).await.unwrap();
    assert_eq!(third.baseline.exemptions.len(), base + 1);
    assert!(third.caveat.unwrap().contains("NoSuchKey"));

    // A good file again (with no exemptions): taken, and the caveat is gone.
    let fourth = store.current(&files).await.unwrap();
    assert_eq!(fourth.baseline.exemptions.len(), base);
    assert!(fourth.caveat.is_none());
}

#[tokio::test]
async fn without_a_good_file_nothing_is_decided() {
    let files = Files::new(vec![file("version: 2\nexemptions: []\n", "\"1\"")]);
    let Err(unloaded) = store(Duration::ZERO).current(&files).await else {
        panic!("no good file was read");
    };
    let text = unloaded.to_string();
    assert!(
        text.contains("s3://reports-bucket/config/exemptions.yaml")
            && text.contains("version: 2")
            && text.contains("nothing is decided"),
        "{text}"
    );
}

#[tokio::test]
async fn the_file_is_read_again_only_after_its_ttl() {
    let files = Files::new(vec![file(GOOD, "\"1\"")]);
    let store = store(Duration::from_secs(3600));
    for _ in 0..3 {
        assert!(store.current(&files).await.unwrap().caveat.is_none());
    }
    assert_eq!(*files.reads.lock().unwrap(), 1);
}
