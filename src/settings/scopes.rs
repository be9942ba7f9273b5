//! The mode per scope's variables: `SGGUARD_MODE_BY_SCOPE` (the JSON itself) or
//! `SGGUARD_MODE_BY_SCOPE_URI` (a JSON object in S3) with `SGGUARD_MODE_BY_SCOPE_VERSION` (the
//! version to read), never both.

use super::SettingsError;
use crate::aws::{S3Object, S3Uri, VersionId};
use crate::enforce::staging::ModeByScope;
use crate::enforce::staging::syntax::parse_scopes;

const INLINE: &str = "SGGUARD_MODE_BY_SCOPE";
const URI: &str = "SGGUARD_MODE_BY_SCOPE_URI";
const VERSION: &str = "SGGUARD_MODE_BY_SCOPE_VERSION";

/// The mode per scope the variables (read through `get`, trimmed, empty as unset) set.
pub(super) fn mode_by_scope(
    get: impl Fn(&str) -> Option<String>,
) -> Result<ModeByScope, SettingsError> {
    let version = match get(VERSION) {
        None => None,
        Some(text) => Some(VersionId::parse(&text).ok_or(SettingsError::Invalid {
            variable: VERSION,
            value: text,
            expected: "an S3 version id (the object's `VersionId`)",
        })?),
    };
    match (get(INLINE), get(URI)) {
        (Some(_), Some(_)) => Err(SettingsError::Exclusive(INLINE, URI)),
        (Some(_), None) | (None, None) if version.is_some() => {
            Err(SettingsError::Requires(VERSION, URI))
        }
        (None, None) => Ok(ModeByScope::default()),
        (Some(text), None) => parse_scopes(&text)
            .map(ModeByScope::Inline)
            .map_err(|error| SettingsError::Invalid {
                variable: INLINE,
                value: error.value,
                expected: error.expected,
            }),
        (None, Some(text)) => {
            let uri = S3Uri::parse(&text).ok_or(SettingsError::Invalid {
                variable: URI,
                value: text,
                expected: "an S3 object URI (s3://BUCKET/KEY)",
            })?;
            Ok(ModeByScope::Stored(S3Object { uri, version }))
        }
    }
}
