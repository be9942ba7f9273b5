//! The sweep's tamper check: what the spoke stack deployed in each member account, read back and
//! compared with what it should be. A member administrator who deletes, disables or narrows the
//! forwarding rule, points it somewhere else or rewrites what it sends, lets another principal
//! assume the remediation role, or takes the role's permissions away switches the guard off, or
//! takes it over, without a single security-group event; the sweep reports each as a failure
//! naming the account (and the region, for the rule).
//!
//! One subject per file: the rule's pattern (`pattern`), its state and targets (`forwarding`),
//! the role's trust (`trust`) and its permissions (`permissions`). Each judges fail-safe: what
//! it cannot prove harmless is reported.

mod forwarding;
mod pattern;
mod permissions;
mod trust;

use serde_json::Value;

pub use forwarding::Judged;

#[cfg(test)]
pub(crate) use pattern::EVENT_PATTERN;
#[cfg(test)]
pub(crate) use permissions::REMEDIATION_ACTIONS;

/// The forwarding rule's name in every member region (`SecurityGroupChangeRule` of
/// `spoke-infra/sgguard-spoke.yaml`).
pub const FORWARDING_RULE: &str = "sgguard-forward-sg-changes";

/// The role the forwarding rule sends to the hub as (the template's `EventForwarderRoleName`,
/// which the hub module leaves at its default).
pub const FORWARDER_ROLE: &str = "sgguard-event-forwarder";

/// What the spoke stack should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TamperCheck {
    /// The hub account: the rule must send to an event bus there.
    pub hub_account: String,
    /// The hub bus's exact ARN, when known (`SGGUARD_HUB_BUS_ARN`).
    pub hub_bus_arn: Option<String>,
    /// The principals the remediation role may trust (`SGGUARD_TRUSTED_PRINCIPALS`, else the
    /// hub's own role); empty: the trust policy is not judged.
    pub trusted: Vec<String>,
    /// The remediation role whose trust and permissions are judged (`SGGUARD_ROLE_NAME`),
    /// whichever role the sweep reaches the accounts through (a scan may use the read-only
    /// audit role).
    pub remediation_role: String,
    /// The role the forwarding rule's hub target must send as, in the member account
    /// ([`FORWARDER_ROLE`]).
    pub forwarder_role: String,
    /// The regions the spokes deploy the forwarding rule to (`SGGUARD_FORWARDING_REGIONS`);
    /// none when not known. A missing rule is a coverage gap wherever it is; tampering only
    /// where it was deployed.
    pub forwarding_regions: Option<Vec<String>>,
}

/// The member `key` of an object; null when there is none.
fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// A JSON value that may be one item or a list of them, as items (none for null).
fn one_or_many(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Null => Box::new(std::iter::empty()),
        one => Box::new(std::iter::once(one)),
    }
}

/// The items in backticks, comma-separated; `none` for none.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|i| format!("`{}`", i.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and (with
/// `single`) `?` for any one character. IAM's action and ARN patterns use both; EventBridge's
/// `wildcard` only `*`.
fn glob(pattern: &str, text: &str, single: bool) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if (single && *c == '?') || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_iam_and_eventbridge_do() {
        assert!(glob("sts:assumerole*", "sts:assumerolewithsaml", true));
        assert!(glob("*", "", true));
        assert!(glob("sts:*", "sts:assumerole", true));
        assert!(glob("ec2:?escribe*", "ec2:describeregions", true));
        assert!(!glob("ec2:?escribe*", "ec2:describeregions", false));
        assert!(!glob("sts:assumerole", "sts:assumerolewithsaml", true));
        assert!(glob("a*b*c", "axxbyyc", true));
        assert!(!glob("a*b*c", "axxbyy", true));
    }

    #[test]
    fn lists_name_each_item_in_backticks() {
        assert_eq!(list(&["a", "b"]), "`a`, `b`");
        assert_eq!(list::<&str>(&[]), "none");
    }
}
