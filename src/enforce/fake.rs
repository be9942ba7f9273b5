//! An in-memory account-region and hub for unit tests of enforcement: security groups with
//! rules, prefix lists, revocations that can fail or race, a topic that can refuse, a record
//! queue, and other accounts a prefix list is shared with (reachable or not).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use ipnet::IpNet;

use super::{HubApi, SecurityGroups};
use crate::aws::{AwsError, RevokeOutcome, SharedWith};
use crate::finding::{GroupInfo, Tags};
use crate::report::deliver::Outlets;
use crate::report::notify::Notification;
use crate::report::record::Record;
use crate::rule::{Direction, SecurityGroupRule};

#[derive(Default)]
struct State {
    groups: BTreeMap<String, (Tags, Vec<SecurityGroupRule>)>,
    /// Group id → group name.
    names: BTreeMap<String, String>,
    prefix_lists: HashMap<String, Vec<IpNet>>,
    /// Rules removed by someone else between sgguard's read and its revoke.
    vanish_before_revoke: HashSet<String>,
    /// Rules whose revoke fails with this error code.
    revoke_fails: HashMap<String, String>,
    /// Every revoke call: (group, direction, rule ids).
    revoke_calls: Vec<(String, Direction, Vec<String>)>,
    published: Vec<Notification>,
    /// Events put on the bus: (detail-type, detail).
    events: Vec<(String, String)>,
    /// Findings imported into Security Hub.
    imported: Vec<crate::finding::AsffFinding>,
    publish_fails: bool,
    bus_fails: bool,
    recorded: Vec<Record>,
    record_fails: bool,
    /// Who the prefix lists are shared with; the other accounts the hub reaches (`None`: the
    /// account cannot be reached).
    shared_with: SharedWith,
    accounts: BTreeMap<String, Option<Fake>>,
    /// The units above each account (nearest first); an account not named is below the root
    /// only, and `units_fail` makes every lookup fail.
    units: BTreeMap<String, Vec<String>>,
    units_fail: bool,
}

/// One emulated account and region, and the hub that reaches it.
#[derive(Clone, Default)]
pub struct Fake {
    state: Arc<Mutex<State>>,
}

impl Fake {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn with_group(self, group_id: &str, tags: Tags, rules: Vec<SecurityGroupRule>) -> Self {
        self.state()
            .groups
            .insert(group_id.to_owned(), (tags, rules));
        self
    }

    pub fn named(self, group_id: &str, name: &str) -> Self {
        self.state()
            .names
            .insert(group_id.to_owned(), name.to_owned());
        self
    }

    /// `account` sits below these units (nearest first, the root last).
    pub fn in_units(self, account: &str, units: &[&str]) -> Self {
        self.state().units.insert(
            account.to_owned(),
            units.iter().map(|u| (*u).to_owned()).collect(),
        );
        self
    }

    /// Organizations cannot be read (ListParents fails).
    pub fn units_unreadable(self) -> Self {
        self.state().units_fail = true;
        self
    }

    pub fn vanishing(self, rule_id: &str) -> Self {
        self.state().vanish_before_revoke.insert(rule_id.to_owned());
        self
    }

    pub fn failing_revoke(self, rule_id: &str, code: &str) -> Self {
        self.state()
            .revoke_fails
            .insert(rule_id.to_owned(), code.to_owned());
        self
    }

    /// Prefix lists of this account are shared with `account`, whose groups `fake` holds
    /// (`None`: the remediation role cannot be assumed there).
    pub fn sharing_with(self, account: &str, fake: Option<Fake>) -> Self {
        {
            let mut state = self.state();
            state.shared_with.accounts.insert(account.to_owned());
            state.accounts.insert(account.to_owned(), fake);
        }
        self
    }

    pub fn with_prefix_list(self, id: &str, entries: &[&str]) -> Self {
        let entries = entries.iter().filter_map(|e| e.parse().ok()).collect();
        self.state().prefix_lists.insert(id.to_owned(), entries);
        self
    }

    pub fn failing_publish(self) -> Self {
        self.state().publish_fails = true;
        self
    }

    /// Every put on the event bus fails from now on.
    pub fn failing_bus(self) -> Self {
        self.state().bus_fails = true;
        self
    }

    /// The topic takes messages again.
    pub fn publishing(self) -> Self {
        self.state().publish_fails = false;
        self
    }

    /// The rule ids the group still has.
    pub fn rule_ids(&self, group_id: &str) -> Vec<String> {
        self.state()
            .groups
            .get(group_id)
            .map(|(_, rules)| rules.iter().filter_map(|r| r.rule_id.clone()).collect())
            .unwrap_or_default()
    }

    pub fn revoke_calls(&self) -> Vec<(String, Direction, Vec<String>)> {
        self.state().revoke_calls.clone()
    }

    pub fn published(&self) -> Vec<Notification> {
        self.state().published.clone()
    }

    /// The findings imported into Security Hub, oldest first.
    pub fn imported(&self) -> Vec<crate::finding::AsffFinding> {
        self.state().imported.clone()
    }

    /// The events put on the bus: (detail-type, detail), oldest first.
    pub fn events(&self) -> Vec<(String, String)> {
        self.state().events.clone()
    }

    /// The durable records sent, oldest first.
    pub fn recorded(&self) -> Vec<Record> {
        self.state().recorded.clone()
    }

    /// Every record fails to send from now on.
    pub fn failing_record(self) -> Self {
        self.state().record_fails = true;
        self
    }

    fn error(operation: &'static str, code: &str) -> AwsError {
        AwsError {
            operation,
            account: "111122223333".to_owned(),
            region: "eu-west-1".to_owned(),
            code: Some(code.to_owned()),
            message: format!("{code}: injected by the fake"),
        }
    }
}

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
        Ok(self
            .state()
            .groups
            .get(group_id)
            .map(|(_, rules)| rules.clone())
            .unwrap_or_default())
    }

    async fn all_rules(&self) -> Result<Vec<SecurityGroupRule>, AwsError> {
        Ok(self
            .state()
            .groups
            .values()
            .flat_map(|(_, rules)| rules.iter().cloned())
            .collect())
    }

    async fn prefix_list_entries(&self, prefix_list_id: &str) -> Result<Vec<IpNet>, AwsError> {
        Ok(self
            .state()
            .prefix_lists
            .get(prefix_list_id)
            .cloned()
            .unwrap_or_default())
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

    async fn security_groups(&self, account: &str, _region: &str) -> Result<Fake, AwsError> {
        match self.state().accounts.get(account) {
            None => Ok(self.clone()),
            Some(Some(other)) => Ok(other.clone()),
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

    async fn import_findings(
        &self,
        _account: &str,
        _region: &str,
        findings: &[crate::finding::AsffFinding],
    ) -> Result<usize, AwsError> {
        self.state().imported.extend(findings.iter().cloned());
        Ok(findings.len())
    }

    fn partition(&self) -> String {
        "aws".to_owned()
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
