//! The revocation journal: each rule sgguard revoked, in which account, region and group, for
//! which baseline rules, when, and for what (an event's handling or the sweep). An event handled
//! after its own rules were revoked tells from it when and by what they were removed; restore
//! can check a message against it. Kept apart from the circuit breaker, which only counts.

use std::sync::Arc;
use std::time::Duration;

use super::RevokeSource;
use crate::finding::Finding;

/// How long an entry is kept in process.
const KEPT: Duration = Duration::from_secs(6 * 3600);

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
}

/// The revocations of the last hours, by rule id (this process's).
pub struct Journal {
    entries: moka::future::Cache<String, Arc<Revocation>>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            entries: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(KEPT)
                .build(),
        }
    }
}

impl Journal {
    /// Keeps one revocation.
    pub async fn note(&self, revocation: Revocation) {
        self.entries
            .insert(revocation.rule_id.clone(), Arc::new(revocation))
            .await;
    }

    /// The revocation of `rule_id`, when this hub made it.
    pub async fn revoked(&self, rule_id: &str) -> Option<Arc<Revocation>> {
        self.entries.get(rule_id).await
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
    }
}
