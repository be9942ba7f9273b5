//! The revocation journal: each rule sgguard revoked, in which account, region and group, for
//! which baseline rules, when, and for what (an event's handling or the sweep). An event handled
//! after its own rules were revoked tells from it when and by what they were removed; restore
//! can check a message against it. Kept apart from the circuit breaker, which only counts; in
//! the hub state table when there is one (every process of the hub reads what any revoked),
//! else in this process.

use std::sync::Arc;
use std::time::Duration;

use super::RevokeSource;
use crate::aws::{Attributes, StateTable};
use crate::finding::Finding;

/// How long an entry is kept in process.
const KEPT: Duration = Duration::from_secs(6 * 3600);

/// How long an entry is kept in the state table (restore reads it).
const KEPT_IN_TABLE: Duration = Duration::from_secs(90 * 24 * 3600);

/// One revoked rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub account: String,
    pub region: String,
    pub group_id: String,
    pub rule_id: String,
    /// The baseline rules it broke.
    pub policy_rules: Vec<String>,
    pub source: RevokeSource,
    pub at: jiff::Timestamp,
}

impl Revocation {
    /// The revocation of `finding`'s rule `rule_id`, now, for `source`.
    pub fn of(finding: &Finding, rule_id: &str, source: &RevokeSource) -> Revocation {
        Revocation {
            account: finding.rule.account_id.clone().unwrap_or_default(),
            region: finding.rule.region.clone().unwrap_or_default(),
            group_id: finding.rule.group_id.clone().unwrap_or_default(),
            rule_id: rule_id.to_owned(),
            policy_rules: finding
                .violations
                .iter()
                .map(|v| v.policy_rule.clone())
                .collect(),
            source: source.clone(),
            at: jiff::Timestamp::now(),
        }
    }

    /// As a message says it: `revoked by sgguard at TIME, handling event ID` (or `by the sweep`).
    pub fn told(&self) -> String {
        let at = self.at.strftime("%Y-%m-%dT%H:%M:%SZ");
        match &self.source {
            RevokeSource::Event(event) => {
                format!("revoked by sgguard at {at}, handling event {event}")
            }
            RevokeSource::Sweep => format!("revoked by sgguard at {at}, by the sweep"),
        }
    }

    /// As the state table keeps it.
    fn attributes(&self) -> Attributes {
        [
            ("account", self.account.clone()),
            ("region", self.region.clone()),
            ("group_id", self.group_id.clone()),
            ("rule_id", self.rule_id.clone()),
            ("policy_rules", self.policy_rules.join(",")),
            ("source", self.source.to_string()),
            ("at", self.at.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Read back from the state table; `None` when an attribute is missing or unreadable.
    fn from_attributes(item: &Attributes) -> Option<Revocation> {
        let text = |name: &str| item.get(name).cloned();
        Some(Revocation {
            account: text("account")?,
            region: text("region")?,
            group_id: text("group_id")?,
            rule_id: text("rule_id")?,
            policy_rules: text("policy_rules")?
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            source: RevokeSource::parse(&text("source")?)?,
            at: text("at")?.parse().ok()?,
        })
    }
}

/// The revocations by rule id: the hub's (state table) or this process's of the last hours.
pub struct Journal {
    entries: moka::future::Cache<String, Arc<Revocation>>,
    table: Option<StateTable>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            entries: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(KEPT)
                .build(),
            table: None,
        }
    }
}

fn rule_key(rule_id: &str) -> String {
    format!("rule#{rule_id}")
}

impl Journal {
    /// A journal kept in the hub state table.
    pub fn in_table(table: StateTable) -> Journal {
        Journal {
            table: Some(table),
            ..Journal::default()
        }
    }

    /// Keeps one revocation (in this process too, so this process's reads need no call). A
    /// table write that fails is logged: the rule was revoked all the same.
    pub async fn note(&self, revocation: Revocation) {
        if let Some(table) = &self.table {
            let expires = revocation.at.as_second() + KEPT_IN_TABLE.as_secs() as i64;
            let written = table
                .put(
                    &rule_key(&revocation.rule_id),
                    "revoked",
                    &revocation.attributes(),
                    expires,
                    false,
                )
                .await;
            if let Err(error) = written {
                tracing::error!(rule = %revocation.rule_id, error = %error, "the revocation could not be journaled");
            }
        }
        self.entries
            .insert(revocation.rule_id.clone(), Arc::new(revocation))
            .await;
    }

    /// The revocation of `rule_id`, when this hub made it (any of its processes, with the
    /// table). A table that cannot be read is logged and taken as "not known".
    pub async fn revoked(&self, rule_id: &str) -> Option<Arc<Revocation>> {
        if let Some(known) = self.entries.get(rule_id).await {
            return Some(known);
        }
        let table = self.table.as_ref()?;
        match table.get(&rule_key(rule_id), "revoked").await {
            Ok(item) => item
                .as_ref()
                .and_then(Revocation::from_attributes)
                .map(Arc::new),
            Err(error) => {
                tracing::warn!(rule = rule_id, error = %error, "the journal could not be read");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Action;

    #[tokio::test]
    async fn a_revocation_is_kept_with_where_what_and_why() {
        let journal = Journal::default();
        let finding = Finding::ssh_open("111122223333", "sg-0a", Some("sgr-1"), Action::Revoke);
        let source = RevokeSource::Event("ev-1".to_owned());
        journal
            .note(Revocation::of(&finding, "sgr-1", &source))
            .await;
        let kept = journal.revoked("sgr-1").await.unwrap();
        assert_eq!(
            (
                kept.account.as_str(),
                kept.region.as_str(),
                kept.group_id.as_str()
            ),
            ("111122223333", "eu-west-1", "sg-0a")
        );
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
        // As the state table keeps it, and back.
        let item = kept.attributes();
        assert_eq!(item["source"], "live:ev-1");
        assert_eq!(Revocation::from_attributes(&item).as_ref(), Some(&*kept));
        let sweep = Revocation {
            source: RevokeSource::Sweep,
            ..(*kept).clone()
        };
        assert_eq!(
            Revocation::from_attributes(&sweep.attributes()),
            Some(sweep)
        );
    }
}
