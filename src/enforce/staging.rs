//! Staged enforcement: the mode each account is guarded in. One default (`SGGUARD_MODE`) and
//! scopes that override it (`SGGUARD_MODE_BY_SCOPE`: organizational units, roots or accounts,
//! each `enforce` or `audit`), so an organization can enforce OU by OU while the rest is
//! audited. An account named itself wins; otherwise the nearest unit above it that a scope
//! names; otherwise the default. When a scope depends on an account's units and they cannot be
//! read, the account is audited: sgguard reports what it is not sure it may revoke.

mod source;
pub mod syntax;

pub use source::{ModeByScope, Origin};

use std::collections::BTreeMap;

use crate::aws::{AwsError, S3Object};
use crate::ids::ScopeId;
use crate::outcome::Mode;

/// The mode per scope, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    pub default: Mode,
    /// Account ids, unit ids and root ids, each with its mode.
    pub scopes: BTreeMap<ScopeId, Mode>,
}

/// The mode one account is guarded in, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub mode: Mode,
    /// What decided it.
    pub by: ModeReason,
}

/// What decided an account's mode; said as `default`, `account 111122223333`,
/// `ou-ab12-cdef3456`, or why the account is audited although a scope might enforce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeReason {
    /// No scope names the account or a unit above it.
    Default,
    /// The account's own scope.
    Account(String),
    /// The nearest unit (or root) above the account that a scope names.
    Unit(String),
    /// The units above the account could not be read (why): audited, since a scope might
    /// not enforce it.
    UnitsUnreadable(String),
}

impl std::fmt::Display for ModeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModeReason::Default => f.write_str("default"),
            ModeReason::Account(id) => write!(f, "account {id}"),
            ModeReason::Unit(id) => f.write_str(id),
            ModeReason::UnitsUnreadable(error) => write!(
                f,
                "audited: the account's organizational unit could not be read ({error})"
            ),
        }
    }
}

impl ModeReason {
    /// Whether the account is audited only because what decides its mode could not be read:
    /// a problem the outcome must name.
    pub fn is_problem(&self) -> bool {
        matches!(self, ModeReason::UnitsUnreadable(_))
    }
}

/// Why the mode per scope cannot be used: sgguard does not start with it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScopeCheckError {
    #[error(
        "{0} names `{1}`, which the organization does not have (a mistyped id would leave its \
         accounts in the default mode)"
    )]
    Unknown(Origin, String),
    #[error("{0} names `{1}`, which could not be checked against the organization: {2}")]
    Unreadable(Origin, String, Box<AwsError>),
    #[error(
        "`SGGUARD_MODE_BY_SCOPE_URI`: the mode per scope {0} could not be read ({1}); sgguard \
         does not start without it (a mode is never guessed)"
    )]
    ObjectUnreadable(S3Object, Box<AwsError>),
    #[error("the mode per scope {object} is `{value}`: expected {expected}")]
    ObjectInvalid {
        object: S3Object,
        value: String,
        expected: &'static str,
    },
}

impl From<Mode> for Staging {
    fn from(mode: Mode) -> Staging {
        Staging::uniform(mode)
    }
}

impl Staging {
    /// One mode everywhere.
    pub fn uniform(mode: Mode) -> Staging {
        Staging {
            default: mode,
            scopes: BTreeMap::new(),
        }
    }

    /// Whether resolving `account` needs the units above it: some scope names a unit whose
    /// mode differs from what the account would get without it.
    pub fn needs_units(&self, account: &str) -> bool {
        !self.scopes.contains_key(account)
            && self
                .scopes
                .iter()
                .any(|(id, mode)| matches!(id, ScopeId::Unit(_)) && *mode != self.default)
    }

    /// The account's mode. `units` are the units above the account, nearest first and the root
    /// last (`ListParents` upwards); `Err` says why they could not be read.
    pub fn resolve(&self, account: &str, units: Result<&[String], &str>) -> Resolved {
        if let Some(mode) = self.scopes.get(account) {
            return Resolved {
                mode: *mode,
                by: ModeReason::Account(account.to_owned()),
            };
        }
        if !self.needs_units(account) {
            return Resolved {
                mode: self.default,
                by: ModeReason::Default,
            };
        }
        match units {
            Ok(units) => units
                .iter()
                .find_map(|unit| {
                    self.scopes.get(unit.as_str()).map(|mode| Resolved {
                        mode: *mode,
                        by: ModeReason::Unit(unit.clone()),
                    })
                })
                .unwrap_or(Resolved {
                    mode: self.default,
                    by: ModeReason::Default,
                }),
            Err(error) => Resolved {
                mode: Mode::Audit,
                by: ModeReason::UnitsUnreadable(error.to_owned()),
            },
        }
    }

    /// The account's mode, reading the units above it with `units` only when a unit's scope
    /// could change the answer (Organizations is not asked otherwise); units that cannot be
    /// read audit the account.
    pub async fn resolve_with<F, Fut>(&self, account: &str, units: F) -> Resolved
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<std::sync::Arc<Vec<String>>, AwsError>>,
    {
        if !self.needs_units(account) {
            return self.resolve(account, Ok(&[]));
        }
        match units().await {
            Ok(units) => self.resolve(account, Ok(&units)),
            Err(error) => {
                tracing::warn!(account, error = %error, "organizational unit unknown; audited");
                self.resolve(account, Err(&error.to_string()))
            }
        }
    }

    /// Checks that the organization has every scope this staging names (`has` asks
    /// Organizations): a mistyped unit or account id would otherwise leave its accounts in the
    /// default mode without a word. Every id is checked; the first unknown or unreadable one is
    /// the error, naming `origin`, where the scopes were set.
    pub async fn check_scopes<F, Fut>(&self, origin: &Origin, has: F) -> Result<(), ScopeCheckError>
    where
        F: Fn(ScopeId) -> Fut,
        Fut: std::future::Future<Output = Result<bool, AwsError>>,
    {
        for id in self.scopes.keys() {
            match has(id.clone()).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(ScopeCheckError::Unknown(
                        origin.clone(),
                        id.as_str().to_owned(),
                    ));
                }
                Err(error) => {
                    return Err(ScopeCheckError::Unreadable(
                        origin.clone(),
                        id.as_str().to_owned(),
                        Box::new(error),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The same staging with every mode lowered to `audit` when `ceiling` is `audit` (a run
    /// that must not revoke, such as a scan without `--remediate`).
    pub fn capped(&self, ceiling: Mode) -> Staging {
        if ceiling == Mode::Enforce {
            return self.clone();
        }
        Staging::uniform(Mode::Audit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging(default: Mode, scopes: &[(&str, Mode)]) -> Staging {
        Staging {
            default,
            scopes: scopes
                .iter()
                .map(|(id, mode)| (id.parse().unwrap(), *mode))
                .collect(),
        }
    }

    const PROD: &str = "ou-ab12-prod0001";
    const TEAM: &str = "ou-ab12-team0001";
    const ROOT: &str = "r-ab12";

    #[test]
    fn the_account_then_the_nearest_unit_then_the_default_decides() {
        let s = staging(
            Mode::Audit,
            &[
                (PROD, Mode::Enforce),
                (TEAM, Mode::Audit),
                ("111122223333", Mode::Audit),
            ],
        );
        let path = |units: &[&str]| units.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>();
        // In prod: enforced by the unit.
        let r = s.resolve("222233334444", Ok(&path(&[PROD, ROOT])));
        assert_eq!(
            (r.mode, r.by),
            (Mode::Enforce, ModeReason::Unit(PROD.to_owned()))
        );
        // A team unit nested in prod and set to audit: the nearest unit wins.
        let r = s.resolve("222233334444", Ok(&path(&[TEAM, PROD, ROOT])));
        assert_eq!(
            (r.mode, r.by),
            (Mode::Audit, ModeReason::Unit(TEAM.to_owned()))
        );
        // Named itself: its own mode, whatever its unit, without reading the units.
        let r = s.resolve("111122223333", Err("denied"));
        assert_eq!(
            (r.mode, r.by.to_string()),
            (Mode::Audit, "account 111122223333".to_owned())
        );
        // Elsewhere: the default.
        let r = s.resolve("333344445555", Ok(&path(&["ou-ab12-other001", ROOT])));
        assert_eq!((r.mode, r.by), (Mode::Audit, ModeReason::Default));
    }

    #[test]
    fn units_that_cannot_be_read_mean_audit_only_when_a_unit_could_enforce() {
        let s = staging(Mode::Audit, &[(PROD, Mode::Enforce)]);
        let r = s.resolve("222233334444", Err("AccessDenied"));
        assert_eq!(r.mode, Mode::Audit);
        assert_eq!(r.by, ModeReason::UnitsUnreadable("AccessDenied".to_owned()));
        assert!(r.by.is_problem());
        // Enforce by default, a unit audited: unknown units are still audited (fail safe).
        let s = staging(Mode::Enforce, &[(PROD, Mode::Audit)]);
        assert_eq!(s.resolve("222233334444", Err("x")).mode, Mode::Audit);
        // Only account scopes, or units with the default's mode: units are never needed.
        let s = staging(
            Mode::Enforce,
            &[("111122223333", Mode::Audit), (PROD, Mode::Enforce)],
        );
        assert!(!s.needs_units("222233334444"));
        assert_eq!(s.resolve("222233334444", Err("x")).mode, Mode::Enforce);
    }

    #[tokio::test]
    async fn every_scope_must_be_in_the_organization() {
        let s = staging(
            Mode::Audit,
            &[(PROD, Mode::Enforce), ("111122223333", Mode::Audit)],
        );
        let known = |id: ScopeId| async move { Ok(id.as_str() == PROD) };
        let variable = Origin::Variable;
        let error = s.check_scopes(&variable, known).await.unwrap_err();
        assert!(
            error.to_string().contains(
                "`SGGUARD_MODE_BY_SCOPE` names `111122223333`, which the organization does not have"
            ),
            "{error}"
        );
        // Read from S3: the object is named instead.
        let object = Origin::Object(S3Object {
            uri: crate::aws::S3Uri::parse("s3://reports/config/mode-by-scope.json").unwrap(),
            version: None,
        });
        let error = s.check_scopes(&object, known).await.unwrap_err();
        assert!(
            error.to_string().contains(
                "the mode per scope `s3://reports/config/mode-by-scope.json` names `111122223333`"
            ),
            "{error}"
        );
        let throttled = |_: ScopeId| async {
            Err(AwsError {
                operation: "DescribeAccount",
                account: "hub".to_owned(),
                region: "global".to_owned(),
                code: Some("TooManyRequestsException".to_owned()),
                message: "rate exceeded".to_owned(),
            })
        };
        let error = s.check_scopes(&variable, throttled).await.unwrap_err();
        assert!(
            error.to_string().contains("could not be checked")
                && error.to_string().contains("rate exceeded"),
            "{error}"
        );
        let all = |_: ScopeId| async { Ok(true) };
        assert!(s.check_scopes(&variable, all).await.is_ok());
    }

    #[test]
    fn an_audit_ceiling_audits_everything() {
        let s = staging(Mode::Enforce, &[(PROD, Mode::Enforce)]);
        assert_eq!(s.capped(Mode::Audit), Staging::uniform(Mode::Audit));
        assert_eq!(s.capped(Mode::Enforce), s);
    }
}
