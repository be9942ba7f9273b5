//! Enforcement: what happens to a finding. A pure planner decides (finding + mode → planned
//! outcome); the revoke then goes through [`SecurityGroups`], which the EC2 adapter implements in
//! AWS and an in-memory fake implements in unit tests. The event flow ([`event`]) and the
//! organization sweep ([`sweep`]) both act through [`act`], the one revoke path.

pub mod breaker;
pub mod coverage;
#[cfg(test)]
mod deliver_tests;
pub mod disposition;
pub mod event;
pub mod exemptions;
#[cfg(test)]
mod fake;
pub mod scheduled;
pub mod scope;
pub mod staging;
pub mod sweep;
pub mod tamper;

use std::collections::HashMap;
use std::future::Future;

use ipnet::IpNet;

use self::breaker::Budget;
use crate::aws::{Aws, AwsError, Ec2, RevokeOutcome, SharedWith};
use crate::finding::{Action, Finding, GroupInfo};
use crate::outcome::{FindingOutcome, Mode, Outcome};
use crate::report::deliver::Outlets;
use crate::rule::{Direction, Peer, SecurityGroupRule};

pub use crate::report::deliver::Outputs;

/// The security groups of one account and region, as enforcement reads and changes them.
pub trait SecurityGroups: Sync {
    /// The group's tags, or `None` when the group no longer exists.
    fn group(
        &self,
        group_id: &str,
    ) -> impl Future<Output = Result<Option<GroupInfo>, AwsError>> + Send;
    /// Every group of the region: tags, name and VPC.
    fn all_groups(
        &self,
    ) -> impl Future<Output = Result<HashMap<String, GroupInfo>, AwsError>> + Send;
    /// The ids of every group with this name (names are unique only within a VPC).
    fn group_ids_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// The live rules of one group (both directions), read now.
    fn group_rules(
        &self,
        group_id: &str,
    ) -> impl Future<Output = Result<Vec<SecurityGroupRule>, AwsError>> + Send;
    /// Every rule in the region.
    fn all_rules(&self) -> impl Future<Output = Result<Vec<SecurityGroupRule>, AwsError>> + Send;
    /// The entries of a managed prefix list.
    fn prefix_list_entries(
        &self,
        prefix_list_id: &str,
    ) -> impl Future<Output = Result<Vec<IpNet>, AwsError>> + Send;
    /// Revokes rules of one group by rule id; one outcome per rule id.
    fn revoke(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> impl Future<Output = Vec<(String, RevokeOutcome)>> + Send;
}

/// What the event flow needs of the hub: the member accounts' security groups (through the
/// remediation role), who a prefix list is shared with, account names, and where messages go
/// ([`Outlets`]).
pub trait HubApi: Outlets {
    type Groups: SecurityGroups;
    fn security_groups(
        &self,
        account: &str,
        region: &str,
    ) -> impl Future<Output = Result<Self::Groups, AwsError>> + Send;
    /// The accounts, other than `owner`, that `owner`'s prefix list is shared with through AWS
    /// RAM in `region` (and the principals that name no account).
    fn prefix_list_consumers(
        &self,
        owner: &str,
        region: &str,
        prefix_list_id: &str,
    ) -> impl Future<Output = Result<SharedWith, AwsError>> + Send;
    /// The account's name; `None` when it cannot be told (never a reason to fail).
    fn account_name(&self, account: &str) -> impl Future<Output = Option<String>> + Send;
    /// The organizational units above the account, nearest first, then the root (staged
    /// enforcement).
    fn account_units(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<std::sync::Arc<Vec<String>>, AwsError>> + Send;
    /// Imports findings (ASFF) into Security Hub in `account` and `region`; how many.
    fn import_findings(
        &self,
        account: &str,
        region: &str,
        findings: &[crate::finding::AsffFinding],
    ) -> impl Future<Output = Result<usize, AwsError>> + Send;
    /// The AWS partition the hub runs in (`aws`, `aws-us-gov`, `aws-cn`).
    fn partition(&self) -> String;
}

/// What a revocation was made for: the event it handled, or the sweep. Said as the finding's
/// `source`: `live:EVENT_ID` or `sweep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeSource {
    /// Handling one event (its CloudTrail id, or its name when it has none).
    Event(String),
    /// The organization sweep.
    Sweep,
}

impl std::fmt::Display for RevokeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RevokeSource::Event(id) => write!(f, "live:{id}"),
            RevokeSource::Sweep => f.write_str("sweep"),
        }
    }
}

/// What the planner decides for a finding before anything is called: the outcome if every
/// call succeeds.
pub fn plan(finding: &Finding, mode: Mode) -> Outcome {
    if finding.exempt {
        Outcome::Exempt
    } else if finding.action != Action::Revoke {
        Outcome::Reported
    } else if finding.protected.is_some() {
        // A protected group is never changed, in either mode: reported, not revoked.
        Outcome::Protected
    } else if finding.rule.rule_id.is_none() {
        // Without a rule id the exact rule cannot be named: report, never guess.
        Outcome::Reported
    } else if mode == Mode::Audit {
        Outcome::WouldRevoke
    } else {
        Outcome::Revoked
    }
}

/// Revokes (or would revoke) the group's violating rules as planned, within the breaker's
/// `budget`; returns every finding with what became of it. The event flow and the sweep share
/// this one revoke path.
pub async fn act<G: SecurityGroups>(
    groups: &G,
    group_id: &str,
    findings: Vec<Finding>,
    mode: Mode,
    source: &RevokeSource,
    budget: &Budget<'_>,
) -> Vec<FindingOutcome> {
    let mut recorded = Vec::with_capacity(findings.len());
    for mut finding in findings {
        finding.source = Some(source.to_string());
        let mut entry = FindingOutcome {
            outcome: plan(&finding, mode),
            finding,
            group: None,
            attribution: None,
            removed: None,
            error: None,
            aws_error: None,
        };
        if entry.outcome == Outcome::Revoked {
            let account = entry.finding.rule.account_id.as_deref().unwrap_or("-");
            if let Err(held) = budget.take(account).await {
                entry.outcome = Outcome::WouldRevoke;
                entry.error = Some(held);
            }
        }
        recorded.push(entry);
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        let ids: Vec<String> = recorded
            .iter()
            // A protected group's rule is never revoked, whatever the plan said.
            .filter(|f| f.finding.protected.is_none())
            .filter(|f| f.outcome == Outcome::Revoked && f.finding.rule.direction == direction)
            .filter_map(|f| f.finding.rule.rule_id.clone())
            .collect();
        if ids.is_empty() {
            continue;
        }
        for (rule_id, result) in groups.revoke(group_id, direction, &ids).await {
            let Some(entry) = recorded
                .iter_mut()
                .find(|f| f.finding.rule.rule_id.as_deref() == Some(rule_id.as_str()))
            else {
                continue;
            };
            match result {
                RevokeOutcome::Revoked => budget.note_revoked(&rule_id, source).await,
                RevokeOutcome::AlreadyGone => entry.outcome = Outcome::AlreadyGone,
                RevokeOutcome::Failed(error) => {
                    entry.outcome = Outcome::Failed;
                    entry.error = Some(error.to_string());
                    entry.aws_error = Some(error);
                }
            }
        }
    }
    for entry in &recorded {
        let f = &entry.finding;
        tracing::info!(
            account = f.rule.account_id.as_deref().unwrap_or("-"),
            region = f.rule.region.as_deref().unwrap_or("-"),
            group = group_id,
            rule = f.rule.rule_id.as_deref().unwrap_or("-"),
            peer = %f.rule.peer,
            policy_rule = f.violations.first().map_or("-", |v| v.policy_rule.as_str()),
            outcome = entry.outcome.as_str(),
            %source,
            "finding"
        );
    }
    recorded
}

/// Fills in the entries of every prefix list the rules use (each list read once).
pub async fn resolve_prefix_lists<G: SecurityGroups>(
    groups: &G,
    rules: &mut [SecurityGroupRule],
    known: &mut HashMap<String, Vec<IpNet>>,
) -> Result<(), AwsError> {
    for rule in rules.iter_mut() {
        if let Peer::PrefixList { id, entries } = &mut rule.peer {
            if !known.contains_key(id.as_str()) {
                let resolved = groups.prefix_list_entries(id).await?;
                known.insert(id.clone(), resolved);
            }
            *entries = known.get(id.as_str()).cloned();
        }
    }
    Ok(())
}

impl SecurityGroups for Ec2 {
    async fn group(&self, group_id: &str) -> Result<Option<GroupInfo>, AwsError> {
        Ec2::group(self, group_id).await
    }

    async fn all_groups(&self) -> Result<HashMap<String, GroupInfo>, AwsError> {
        Ec2::all_groups(self).await
    }

    async fn group_ids_by_name(&self, name: &str) -> Result<Vec<String>, AwsError> {
        Ec2::group_ids_by_name(self, name).await
    }

    async fn group_rules(&self, group_id: &str) -> Result<Vec<SecurityGroupRule>, AwsError> {
        Ec2::group_rules(self, group_id).await
    }

    async fn all_rules(&self) -> Result<Vec<SecurityGroupRule>, AwsError> {
        Ec2::all_rules(self).await
    }

    async fn prefix_list_entries(&self, prefix_list_id: &str) -> Result<Vec<IpNet>, AwsError> {
        Ec2::prefix_list_entries(self, prefix_list_id).await
    }

    async fn revoke(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> Vec<(String, RevokeOutcome)> {
        Ec2::revoke(self, group_id, direction, rule_ids).await
    }
}

impl HubApi for Aws {
    type Groups = Ec2;

    async fn security_groups(&self, account: &str, region: &str) -> Result<Ec2, AwsError> {
        self.ec2(account, region).await
    }

    async fn prefix_list_consumers(
        &self,
        owner: &str,
        region: &str,
        prefix_list_id: &str,
    ) -> Result<SharedWith, AwsError> {
        Aws::prefix_list_consumers(self, owner, region, prefix_list_id).await
    }

    async fn account_name(&self, account: &str) -> Option<String> {
        Aws::account_name(self, account).await
    }

    async fn account_units(&self, account: &str) -> Result<std::sync::Arc<Vec<String>>, AwsError> {
        Aws::account_units(self, account).await
    }

    async fn import_findings(
        &self,
        account: &str,
        region: &str,
        findings: &[crate::finding::AsffFinding],
    ) -> Result<usize, AwsError> {
        Aws::import_findings(self, account, region, findings).await
    }

    fn partition(&self) -> String {
        Aws::partition(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{ProtectionMatch, Tags};

    fn finding(rule_id: Option<&str>, action: Action, exempt: bool) -> Finding {
        Finding {
            exempt,
            ..Finding::ssh_open("111122223333", "sg-0123456789abcdef0", rule_id, action)
        }
    }

    #[test]
    fn the_planner_revokes_only_a_named_rule_that_must_go_in_enforce_mode() {
        let revoke = finding(Some("sgr-1"), Action::Revoke, false);
        assert_eq!(plan(&revoke, Mode::Enforce), Outcome::Revoked);
        assert_eq!(plan(&revoke, Mode::Audit), Outcome::WouldRevoke);
        let notify = finding(Some("sgr-1"), Action::Notify, false);
        assert_eq!(plan(&notify, Mode::Enforce), Outcome::Reported);
        let exempt = finding(Some("sgr-1"), Action::Revoke, true);
        assert_eq!(plan(&exempt, Mode::Enforce), Outcome::Exempt);
        // No rule id: the exact rule cannot be named, so it is reported, never guessed at.
        let unnamed = finding(None, Action::Revoke, false);
        assert_eq!(plan(&unnamed, Mode::Enforce), Outcome::Reported);
        assert_eq!(plan(&unnamed, Mode::Audit), Outcome::Reported);
    }

    fn protected(finding: Finding) -> Finding {
        Finding {
            protected: Some(ProtectionMatch {
                reason: "payments edge, CHG-7".to_owned(),
                matched: "tag sgguard-protected=yes".to_owned(),
            }),
            ..finding
        }
    }

    #[test]
    fn a_protected_group_is_reported_never_revoked_in_either_mode() {
        let revoke = protected(finding(Some("sgr-1"), Action::Revoke, false));
        assert_eq!(plan(&revoke, Mode::Enforce), Outcome::Protected);
        assert_eq!(plan(&revoke, Mode::Audit), Outcome::Protected);
        assert!(Outcome::Protected.is_open(), "still a violation");
        // What only notifies is reported as ever; exempt wins over protected.
        let notify = protected(finding(Some("sgr-1"), Action::Notify, false));
        assert_eq!(plan(&notify, Mode::Enforce), Outcome::Reported);
        let exempt = protected(finding(Some("sgr-1"), Action::Revoke, true));
        assert_eq!(plan(&exempt, Mode::Enforce), Outcome::Exempt);
    }

    #[tokio::test]
    async fn act_never_calls_revoke_for_a_protected_group() {
        use crate::enforce::breaker::{Breaker, Limits};
        use crate::enforce::fake::Fake;
        use crate::rule::{ApiRule, SecurityGroupRule};
        let group = "sg-0123456789abcdef0";
        let rule = SecurityGroupRule::from_api(
            ApiRule {
                rule_id: Some("sgr-1"),
                group_id: Some(group),
                ip_protocol: "tcp",
                from_port: Some(22),
                to_port: Some(22),
                cidr_ipv4: Some("0.0.0.0/0"),
                ..ApiRule::default()
            },
            Some("eu-west-1"),
        )
        .unwrap();
        let fake = Fake::default().with_group(group, Tags::new(), vec![rule]);
        let breaker = Breaker::new(Limits::default());
        let findings = vec![protected(finding(Some("sgr-1"), Action::Revoke, false))];
        let acted = act(
            &fake,
            group,
            findings,
            Mode::Enforce,
            &RevokeSource::Sweep,
            &breaker.event(),
        )
        .await;
        assert_eq!(acted.len(), 1);
        assert_eq!(acted[0].outcome, Outcome::Protected);
        assert!(fake.revoke_calls().is_empty());
        assert_eq!(fake.rule_ids(group), ["sgr-1"]);
    }

    #[test]
    fn open_findings_are_neither_exempt_nor_already_gone() {
        let open: Vec<Outcome> = [
            Outcome::Revoked,
            Outcome::WouldRevoke,
            Outcome::AlreadyGone,
            Outcome::Reported,
            Outcome::Protected,
            Outcome::Exempt,
            Outcome::Failed,
        ]
        .into_iter()
        .filter(|o| o.is_open())
        .collect();
        assert_eq!(
            open,
            [
                Outcome::Revoked,
                Outcome::WouldRevoke,
                Outcome::Reported,
                Outcome::Protected,
                Outcome::Failed
            ]
        );
    }
}
