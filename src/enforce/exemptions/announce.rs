//! Telling the security inbox that the exemptions file changed: once per version of the file
//! across every Lambda instance, sweep and command of the hub (a claim in the hub state table,
//! like a handled event's), with what changed since the version announced before it, which the
//! table keeps. Without the table no process can tell whether another already announced a
//! version, so none is announced (docs/operations.md says what stands instead).

use super::News;
use crate::aws::{AwsError, S3Uri, StateTable};
use crate::policy::{Baseline, ExemptionDiff};
use crate::report::deliver::{Delivery, Outlets};
use crate::report::notify::{ExemptionsChange, exemptions_notification};

/// How long a version's announcement is remembered (ten years: for good).
const KEPT_SECONDS: i64 = 10 * 365 * 24 * 3600;
/// How long one process may hold a version's announcement before another takes it over.
const HOLD_SECONDS: i64 = 60;
/// The most of the file's text the table keeps for the next difference (an item holds at most
/// 400 KB); a longer file's next change lists every entry as added.
const KEPT_TEXT_BYTES: usize = 300 * 1024;
/// The sort key of the version announced last.
const CURRENT: &str = "current";

/// What became of a version's announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announced {
    /// The inbox was told.
    Told,
    /// Another process of the hub announces or announced this version.
    ByAnother,
    /// This version is the one announced last (a new process read it again).
    Unchanged,
    /// No hub state table: nothing is announced.
    NoTable,
}

/// The versions of the exemptions file announced so far (in the hub state table).
pub struct Announcements {
    table: Option<StateTable>,
}

impl Announcements {
    pub fn new(table: Option<StateTable>) -> Announcements {
        Announcements { table }
    }

    /// Announces `news`, the version of `uri` just read, unless it was announced before; the
    /// version before it is read against `base` (the baseline without the file).
    pub async fn announce<O: Outlets>(
        &self,
        outlets: &O,
        delivery: &Delivery<'_>,
        base: &Baseline,
        uri: &S3Uri,
        news: &News,
        hub_account: &str,
    ) -> Result<Announced, AwsError> {
        let Some(table) = &self.table else {
            return Ok(Announced::NoTable);
        };
        let file = &news.file;
        let etag = file.etag.as_deref().unwrap_or("(no entity tag)");
        let telling = Telling {
            table,
            outlets,
            delivery,
            base,
            uri,
            news,
            hub_account,
            pk: format!("exemptions#{uri}"),
            etag,
        };
        let pk = &telling.pk;
        let now = jiff::Timestamp::now().as_second();
        // A version is its text and which write it is: an older version's text written again
        // is a new version (the change back is told), with the old entity tag.
        let claim = format!(
            "announced#{etag}@{}",
            file.version.as_deref().unwrap_or("(unversioned)")
        );
        let claimed_at = [("claimed_at".to_owned(), now.to_string())].into();
        if !table
            .hold(
                pk,
                &claim,
                &claimed_at,
                now + HOLD_SECONDS,
                now + KEPT_SECONDS,
            )
            .await?
        {
            return Ok(Announced::ByAnother);
        }
        match telling.tell().await {
            Ok(announced) => {
                let done = [("announced_at".to_owned(), now.to_string())].into();
                table
                    .put(pk, &claim, &done, now + KEPT_SECONDS, false)
                    .await?;
                Ok(announced)
            }
            Err(error) => {
                // Given back: the next process that reads this version announces it.
                if let Err(release) = table.delete(pk, &claim).await {
                    tracing::error!(error = %release, "the announcement's claim could not be released");
                }
                Err(error)
            }
        }
    }
}

/// One version being told: where it is kept and told, and what it is.
struct Telling<'a, O> {
    table: &'a StateTable,
    outlets: &'a O,
    delivery: &'a Delivery<'a>,
    base: &'a Baseline,
    uri: &'a S3Uri,
    news: &'a News,
    hub_account: &'a str,
    /// The file's items in the table.
    pk: String,
    etag: &'a str,
}

impl<O: Outlets> Telling<'_, O> {
    /// Tells the inbox what changed since the version announced last, and keeps this one as it.
    async fn tell(&self) -> Result<Announced, AwsError> {
        let Telling {
            table,
            outlets,
            delivery,
            base,
            uri,
            news,
            hub_account,
            etag,
            ..
        } = *self;
        let file = &news.file;
        let previous = table.get(&self.pk, CURRENT).await?;
        let previous_etag = previous.as_ref().and_then(|p| p.get("etag")).cloned();
        if previous_etag.as_deref() == Some(etag) {
            return Ok(Announced::Unchanged);
        }
        let shown = uri.to_string();
        // The version before was in use, so it validated once; read without today's limits.
        let before = previous
            .as_ref()
            .and_then(|p| p.get("text"))
            .and_then(|text| base.exemptions_file_entries(text, &shown, None).ok())
            .unwrap_or_default();
        let diff = ExemptionDiff::between(&before, &news.entries);
        let notification = exemptions_notification(&ExemptionsChange {
            uri: &shown,
            etag,
            previous_etag: previous_etag.as_deref(),
            diff: &diff,
            written_by: file.written_by.as_deref(),
            hub_account,
        });
        let delivered = delivery.send(outlets, &notification, |_| None).await;
        if let Some(error) = delivered.undelivered {
            return Err(error);
        }
        let mut kept = [("etag".to_owned(), etag.to_owned())]
            .into_iter()
            .collect::<crate::aws::Attributes>();
        if file.text.len() <= KEPT_TEXT_BYTES {
            kept.insert("text".to_owned(), file.text.clone());
        }
        if let Some(writer) = &file.written_by {
            kept.insert("written_by".to_owned(), writer.clone());
        }
        let now = jiff::Timestamp::now().as_second();
        table
            .put(&self.pk, CURRENT, &kept, now + KEPT_SECONDS, false)
            .await?;
        tracing::warn!(uri = %uri, etag, subject = %notification.subject, "exemptions change announced");
        Ok(Announced::Told)
    }
}
