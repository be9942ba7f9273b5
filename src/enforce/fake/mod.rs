//! An in-memory account-region and hub for unit tests of enforcement: security groups with
//! rules, prefix lists, revocations that can fail or race, a topic that can refuse, a record
//! queue, other accounts a prefix list is shared with (reachable or not), and an organization
//! to sweep: member accounts (active or not), their enabled regions, regions that fail, the
//! spokes' forwarding rules, dead-letter queues and role trust, the StackSet's instances, stored
//! reports. The trait implementations are in [`api`].

mod api;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::aws::{
    AwsError, ForwardingRule, NamedPolicy, OrgAccount, RolePolicies, RuleTarget, SharedWith,
    StackInstance,
};
use crate::finding::Tags;
use crate::report::notify::Notification;
use crate::report::record::Record;
use crate::rule::{Direction, SecurityGroupRule};

/// The hub's own account and home region, as the fake tells them.
pub const HUB_ACCOUNT: &str = "999988887777";
pub const HOME_REGION: &str = "eu-west-1";

/// One rule added back (restore), as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    pub group_id: String,
    pub direction: Direction,
    pub protocol: String,
    pub ports: Option<(u16, u16)>,
    pub peer: String,
    pub description: Option<String>,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<String, (Tags, Vec<SecurityGroupRule>)>,
    /// Group id → group name.
    names: BTreeMap<String, String>,
    /// Each prefix list's versions, oldest first (the last is current, version = its number),
    /// each entry as EC2 gives it (parsed when read, as the AWS adapter does).
    prefix_lists: HashMap<String, Vec<Vec<String>>>,
    /// The error code every restore of a prefix list fails with.
    restore_fails: Option<String>,
    /// Every restore of a prefix list: (list, previous version, current version).
    restores: Vec<(String, i64, i64)>,
    /// Rules the next reads of their group do not show yet, or show as they were (an
    /// eventually consistent read): rule id → (the rule as it was, or none; reads left).
    lagging: HashMap<String, (Option<SecurityGroupRule>, usize)>,
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
    /// The organization's accounts, as Organizations lists them (`None`: it cannot be listed).
    organization: Option<Vec<OrgAccount>>,
    management: Option<String>,
    /// This account's enabled regions (`None`: the account cannot tell).
    regions: Option<Vec<String>>,
    /// Regions whose reads fail: region → (error code, message).
    region_fails: BTreeMap<String, (String, String)>,
    /// The spokes' forwarding rules: (account, region) → rule.
    forwarding: BTreeMap<(String, String), ForwardingRule>,
    /// The remediation role's trust policy per account.
    trust: BTreeMap<String, String>,
    /// The remediation role's policies per account; an account not named whose role has a
    /// trust policy has the policies the spoke stack deploys.
    policies: BTreeMap<String, RolePolicies>,
    instances: Vec<StackInstance>,
    /// The spokes' forwarding dead-letter queues: (account, region) → messages waiting; a
    /// place not named has no queue.
    queues: BTreeMap<(String, String), u64>,
    /// Places whose queue cannot be read: (account, region) → error code.
    queue_fails: BTreeMap<(String, String), String>,
    /// Reports stored: (bucket, key, body).
    reports: Vec<(String, String, Vec<u8>)>,
    authorized: Vec<Authorized>,
}

/// One emulated account and region, and the hub that reaches it.
#[derive(Clone, Default)]
pub struct Fake {
    state: Arc<Mutex<State>>,
    /// The region this handle was reached in (`None`: the hub itself).
    region: Option<String>,
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

    /// The next `reads` reads of its group show `rule_id` as `was` (none: not at all), as an
    /// eventually consistent read that lags behind a change does.
    pub fn lagging(self, rule_id: &str, was: Option<SecurityGroupRule>, reads: usize) -> Self {
        self.state()
            .lagging
            .insert(rule_id.to_owned(), (was, reads));
        self
    }

    pub fn failing_revoke(self, rule_id: &str, code: &str) -> Self {
        self.state()
            .revoke_fails
            .insert(rule_id.to_owned(), code.to_owned());
        self
    }

    /// `account` is an active member of the organization, its groups held by `fake` (`None`:
    /// the remediation role cannot be assumed there).
    pub fn member(self, account: &str, name: &str, fake: Option<Fake>) -> Self {
        self.listed(account, name, "ACTIVE");
        self.state().accounts.insert(account.to_owned(), fake);
        self
    }

    /// `account` is listed by Organizations with `status` (`SUSPENDED`, …), nothing more.
    pub fn closed(self, account: &str, status: &str) -> Self {
        self.listed(account, "closed", status);
        self
    }

    fn listed(&self, account: &str, name: &str, status: &str) {
        self.state()
            .organization
            .get_or_insert_with(Vec::new)
            .push(OrgAccount {
                id: account.to_owned(),
                name: Some(name.to_owned()),
                status: status.to_owned(),
            });
    }

    pub fn management(self, account: &str) -> Self {
        self.state().management = Some(account.to_owned());
        self
    }

    /// The account has these regions enabled (by default: [`HOME_REGION`] only).
    pub fn in_regions(self, regions: &[&str]) -> Self {
        self.state().regions = Some(regions.iter().map(|r| (*r).to_owned()).collect());
        self
    }

    /// Every read in `region` fails with `code` and `message`.
    pub fn failing_region(self, region: &str, code: &str, message: &str) -> Self {
        self.state()
            .region_fails
            .insert(region.to_owned(), (code.to_owned(), message.to_owned()));
        self
    }

    /// The spoke's forwarding rule in `account` and `region`.
    pub fn with_forwarding_rule(self, account: &str, region: &str, rule: ForwardingRule) -> Self {
        self.state()
            .forwarding
            .insert((account.to_owned(), region.to_owned()), rule);
        self
    }

    /// The remediation role's trust policy in `account`.
    pub fn with_trust(self, account: &str, policy: &str) -> Self {
        self.state()
            .trust
            .insert(account.to_owned(), policy.to_owned());
        self
    }

    /// The remediation role's policies in `account`.
    pub fn with_role_policies(self, account: &str, policies: RolePolicies) -> Self {
        self.state().policies.insert(account.to_owned(), policies);
        self
    }

    /// The spoke's forwarding dead-letter queue in `account` and `region`, holding `messages`.
    pub fn with_forwarding_queue(self, account: &str, region: &str, messages: u64) -> Self {
        self.state()
            .queues
            .insert((account.to_owned(), region.to_owned()), messages);
        self
    }

    /// Reading the forwarding dead-letter queue of `account` and `region` fails with `code`.
    pub fn failing_queue(self, account: &str, region: &str, code: &str) -> Self {
        self.state()
            .queue_fails
            .insert((account.to_owned(), region.to_owned()), code.to_owned());
        self
    }

    pub fn with_stack_instance(self, instance: StackInstance) -> Self {
        self.state().instances.push(instance);
        self
    }

    /// The reports stored: (bucket, key, body), oldest first.
    pub fn reports(&self) -> Vec<(String, String, Vec<u8>)> {
        self.state().reports.clone()
    }

    /// The rules added back, oldest first.
    pub fn authorized(&self) -> Vec<Authorized> {
        self.state().authorized.clone()
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

    /// A prefix list of this account at version 1 holding `entries`.
    pub fn with_prefix_list(self, id: &str, entries: &[&str]) -> Self {
        self.with_prefix_list_versions(id, &[entries])
    }

    /// A prefix list of this account with these versions, oldest first (version 1 first; the
    /// last is current).
    pub fn with_prefix_list_versions(self, id: &str, versions: &[&[&str]]) -> Self {
        let versions = versions
            .iter()
            .map(|entries| entries.iter().map(|e| (*e).to_owned()).collect())
            .collect();
        self.state().prefix_lists.insert(id.to_owned(), versions);
        self
    }

    /// Every restore of a prefix list fails with `code`.
    pub fn failing_restore(self, code: &str) -> Self {
        self.state().restore_fails = Some(code.to_owned());
        self
    }

    /// The restores asked: (list, previous version, current version), oldest first.
    pub fn restores(&self) -> Vec<(String, i64, i64)> {
        self.state().restores.clone()
    }

    /// A prefix list's current version and entries.
    pub fn prefix_list(&self, id: &str) -> Option<(i64, Vec<String>)> {
        let state = self.state();
        let versions = state.prefix_lists.get(id)?;
        Some((version_number(versions.len()), versions.last()?.clone()))
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

    /// This handle, reached in `region`.
    fn in_region(&self, region: &str) -> Fake {
        Fake {
            state: Arc::clone(&self.state),
            region: Some(region.to_owned()),
        }
    }

    /// The failure of every read in this handle's region, if it fails.
    fn region_error(&self, operation: &'static str) -> Result<(), AwsError> {
        let Some(region) = &self.region else {
            return Ok(());
        };
        match self.state().region_fails.get(region) {
            None => Ok(()),
            Some((code, message)) => Err(AwsError {
                region: region.clone(),
                message: format!("{code}: {message}"),
                ..Fake::error(operation, code)
            }),
        }
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

/// The version number of the `n`th version (1-based).
fn version_number(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A rule opening SSH (tcp 22) to the internet: rule `rule_id` of `group`, in [`HOME_REGION`].
pub fn ssh_open(group: &str, rule_id: &str) -> SecurityGroupRule {
    SecurityGroupRule::from_api(
        crate::rule::ApiRule {
            rule_id: Some(rule_id),
            group_id: Some(group),
            ip_protocol: "tcp",
            from_port: Some(22),
            to_port: Some(22),
            cidr_ipv4: Some("0.0.0.0/0"),
            ..crate::rule::ApiRule::default()
        },
        Some(HOME_REGION),
    )
    .expect("a valid rule")
}

/// The spoke check of the fake's hub: the remediation role may trust only `trusted`.
pub fn tamper_check(trusted: Vec<String>) -> crate::enforce::tamper::TamperCheck {
    crate::enforce::tamper::TamperCheck {
        hub_account: HUB_ACCOUNT.to_owned(),
        hub_bus_arn: None,
        trusted,
        remediation_role: "sgguard-remediation".to_owned(),
        forwarder_role: crate::enforce::tamper::FORWARDER_ROLE.to_owned(),
        forwarding_regions: None,
    }
}

/// A spoke's forwarding rule in `account` as the stack deploys it: enabled, the hub's pattern,
/// sending to the fake hub's bus.
pub fn intact_forwarding_rule(account: &str) -> ForwardingRule {
    ForwardingRule {
        state: "ENABLED".to_owned(),
        pattern: Some(crate::enforce::tamper::EVENT_PATTERN.to_owned()),
        targets: vec![intact_target(account)],
    }
}

/// The target the spoke stack gives the forwarding rule in `account`: the fake hub's bus, as
/// the forwarder role, the event as it is.
pub fn intact_target(account: &str) -> RuleTarget {
    RuleTarget {
        id: "sgguard-hub-bus".to_owned(),
        arn: format!("arn:aws:events:{HOME_REGION}:{HUB_ACCOUNT}:event-bus/sgguard"),
        role_arn: Some(format!(
            "arn:aws:iam::{account}:role/{}",
            crate::enforce::tamper::FORWARDER_ROLE
        )),
        rewrites: Vec::new(),
    }
}

/// The remediation role's policies as the spoke stack deploys them: one inline policy allowing
/// every action of `spoke-infra/remediation-actions.json`, no managed policy, no boundary.
pub fn intact_role_policies() -> RolePolicies {
    let actions: Vec<String> =
        serde_json::from_str(crate::enforce::tamper::REMEDIATION_ACTIONS).unwrap_or_default();
    RolePolicies {
        inline: vec![NamedPolicy {
            name: "sgguard-remediation".to_owned(),
            document: serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": "*"}
            ]})
            .to_string(),
        }],
        attached: Vec::new(),
        boundary: None,
    }
}
