//! What a sweep covers: accounts (the organization, organizational units, the hub's own account
//! or a list) and regions (every enabled one or a list), parsed from the command line's and
//! the schedule payload's words before any AWS call.

use crate::aws::AwsError;
use crate::ids::{AccountId, IdError, OuId};

/// Which accounts to sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    /// Every active account of the organization (or below `ous`).
    Organization,
    /// The account of the credentials sgguard runs with.
    Hub,
    /// These accounts.
    List(Vec<String>),
}

/// Which regions to sweep in each account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// Every region enabled in the account (DescribeRegions).
    Enabled,
    /// These regions only (an explicit list narrows the sweep).
    List(Vec<String>),
}

impl Regions {
    /// The regions named; none for [`Regions::Enabled`] (the payloads' word for every enabled
    /// region is an empty list).
    pub fn named(&self) -> &[String] {
        match self {
            Regions::Enabled => &[],
            Regions::List(list) => list,
        }
    }
}

/// What a sweep covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub accounts: Accounts,
    /// Organizational units (or roots) whose accounts, nested units included, are swept; only
    /// with [`Accounts::Organization`].
    pub ous: Vec<String>,
    pub regions: Regions,
}

/// Why a scope cannot be swept as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("`{0}` is not an account id (12 digits), `org` or `self`")]
    BadAccount(String),
    #[error("`{0}` is not a region name (such as `eu-west-1`)")]
    BadRegion(String),
    #[error(transparent)]
    BadUnit(IdError),
    #[error(
        "`--ou` selects accounts of the organization: it cannot be combined with `--accounts {0}`"
    )]
    UnitsWithoutOrganization(String),
    #[error("{0}")]
    Aws(#[from] AwsError),
}

impl Scope {
    /// Parses the command line's (and the schedule payload's) words: `accounts` is `org`,
    /// `self` or account ids; `regions` is `all` or region names.
    pub fn parse(
        accounts: &[String],
        ous: &[String],
        regions: &[String],
    ) -> Result<Scope, ScopeError> {
        let accounts = match accounts {
            [] => Accounts::Organization,
            [one] if one == "org" => Accounts::Organization,
            [one] if one == "self" => Accounts::Hub,
            ids => {
                if let Some(bad) = ids.iter().find(|id| id.parse::<AccountId>().is_err()) {
                    return Err(ScopeError::BadAccount(bad.clone()));
                }
                let mut ids = ids.to_vec();
                ids.sort();
                ids.dedup();
                Accounts::List(ids)
            }
        };
        if !ous.is_empty() && accounts != Accounts::Organization {
            let given = match &accounts {
                Accounts::Hub => "self".to_owned(),
                Accounts::List(ids) => ids.join(","),
                Accounts::Organization => String::new(),
            };
            return Err(ScopeError::UnitsWithoutOrganization(given));
        }
        for ou in ous {
            ou.parse::<OuId>().map_err(ScopeError::BadUnit)?;
        }
        let regions = match regions {
            [] => Regions::Enabled,
            [one] if one == "all" => Regions::Enabled,
            names => {
                for name in names {
                    if !is_region_name(name) {
                        return Err(ScopeError::BadRegion(name.clone()));
                    }
                }
                let mut unique: Vec<String> = Vec::with_capacity(names.len());
                for name in names {
                    if !unique.contains(name) {
                        unique.push(name.clone());
                    }
                }
                Regions::List(unique)
            }
        };
        Ok(Scope {
            accounts,
            ous: ous.to_vec(),
            regions,
        })
    }
}

/// Whether `name` is written as AWS writes a region: `eu-west-1`, `us-gov-west-1`.
pub fn is_region_name(name: &str) -> bool {
    name.split('-').count() >= 3
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.ends_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn scopes_parse_and_bad_words_are_named() {
        let scope = Scope::parse(&words(&["org"]), &[], &words(&["all"])).unwrap();
        assert_eq!(
            (scope.accounts, scope.regions),
            (Accounts::Organization, Regions::Enabled)
        );
        let scope = Scope::parse(
            &words(&["222233334444", "111122223333", "222233334444"]),
            &[],
            &words(&["eu-west-1", "us-gov-west-1", "eu-west-1"]),
        )
        .unwrap();
        assert_eq!(
            scope.accounts,
            Accounts::List(words(&["111122223333", "222233334444"]))
        );
        assert_eq!(
            scope.regions,
            Regions::List(words(&["eu-west-1", "us-gov-west-1"]))
        );
        let error = Scope::parse(&words(&["1111"]), &[], &[]).unwrap_err();
        assert!(error.to_string().contains("`1111`"), "{error}");
        let error = Scope::parse(&[], &[], &words(&["EU-WEST-1"])).unwrap_err();
        assert!(error.to_string().contains("`EU-WEST-1`"), "{error}");
        let error = Scope::parse(&[], &words(&["sandbox"]), &[]).unwrap_err();
        assert!(error.to_string().contains("`sandbox`"), "{error}");
        assert!(Scope::parse(&words(&["self"]), &words(&["ou-ab12-cdef3456"]), &[]).is_err());
    }
}
