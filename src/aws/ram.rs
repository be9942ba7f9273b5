//! AWS RAM in a prefix list's owner account: who a customer-managed prefix list is shared with.
//! The owner's resource shares that hold the list, then their principals (both through
//! GetResourceShareAssociations, which answers for the shares the caller owns): account ids, and
//! organizational units or the whole organization, which the hub expands through Organizations.

use std::collections::BTreeSet;

use aws_sdk_ram::types::{
    ResourceShareAssociation, ResourceShareAssociationStatus, ResourceShareAssociationType,
};

use super::{Aws, AwsError, OrgAccount};
use crate::ids::{AccountId, Arn, OuId};

/// Who a prefix list is shared with: the accounts to re-check, and the principals that name no
/// account sgguard can check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedWith {
    pub accounts: std::collections::BTreeSet<String>,
    pub unreachable: Vec<String>,
}

impl Aws {
    /// A RAM client for `account` in `region`.
    pub async fn ram(&self, account: &str, region: &str) -> Result<Ram, AwsError> {
        let config = self.account_config(account, region).await?;
        Ok(Ram::new(aws_sdk_ram::Client::new(&config), account, region))
    }

    /// The accounts, other than `owner`, that `owner`'s prefix list is shared with through AWS
    /// RAM in `region`: the principals of the owner's resource shares that hold it (read through
    /// the owner's remediation role), organizational units and the organization expanded to
    /// their active accounts through Organizations. Principals that name no account are
    /// returned apart, to be reported.
    pub async fn prefix_list_consumers(
        &self,
        owner: &str,
        region: &str,
        prefix_list_id: &str,
    ) -> Result<SharedWith, AwsError> {
        let arn = format!(
            "arn:{}:ec2:{region}:{owner}:prefix-list/{prefix_list_id}",
            self.credentials.partition()
        );
        let principals = self
            .ram(owner, region)
            .await?
            .principals_sharing(&arn)
            .await?;
        let mut shared = SharedWith::default();
        let mut units = Vec::new();
        let mut organization = false;
        for principal in principals {
            match SharePrincipal::parse(&principal) {
                SharePrincipal::Account(id) => {
                    shared.accounts.insert(id);
                }
                SharePrincipal::Organization => organization = true,
                SharePrincipal::Unit(unit) => units.push(unit),
                SharePrincipal::Other(other) => shared.unreachable.push(other),
            }
        }
        let expanded = if organization {
            self.organization_accounts().await?
        } else if !units.is_empty() {
            self.accounts_under(&units).await?
        } else {
            Vec::new()
        };
        shared.accounts.extend(
            expanded
                .into_iter()
                .filter(OrgAccount::is_active)
                .map(|a| a.id),
        );
        shared.accounts.remove(owner);
        Ok(shared)
    }
}

/// Who a resource share is shared with, as RAM names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharePrincipal {
    /// An account id, or an IAM role or user of that account.
    Account(String),
    /// `arn:…:organizations::…:organization/o-…`: every account of the organization.
    Organization,
    /// `arn:…:organizations::…:ou/o-…/ou-…`: the accounts below the unit, nested units included.
    Unit(String),
    /// Anything else (a service principal): no account sgguard can check.
    Other(String),
}

impl SharePrincipal {
    pub fn parse(principal: &str) -> SharePrincipal {
        if let Ok(id) = principal.parse::<AccountId>() {
            return SharePrincipal::Account(id.to_string());
        }
        let other = || SharePrincipal::Other(principal.to_owned());
        let Ok(arn) = principal.parse::<Arn>() else {
            return other();
        };
        match (arn.service(), arn.region()) {
            ("organizations", "") => {
                let resource = arn.resource();
                if resource.starts_with("organization/o-") {
                    SharePrincipal::Organization
                } else if let Some(path) = resource.strip_prefix("ou/") {
                    match path.rsplit('/').next().map(str::parse::<OuId>) {
                        Some(Ok(unit)) if !unit.is_root() => SharePrincipal::Unit(unit.to_string()),
                        _ => other(),
                    }
                } else {
                    other()
                }
            }
            ("iam", "") => arn
                .account_id()
                .map_or_else(other, |id| SharePrincipal::Account(id.to_string())),
            _ => other(),
        }
    }
}

/// RAM in one account and region.
pub struct Ram {
    client: aws_sdk_ram::Client,
    account: String,
    region: String,
}

impl Ram {
    pub fn new(client: aws_sdk_ram::Client, account: &str, region: &str) -> Self {
        Ram {
            client,
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    fn error<E>(&self, error: &E) -> AwsError
    where
        E: aws_sdk_ram::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        AwsError::new(
            "GetResourceShareAssociations",
            &self.account,
            &self.region,
            error,
        )
    }

    /// The principals of this account's resource shares that hold `resource_arn` (associated
    /// ones only), sorted and deduplicated; empty when the resource is not shared.
    pub async fn principals_sharing(&self, resource_arn: &str) -> Result<Vec<String>, AwsError> {
        let shares: BTreeSet<String> = self
            .associations(
                ResourceShareAssociationType::Resource,
                Some(resource_arn),
                None,
            )
            .await?
            .iter()
            .filter_map(|a| a.resource_share_arn().map(str::to_owned))
            .collect();
        if shares.is_empty() {
            return Ok(Vec::new());
        }
        let shares = Some(shares.into_iter().collect());
        let principals: BTreeSet<String> = self
            .associations(ResourceShareAssociationType::Principal, None, shares)
            .await?
            .iter()
            .filter_map(|a| a.associated_entity().map(str::to_owned))
            .collect();
        Ok(principals.into_iter().collect())
    }

    /// The associated resources or principals (`kind`) of this account's resource shares that
    /// hold `resource_arn`, or of the `shares`, every page read.
    async fn associations(
        &self,
        kind: ResourceShareAssociationType,
        resource_arn: Option<&str>,
        shares: Option<Vec<String>>,
    ) -> Result<Vec<ResourceShareAssociation>, AwsError> {
        let mut pages = self
            .client
            .get_resource_share_associations()
            .association_type(kind)
            .set_resource_arn(resource_arn.map(str::to_owned))
            .set_resource_share_arns(shares)
            .association_status(ResourceShareAssociationStatus::Associated)
            .into_paginator()
            .send();
        let mut associations = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error(&e))?;
            associations.extend_from_slice(page.resource_share_associations());
        }
        Ok(associations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_name_accounts_units_or_the_organization() {
        let parse = SharePrincipal::parse;
        let account = |id: &str| SharePrincipal::Account(id.to_owned());
        assert_eq!(parse("111122223333"), account("111122223333"));
        assert_eq!(
            parse("arn:aws:organizations::999999999999:organization/o-abc123defg"),
            SharePrincipal::Organization
        );
        assert_eq!(
            parse("arn:aws:organizations::999999999999:ou/o-abc123defg/ou-ab12-cdef3456"),
            SharePrincipal::Unit("ou-ab12-cdef3456".to_owned())
        );
        assert_eq!(
            parse("arn:aws-us-gov:iam::444455556666:role/network-admin"),
            account("444455556666")
        );
        for other in [
            "ec2.amazonaws.com",
            "1111",
            "arn:aws:organizations::999999999999:policy/p-1",
        ] {
            assert_eq!(parse(other), SharePrincipal::Other(other.to_owned()));
        }
    }
}
