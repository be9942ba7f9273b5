//! Re-reads that reflect the event. EC2's reads are eventually consistent: a group re-read right
//! after a change may not show the rule the change added, or may still show a modified rule's
//! old values. The event's own group is re-read, with a bounded backoff, until it shows what the
//! event did; a rule still missing is then explained by the journal (this hub revoked it) or by
//! time (the change is older than any read lag), else the event fails to be retried. What the
//! event changed is never judged on a view that does not show the change.

use std::time::Duration;

use super::Judge;
use crate::aws::AwsError;
use crate::enforce::SecurityGroups;
use crate::input::cloudtrail::{Change, CloudTrailEvent};
use crate::rule::SecurityGroupRule;

/// The waits between re-reads of a group that does not show the event yet (about 4 s in all).
pub(super) const BACKOFF: [Duration; 4] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// How long after a change a read may still lag behind it: a rule of an older event that is
/// missing was removed, not yet to be seen.
pub(super) const READ_LAG: Duration = Duration::from_secs(120);

/// What the event says one group must show.
pub(super) struct Expected<'e> {
    /// The event's rules in the group, by id.
    rules: Vec<&'e SecurityGroupRule>,
    /// Whether their values must show too (a modification), not only their ids.
    values: bool,
}

/// Where a re-read lags behind the event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Lag {
    /// Rule ids the event names that the group does not hold.
    pub missing: Vec<String>,
    /// Rule ids the event modified that still hold other values.
    pub stale: Vec<String>,
}

impl<'e> Expected<'e> {
    /// What `event` says the group `group_id` must show.
    pub fn of(event: &'e CloudTrailEvent, group_id: &str) -> Expected<'e> {
        Expected {
            rules: event
                .rules()
                .iter()
                .filter(|r| r.rule_id.is_some() && r.group_id.as_deref() == Some(group_id))
                .collect(),
            values: matches!(event.change, Change::Modified { .. }),
        }
    }

    /// Where `live` (the group's rules as read) lags behind the event.
    pub fn lag(&self, live: &[SecurityGroupRule]) -> Lag {
        let mut lag = Lag::default();
        for rule in &self.rules {
            let id = rule.rule_id.as_deref();
            match live.iter().find(|l| l.rule_id.as_deref() == id) {
                None => lag.missing.extend(id.map(str::to_owned)),
                Some(found) if self.values && !rule.has_same_values(found) => {
                    lag.stale.extend(id.map(str::to_owned));
                }
                Some(_) => {}
            }
        }
        lag
    }
}

impl Judge<'_, '_> {
    /// The rules of the event's group `group_id`, re-read (with [`BACKOFF`]) until they show
    /// what the event did there. A rule still missing is accepted when the journal says this hub
    /// revoked it, or when the change is older than [`READ_LAG`] (it was removed since; the
    /// finding says so); a modified rule still showing other values is accepted only past
    /// [`READ_LAG`] (changed again since: the live values are the truth). Anything else is an
    /// error: the event fails and is retried, nothing judged on a view without the change.
    pub(super) async fn rules_reflecting<G: SecurityGroups>(
        &self,
        groups: &G,
        group_id: &str,
        event: &CloudTrailEvent,
    ) -> Result<Vec<SecurityGroupRule>, AwsError> {
        let expected = Expected::of(event, group_id);
        // A change older than any read lag is settled: what the group holds now is the truth.
        let settled = age(event).is_some_and(|age| age > READ_LAG);
        let mut rules = groups.group_rules(group_id).await?;
        let mut waits = BACKOFF.iter();
        let unexplained = loop {
            let unexplained = if settled {
                Vec::new()
            } else {
                self.unexplained(&expected.lag(&rules)).await
            };
            let Some(wait) = waits.next().filter(|_| !unexplained.is_empty()) else {
                break unexplained;
            };
            tracing::info!(
                group = group_id,
                ?unexplained,
                "the group does not show the event yet; reading again"
            );
            tokio::time::sleep(*wait).await;
            rules = groups.group_rules(group_id).await?;
        };
        if unexplained.is_empty() {
            return Ok(rules);
        }
        let waited: Duration = BACKOFF.iter().sum();
        Err(AwsError {
            operation: "DescribeSecurityGroupRules",
            account: event.account_id.clone().unwrap_or_default(),
            region: event.region.clone().unwrap_or_default(),
            code: None,
            message: format!(
                "the group does not show the event's change after {} re-reads over {:.1} s \
                 ({}): EC2's reads lag behind; the event is retried, nothing judged on the \
                 stale view",
                BACKOFF.len() + 1,
                waited.as_secs_f64(),
                unexplained.join("; ")
            ),
        })
    }

    /// What of `lag` nothing explains: a missing rule the journal does not say this hub
    /// revoked, a modified rule that still shows its old values.
    async fn unexplained(&self, lag: &Lag) -> Vec<String> {
        let mut unexplained = Vec::new();
        for id in &lag.missing {
            if self.journal.revoked(id).await.is_none() {
                unexplained.push(format!("rule `{id}` is not in it yet"));
            }
        }
        unexplained.extend(
            lag.stale
                .iter()
                .map(|id| format!("rule `{id}` still has the values it had before the change")),
        );
        unexplained
    }
}

/// How long ago the event happened (`None`: it does not say, or says it unreadably).
pub(super) fn age(event: &CloudTrailEvent) -> Option<Duration> {
    let at: jiff::Timestamp = event.time.as_deref()?.parse().ok()?;
    let age = jiff::Timestamp::now().duration_since(at);
    Duration::try_from(age).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::enforce::breaker::Limits;
    use crate::enforce::event::tests::{GROUP, event, handle_this, open_group, outcomes, rule};
    use crate::enforce::fake::Fake;
    use crate::enforce::state::HubState;
    use crate::outcome::{EventOutcome, Mode, Outcome, Status};
    use crate::policy::Baseline;

    /// The test event (tcp 22 opened to the internet, rule `sgr-ssh`), made `seconds_ago`.
    fn made(seconds_ago: i64) -> Value {
        let mut event = event();
        let at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(seconds_ago);
        event["detail"]["eventTime"] = json!(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        event
    }

    async fn handle(
        fake: &Fake,
        event: &Value,
    ) -> (EventOutcome, Option<super::super::HandleError>) {
        let state = HubState::in_process(Limits::default());
        let baseline = Baseline::default_baseline().unwrap();
        handle_this(fake, Mode::Enforce, &state, &baseline, event).await
    }

    #[tokio::test]
    async fn a_rule_the_first_reads_lack_is_waited_for_then_revoked() {
        let fake = open_group().lagging("sgr-ssh", None, 2);
        let (outcome, error) = handle(&fake, &made(1)).await;
        assert_eq!(error, None, "{outcome:?}");
        assert!(outcomes(&outcome).contains(&("sgr-ssh".to_owned(), Outcome::Revoked)));
        assert!(!fake.rule_ids(GROUP).contains(&"sgr-ssh".to_owned()));
    }

    #[tokio::test]
    async fn a_rule_that_never_shows_fails_the_event_for_a_retry_and_nothing_is_judged() {
        let fake = open_group().lagging("sgr-ssh", None, 100);
        let (outcome, error) = handle(&fake, &made(1)).await;
        let error = error.expect("the event fails");
        assert!(
            matches!(error, super::super::HandleError::Aws(_)),
            "retryable: {error:?}"
        );
        assert!(!error.answered_as_handled());
        assert!(
            error
                .to_string()
                .contains("rule `sgr-ssh` is not in it yet"),
            "{error}"
        );
        assert_eq!(outcome.status, Status::Failed);
        assert!(
            outcome.findings.is_empty(),
            "nothing judged on the stale view"
        );
        assert!(fake.revoke_calls().is_empty());
        // Not "removed by someone else": nothing is said of who removed it.
        assert!(!format!("{outcome:?}").contains("removed"), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_missing_rule_of_a_settled_change_is_gone_and_says_only_what_is_known() {
        let fake = Fake::default().with_group(GROUP, Default::default(), vec![]);
        let (outcome, error) = handle(&fake, &made(600)).await;
        assert_eq!(error, None);
        assert_eq!(
            outcomes(&outcome),
            [("sgr-ssh".to_owned(), Outcome::AlreadyGone)]
        );
        let removed = outcome.findings[0].removed.clone().unwrap();
        assert!(
            removed.starts_with("no longer in the group when re-read 10 min after the change"),
            "{removed}"
        );
        assert!(removed.contains("this hub did not revoke it"), "{removed}");
    }

    /// The modification of `sgr-mod` from tcp 443 from 10.0.0.0/8 to tcp 22 from 0.0.0.0/0.
    fn modification() -> Value {
        let mut event = made(1);
        event["detail"]["eventName"] = json!("ModifySecurityGroupRules");
        event["detail"]["requestParameters"] = json!({"ModifySecurityGroupRulesRequest": {
            "GroupId": GROUP,
            "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-mod", "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}}}});
        event["detail"]["responseElements"] = json!({"ModifySecurityGroupRulesResponse": {
            "return": true}});
        event
    }

    #[tokio::test]
    async fn a_modified_rule_is_judged_only_once_the_read_shows_its_new_values() {
        let before = rule("sgr-mod", 443, "10.0.0.0/8");
        let fake = Fake::default()
            .with_group(
                GROUP,
                Default::default(),
                vec![rule("sgr-mod", 22, "0.0.0.0/0")],
            )
            .lagging("sgr-mod", Some(before.clone()), 3);
        let (outcome, error) = handle(&fake, &modification()).await;
        assert_eq!(error, None, "{outcome:?}");
        assert_eq!(
            outcomes(&outcome),
            [("sgr-mod".to_owned(), Outcome::Revoked)]
        );
        // Still the old values after every re-read: the event fails, nothing judged.
        let fake = Fake::default()
            .with_group(
                GROUP,
                Default::default(),
                vec![rule("sgr-mod", 22, "0.0.0.0/0")],
            )
            .lagging("sgr-mod", Some(before), 100);
        let (outcome, error) = handle(&fake, &modification()).await;
        let error = error.expect("the event fails");
        assert!(
            error
                .to_string()
                .contains("rule `sgr-mod` still has the values it had before the change"),
            "{error}"
        );
        assert!(outcome.findings.is_empty());
        assert!(fake.revoke_calls().is_empty());
    }

    #[test]
    fn an_added_rule_must_be_there_a_modified_one_with_its_new_values() {
        let added = [rule("sgr-1", 22, "0.0.0.0/0")];
        let expected = Expected {
            rules: added.iter().collect(),
            values: false,
        };
        assert_eq!(expected.lag(&[]).missing, ["sgr-1"]);
        // Added: its id is enough (the live read is the truth for its values).
        assert_eq!(
            expected.lag(&[rule("sgr-1", 443, "10.0.0.0/8")]),
            Lag::default()
        );
        let modified = Expected {
            rules: added.iter().collect(),
            values: true,
        };
        let old = modified.lag(&[rule("sgr-1", 22, "10.0.0.0/8")]);
        assert!(old.missing.is_empty());
        assert_eq!(old.stale, ["sgr-1"]);
        assert_eq!(
            modified.lag(&[rule("sgr-1", 22, "0.0.0.0/0")]),
            Lag::default()
        );
    }
}
