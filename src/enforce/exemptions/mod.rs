//! Exemptions that change without a new build: an exemptions file in S3
//! (`SGGUARD_EXEMPTIONS_URI`), read at start and again once its TTL has passed, validated like
//! the baseline's own. A file that cannot be read or does not validate fails loudly (an error
//! log line and a caveat in every message) and the last good one stays in use. Before any good
//! file was read nothing can be decided — sgguard cannot tell what is exempt —, so an event
//! fails and is retried (counted in the `Undecided` metric) and a sweep only reports. Each new
//! version read is news for [`announce`] to tell the security inbox once.

mod announce;

pub use announce::{Announced, Announcements};

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::aws::{Aws, AwsError, Fetched, S3Uri};
use crate::policy::{Baseline, Exemption, FileLimits};

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
    /// `SGGUARD_EXEMPTIONS_MAX_DAYS`: how far ahead the file's entries may expire.
    max_days: u16,
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
    /// The version read last, while not yet taken for announcing.
    news: Option<News>,
}

/// A good version of the file, newly read: what [`Announcements`] tells.
#[derive(Debug, Clone)]
pub struct News {
    pub file: Fetched,
    /// Its entries, as validated when it was read.
    pub entries: Vec<Exemption>,
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
    pub fn new(uri: S3Uri, ttl: Duration, max_days: u16, base: Arc<Baseline>) -> ExemptionStore {
        ExemptionStore {
            uri,
            ttl,
            max_days,
            base,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    pub fn uri(&self) -> &S3Uri {
        &self.uri
    }

    /// The baseline as built, without the file's entries.
    pub fn base(&self) -> &Baseline {
        &self.base
    }

    /// The good version read last, once: the first read of this process, then each change.
    pub async fn take_news(&self) -> Option<News> {
        self.state.lock().await.news.take()
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
        let limits = FileLimits::today(self.max_days);
        match self
            .base
            .with_exemptions_file(&fetched.text, &self.uri.to_string(), &limits)
        {
            Ok(baseline) => {
                tracing::info!(
                    uri = %self.uri,
                    exemptions = baseline.exemptions.len() - self.base.exemptions.len(),
                    "exemptions file loaded"
                );
                let entries = baseline
                    .exemptions
                    .get(self.base.exemptions.len()..)
                    .unwrap_or_default()
                    .to_vec();
                state.good = Some(Good {
                    baseline: Arc::new(baseline),
                    etag: fetched.etag.clone(),
                    loaded: Instant::now(),
                });
                state.news = Some(News {
                    file: fetched,
                    entries,
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
mod tests;
