//! Exemptions that change without a new build: an exemptions file in S3
//! (`SGGUARD_EXEMPTIONS_URI`), read at start and again once its TTL has passed, validated like
//! the baseline's own. A file that cannot be read or does not validate fails loudly (an error
//! log line and a caveat in every message) and the last good one stays in use. Before any good
//! file was read nothing can be decided — sgguard cannot tell what is exempt —, so an event
//! fails and is retried (counted in the `Undecided` metric) and a sweep only reports.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::aws::{Aws, AwsError, Fetched, S3Uri};
use crate::policy::Baseline;

/// Where the exemptions file is read from.
pub trait ExemptionSource: Sync {
    fn fetch(&self, uri: &S3Uri) -> impl Future<Output = Result<Fetched, AwsError>> + Send;
}

impl ExemptionSource for Aws {
    async fn fetch(&self, uri: &S3Uri) -> Result<Fetched, AwsError> {
        self.object_text(uri).await
    }
}

/// The baseline with the exemptions file's entries, kept fresh.
pub struct ExemptionStore {
    uri: S3Uri,
    ttl: Duration,
    /// The baseline as built (the file's exemptions are added to its own).
    base: Arc<Baseline>,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    good: Option<Good>,
    /// When the file was last asked for.
    checked: Option<Instant>,
    /// Why the last read did not give a good file.
    error: Option<String>,
}

struct Good {
    baseline: Arc<Baseline>,
    etag: Option<String>,
    loaded: Instant,
}

/// The baseline to judge with now, and what the messages must say about it.
#[derive(Clone)]
pub struct Current {
    pub baseline: Arc<Baseline>,
    /// Why the file in use is not the one in S3; told in every message.
    pub caveat: Option<String>,
}

/// No good exemptions file was ever read: what is exempt is unknown, so nothing is decided.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the exemptions file {uri} could not be loaded ({error}): what is exempt is unknown, so \
     nothing is decided until it loads"
)]
pub struct Unloaded {
    pub uri: S3Uri,
    pub error: String,
}

impl ExemptionStore {
    pub fn new(uri: S3Uri, ttl: Duration, base: Arc<Baseline>) -> ExemptionStore {
        ExemptionStore {
            uri,
            ttl,
            base,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    pub fn uri(&self) -> &S3Uri {
        &self.uri
    }

    /// The baseline with the file's exemptions; the file is read again when its TTL has passed.
    /// [`Unloaded`] while no good file was ever read.
    pub async fn current(&self, source: &impl ExemptionSource) -> Result<Current, Unloaded> {
        let mut state = self.state.lock().await;
        if state.checked.is_none_or(|at| at.elapsed() >= self.ttl) {
            state.checked = Some(Instant::now());
            self.reload(&mut state, source).await;
        }
        match &state.good {
            Some(good) => Ok(Current {
                baseline: Arc::clone(&good.baseline),
                caveat: state.error.as_ref().map(|error| {
                    format!(
                        "the exemptions file {} could not be reloaded ({error}); the last good \
                         one, read {} s ago, is in use",
                        self.uri,
                        good.loaded.elapsed().as_secs()
                    )
                }),
            }),
            None => Err(Unloaded {
                uri: self.uri.clone(),
                error: state
                    .error
                    .clone()
                    .unwrap_or_else(|| "not read yet".to_owned()),
            }),
        }
    }

    async fn reload(&self, state: &mut State, source: &impl ExemptionSource) {
        let fetched = match source.fetch(&self.uri).await {
            Ok(fetched) => fetched,
            Err(error) => {
                tracing::error!(uri = %self.uri, error = %error, "exemptions file not read; the last good one stays");
                state.error = Some(error.to_string());
                return;
            }
        };
        if let Some(good) = state.good.as_mut()
            && fetched.etag.is_some()
            && good.etag == fetched.etag
        {
            good.loaded = Instant::now();
            state.error = None;
            return;
        }
        match self
            .base
            .with_exemptions_file(&fetched.text, &self.uri.to_string())
        {
            Ok(baseline) => {
                tracing::info!(
                    uri = %self.uri,
                    exemptions = baseline.exemptions.len() - self.base.exemptions.len(),
                    "exemptions file loaded"
                );
                state.good = Some(Good {
                    baseline: Arc::new(baseline),
                    etag: fetched.etag,
                    loaded: Instant::now(),
                });
                state.error = None;
            }
            Err(error) => {
                tracing::error!(uri = %self.uri, error = %error, "exemptions file is not valid; the last good one stays");
                state.error = Some(error.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
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

    const GOOD: &str =
        "version: 1\nexemptions:\n  - reason: bastion\n    group_ids: [sg-0123456789abcdef0]\n";
    const BAD_RULE: &str = "version: 1\nexemptions:\n  - reason: typo\n    group_ids: [sg-1]\n    rules: [no-such-rule]\n";

    fn store(ttl: Duration) -> ExemptionStore {
        ExemptionStore::new(
            S3Uri::parse("s3://reports-bucket/config/exemptions.yaml").unwrap(),
            ttl,
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
}
