//! AWS identifiers, each parsed and validated once: account ids, organizational unit and root
//! ids (AWS Organizations' patterns), the scope ids of staged enforcement (either of them),
//! and ARNs split into their parts. Settings, the baseline and the command line parse into
//! these; everything after them trusts the type.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// `Display`, `AsRef<str>` and `Borrow<str>` for each id: its text as AWS writes it.
macro_rules! as_text {
    ($($id:ty),*) => {$(
        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $id {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Borrow<str> for $id {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
    )*};
}

/// An id that is its validated text (its `FromStr` is the one validation), written and read
/// as that text by serde.
macro_rules! text_id {
    ($(#[$doc:meta])* $id:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            serde_with::SerializeDisplay,
            serde_with::DeserializeFromStr,
        )]
        pub struct $id(String);

        impl $id {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        as_text!($id);
    };
}

/// Why a text is not the identifier it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not an account id (12 digits)")]
    Account(String),
    #[error("`{0}` is not an organizational unit or root id (`ou-…`, `r-…`)")]
    Unit(String),
    #[error(
        "`{0}` is not an account id (12 digits), organizational unit id (`ou-…`) or root id (`r-…`)"
    )]
    Scope(String),
    #[error("`{0}` is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")]
    Arn(String),
}

text_id! {
    /// An AWS account id: 12 digits.
    AccountId
}

impl FromStr for AccountId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(text.to_owned()))
        } else {
            Err(IdError::Account(text.to_owned()))
        }
    }
}

text_id! {
    /// An organizational unit id (`ou-` + the root's 4–32 lowercase letters or digits + `-` +
    /// 8–32 more) or a root id (`r-` + 4–32 lowercase letters or digits): a parent in AWS
    /// Organizations; where a unit can stand, a root can too.
    OuId
}

impl OuId {
    /// Whether this is the organization's root (`r-…`).
    pub fn is_root(&self) -> bool {
        self.0.starts_with("r-")
    }
}

/// Whether `part` is `min` to 32 lowercase letters or digits.
fn id_part(part: &str, min: usize) -> bool {
    (min..=32).contains(&part.len())
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl FromStr for OuId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unit = text
            .strip_prefix("ou-")
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(root, unit)| id_part(root, 4) && id_part(unit, 8));
        let root = text.strip_prefix("r-").is_some_and(|rest| id_part(rest, 4));
        if unit || root {
            Ok(OuId(text.to_owned()))
        } else {
            Err(IdError::Unit(text.to_owned()))
        }
    }
}

/// What a scope of staged enforcement names: an account, or a unit (or root) and the accounts
/// below it. Ordered and compared as its text, so a map keyed by it is looked up by `&str`.
#[derive(
    Debug, Clone, PartialEq, Eq, serde_with::SerializeDisplay, serde_with::DeserializeFromStr,
)]
pub enum ScopeId {
    Account(AccountId),
    Unit(OuId),
}

impl ScopeId {
    pub fn as_str(&self) -> &str {
        match self {
            ScopeId::Account(id) => id.as_str(),
            ScopeId::Unit(id) => id.as_str(),
        }
    }
}

impl FromStr for ScopeId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse()
            .map(ScopeId::Account)
            .or_else(|_| text.parse().map(ScopeId::Unit))
            .map_err(|_| IdError::Scope(text.to_owned()))
    }
}

impl Ord for ScopeId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for ScopeId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for ScopeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// An ARN, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, and its parts. The partition,
/// service and resource are never empty; the region and account may be (IAM, S3,
/// Organizations), and the resource may hold `:` and `/`.
#[derive(
    Debug, Clone, PartialEq, Eq, serde_with::SerializeDisplay, serde_with::DeserializeFromStr,
)]
pub struct Arn {
    text: String,
    partition: String,
    service: String,
    region: String,
    account: String,
    resource: String,
}

impl Arn {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub fn partition(&self) -> &str {
        &self.partition
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Empty for global resources (IAM, Organizations).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account as the ARN writes it; empty for some services (S3 buckets).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The account, when the ARN names one by its id.
    pub fn account_id(&self) -> Option<AccountId> {
        self.account.parse().ok()
    }

    /// Everything after the account: `role/NAME`, `event-bus/NAME`, a topic's name, …
    pub fn resource(&self) -> &str {
        &self.resource
    }
}

impl FromStr for Arn {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.splitn(6, ':');
        let mut next = || parts.next().map(str::to_owned);
        let (
            Some(prefix),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (next(), next(), next(), next(), next(), next())
        else {
            return Err(IdError::Arn(text.to_owned()));
        };
        if prefix != "arn" || partition.is_empty() || service.is_empty() || resource.is_empty() {
            return Err(IdError::Arn(text.to_owned()));
        }
        Ok(Arn {
            text: text.to_owned(),
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

as_text!(ScopeId);

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Arn {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        let id: AccountId = "111122223333".parse().unwrap();
        assert_eq!(id.to_string(), "111122223333");
        for bad in ["1111", "1111222233334", "11112222333x", " 111122223333", ""] {
            let error = bad.parse::<AccountId>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("`{bad}` is not an account id (12 digits)")
            );
        }
    }

    #[test]
    fn unit_and_root_ids_follow_the_organizations_patterns() {
        for good in [
            "ou-ab12-cdef3456",
            "ou-ab12-3456789012345678",
            "ou-abcdefghijklmnopqrstuvwxyz012345-abcdefghijklmnopqrstuvwxyz012345",
            "r-ab12",
            "r-abcdefghijklmnopqrstuvwxyz012345",
        ] {
            let id: OuId = good.parse().unwrap();
            assert_eq!(id.to_string(), good);
            assert_eq!(id.is_root(), good.starts_with("r-"));
        }
        for bad in [
            "ou-",
            "ou-ab12",
            "ou-abc-cdef3456",
            "ou-ab12-cdef345",
            "OU-AB12-CDEF3456",
            "ou-AB12-cdef3456",
            "ou-ab12-cdef-3456",
            "r-",
            "r-ab1",
            "r-AB12",
            "r-abcdefghijklmnopqrstuvwxyz0123456",
            "sandbox",
            "111122223333",
        ] {
            let error = bad.parse::<OuId>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("`{bad}` is not an organizational unit or root id (`ou-…`, `r-…`)")
            );
        }
    }

    #[test]
    fn scope_ids_are_accounts_units_or_roots() {
        assert!(matches!("111122223333".parse(), Ok(ScopeId::Account(_))));
        assert!(matches!("ou-ab12-prod0001".parse(), Ok(ScopeId::Unit(_))));
        assert!(matches!("r-ab12".parse(), Ok(ScopeId::Unit(_))));
        for bad in [
            "1111",
            "ou-",
            "ou-abc",
            "prod",
            "r-",
            "OU-AB12-CD",
            "arn:aws:x",
        ] {
            let error = bad.parse::<ScopeId>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "`{bad}` is not an account id (12 digits), organizational unit id (`ou-…`) \
                     or root id (`r-…`)"
                )
            );
        }
        // Ordered as text, and found by text.
        let map: std::collections::BTreeMap<ScopeId, u8> = [
            ("r-ab12".parse().unwrap(), 1),
            ("ou-ab12-prod0001".parse().unwrap(), 2),
            ("111122223333".parse().unwrap(), 3),
        ]
        .into();
        assert_eq!(map.get("ou-ab12-prod0001"), Some(&2));
        let order: Vec<&str> = map.keys().map(ScopeId::as_str).collect();
        assert_eq!(order, ["111122223333", "ou-ab12-prod0001", "r-ab12"]);
    }

    #[test]
    fn arns_split_into_their_parts() {
        let arn: Arn = "arn:aws-us-gov:events:us-gov-west-1:111122223333:event-bus/hub"
            .parse()
            .unwrap();
        assert_eq!(
            (
                arn.partition(),
                arn.service(),
                arn.region(),
                arn.account(),
                arn.resource()
            ),
            (
                "aws-us-gov",
                "events",
                "us-gov-west-1",
                "111122223333",
                "event-bus/hub"
            )
        );
        assert_eq!(
            arn.account_id().map(|a| a.to_string()).as_deref(),
            Some("111122223333")
        );
        assert_eq!(
            arn.to_string(),
            "arn:aws-us-gov:events:us-gov-west-1:111122223333:event-bus/hub"
        );
        // Global services: no region; the resource keeps its own `:` and `/`.
        let arn: Arn = "arn:aws:iam::111122223333:role/path/name".parse().unwrap();
        assert_eq!((arn.region(), arn.resource()), ("", "role/path/name"));
        let arn: Arn = "arn:aws:logs:eu-west-1:111122223333:log-group:x:*"
            .parse()
            .unwrap();
        assert_eq!(arn.resource(), "log-group:x:*");
        let arn: Arn = "arn:aws:iam::aws:policy/ReadOnlyAccess".parse().unwrap();
        assert_eq!((arn.account(), arn.account_id()), ("aws", None));
        for bad in [
            "",
            "111122223333",
            "arn:aws:sns:eu-west-1:111122223333",
            "arn::sns:eu-west-1:111122223333:topic",
            "arn:aws::eu-west-1:111122223333:topic",
            "arn:aws:sns:eu-west-1:111122223333:",
            "urn:aws:sns:eu-west-1:111122223333:topic",
        ] {
            let error = bad.parse::<Arn>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("`{bad}` is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")
            );
        }
    }

    #[test]
    fn ids_are_json_strings_both_ways() {
        let id: AccountId = serde_json::from_str("\"111122223333\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"111122223333\"");
        let error = serde_json::from_str::<OuId>("\"ou-x\"").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`ou-x` is not an organizational unit"),
            "{error}"
        );
        let arn: Arn = serde_json::from_str("\"arn:aws:sns:eu-west-1:111122223333:t\"").unwrap();
        assert_eq!(
            serde_json::to_value(&arn).unwrap(),
            "arn:aws:sns:eu-west-1:111122223333:t"
        );
    }
}
