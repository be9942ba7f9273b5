//! The revocation journal: each rule sgguard revoked, in which account, region and group, for
//! which baseline rules, when, and for what (an event's handling or the sweep). An event handled
//! after its own rules were revoked tells from it when and by what they were removed; restore
//! can check a message against it. It also keeps the rules the circuit breaker held back, by
//! account, until a sweep re-checks them (held back is never dropped). Kept apart from the
//! circuit breaker, which only counts; in the hub state table when there is one (every process
//! of the hub reads what any revoked or held back), else in this process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::RevokeSource;
use crate::aws::{Attributes, AwsError, StateTable};
use crate::finding::Finding;
use crate::rule::{ApiRule, Direction, Peer, SecurityGroupRule};

/// How long an entry is kept in process.
const KEPT: Duration = Duration::from_secs(6 * 3600);

/// How long an entry is kept in the state table (restore reads it).
const KEPT_IN_TABLE: Duration = Duration::from_secs(90 * 24 * 3600);

/// One revoked rule: the rule as it was (account, region, group, rule id, direction, protocol,
/// ports, peer, description), the baseline rules it broke, what it was revoked for (and who
/// made the change, for an event), and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub rule: SecurityGroupRule,
    /// The baseline rules it broke.
    pub policy_rules: Vec<String>,
    pub source: RevokeSource,
    pub at: jiff::Timestamp,
}

impl Revocation {
    /// The revocation of `finding`'s rule, now, for `source`.
    pub fn of(finding: &Finding, source: &RevokeSource) -> Revocation {
        Revocation {
            rule: finding.rule.clone(),
            policy_rules: finding
                .violations
                .iter()
                .map(|v| v.policy_rule.clone())
                .collect(),
            source: source.clone(),
            at: jiff::Timestamp::now(),
        }
    }

    /// The revoked rule's id.
    pub fn rule_id(&self) -> &str {
        self.rule.rule_id.as_deref().unwrap_or_default()
    }

    /// As a message says it: `revoked by sgguard at TIME, handling event ID` (or `by the sweep`).
    pub fn told(&self) -> String {
        let at = self.at.strftime("%Y-%m-%dT%H:%M:%SZ");
        match &self.source {
            RevokeSource::Event { id, .. } => {
                format!("revoked by sgguard at {at}, handling event {id}")
            }
            RevokeSource::Sweep => format!("revoked by sgguard at {at}, by the sweep"),
        }
    }

    /// As the state table keeps it: the rule in EC2's own shape (`ip_protocol`, `from_port`,
    /// `cidr_ipv4`, …), read back through the one conversion every source uses.
    fn attributes(&self) -> Attributes {
        let rule = &self.rule;
        let text = |value: &Option<String>| value.clone();
        let (mut cidr_ipv4, mut cidr_ipv6, mut prefix_list, mut group, mut group_owner) =
            (None, None, None, None, None);
        match &rule.peer {
            Peer::Ipv4(net) => cidr_ipv4 = Some(net.to_string()),
            Peer::Ipv6(net) => cidr_ipv6 = Some(net.to_string()),
            Peer::PrefixList { id, .. } => prefix_list = Some(id.clone()),
            Peer::Group { id, owner } => (group, group_owner) = (Some(id.clone()), owner.clone()),
        }
        let actor = match &self.source {
            RevokeSource::Event { actor, .. } => actor.clone(),
            RevokeSource::Sweep => None,
        };
        [
            ("account", text(&rule.account_id)),
            ("region", text(&rule.region)),
            ("group_id", text(&rule.group_id)),
            ("rule_id", text(&rule.rule_id)),
            (
                "is_egress",
                Some((rule.direction == Direction::Egress).to_string()),
            ),
            ("ip_protocol", Some(rule.protocol.api_name().into_owned())),
            ("from_port", rule.ports.map(|p| p.from.to_string())),
            ("to_port", rule.ports.map(|p| p.to.to_string())),
            ("cidr_ipv4", cidr_ipv4),
            ("cidr_ipv6", cidr_ipv6),
            ("prefix_list_id", prefix_list),
            ("referenced_group_id", group),
            ("referenced_group_owner", group_owner),
            ("description", text(&rule.description)),
            ("policy_rules", Some(self.policy_rules.join(","))),
            ("source", Some(self.source.to_string())),
            ("actor", actor),
            ("at", Some(self.at.to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)))
        .collect()
    }

    /// Read back from the state table; `None` when an attribute is missing or unreadable.
    fn from_attributes(item: &Attributes) -> Option<Revocation> {
        let text = |name: &str| item.get(name).map(String::as_str);
        let port = |name: &str| text(name).and_then(|p| p.parse::<i64>().ok());
        let api = ApiRule {
            rule_id: text("rule_id"),
            group_id: text("group_id"),
            group_owner_id: text("account"),
            is_egress: text("is_egress")? == "true",
            ip_protocol: text("ip_protocol")?,
            from_port: port("from_port"),
            to_port: port("to_port"),
            cidr_ipv4: text("cidr_ipv4"),
            cidr_ipv6: text("cidr_ipv6"),
            prefix_list_id: text("prefix_list_id"),
            referenced_group: text("referenced_group_id")
                .map(|id| (id, text("referenced_group_owner"))),
            description: text("description"),
        };
        let rule = SecurityGroupRule::from_api(api, text("region")).ok()?;
        let source = match RevokeSource::parse(text("source")?)? {
            RevokeSource::Event { id, .. } => RevokeSource::Event {
                id,
                actor: text("actor").map(str::to_owned),
            },
            RevokeSource::Sweep => RevokeSource::Sweep,
        };
        Some(Revocation {
            rule,
            policy_rules: text("policy_rules")?
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            source,
            at: text("at")?.parse().ok()?,
        })
    }
}

/// The revocations by rule id: the hub's (state table) or this process's of the last hours;
/// and the rules held back, by account.
pub struct Journal {
    entries: moka::future::Cache<String, Arc<Revocation>>,
    /// The rules held back, when this process keeps them (no table), by account and
    /// `region#rule id`.
    held: std::sync::Mutex<BTreeMap<String, BTreeMap<String, Revocation>>>,
    table: Option<StateTable>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            entries: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(KEPT)
                .build(),
            held: std::sync::Mutex::default(),
            table: None,
        }
    }
}

fn rule_key(rule_id: &str) -> String {
    format!("rule#{rule_id}")
}

/// The partition of an account's held-back rules.
fn held_key(account: &str) -> String {
    format!("held#{account}")
}

/// A held-back rule's sort key in its account's partition.
fn held_sort(region: &str, rule_id: &str) -> String {
    format!("{region}#{rule_id}")
}

/// How long a held-back rule waits for a sweep before the table forgets it.
const HELD_KEPT: Duration = Duration::from_secs(30 * 24 * 3600);

impl Journal {
    /// A journal kept in the hub state table.
    pub fn in_table(table: StateTable) -> Journal {
        Journal {
            table: Some(table),
            ..Journal::default()
        }
    }

    /// Keeps one revocation (in this process too, so this process's reads need no call). A
    /// table write that fails is returned (the rule was revoked all the same: the caller tells
    /// it, for restore cannot then check the revocation against the journal).
    pub async fn note(&self, revocation: Revocation) -> Result<(), AwsError> {
        let rule_id = revocation.rule_id().to_owned();
        let written = match &self.table {
            Some(table) => {
                let expires = revocation.at.as_second() + KEPT_IN_TABLE.as_secs() as i64;
                table
                    .put(
                        &rule_key(&rule_id),
                        "revoked",
                        &revocation.attributes(),
                        expires,
                        false,
                    )
                    .await
                    .map(|_| ())
            }
            None => Ok(()),
        };
        if let Err(error) = &written {
            tracing::error!(rule = %rule_id, error = %error, "the revocation could not be journaled");
        }
        self.entries.insert(rule_id, Arc::new(revocation)).await;
        written
    }

    /// The revocation of `rule_id`, when this hub made it (any of its processes, with the
    /// table). A table that cannot be read is logged and taken as "not known".
    pub async fn revoked(&self, rule_id: &str) -> Option<Arc<Revocation>> {
        match self.lookup(rule_id).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(rule = rule_id, error = %error, "the journal could not be read");
                None
            }
        }
    }

    /// The revocation of `rule_id` when this hub made it, or why the journal could not say
    /// (`sgguard restore` refuses then; attribution takes it as "not known").
    pub async fn lookup(&self, rule_id: &str) -> Result<Option<Arc<Revocation>>, AwsError> {
        if let Some(known) = self.entries.get(rule_id).await {
            return Ok(Some(known));
        }
        let Some(table) = self.table.as_ref() else {
            return Ok(None);
        };
        let item = table.get(&rule_key(rule_id), "revoked").await?;
        Ok(item
            .as_ref()
            .and_then(Revocation::from_attributes)
            .map(Arc::new))
    }
}

impl Journal {
    /// Keeps a rule the breaker held back (what it would have been revoked for, and when), for
    /// the next sweep of its account to re-check. A table write that fails is returned (the
    /// caller tells it: the rule is then only in this event's message and the record).
    pub async fn hold(&self, held: Revocation) -> Result<(), AwsError> {
        let account = held.rule.account_id.clone().unwrap_or_default();
        let sort = held_sort(
            held.rule.region.as_deref().unwrap_or_default(),
            held.rule_id(),
        );
        match &self.table {
            Some(table) => {
                let expires = held.at.as_second() + HELD_KEPT.as_secs() as i64;
                table
                    .put(
                        &held_key(&account),
                        &sort,
                        &held.attributes(),
                        expires,
                        false,
                    )
                    .await
                    .map(|_| ())
            }
            None => {
                self.held_here()
                    .entry(account)
                    .or_default()
                    .insert(sort, held);
                Ok(())
            }
        }
    }

    /// The rules of `account` held back and not re-checked since.
    pub async fn held(&self, account: &str) -> Result<Vec<Revocation>, AwsError> {
        match &self.table {
            Some(table) => Ok(table
                .partition(&held_key(account))
                .await?
                .iter()
                .filter_map(|(_, item)| Revocation::from_attributes(item))
                .collect()),
            None => Ok(self
                .held_here()
                .get(account)
                .map(|held| held.values().cloned().collect())
                .unwrap_or_default()),
        }
    }

    /// Forgets a held-back rule once a sweep re-checked it (revoked, gone, no longer breaking
    /// the baseline, or held back again and so kept anew).
    pub async fn release_held(&self, held: &Revocation) -> Result<(), AwsError> {
        let account = held.rule.account_id.as_deref().unwrap_or_default();
        let sort = held_sort(
            held.rule.region.as_deref().unwrap_or_default(),
            held.rule_id(),
        );
        match &self.table {
            Some(table) => table.delete(&held_key(account), &sort).await,
            None => {
                if let Some(held) = self.held_here().get_mut(account) {
                    held.remove(&sort);
                }
                Ok(())
            }
        }
    }

    fn held_here(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, Revocation>>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Action;

    #[tokio::test]
    async fn a_held_back_rule_waits_for_its_account_s_sweep() {
        let journal = Journal::default();
        let finding = Finding::ssh_open("111122223333", "sg-0a", Some("sgr-1"), Action::Revoke);
        let held = Revocation::of(&finding, &RevokeSource::Sweep);
        journal.hold(held.clone()).await.unwrap();
        assert_eq!(
            journal.held("111122223333").await.unwrap(),
            std::slice::from_ref(&held)
        );
        assert!(journal.held("444455556666").await.unwrap().is_empty());
        journal.release_held(&held).await.unwrap();
        assert!(journal.held("111122223333").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_revocation_is_kept_with_the_whole_rule_why_and_by_whom() {
        let journal = Journal::default();
        let finding = Finding::ssh_open("111122223333", "sg-0a", Some("sgr-1"), Action::Revoke);
        let source = RevokeSource::Event {
            id: "ev-1".to_owned(),
            actor: Some("arn:aws:iam::111122223333:user/judy".to_owned()),
        };
        journal
            .note(Revocation::of(&finding, &source))
            .await
            .unwrap();
        let kept = journal.revoked("sgr-1").await.unwrap();
        assert_eq!(kept.rule, finding.rule);
        assert_eq!(kept.policy_rules, ["admin-ports-from-internet"]);
        assert!(
            kept.told().starts_with("revoked by sgguard at "),
            "{}",
            kept.told()
        );
        assert!(
            kept.told().ends_with(", handling event ev-1"),
            "{}",
            kept.told()
        );
        assert!(journal.revoked("sgr-2").await.is_none());
        // As the state table keeps it, and back: every field of the rule, the actor too.
        let item = kept.attributes();
        assert_eq!(item["source"], "live:ev-1");
        assert_eq!(item["ip_protocol"], "tcp");
        assert_eq!(item["actor"], "arn:aws:iam::111122223333:user/judy");
        assert_eq!(Revocation::from_attributes(&item).as_ref(), Some(&*kept));
    }

    #[test]
    fn every_kind_of_peer_and_protocol_reads_back_as_it_was_kept() {
        let finding = Finding::ssh_open("111122223333", "sg-0a", Some("sgr-1"), Action::Revoke);
        let peers = [
            Peer::cidr("::/0").unwrap(),
            Peer::PrefixList {
                id: "pl-0a".to_owned(),
                entries: None,
            },
            Peer::Group {
                id: "sg-0b".to_owned(),
                owner: Some("444455556666".to_owned()),
            },
        ];
        for peer in peers {
            for (protocol, ports) in [
                (crate::rule::Protocol::All, None),
                (crate::rule::Protocol::Other(47), None),
                (
                    crate::rule::Protocol::Udp,
                    crate::rule::PortRange::new(53, 60),
                ),
            ] {
                let mut revocation = Revocation::of(&finding, &RevokeSource::Sweep);
                revocation.rule.peer = peer.clone();
                revocation.rule.protocol = protocol;
                revocation.rule.ports = ports;
                revocation.rule.direction = Direction::Egress;
                revocation.rule.description = Some("a, b: c".to_owned());
                assert_eq!(
                    Revocation::from_attributes(&revocation.attributes()),
                    Some(revocation)
                );
            }
        }
    }
}
