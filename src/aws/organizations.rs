//! Organizations: the accounts a sweep walks — the whole organization, or the accounts below
//! chosen organizational units (nested units included). Accounts that are not active
//! (suspended, pending closure) are returned apart: they are skipped, and the report says so.

use std::collections::BTreeMap;

use aws_sdk_organizations::types::{Account, AccountStatus, ChildType, ParentType};

use super::AwsError;
use crate::ids::{OuId, ScopeId};

/// A member account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, as Organizations says it.
    pub status: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active.as_str()
    }

    fn from_api(account: &Account) -> Option<OrgAccount> {
        Some(OrgAccount {
            id: account.id()?.to_owned(),
            name: account.name().map(str::to_owned),
            status: account
                .status()
                .map_or("ACTIVE", AccountStatus::as_str)
                .to_owned(),
        })
    }
}

fn error<E>(operation: &'static str, target: &str, error: &E) -> AwsError
where
    E: aws_sdk_organizations::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut error = AwsError::new(operation, "hub", "global", error);
    if !target.is_empty() {
        error.message = format!("{target}: {}", error.message);
    }
    error
}

/// Every account of the organization (ListAccounts, paginated), sorted by id.
pub async fn all_accounts(
    organizations: &aws_sdk_organizations::Client,
) -> Result<Vec<OrgAccount>, AwsError> {
    let mut pages = organizations.list_accounts().into_paginator().send();
    let mut accounts = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("ListAccounts", "", &e))?;
        for account in page.accounts().iter().filter_map(OrgAccount::from_api) {
            accounts.insert(account.id.clone(), account);
        }
    }
    Ok(accounts.into_values().collect())
}

/// The accounts below the given organizational units (or roots), nested units included,
/// sorted by id. An unknown unit is an error naming it.
pub async fn accounts_under(
    organizations: &aws_sdk_organizations::Client,
    parents: &[String],
) -> Result<Vec<OrgAccount>, AwsError> {
    let mut accounts = BTreeMap::new();
    let mut pending: Vec<String> = parents.to_vec();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(parent) = pending.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let target = format!("organizational unit `{parent}`");
        let mut pages = organizations
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error("ListAccountsForParent", &target, &e))?;
            for account in page.accounts().iter().filter_map(OrgAccount::from_api) {
                accounts.insert(account.id.clone(), account);
            }
        }
        let mut pages = organizations
            .list_children()
            .parent_id(&parent)
            .child_type(ChildType::OrganizationalUnit)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error("ListChildren", &target, &e))?;
            pending.extend(
                page.children()
                    .iter()
                    .filter_map(|c| c.id().map(str::to_owned)),
            );
        }
    }
    Ok(accounts.into_values().collect())
}

/// The organizational units above an account, nearest first, then the root (ListParents,
/// upwards). Nesting is at most five units deep; a longer chain is an error, never a loop.
pub async fn units_above(
    organizations: &aws_sdk_organizations::Client,
    account: &str,
) -> Result<Vec<String>, AwsError> {
    let target = format!("account `{account}`");
    let mut units = Vec::new();
    let mut child = account.to_owned();
    for _ in 0..8 {
        let output = organizations
            .list_parents()
            .child_id(&child)
            .send()
            .await
            .map_err(|e| error("ListParents", &target, &e))?;
        let Some(parent) = output.parents().first() else {
            return Err(AwsError {
                operation: "ListParents",
                account: "hub".to_owned(),
                region: "global".to_owned(),
                code: None,
                message: format!("{target}: `{child}` has no parent"),
            });
        };
        let id = parent.id().unwrap_or_default().to_owned();
        let root = parent.r#type() == Some(&ParentType::Root)
            || id.parse::<OuId>().is_ok_and(|unit| unit.is_root());
        units.push(id.clone());
        if root {
            return Ok(units);
        }
        child = id;
    }
    Err(AwsError {
        operation: "ListParents",
        account: "hub".to_owned(),
        region: "global".to_owned(),
        code: None,
        message: format!("{target}: no root within 8 parents"),
    })
}

/// The organization's management account (DescribeOrganization).
pub async fn management_account(
    organizations: &aws_sdk_organizations::Client,
) -> Result<String, AwsError> {
    let output = organizations
        .describe_organization()
        .send()
        .await
        .map_err(|e| error("DescribeOrganization", "", &e))?;
    Ok(output
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap_or_default()
        .to_owned())
}

/// Whether the organization has `scope`: an account (DescribeAccount), an organizational unit
/// (DescribeOrganizationalUnit) or a root (ListRoots). Not found is `false`; any other failure
/// is an error.
pub async fn has_scope(
    organizations: &aws_sdk_organizations::Client,
    scope: &ScopeId,
) -> Result<bool, AwsError> {
    let target = format!("`{}`", scope.as_str());
    match scope {
        ScopeId::Account(id) => {
            match organizations
                .describe_account()
                .account_id(id.as_str())
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_account_not_found_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(error("DescribeAccount", &target, &e)),
            }
        }
        ScopeId::Unit(id) if id.is_root() => {
            let mut roots = organizations.list_roots().into_paginator().send();
            while let Some(page) = roots.next().await {
                let page = page.map_err(|e| error("ListRoots", &target, &e))?;
                if page.roots().iter().any(|r| r.id() == Some(id.as_str())) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        ScopeId::Unit(id) => {
            match organizations
                .describe_organizational_unit()
                .organizational_unit_id(id.as_str())
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_organizational_unit_not_found_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(error("DescribeOrganizationalUnit", &target, &e)),
            }
        }
    }
}
