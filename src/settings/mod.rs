//! Configuration shared by the Lambda and the CLI: every `SGGUARD_*` environment variable
//! (docs/configuration.md) is read here, and the command-line flags that override them go
//! through the same validation, once, before any work starts.

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::{Aws, S3Uri};
use crate::enforce::Outputs;
use crate::enforce::breaker::Limits;
use crate::enforce::staging::{ModeByScope, ScopeCheckError, Staging};
use crate::enforce::state::HubState;
use crate::enforce::tamper::{FORWARDER_ROLE, TamperCheck};
use crate::finding::Severity;
use crate::ids::Arn;
use crate::outcome::Mode;
use crate::report::metrics::{Metrics, MetricsOut, Namespace};

mod scopes;
mod values;

use scopes::mode_by_scope;
pub use values::role_name;
use values::{BUS_ARN, TOPIC_ARN, is_bus_arn, is_topic_arn, region_list, security_hub};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("`{variable}` is `{value}`: expected {expected}")]
    Invalid {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },
    /// sgguard's own events on the bus the members write: a member could forge a finding.
    #[error(
        "`SGGUARD_EVENT_BUS_ARN` is `{0}`, the same bus as `SGGUARD_HUB_BUS_ARN`, which the member \
         accounts may write: sgguard's findings and sweep summaries go to a bus only the hub can \
         write (the hub module's findings bus), where no member can forge one"
    )]
    EventBusIsHubBus(String),
    /// Two variables that set the same thing.
    #[error("`{0}` and `{1}` are both set: set one of them")]
    Exclusive(&'static str, &'static str),
    /// A variable that means something only with another.
    #[error("`{0}` is set without `{1}`, which it goes with")]
    Requires(&'static str, &'static str),
}

/// The hub's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SGGUARD_POLICY`: the baseline file; the embedded default when unset.
    pub policy: Option<PathBuf>,
    /// `SGGUARD_MODE`: `enforce` (default) or `audit`; the mode of accounts no scope names.
    pub mode: Mode,
    /// `SGGUARD_MODE_BY_SCOPE`, or `SGGUARD_MODE_BY_SCOPE_URI` with
    /// `SGGUARD_MODE_BY_SCOPE_VERSION`: a JSON object from account, organizational unit or root
    /// ids to `enforce` or `audit` (staged enforcement), or where in S3 it is; none when unset.
    pub mode_by_scope: ModeByScope,
    /// `SGGUARD_TOPIC_ARN`: where notifications go; none when unset.
    pub topic_arn: Option<String>,
    /// `SGGUARD_ROLE_NAME`: the role assumed in member accounts.
    pub role_name: String,
    /// `SGGUARD_REGIONS`: regions for the sweep; all enabled when unset.
    pub regions: Option<Vec<String>>,
    /// `SGGUARD_FORWARDING_REGIONS`: the regions the spokes deploy the forwarding rule to (the
    /// hub module's `stackset_regions`); an enabled region without the rule is a coverage gap
    /// wherever it is, and tampering where the rule was deployed. Not known when unset.
    pub forwarding_regions: Option<Vec<String>>,
    /// `SGGUARD_MAX_REVOKES_PER_EVENT`, `…_PER_ACCOUNT_HOUR`, `…_PER_SWEEP`: the circuit
    /// breaker's limits (20, 50, 200 when unset).
    pub limits: Limits,
    /// `SGGUARD_RECORD_QUEUE_URL`: the SQS queue that keeps the durable record of an outcome
    /// whose notification failed, and of an event that could not be read; none when unset.
    pub record_queue_url: Option<String>,
    /// `SGGUARD_HUB_BUS_ARN`: the hub bus the members' forwarding rules must send to (the
    /// sweep's tamper check); any event bus of the hub account when unset.
    pub hub_bus_arn: Option<String>,
    /// `SGGUARD_TRUSTED_PRINCIPALS`: the principals (comma-separated ARNs) the remediation role
    /// may trust (the sweep's tamper check); the hub's own role when unset.
    pub trusted_principals: Vec<String>,
    /// `SGGUARD_EXEMPTIONS_URI`: an exemptions file in S3 (`s3://BUCKET/KEY`), added to the
    /// baseline's exemptions; none when unset.
    pub exemptions_uri: Option<S3Uri>,
    /// `SGGUARD_EXEMPTIONS_TTL_SECONDS`: how long a read of the exemptions file is used
    /// before it is read again (300 when unset).
    pub exemptions_ttl: Duration,
    /// `SGGUARD_EXEMPTIONS_MAX_DAYS`: how many days ahead an exemptions file's entry may
    /// expire (1 to 3650; 365 when unset).
    pub exemptions_max_days: u16,
    /// `SGGUARD_STATE_TABLE`: the hub state table (DynamoDB) the breaker's counters, the
    /// revocation journal and the handled events are kept in, shared by every process of the
    /// hub; unset: each process keeps its own.
    pub state_table: Option<String>,
    /// `SGGUARD_REPORT_BUCKET`: the bucket the scheduled sweep writes its full report to
    /// (`sweeps/YYYY/MM/DD/…json`); none when unset.
    pub report_bucket: Option<String>,
    /// `SGGUARD_STACKSET_NAME`: the spoke StackSet whose instances coverage checks; none when
    /// unset (coverage then checks roles and forwarding rules only).
    pub stackset_name: Option<String>,
    /// `SGGUARD_STACKSET_CALL_AS`: `SELF` (default: the management account) or
    /// `DELEGATED_ADMIN`.
    pub stackset_call_as: String,
    /// Where else the outcomes go: the chat topic, the event bus, the messages' minimum severity.
    pub outputs: Outputs,
}

pub const DEFAULT_ROLE_NAME: &str = "sgguard-remediation";

/// `SGGUARD_LOG`: the log filter (`info`, `sgguard=debug`, …); `default` when unset. Read before
/// the rest, so that a settings error is logged.
pub fn log_filter(default: &str) -> String {
    log_filter_from(|name| std::env::var(name).ok(), default)
}

/// [`log_filter`] read through `lookup`.
fn log_filter_from(lookup: impl Fn(&str) -> Option<String>, default: &str) -> String {
    lookup("SGGUARD_LOG")
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

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
        let mode_by_scope = mode_by_scope(get)?;
        let checked =
            |variable: &'static str, valid: fn(&str) -> bool, expected: &'static str| match get(
                variable,
            ) {
                Some(value) if !valid(&value) => Err(SettingsError::Invalid {
                    variable,
                    value,
                    expected,
                }),
                value => Ok(value),
            };
        let topic_arn = checked("SGGUARD_TOPIC_ARN", is_topic_arn, TOPIC_ARN)?;
        let record_queue_url = checked(
            "SGGUARD_RECORD_QUEUE_URL",
            |url| url.starts_with("https://") || url.starts_with("http://"),
            "an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
        )?;
        let hub_bus_arn = checked("SGGUARD_HUB_BUS_ARN", is_bus_arn, BUS_ARN)?;
        let trusted_principals: Vec<String> = get("SGGUARD_TRUSTED_PRINCIPALS")
            .map(|list| {
                list.split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = trusted_principals
            .iter()
            .find(|p| p.parse::<Arn>().is_err())
        {
            return Err(SettingsError::Invalid {
                variable: "SGGUARD_TRUSTED_PRINCIPALS",
                value: bad.clone(),
                expected: "comma-separated principal ARNs (arn:aws:iam::ACCOUNT:role/NAME)",
            });
        }
        let exemptions_uri = match get("SGGUARD_EXEMPTIONS_URI") {
            None => None,
            Some(text) => Some(S3Uri::parse(&text).ok_or(SettingsError::Invalid {
                variable: "SGGUARD_EXEMPTIONS_URI",
                value: text,
                expected: "an S3 object URI (s3://BUCKET/KEY)",
            })?),
        };
        let exemptions_ttl = match get("SGGUARD_EXEMPTIONS_TTL_SECONDS") {
            None => Duration::from_secs(300),
            Some(text) => match text.parse::<u64>() {
                Ok(n) if (1..=86_400).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(SettingsError::Invalid {
                        variable: "SGGUARD_EXEMPTIONS_TTL_SECONDS",
                        value: text,
                        expected: "a whole number of seconds, 1 to 86400",
                    });
                }
            },
        };
        let exemptions_max_days = match get("SGGUARD_EXEMPTIONS_MAX_DAYS") {
            None => crate::policy::DEFAULT_MAX_DAYS,
            Some(text) => match text.parse::<u16>() {
                Ok(n) if (1..=crate::policy::MOST_MAX_DAYS).contains(&n) => n,
                _ => {
                    return Err(SettingsError::Invalid {
                        variable: "SGGUARD_EXEMPTIONS_MAX_DAYS",
                        value: text,
                        expected: "a whole number of days, 1 to 3650",
                    });
                }
            },
        };
        let state_table = checked(
            "SGGUARD_STATE_TABLE",
            |name| {
                (3..=255).contains(&name.len())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            },
            "a DynamoDB table name (3 to 255 letters, digits, `_`, `-` or `.`)",
        )?;
        let report_bucket = checked(
            "SGGUARD_REPORT_BUCKET",
            |bucket| S3Uri::parse(&format!("s3://{bucket}/x")).is_some(),
            "an S3 bucket name (3-63 lowercase letters, digits, `-`, `.`)",
        )?;
        let stackset_name = get("SGGUARD_STACKSET_NAME");
        let stackset_call_as = get("SGGUARD_STACKSET_CALL_AS").unwrap_or_else(|| "SELF".to_owned());
        if !matches!(stackset_call_as.as_str(), "SELF" | "DELEGATED_ADMIN") {
            return Err(SettingsError::Invalid {
                variable: "SGGUARD_STACKSET_CALL_AS",
                value: stackset_call_as,
                expected: "`SELF` or `DELEGATED_ADMIN`",
            });
        }
        let min_severity = match get("SGGUARD_MIN_SEVERITY") {
            None => None,
            Some(text) => Some(
                serde_json::from_value::<Severity>(serde_json::json!(text)).map_err(|_| {
                    SettingsError::Invalid {
                        variable: "SGGUARD_MIN_SEVERITY",
                        value: text,
                        expected: "`info`, `low`, `medium`, `high` or `critical`",
                    }
                })?,
            ),
        };
        let chat_topic_arn = checked("SGGUARD_CHAT_TOPIC_ARN", is_topic_arn, TOPIC_ARN)?;
        let event_bus_arn = checked("SGGUARD_EVENT_BUS_ARN", is_bus_arn, BUS_ARN)?;
        if let Some(bus) = event_bus_arn
            .as_ref()
            .filter(|bus| hub_bus_arn.as_ref() == Some(*bus))
        {
            return Err(SettingsError::EventBusIsHubBus(bus.clone()));
        }
        let role_name = role_name(
            "SGGUARD_ROLE_NAME",
            get("SGGUARD_ROLE_NAME").unwrap_or_else(|| DEFAULT_ROLE_NAME.to_owned()),
        )?;
        // Checked now, as the sweep will read them, not at the first sweep.
        let regions = region_list("SGGUARD_REGIONS", get("SGGUARD_REGIONS"), true)?;
        let forwarding_regions = region_list(
            "SGGUARD_FORWARDING_REGIONS",
            get("SGGUARD_FORWARDING_REGIONS"),
            false,
        )?;
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
            mode_by_scope,
            topic_arn,
            record_queue_url,
            hub_bus_arn,
            trusted_principals,
            exemptions_uri,
            exemptions_ttl,
            exemptions_max_days,
            report_bucket,
            state_table,
            stackset_name,
            stackset_call_as,
            outputs: Outputs {
                min_severity,
                chat_topic_arn,
                event_bus_arn,
                security_hub: security_hub(get("SGGUARD_SECURITY_HUB"))?,
                context_tags: get("SGGUARD_CONTEXT_TAGS")
                    .unwrap_or_else(|| "Owner,Team,Contact".to_owned())
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
                metrics: Metrics {
                    namespace: match get("SGGUARD_METRICS_NAMESPACE") {
                        None => Namespace::default(),
                        Some(text) => text.parse().map_err(|()| SettingsError::Invalid {
                            variable: "SGGUARD_METRICS_NAMESPACE",
                            value: text,
                            expected: "a CloudWatch namespace (1 to 255 of 0-9A-Za-z.-_/#: and \
                                       space, not `AWS/…`)",
                        })?,
                    },
                    out: MetricsOut::Stdout,
                },
            },
            role_name,
            regions,
            forwarding_regions,
        })
    }

    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// The environment with `flags` (command-line values, by the variable they override)
    /// taking its place where given: one validation for both.
    pub fn with_flags(flags: &[(&str, Option<String>)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| {
            match flags
                .iter()
                .find(|(variable, value)| *variable == name && value.is_some())
            {
                Some((_, value)) => value.clone(),
                None => std::env::var(name).ok(),
            }
        })
    }

    /// The hub state: in the state table when `SGGUARD_STATE_TABLE` names one (reached with
    /// `aws`'s own credentials), else in this process.
    pub fn hub_state(&self, aws: &Aws) -> HubState {
        HubState::new(
            self.limits,
            self.state_table.as_deref().map(|t| aws.state_table(t)),
        )
    }

    /// The sweep's spoke check for this hub: the hub bus, the principals the remediation role
    /// may trust (the hub's own role when none is named; none when the hub does not run as a
    /// role: then only a missing role is judged), the remediation role and where the spokes
    /// forward from.
    pub fn tamper_check(&self, aws: &Aws) -> TamperCheck {
        TamperCheck {
            hub_account: aws.hub_account().to_owned(),
            hub_bus_arn: self.hub_bus_arn.clone(),
            trusted: if self.trusted_principals.is_empty() {
                aws.hub_role_arn().into_iter().collect()
            } else {
                self.trusted_principals.clone()
            },
            remediation_role: self.role_name.clone(),
            forwarder_role: FORWARDER_ROLE.to_owned(),
            forwarding_regions: self.forwarding_regions.clone(),
        }
    }

    /// The mode per scope without AWS (`policy explain`, tests): `None` when it is kept in S3
    /// (`SGGUARD_MODE_BY_SCOPE_URI`), which only [`Settings::checked_staging`] reads.
    pub fn inline_staging(&self) -> Option<Staging> {
        match &self.mode_by_scope {
            ModeByScope::Inline(scopes) => Some(Staging {
                default: self.mode,
                scopes: scopes.clone(),
            }),
            ModeByScope::Stored(_) => None,
        }
    }

    /// The mode per scope (read from S3 when it is kept there), once Organizations has
    /// confirmed every scope it names: checked at start, an object that cannot be read or an
    /// unknown id is an error naming it, never a silent default.
    pub async fn checked_staging(&self, aws: &Aws) -> Result<Staging, ScopeCheckError> {
        let scopes = self
            .mode_by_scope
            .scopes(|object| async move { aws.object_text_at(&object).await })
            .await?;
        let staging = Staging {
            default: self.mode,
            scopes,
        };
        staging
            .check_scopes(&self.mode_by_scope.origin(), |id| async move {
                aws.has_scope(&id).await
            })
            .await?;
        Ok(staging)
    }
}

#[cfg(test)]
mod tests;
