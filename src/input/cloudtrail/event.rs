//! The decoded event: what a CloudTrail call changed ([`Change`]), the event that carries it
//! ([`CloudTrailEvent`]), and the error naming the field at fault when it cannot be read
//! ([`DecodeError`]).

use ipnet::IpNet;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::syntax::Actor;
use crate::rule::SecurityGroupRule;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", at(.field))]
pub struct DecodeError {
    /// The path of the field at fault (`detail.requestParameters.ipPermissions.items[0]`);
    /// empty when the document as a whole is.
    pub field: String,
    pub message: String,
}

/// `` `field`: `` before the message, when there is a field.
fn at(field: &str) -> String {
    match field {
        "" => String::new(),
        field => format!("`{field}`: "),
    }
}

impl DecodeError {
    pub(super) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, seen from the object that holds `parent`.
    pub(super) fn within(self, parent: &str) -> Self {
        let field = match self.field.as_str() {
            "" => parent.to_owned(),
            inner => format!("{parent}.{inner}"),
        };
        DecodeError { field, ..self }
    }
}

/// Deserializes `T` from `value`, naming the field at fault below `base`.
pub(super) fn typed<T: DeserializeOwned>(value: &Value, base: &str) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        match path.as_str() {
            "." => DecodeError::new(base, inner),
            _ if base.is_empty() => DecodeError::new(path, inner),
            _ => DecodeError::new(format!("{base}.{path}"), inner),
        }
    })
}

/// The text, unless absent or empty.
pub(super) fn non_empty(text: Option<&String>) -> Option<String> {
    text.filter(|t| !t.is_empty()).cloned()
}

/// What the call changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Rules added by AuthorizeSecurityGroupIngress/Egress.
    Authorized {
        group_id: Option<String>,
        group_name: Option<String>,
        rules: Vec<SecurityGroupRule>,
    },
    /// Rules replaced by ModifySecurityGroupRules. The request does not say the direction: the
    /// rules are decoded as ingress and the live state decides.
    Modified {
        group_id: Option<String>,
        rules: Vec<SecurityGroupRule>,
    },
    /// Entries added to or removed from a managed prefix list (or an earlier version
    /// restored: then the entries are not told).
    PrefixListModified {
        prefix_list_id: String,
        added: Vec<IpNet>,
        removed: Vec<IpNet>,
        /// The list's version the call changed (`CurrentVersion`): the call made the next one.
        /// `None` when the event does not tell it.
        current_version: Option<i64>,
    },
    /// Tags added to (CreateTags) or removed from (DeleteTags) resources: an exemption tag may
    /// have come or gone, so the security groups among them are re-checked. `group_ids` is empty
    /// when no resource is a security group (nothing for sgguard to do).
    TagsChanged {
        group_ids: Vec<String>,
        /// The tag keys added or removed (empty: DeleteTags of every tag).
        keys: Vec<String>,
    },
    /// The call failed (`errorCode`): nothing changed.
    Failed { error_code: String },
    /// An event sgguard does not act on.
    Ignored,
}

/// One decoded CloudTrail event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudTrailEvent {
    pub name: String,
    pub id: Option<String>,
    pub time: Option<String>,
    /// The account the call was made in (the member account).
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub actor: Actor,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub change: Change,
    /// Why the rule body could not be read, when the event still names its group or prefix
    /// list: the body is only a hint, so the hub re-reads what the event names (never fails
    /// open), while offline `check`, which has only the body, reports the error.
    pub unreadable: Option<DecodeError>,
}

impl CloudTrailEvent {
    /// The event, or the error of a rule body that could not be read.
    pub fn readable(self) -> Result<CloudTrailEvent, DecodeError> {
        match self.unreadable {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// Rules the event carries (empty for prefix lists, failures and ignored events).
    pub fn rules(&self) -> &[SecurityGroupRule] {
        match &self.change {
            Change::Authorized { rules, .. } | Change::Modified { rules, .. } => rules,
            _ => &[],
        }
    }

    /// The security groups the event touches.
    pub fn group_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rules()
            .iter()
            .filter_map(|r| r.group_id.clone())
            .collect();
        match &self.change {
            Change::Authorized {
                group_id: Some(id), ..
            }
            | Change::Modified {
                group_id: Some(id), ..
            } => ids.push(id.clone()),
            Change::TagsChanged { group_ids, .. } => ids.extend(group_ids.iter().cloned()),
            _ => {}
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// Copies the event's account and region onto rules that do not carry their own.
    pub(super) fn stamp_rules(&mut self) {
        let (account, region) = (self.account_id.clone(), self.region.clone());
        if let Change::Authorized { rules, .. } | Change::Modified { rules, .. } = &mut self.change
        {
            for rule in rules {
                if rule.account_id.is_none() {
                    rule.account_id.clone_from(&account);
                }
                if rule.region.is_none() {
                    rule.region.clone_from(&region);
                }
            }
        }
    }
}
