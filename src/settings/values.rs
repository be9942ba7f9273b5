//! The checks of single setting values: role names, topic and bus ARNs, region lists, switches.

use super::SettingsError;
use crate::enforce::scope::{Scope, ScopeError};
use crate::ids::Arn;

/// The comma-separated region names of `variable` (none when unset or empty), each checked as
/// the sweep's scope checks it; `all` (every enabled region) only where `all` allows it.
pub(super) fn region_list(
    variable: &'static str,
    value: Option<String>,
    all: bool,
) -> Result<Option<Vec<String>>, SettingsError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let list: Vec<String> = value
        .split(',')
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    let bad = match Scope::parse(&[], &[], &list) {
        Err(ScopeError::BadRegion(bad)) => Some(bad),
        _ if !all => list.iter().find(|r| *r == "all").cloned(),
        _ => None,
    };
    if let Some(bad) = bad {
        return Err(SettingsError::Invalid {
            variable,
            value: bad,
            expected: if all {
                "`all` or region names (eu-west-1,us-east-1)"
            } else {
                "region names (eu-west-1,us-east-1)"
            },
        });
    }
    Ok(Some(list).filter(|l| !l.is_empty()))
}

/// A role name (`variable` names the setting or flag it came from): not an ARN or a path.
pub fn role_name(variable: &'static str, value: String) -> Result<String, SettingsError> {
    if value.is_empty() || value.contains([':', '/', ' ']) {
        return Err(SettingsError::Invalid {
            variable,
            value,
            expected: "a role name, not an ARN or path",
        });
    }
    Ok(value)
}

pub(super) const TOPIC_ARN: &str = "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)";
pub(super) const BUS_ARN: &str = "an event bus ARN (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)";

pub(super) fn is_topic_arn(arn: &str) -> bool {
    arn.parse::<Arn>()
        .is_ok_and(|arn| arn.service() == "sns" && !arn.resource().contains(':'))
}

pub(super) fn is_bus_arn(arn: &str) -> bool {
    arn.parse::<Arn>()
        .is_ok_and(|arn| arn.service() == "events" && arn.resource().starts_with("event-bus/"))
}

/// `SGGUARD_SECURITY_HUB`: `true` or `false` (unset: false).
pub(super) fn security_hub(value: Option<String>) -> Result<bool, SettingsError> {
    match value.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(SettingsError::Invalid {
            variable: "SGGUARD_SECURITY_HUB",
            value: other.to_owned(),
            expected: "`true` or `false`",
        }),
    }
}
