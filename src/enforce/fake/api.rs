//! The fake's side of the seams: [`SecurityGroups`], [`HubApi`] and [`Outlets`], read from and
//! written to its in-memory state.

use std::collections::HashMap;
use std::sync::Arc;

use ipnet::IpNet;

use super::{Authorized, Fake, HOME_REGION, HUB_ACCOUNT, version_number};
use crate::aws::{
    Authorize, AwsError, ForwardingRule, OrgAccount, RevokeOutcome, RolePolicies, SharedWith,
    StackInstance, parse_entries,
};
use crate::enforce::{HubApi, SecurityGroups};
use crate::finding::{AsffFinding, GroupInfo};
use crate::report::deliver::Outlets;
use crate::report::notify::Notification;
use crate::report::record::Record;
use crate::rule::{Direction, SecurityGroupRule};

impl SecurityGroups for Fake {
    async fn group(&self, group_id: &str) -> Result<Option<GroupInfo>, AwsError> {
        let state = self.state();
        Ok(state.groups.get(group_id).map(|(tags, _)| GroupInfo {
            name: state.names.get(group_id).cloned(),
            vpc_id: Some("vpc-0fake".to_owned()),
            tags: tags.clone(),
        }))
    }

    async fn all_groups(&self) -> Result<HashMap<String, GroupInfo>, AwsError> {
        self.region_error("DescribeSecurityGroups")?;
        let state = self.state();
        Ok(state
            .groups
            .iter()
            .map(|(id, (tags, _))| {
                let info = GroupInfo {
                    name: state.names.get(id).cloned(),
                    vpc_id: Some("vpc-0fake".to_owned()),
                    tags: tags.clone(),
                };
                (id.clone(), info)
            })
            .collect())
    }

    async fn group_ids_by_name(&self, name: &str) -> Result<Vec<String>, AwsError> {
        Ok(self
            .state()
            .names
            .iter()
            .filter(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id.clone())
            .collect())
    }

    async fn group_rules(&self, group_id: &str) -> Result<Vec<SecurityGroupRule>, AwsError> {
        let mut state = self.state();
        let rules = state
            .groups
            .get(group_id)
            .map(|(_, rules)| rules.clone())
            .unwrap_or_default();
        let mut read = Vec::with_capacity(rules.len());
        for rule in rules {
            let id = rule.rule_id.clone().unwrap_or_default();
            match state.lagging.get_mut(&id) {
                Some((was, reads)) if *reads > 0 => {
                    *reads -= 1;
                    read.extend(was.clone());
                }
                _ => read.push(rule),
            }
        }
        Ok(read)
    }

    async fn all_rules(&self) -> Result<Vec<SecurityGroupRule>, AwsError> {
        self.region_error("DescribeSecurityGroupRules")?;
        Ok(self
            .state()
            .groups
            .values()
            .flat_map(|(_, rules)| rules.iter().cloned())
            .collect())
    }

    async fn prefix_list_entries(&self, prefix_list_id: &str) -> Result<Vec<IpNet>, AwsError> {
        let current = self.prefix_list(prefix_list_id).map_or(0, |(v, _)| v);
        self.prefix_list_entries_at(prefix_list_id, current).await
    }

    async fn prefix_list_entries_at(
        &self,
        prefix_list_id: &str,
        version: i64,
    ) -> Result<Vec<IpNet>, AwsError> {
        let entries = self
            .state()
            .prefix_lists
            .get(prefix_list_id)
            .and_then(|versions| versions.get(usize::try_from(version - 1).ok()?).cloned())
            .unwrap_or_default();
        parse_entries(prefix_list_id, entries.iter().map(|e| Some(e.as_str()))).map_err(|message| {
            AwsError {
                code: None,
                message,
                ..Fake::error("GetManagedPrefixListEntries", "-")
            }
        })
    }

    async fn prefix_list_version(&self, prefix_list_id: &str) -> Result<Option<i64>, AwsError> {
        Ok(self.prefix_list(prefix_list_id).map(|(version, _)| version))
    }

    async fn restore_prefix_list(
        &self,
        prefix_list_id: &str,
        previous: i64,
        current: i64,
    ) -> Result<(), AwsError> {
        const OPERATION: &str = "RestoreManagedPrefixListVersion";
        let mut state = self.state();
        state
            .restores
            .push((prefix_list_id.to_owned(), previous, current));
        if let Some(code) = &state.restore_fails {
            return Err(Fake::error(OPERATION, code));
        }
        let versions = state
            .prefix_lists
            .get_mut(prefix_list_id)
            .ok_or_else(|| Fake::error(OPERATION, "InvalidPrefixListID.NotFound"))?;
        // As EC2: refused unless the list is at `current`; the restore makes the next version.
        if version_number(versions.len()) != current {
            return Err(Fake::error(OPERATION, "PrefixListVersionMismatch"));
        }
        let restored = usize::try_from(previous - 1)
            .ok()
            .and_then(|i| versions.get(i).cloned())
            .ok_or_else(|| Fake::error(OPERATION, "InvalidPrefixListVersion"))?;
        versions.push(restored);
        Ok(())
    }

    async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        Ok(self
            .state()
            .regions
            .clone()
            .unwrap_or_else(|| vec![HOME_REGION.to_owned()]))
    }

    async fn authorize(&self, rule: &Authorize<'_>) -> Result<Option<String>, AwsError> {
        let mut state = self.state();
        let Some((_, rules)) = state.groups.get_mut(rule.group_id) else {
            return Err(Fake::error(
                "AuthorizeSecurityGroupIngress",
                "InvalidGroup.NotFound",
            ));
        };
        let id = format!("sgr-restored{}", rules.len());
        let restored = SecurityGroupRule::from_api(
            crate::rule::ApiRule {
                rule_id: Some(&id),
                group_id: Some(rule.group_id),
                is_egress: rule.direction == Direction::Egress,
                ip_protocol: rule.protocol,
                from_port: rule.ports.map(|p| i64::from(p.0)),
                to_port: rule.ports.map(|p| i64::from(p.1)),
                cidr_ipv4: Some(rule.peer).filter(|p| !p.contains(':')),
                cidr_ipv6: Some(rule.peer).filter(|p| p.contains(':')),
                description: rule.description,
                ..crate::rule::ApiRule::default()
            },
            self.region.as_deref(),
        )
        .map_err(|_| Fake::error("AuthorizeSecurityGroupIngress", "InvalidParameterValue"))?;
        rules.push(restored);
        state.authorized.push(Authorized {
            group_id: rule.group_id.to_owned(),
            direction: rule.direction,
            protocol: rule.protocol.to_owned(),
            ports: rule.ports,
            peer: rule.peer.to_owned(),
            description: rule.description.map(str::to_owned),
        });
        Ok(Some(id))
    }

    async fn revoke(
        &self,
        group_id: &str,
        direction: Direction,
        rule_ids: &[String],
    ) -> Vec<(String, RevokeOutcome)> {
        let mut state = self.state();
        state
            .revoke_calls
            .push((group_id.to_owned(), direction, rule_ids.to_vec()));
        let vanishing = state.vanish_before_revoke.clone();
        let fails = state.revoke_fails.clone();
        let Some((_, rules)) = state.groups.get_mut(group_id) else {
            return rule_ids
                .iter()
                .map(|id| (id.clone(), RevokeOutcome::AlreadyGone))
                .collect();
        };
        rules.retain(|r| !r.rule_id.as_ref().is_some_and(|id| vanishing.contains(id)));
        rule_ids
            .iter()
            .map(|id| {
                let outcome = if let Some(code) = fails.get(id) {
                    RevokeOutcome::Failed(Fake::error("RevokeSecurityGroupIngress", code))
                } else if let Some(at) = rules
                    .iter()
                    .position(|r| r.rule_id.as_deref() == Some(id.as_str()))
                {
                    rules.remove(at);
                    RevokeOutcome::Revoked
                } else {
                    RevokeOutcome::AlreadyGone
                };
                (id.clone(), outcome)
            })
            .collect()
    }
}

impl HubApi for Fake {
    type Groups = Fake;

    fn hub_account(&self) -> &str {
        HUB_ACCOUNT
    }

    fn home_region(&self) -> &str {
        HOME_REGION
    }

    fn partition(&self) -> String {
        "aws".to_owned()
    }

    async fn security_groups(&self, account: &str, region: &str) -> Result<Fake, AwsError> {
        match self.state().accounts.get(account) {
            None => Ok(self.in_region(region)),
            Some(Some(other)) => Ok(other.in_region(region)),
            Some(None) => Err(AwsError {
                account: account.to_owned(),
                ..Fake::error("AssumeRole", "AccessDenied")
            }),
        }
    }

    async fn prefix_list_consumers(
        &self,
        _owner: &str,
        _region: &str,
        _prefix_list_id: &str,
    ) -> Result<SharedWith, AwsError> {
        Ok(self.state().shared_with.clone())
    }

    async fn account_name(&self, _account: &str) -> Option<String> {
        Some("workload-a".to_owned())
    }

    async fn account_units(&self, account: &str) -> Result<Arc<Vec<String>>, AwsError> {
        let state = self.state();
        if state.units_fail {
            return Err(Fake::error("ListParents", "AccessDeniedException"));
        }
        Ok(Arc::new(
            state
                .units
                .get(account)
                .cloned()
                .unwrap_or_else(|| vec!["r-fake".to_owned()]),
        ))
    }

    async fn organization_accounts(&self) -> Result<Vec<OrgAccount>, AwsError> {
        self.state()
            .organization
            .clone()
            .ok_or_else(|| Fake::error("ListAccounts", "AWSOrganizationsNotInUseException"))
    }

    async fn accounts_under(&self, parents: &[String]) -> Result<Vec<OrgAccount>, AwsError> {
        let state = self.state();
        let listed = state.organization.clone().unwrap_or_default();
        Ok(listed
            .into_iter()
            .filter(|a| {
                state
                    .units
                    .get(&a.id)
                    .is_some_and(|units| units.iter().any(|u| parents.contains(u)))
            })
            .collect())
    }

    async fn management_account(&self) -> Result<String, AwsError> {
        self.state()
            .management
            .clone()
            .ok_or_else(|| Fake::error("DescribeOrganization", "AccessDeniedException"))
    }

    async fn forwarding_rule(
        &self,
        account: &str,
        region: &str,
        _name: &str,
    ) -> Result<Option<ForwardingRule>, AwsError> {
        let key = (account.to_owned(), region.to_owned());
        Ok(self.state().forwarding.get(&key).cloned())
    }

    async fn remediation_role_trust(
        &self,
        account: &str,
        _role: &str,
    ) -> Result<Option<String>, AwsError> {
        Ok(self.state().trust.get(account).cloned())
    }

    async fn remediation_role_policies(
        &self,
        account: &str,
        _role: &str,
    ) -> Result<Option<RolePolicies>, AwsError> {
        let state = self.state();
        Ok(match state.policies.get(account) {
            Some(policies) => Some(policies.clone()),
            None => state
                .trust
                .contains_key(account)
                .then(super::intact_role_policies),
        })
    }

    async fn queue_depth(
        &self,
        account: &str,
        region: &str,
        _name: &str,
    ) -> Result<Option<u64>, AwsError> {
        let key = (account.to_owned(), region.to_owned());
        let state = self.state();
        if let Some(code) = state.queue_fails.get(&key) {
            return Err(AwsError {
                account: account.to_owned(),
                region: region.to_owned(),
                ..Fake::error("GetQueueAttributes", code)
            });
        }
        Ok(state.queues.get(&key).copied())
    }

    async fn stack_instances(
        &self,
        _name: &str,
        _call_as: &str,
    ) -> Result<Vec<StackInstance>, AwsError> {
        Ok(self.state().instances.clone())
    }

    async fn import_findings(
        &self,
        _account: &str,
        _region: &str,
        findings: &[AsffFinding],
    ) -> Result<usize, AwsError> {
        self.state().imported.extend(findings.iter().cloned());
        Ok(findings.len())
    }

    async fn put_report(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        self.state()
            .reports
            .push((bucket.to_owned(), key.to_owned(), body));
        Ok(())
    }

    async fn read_report(&self, bucket: &str, key: &str) -> Result<String, AwsError> {
        let state = self.state();
        let found = state
            .reports
            .iter()
            .rev()
            .find(|(b, k, _)| b == bucket && k == key);
        match found {
            Some((_, _, body)) => Ok(String::from_utf8_lossy(body).into_owned()),
            None => Err(AwsError {
                operation: "GetObject",
                account: "hub".to_owned(),
                region: HOME_REGION.to_owned(),
                code: Some("NoSuchKey".to_owned()),
                message: format!("NoSuchKey: s3://{bucket}/{key} does not exist"),
            }),
        }
    }
}

impl Outlets for Fake {
    async fn put_event(
        &self,
        _bus_arn: &str,
        detail_type: &str,
        detail: &str,
    ) -> Result<String, AwsError> {
        let mut state = self.state();
        if state.bus_fails {
            return Err(Fake::error("PutEvents", "InternalException"));
        }
        state
            .events
            .push((detail_type.to_owned(), detail.to_owned()));
        Ok(format!("event-{}", state.events.len()))
    }

    async fn publish(
        &self,
        _topic_arn: &str,
        notification: &Notification,
    ) -> Result<String, AwsError> {
        let mut state = self.state();
        if state.publish_fails {
            return Err(Fake::error("Publish", "InternalError"));
        }
        state.published.push(notification.clone());
        Ok(format!("message-{}", state.published.len()))
    }

    async fn record(&self, _queue_url: &str, record: &Record) -> Result<String, AwsError> {
        let mut state = self.state();
        if state.record_fails {
            return Err(Fake::error("SendMessage", "InternalError"));
        }
        state.recorded.push(record.clone());
        Ok(format!("record-{}", state.recorded.len()))
    }
}
