//! Coverage: for every account × region in scope, whether a change there reaches sgguard and
//! can be revoked — the spoke StackSet has a current instance there, the forwarding rule is
//! present, enabled and sends to the hub, and the remediation role can be assumed (or, when the
//! accounts are reached through another role such as the read-only audit role, is there and
//! trusts the hub's principals). The
//! management account (which a service-managed StackSet never deploys to) and the hub account
//! (whose home region the hub's own rule covers) are told apart. After a sweep with the spoke
//! check (the scheduled sweep), what the sweep read is judged, not read again: its accounts'
//! regions and each region's forwarding rule.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use super::scope::{Regions, Scope, ScopeError};
use super::tamper::{FORWARDING_RULE, TamperCheck};
use super::{HubApi, SecurityGroups};
use crate::aws::{OrgAccount, StackInstance};
use crate::outcome::{AccountSummary, RegionSummary, RuleSeen, Skipped, SweepReport};
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
    /// The sweep that just read these accounts (the scheduled sweep): the regions and the
    /// forwarding rules it saw are judged, not read again; none (`sgguard coverage`): all is
    /// read.
    pub swept: Option<&'a SweepReport>,
    /// How the remediation role is judged: assumed, or read through another role.
    pub role_check: RoleCheck,
}

/// How coverage knows the remediation role of an account works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleCheck {
    /// The accounts are reached through the remediation role itself: assumed is enough.
    Assume,
    /// The accounts are reached through another role (the audit role, whose callers the
    /// remediation role does not trust): the remediation role is read through it, and must be
    /// there and trust the hub's principals (`TamperCheck::trusted`).
    ReadThrough,
}

/// The remediation role of one account, as found.
#[derive(Debug, Clone)]
enum RoleFound {
    /// Assumed.
    Assumed,
    /// Read through the role the account was reached with: there, and trusting the hub.
    Present,
    /// The role the account is reached through cannot be assumed: nothing read there.
    Unreachable(String),
    /// Read through another role: missing, unreadable, or trusting the wrong principals.
    Unusable(Vec<String>),
}

impl RoleFound {
    /// The coverage table's ROLE column.
    fn label(&self) -> &'static str {
        match self {
            RoleFound::Assumed => "assumed",
            RoleFound::Present => "present",
            RoleFound::Unreachable(_) => "not assumable",
            RoleFound::Unusable(_) => "not usable",
        }
    }
}

/// The forwarding rule of one place, as read here or by the sweep.
enum Seen {
    /// A service control policy denies the region.
    Denied,
    /// What was read, and what is wrong with a rule that is there (or why it is unreadable).
    Rule(RuleSeen, Vec<String>),
}

/// One account × region to judge: the remediation role found, and what the sweep saw there.
struct ToJudge {
    account: OrgAccount,
    region: String,
    role: RoleFound,
    seen: Option<Seen>,
}

/// What the sweep saw: its reached accounts, and the tampering of each account × region.
struct Swept<'r> {
    accounts: HashMap<&'r str, &'r AccountSummary>,
    tampering: HashMap<(&'r str, &'r str), Vec<String>>,
}

impl<'r> Swept<'r> {
    fn of(report: &'r SweepReport) -> Swept<'r> {
        let mut tampering: HashMap<(&str, &str), Vec<String>> = HashMap::new();
        for t in &report.tampering {
            if let Some(region) = &t.region {
                tampering
                    .entry((&t.account_id, region))
                    .or_default()
                    .push(t.problem.clone());
            }
        }
        Swept {
            // Only the accounts it reached: the others are reached (or not) here.
            accounts: report
                .accounts
                .iter()
                .filter(|a| a.error.is_none())
                .map(|a| (a.account_id.as_str(), a))
                .collect(),
            tampering,
        }
    }

    /// What the sweep saw of `region` in `account`; none when it did not read the rule
    /// (out of time, or swept without the spoke check).
    fn seen(&self, account: &str, region: &RegionSummary) -> Option<Seen> {
        if region.skipped == Some(Skipped::DeniedByPolicy) {
            return Some(Seen::Denied);
        }
        let rule = region.forwarding_rule.clone()?;
        let problems = self
            .tampering
            .get(&(account, region.region.as_str()))
            .cloned()
            .unwrap_or_default();
        Some(Seen::Rule(rule, problems))
    }
}

impl<H: HubApi> CoverageCheck<'_, H> {
    /// The remediation role of `account`, read through the role the account is reached with.
    async fn read_role(&self, account: &str) -> RoleFound {
        let role = &self.tamper.remediation_role;
        let problems = match self.hub.remediation_role_trust(account, role).await {
            Ok(document) => self.tamper.trust_problems(document.as_deref()),
            Err(error) => vec![format!(
                "the remediation role `{role}` cannot be read: {error}"
            )],
        };
        if problems.is_empty() {
            RoleFound::Present
        } else {
            RoleFound::Unusable(problems)
        }
    }

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

        // Each account's regions: those the sweep swept, else those asked, else those the
        // account has enabled.
        let swept = self.swept.map(Swept::of);
        let mut places: Vec<ToJudge> = Vec::new();
        for account in &self.accounts {
            if let Some(summary) = swept
                .as_ref()
                .and_then(|s| s.accounts.get(account.id.as_str()))
            {
                for region in &summary.regions {
                    let seen = swept.as_ref().and_then(|s| s.seen(&account.id, region));
                    places.push(ToJudge {
                        account: account.clone(),
                        region: region.region.clone(),
                        role: RoleFound::Assumed,
                        seen,
                    });
                }
                continue;
            }
            let reached = self.hub.security_groups(&account.id, &home).await;
            let role = match (&reached, self.role_check) {
                (Err(e), RoleCheck::Assume) => {
                    RoleFound::Unreachable(format!("the remediation role cannot be assumed: {e}"))
                }
                (Err(e), RoleCheck::ReadThrough) => RoleFound::Unreachable(format!(
                    "the role coverage reaches the account through cannot be assumed: {e}"
                )),
                (Ok(_), RoleCheck::Assume) => RoleFound::Assumed,
                (Ok(_), RoleCheck::ReadThrough) if account.id == hub => RoleFound::Assumed,
                (Ok(_), RoleCheck::ReadThrough) => self.read_role(&account.id).await,
            };
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
                places.push(ToJudge {
                    account: account.clone(),
                    region,
                    role: role.clone(),
                    seen: None,
                });
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
            .map(|to_judge| context.place(to_judge))
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
    async fn place(
        &self,
        ToJudge {
            account,
            region,
            role,
            seen,
        }: ToJudge,
    ) -> Place {
        let is_hub = account.id == self.hub_account;
        let is_management = self.management == Some(account.id.as_str()) && !is_hub;
        let mut problems = Vec::new();
        let mut place = Place {
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            region: region.clone(),
            stack: "not checked".to_owned(),
            rule: "not checked".to_owned(),
            role: if is_hub { "hub" } else { role.label() }.to_owned(),
            covered: false,
            problems: Vec::new(),
            skipped: None,
        };
        let reachable = !matches!(role, RoleFound::Unreachable(_));
        match role {
            RoleFound::Assumed | RoleFound::Present => {}
            RoleFound::Unreachable(problem) => problems.push(problem),
            RoleFound::Unusable(found) => problems.extend(found),
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

        // The forwarding rule (through the role; the hub reads its own), unless the sweep
        // read it.
        if reachable {
            let seen = match seen {
                Some(seen) => seen,
                None => self.read(&account.id, &region, is_hub).await,
            };
            let (rule, rule_problems) = match seen {
                Seen::Denied => {
                    place.skipped = Some(Skipped::DeniedByPolicy);
                    place.rule = Skipped::DeniedByPolicy.to_string();
                    return place;
                }
                Seen::Rule(rule, problems) => (rule, problems),
            };
            place.rule = rule.as_str().to_owned();
            match rule {
                RuleSeen::Missing if is_management => problems.push(
                    "the management account gets no instance of a service-managed StackSet: \
                     deploy spoke-infra/sgguard-spoke.yaml there as a stack"
                        .to_owned(),
                ),
                // Not covered wherever it is, deployed there or not (the sweep calls it a gap).
                RuleSeen::Missing => problems.extend(self.tamper.rule_problems(&account.id, None)),
                RuleSeen::HubRule => {}
                RuleSeen::Unreadable | RuleSeen::State(_) => problems.extend(rule_problems),
            }
        }
        place.covered = problems.is_empty();
        place.problems = problems;
        place
    }
}

impl<H: HubApi> Judge<'_, H> {
    /// The forwarding rule of `account` in `region`, read: what is wrong with one that is there
    /// or why it cannot be read (the hub's home region is the hub's own rule's).
    async fn read(&self, account: &str, region: &str, is_hub: bool) -> Seen {
        match self
            .hub
            .forwarding_rule(account, region, FORWARDING_RULE)
            .await
        {
            Err(error) if error.is_denied_by_scp() => Seen::Denied,
            Err(error) => Seen::Rule(
                RuleSeen::Unreadable,
                vec![format!("the forwarding rule cannot be read: {error}")],
            ),
            Ok(None) if is_hub && region == self.home => Seen::Rule(RuleSeen::HubRule, Vec::new()),
            Ok(None) => Seen::Rule(RuleSeen::Missing, Vec::new()),
            Ok(Some(rule)) => Seen::Rule(
                RuleSeen::State(rule.state.clone()),
                self.tamper.rule_problems(account, Some(&rule)),
            ),
        }
    }
}

/// The scope's active accounts, listed as the sweep lists them.
pub async fn accounts_in<H: HubApi>(hub: &H, scope: &Scope) -> Result<Vec<OrgAccount>, ScopeError> {
    let accounts = super::sweep::accounts(hub, scope).await?;
    Ok(accounts.into_iter().filter(OrgAccount::is_active).collect())
}

#[cfg(test)]
mod tests;
