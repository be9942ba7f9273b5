//! Configuration shared by the Lambda and the CLI: environment variables (DESIGN's table),
//! which command-line flags override, validated once before any work starts.

use std::path::PathBuf;

use crate::enforce::breaker::Limits;
use crate::outcome::Mode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("`{variable}` is `{value}`: expected {expected}")]
    Invalid {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// The hub's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SGGUARD_POLICY`: the baseline file; the embedded default when unset.
    pub policy: Option<PathBuf>,
    /// `SGGUARD_MODE`: `enforce` (default) or `audit`.
    pub mode: Mode,
    /// `SGGUARD_TOPIC_ARN`: where notifications go; none when unset.
    pub topic_arn: Option<String>,
    /// `SGGUARD_ROLE_NAME`: the role assumed in member accounts.
    pub role_name: String,
    /// `SGGUARD_REGIONS`: regions for the sweep; all enabled when unset.
    pub regions: Option<Vec<String>>,
    /// `SGGUARD_MAX_REVOKES_PER_EVENT`, `…_PER_ACCOUNT_HOUR`, `…_PER_SWEEP`: the circuit
    /// breaker's limits (20, 50, 200 when unset).
    pub limits: Limits,
}

pub const DEFAULT_ROLE_NAME: &str = "sgguard-remediation";

impl Settings {
    /// Reads the environment through `lookup` (the process environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mode = match get("SGGUARD_MODE").as_deref() {
            None | Some("enforce") => Mode::Enforce,
            Some("audit") => Mode::Audit,
            Some(other) => {
                return Err(SettingsError::Invalid {
                    variable: "SGGUARD_MODE",
                    value: other.to_owned(),
                    expected: "`enforce` or `audit`",
                });
            }
        };
        let topic_arn = get("SGGUARD_TOPIC_ARN");
        if let Some(arn) = &topic_arn
            && !(arn.starts_with("arn:") && arn.split(':').count() == 6)
        {
            return Err(SettingsError::Invalid {
                variable: "SGGUARD_TOPIC_ARN",
                value: arn.clone(),
                expected: "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            });
        }
        let role_name = get("SGGUARD_ROLE_NAME").unwrap_or_else(|| DEFAULT_ROLE_NAME.to_owned());
        if role_name.contains([':', '/', ' ']) {
            return Err(SettingsError::Invalid {
                variable: "SGGUARD_ROLE_NAME",
                value: role_name,
                expected: "a role name, not an ARN or path",
            });
        }
        let regions = get("SGGUARD_REGIONS").map(|list| {
            list.split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>()
        });
        let limit = |variable: &'static str, default: usize| match get(variable) {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(SettingsError::Invalid {
                    variable,
                    value: text,
                    expected: "a whole number of revocations, at least 1",
                }),
            },
        };
        let defaults = Limits::default();
        let limits = Limits {
            per_event: limit("SGGUARD_MAX_REVOKES_PER_EVENT", defaults.per_event)?,
            per_account_hour: limit(
                "SGGUARD_MAX_REVOKES_PER_ACCOUNT_HOUR",
                defaults.per_account_hour,
            )?,
            per_sweep: limit("SGGUARD_MAX_REVOKES_PER_SWEEP", defaults.per_sweep)?,
        };
        Ok(Settings {
            limits,
            policy: get("SGGUARD_POLICY").map(PathBuf::from),
            mode,
            topic_arn,
            role_name,
            regions: regions.filter(|r| !r.is_empty()),
        })
    }

    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.mode, Mode::Enforce);
        assert_eq!(s.role_name, "sgguard-remediation");
        assert_eq!(s.topic_arn, None);
        assert_eq!(s.regions, None);
        assert_eq!(
            (
                s.limits.per_event,
                s.limits.per_account_hour,
                s.limits.per_sweep
            ),
            (20, 50, 200)
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let error = settings(&[("SGGUARD_MODE", "yolo")]).unwrap_err();
        assert!(error.to_string().contains("SGGUARD_MODE"));
        assert!(settings(&[("SGGUARD_TOPIC_ARN", "my-topic")]).is_err());
        assert!(settings(&[("SGGUARD_ROLE_NAME", "arn:aws:iam::1:role/x")]).is_err());
        for bad in ["0", "-1", "many"] {
            let error = settings(&[("SGGUARD_MAX_REVOKES_PER_SWEEP", bad)]).unwrap_err();
            assert!(error.to_string().contains("SGGUARD_MAX_REVOKES_PER_SWEEP"));
        }
        let limits = settings(&[("SGGUARD_MAX_REVOKES_PER_EVENT", "5")]).unwrap();
        assert_eq!(limits.limits.per_event, 5);
        let regions = settings(&[("SGGUARD_REGIONS", "eu-west-1, us-east-1,")]).unwrap();
        assert_eq!(
            regions.regions,
            Some(vec!["eu-west-1".to_owned(), "us-east-1".to_owned()])
        );
    }
}
