//! Coverage: for every account × region in scope, whether a change there reaches sgguard and
//! can be revoked — the spoke StackSet has a current instance there, the forwarding rule is
//! present, enabled and sends to the hub, and the remediation role can be assumed. The
//! management account (which a service-managed StackSet never deploys to) and the hub account
//! (whose home region the hub's own rule covers) are told apart.

use futures_util::stream::{self, StreamExt};

use super::scope::{Regions, Scope, ScopeError};
use super::tamper::{FORWARDING_RULE, TamperCheck};
use super::{HubApi, SecurityGroups};
use crate::aws::{OrgAccount, StackInstance};
use crate::outcome::Skipped;
pub use crate::outcome::{Coverage, Place};

/// Account × regions checked at once.
const CONCURRENCY: usize = 16;

/// The StackSet whose instances are checked.
#[derive(Debug, Clone)]
pub struct StackSet {
    pub name: String,
    /// `SELF` or `DELEGATED_ADMIN`.
    pub call_as: String,
}

/// Checks the coverage of `scope`'s accounts and regions.
pub struct CoverageCheck<'a, H> {
    pub hub: &'a H,
    /// The StackSet whose instances are checked; `None`: instances are not checked.
    pub stack_set: Option<&'a StackSet>,
    /// The forwarding rule's expected shape and target.
    pub tamper: &'a TamperCheck,
    /// The accounts of the scope (active ones), as the sweep lists them.
    pub accounts: Vec<OrgAccount>,
}

impl<H: HubApi> CoverageCheck<'_, H> {
    pub async fn run(&self, scope: &Scope) -> Result<Coverage, ScopeError> {
        let hub = self.hub.hub_account().to_owned();
        let home = self.hub.home_region().to_owned();
        let mut errors = Vec::new();
        let instances = match self.stack_set {
            None => None,
            Some(set) => match self.hub.stack_instances(&set.name, &set.call_as).await {
                Ok(instances) => Some(instances),
                Err(error) => {
                    errors.push(format!(
                        "the StackSet's instances could not be listed: {error}"
                    ));
                    None
                }
            },
        };
        let management = self.hub.management_account().await.ok();

        // Each account's regions: those asked, else those the account has enabled.
        let mut places: Vec<(OrgAccount, String, Result<(), String>)> = Vec::new();
        for account in &self.accounts {
            let reached = self.hub.security_groups(&account.id, &home).await;
            let role = reached
                .as_ref()
                .map(|_| ())
                .map_err(|e| format!("the remediation role cannot be assumed: {e}"));
            let regions = match (&scope.regions, &reached) {
                (Regions::List(list), _) => list.clone(),
                (Regions::Enabled, Ok(ec2)) => match ec2.enabled_regions().await {
                    Ok(regions) => regions,
                    Err(error) => {
                        errors.push(format!("account {}: {error}", account.id));
                        continue;
                    }
                },
                (Regions::Enabled, Err(_)) => {
                    // The account's own regions cannot be read: judge where the StackSet is.
                    let mut regions: Vec<String> = instances
                        .iter()
                        .flatten()
                        .map(|i| i.region.clone())
                        .collect();
                    regions.sort();
                    regions.dedup();
                    if regions.is_empty() {
                        regions.push(home.clone());
                    }
                    regions
                }
            };
            for region in regions {
                places.push((account.clone(), region, role.clone()));
            }
        }

        let context = Judge {
            hub: self.hub,
            tamper: self.tamper,
            instances: instances.as_deref(),
            stack_set_checked: self.stack_set.is_some() && instances.is_some(),
            hub_account: &hub,
            home: &home,
            management: management.as_deref(),
        };
        let mut judged: Vec<Place> = stream::iter(places)
            .map(|(account, region, role)| context.place(account, region, role))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        judged.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
        let skipped = judged.iter().filter(|p| p.skipped.is_some()).count();
        let covered = judged.iter().filter(|p| p.covered).count();
        Ok(Coverage {
            stack_set: self.stack_set.map(|s| s.name.clone()),
            management_account: management,
            hub_account: hub,
            not_covered: judged.len() - covered - skipped,
            covered,
            skipped,
            places: judged,
            errors,
        })
    }
}

struct Judge<'a, H> {
    hub: &'a H,
    tamper: &'a TamperCheck,
    instances: Option<&'a [StackInstance]>,
    stack_set_checked: bool,
    hub_account: &'a str,
    home: &'a str,
    management: Option<&'a str>,
}

impl<H: HubApi> Judge<'_, H> {
    async fn place(&self, account: OrgAccount, region: String, role: Result<(), String>) -> Place {
        let is_hub = account.id == self.hub_account;
        let is_management = self.management == Some(account.id.as_str()) && !is_hub;
        let mut problems = Vec::new();
        let mut place = Place {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            region: region.clone(),
            stack: "not checked".to_owned(),
            rule: "not checked".to_owned(),
            role: if is_hub {
                "hub".to_owned()
            } else if role.is_ok() {
                "assumed".to_owned()
            } else {
                "not assumable".to_owned()
            },
            covered: false,
            problems: Vec::new(),
            skipped: None,
        };
        if let Err(error) = role {
            problems.push(error);
        }

        // The stack instance.
        let instance = self.instances.and_then(|all| {
            all.iter()
                .find(|i| i.account == account.id && i.region == region)
        });
        if self.stack_set_checked {
            place.stack = match instance {
                Some(i) if i.status == "CURRENT" => "CURRENT".to_owned(),
                Some(i) => {
                    let status = if i.detailed_status.is_empty() {
                        i.status.clone()
                    } else {
                        format!("{} ({})", i.status, i.detailed_status)
                    };
                    problems.push(format!(
                        "the spoke stack instance is {status}{}",
                        i.reason
                            .as_deref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ));
                    status
                }
                None if is_hub => "hub account".to_owned(),
                None if is_management => "management account".to_owned(),
                None => {
                    problems.push(
                        "no spoke stack instance: the StackSet does not deploy to this account \
                         and region (is the account in one of its OUs, the region in its \
                         regions?)"
                            .to_owned(),
                    );
                    "missing".to_owned()
                }
            };
        }

        // The forwarding rule (through the role; the hub reads its own).
        if place.role != "not assumable" {
            match self
                .hub
                .forwarding_rule(&account.id, &region, FORWARDING_RULE)
                .await
            {
                Err(error) if error.is_denied_by_scp() => {
                    place.skipped = Some(Skipped::DeniedByPolicy);
                    place.rule = Skipped::DeniedByPolicy.to_string();
                    return place;
                }
                Err(error) => {
                    place.rule = "not readable".to_owned();
                    problems.push(format!("the forwarding rule cannot be read: {error}"));
                }
                Ok(None) if is_hub && region == self.home => {
                    place.rule = "hub rule".to_owned();
                }
                Ok(rule) => {
                    place.rule = match &rule {
                        None => "missing".to_owned(),
                        Some(rule) => rule.state.clone(),
                    };
                    let rule_problems = self.tamper.rule_problems(&account.id, rule.as_ref());
                    if is_management && rule.is_none() {
                        problems.push(
                            "the management account gets no instance of a service-managed \
                             StackSet: deploy spoke-infra/sgguard-spoke.yaml there as a stack"
                                .to_owned(),
                        );
                    } else {
                        problems.extend(rule_problems);
                    }
                }
            }
        }
        place.covered = problems.is_empty();
        place.problems = problems;
        place
    }
}

/// The scope's active accounts, listed as the sweep lists them.
pub async fn accounts_in<H: HubApi>(hub: &H, scope: &Scope) -> Result<Vec<OrgAccount>, ScopeError> {
    let accounts = super::sweep::accounts(hub, scope).await?;
    Ok(accounts.into_iter().filter(OrgAccount::is_active).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::fake::{self, Fake};

    const COVERED: &str = "111122223333";
    const NO_STACK: &str = "444455556666";
    const LOCKED: &str = "777788889999";
    const MANAGEMENT: &str = "121212121212";

    fn instance(account: &str) -> StackInstance {
        StackInstance {
            account: account.to_owned(),
            region: "eu-west-1".to_owned(),
            status: "CURRENT".to_owned(),
            detailed_status: String::new(),
            reason: None,
        }
    }

    #[tokio::test]
    async fn each_place_is_told_covered_or_why_not() {
        let hub = Fake::default()
            .member(COVERED, "covered", Some(Fake::default()))
            .member(NO_STACK, "no-stack", Some(Fake::default()))
            .member(LOCKED, "locked", None)
            .member(MANAGEMENT, "management", Some(Fake::default()))
            .management(MANAGEMENT)
            .with_stack_instance(instance(COVERED))
            .with_forwarding_rule(COVERED, "eu-west-1", fake::intact_forwarding_rule(COVERED))
            .with_forwarding_rule(
                NO_STACK,
                "eu-west-1",
                fake::intact_forwarding_rule(NO_STACK),
            );
        let tamper = fake::tamper_check(Vec::new());
        let scope = Scope::parse(&["org".to_owned()], &[], &[]).unwrap();
        let stack_set = StackSet {
            name: "sgguard-spoke".to_owned(),
            call_as: "SELF".to_owned(),
        };
        let coverage = CoverageCheck {
            hub: &hub,
            stack_set: Some(&stack_set),
            tamper: &tamper,
            accounts: accounts_in(&hub, &scope).await.unwrap(),
        }
        .run(&scope)
        .await
        .unwrap();

        assert_eq!(coverage.management_account.as_deref(), Some(MANAGEMENT));
        assert_eq!((coverage.covered, coverage.not_covered), (1, 3));
        let place = |account: &str| {
            coverage
                .places
                .iter()
                .find(|p| p.account_id == account)
                .unwrap()
        };
        assert!(place(COVERED).covered);
        assert_eq!(place(COVERED).stack, "CURRENT");
        assert!(place(NO_STACK).problems[0].contains("no spoke stack instance"));
        assert_eq!(place(LOCKED).role, "not assumable");
        assert_eq!(place(MANAGEMENT).stack, "management account");
        assert!(
            place(MANAGEMENT).problems[0].contains("deploy spoke-infra/sgguard-spoke.yaml"),
            "{:?}",
            place(MANAGEMENT).problems
        );
    }
}
