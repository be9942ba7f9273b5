//! Where the mode per scope comes from: `SGGUARD_MODE_BY_SCOPE` itself, or a JSON object in S3
//! (`SGGUARD_MODE_BY_SCOPE_URI`, at the version `SGGUARD_MODE_BY_SCOPE_VERSION` names) that the
//! hub reads once when it starts. The Lambda's environment holds 4 KB, some 130 account
//! entries; the object has no such limit. An object that cannot be read or does not parse stops
//! the start, naming it: a mode is never guessed.

use std::collections::BTreeMap;
use std::future::Future;

use super::ScopeCheckError;
use super::syntax::parse_scopes;
use crate::aws::{AwsError, Fetched, S3Object};
use crate::ids::ScopeId;
use crate::outcome::Mode;

/// The mode per scope as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeByScope {
    /// `SGGUARD_MODE_BY_SCOPE`: the scopes themselves; none when neither variable is set.
    Inline(BTreeMap<ScopeId, Mode>),
    /// `SGGUARD_MODE_BY_SCOPE_URI`: a JSON object in S3, read when the hub starts.
    Stored(S3Object),
}

impl Default for ModeByScope {
    fn default() -> ModeByScope {
        ModeByScope::Inline(BTreeMap::new())
    }
}

/// Where the scopes were read, as the errors about them say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Variable,
    Object(S3Object),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Variable => f.write_str("`SGGUARD_MODE_BY_SCOPE`"),
            Origin::Object(object) => write!(f, "the mode per scope {object}"),
        }
    }
}

/// Longest piece of an object quoted in an error.
const QUOTED: usize = 200;

impl ModeByScope {
    pub fn origin(&self) -> Origin {
        match self {
            ModeByScope::Inline(_) => Origin::Variable,
            ModeByScope::Stored(object) => Origin::Object(object.clone()),
        }
    }

    /// The scopes: as set, or read from S3 with `read` and parsed as `SGGUARD_MODE_BY_SCOPE`
    /// is. An object that cannot be read or parsed is the error, naming it.
    pub async fn scopes<F, Fut>(&self, read: F) -> Result<BTreeMap<ScopeId, Mode>, ScopeCheckError>
    where
        F: FnOnce(S3Object) -> Fut,
        Fut: Future<Output = Result<Fetched, AwsError>>,
    {
        match self {
            ModeByScope::Inline(scopes) => Ok(scopes.clone()),
            ModeByScope::Stored(object) => {
                let fetched = read(object.clone()).await;
                let scopes = stored_scopes(object, fetched)?;
                tracing::info!(object = %object, scopes = scopes.len(), "mode per scope read");
                Ok(scopes)
            }
        }
    }
}

/// The scopes of the object as read.
fn stored_scopes(
    object: &S3Object,
    fetched: Result<Fetched, AwsError>,
) -> Result<BTreeMap<ScopeId, Mode>, ScopeCheckError> {
    let fetched = fetched
        .map_err(|error| ScopeCheckError::ObjectUnreadable(object.clone(), Box::new(error)))?;
    parse_scopes(&fetched.text).map_err(|error| {
        let mut value = error.value;
        if let Some((cut, _)) = value.char_indices().nth(QUOTED) {
            value.truncate(cut);
            value.push('…');
        }
        ScopeCheckError::ObjectInvalid {
            object: object.clone(),
            value,
            expected: error.expected,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{S3Uri, VersionId};

    fn object() -> S3Object {
        S3Object {
            uri: S3Uri::parse("s3://sgguard-reports-1/config/mode-by-scope.json").unwrap(),
            version: VersionId::parse("v2"),
        }
    }

    fn fetched(text: &str) -> Result<Fetched, AwsError> {
        Ok(Fetched {
            text: text.to_owned(),
            etag: None,
            written_by: None,
            version: Some("v2".to_owned()),
        })
    }

    fn denied() -> AwsError {
        AwsError {
            operation: "GetObject",
            account: "hub".to_owned(),
            region: "eu-west-1".to_owned(),
            code: Some("AccessDenied".to_owned()),
            message: "s3://sgguard-reports-1/config/mode-by-scope.json: Access Denied".to_owned(),
        }
    }

    #[test]
    fn a_stored_mode_per_scope_parses_as_the_variable_does() {
        let scopes = stored_scopes(
            &object(),
            fetched(r#"{"ou-ab12-cdef3456": "enforce", "111122223333": "audit"}"#),
        )
        .unwrap();
        assert_eq!(scopes["ou-ab12-cdef3456"], Mode::Enforce);
        assert_eq!(scopes["111122223333"], Mode::Audit);
        assert!(stored_scopes(&object(), fetched("{}")).unwrap().is_empty());
    }

    #[test]
    fn a_bad_or_unreadable_object_is_an_error_naming_it() {
        let named = "`s3://sgguard-reports-1/config/mode-by-scope.json` (version `v2`)";
        for (text, says) in [
            (r#"{"prod": "enforce"}"#, "`prod`"),
            (
                r#"{"ou-ab12-cdef3456": "on"}"#,
                "modes `enforce` or `audit`",
            ),
            (
                r#"{"111122223333": "audit", "111122223333": "enforce"}"#,
                "each scope id named once",
            ),
            ("[]", "a JSON object"),
        ] {
            let error = stored_scopes(&object(), fetched(text))
                .unwrap_err()
                .to_string();
            assert!(error.contains(named) && error.contains(says), "{error}");
        }
        // A huge bad object is quoted in part.
        let long = format!("[{}]", "1,".repeat(5000));
        let error = stored_scopes(&object(), fetched(&long))
            .unwrap_err()
            .to_string();
        assert!(error.len() < 600 && error.contains('…'), "{error}");
        let error = stored_scopes(&object(), Err(denied()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(named) && error.contains("Access Denied") && error.contains("guessed"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn inline_scopes_are_not_read_and_stored_ones_are_read_once() {
        let inline = ModeByScope::default();
        // Were it read, the read would fail.
        let scopes = inline
            .scopes(|_| std::future::ready(Err(denied())))
            .await
            .unwrap();
        assert!(scopes.is_empty());
        assert_eq!(inline.origin().to_string(), "`SGGUARD_MODE_BY_SCOPE`");
        let stored = ModeByScope::Stored(object());
        let scopes = stored
            .scopes(|asked| async move {
                assert_eq!(asked, object());
                fetched(r#"{"r-ab12": "enforce"}"#)
            })
            .await
            .unwrap();
        assert_eq!(scopes["r-ab12"], Mode::Enforce);
    }
}
