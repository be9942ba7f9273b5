//! Enforcement: what happens to a finding. A pure planner decides (finding + mode → planned
//! outcome); the revoke then goes through [`SecurityGroups`] ([`hub`]: the seams the AWS adapters
//! and an in-memory fake implement). The event flow ([`event`]) and the
//! organization sweep ([`sweep`]) both act through [`act`], the one revoke path.

pub mod breaker;
pub mod coverage;
#[cfg(test)]
mod deliver_tests;
pub mod disposition;
pub mod distributed;
pub mod event;
pub mod exemptions;
#[cfg(test)]
mod fake;
pub mod hub;
pub mod journal;
pub mod restore;
pub mod scheduled;
pub mod scope;
pub mod staging;
pub mod state;
pub mod sweep;
pub mod tamper;

use std::collections::HashMap;

use ipnet::IpNet;

use self::breaker::{Budget, Held};
use self::journal::{Journal, Revocation};
use crate::aws::{AwsError, RevokeOutcome};
use crate::finding::{Action, Finding};
use crate::outcome::{FindingOutcome, Mode, Outcome};
use crate::rule::{Direction, Peer, SecurityGroupRule};

pub use self::hub::{HubApi, SecurityGroups};
pub use crate::report::deliver::Outputs;

/// What a revocation was made for: the event it handled, or the sweep. Said as the finding's
/// `source`: `live:EVENT_ID` or `sweep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeSource {
    /// Handling one event: its CloudTrail id (or its name when it has none) and who made the
    /// change, when the event tells.
    Event { id: String, actor: Option<String> },
    /// The organization sweep.
    Sweep,
}

impl RevokeSource {
    /// Reads back what [`Display`](std::fmt::Display) wrote (`live:ID`, `sweep`), as the state
    /// table keeps it.
    pub fn parse(text: &str) -> Option<RevokeSource> {
        match text.strip_prefix("live:") {
            Some(id) => Some(RevokeSource::Event {
                id: id.to_owned(),
                actor: None,
            }),
            None => (text == "sweep").then_some(RevokeSource::Sweep),
        }
    }
}

impl std::fmt::Display for RevokeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RevokeSource::Event { id, .. } => write!(f, "live:{id}"),
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
/// `budget`, each revocation kept in the `journal`; returns every finding with what became of it. The event flow and the sweep share
/// this one revoke path.
pub async fn act<G: SecurityGroups>(
    groups: &G,
    group_id: &str,
    findings: Vec<Finding>,
    mode: Mode,
    source: &RevokeSource,
    budget: &Budget<'_>,
    journal: &Journal,
) -> Vec<FindingOutcome> {
    // The most severe first: past a limit, what is held back is the least severe (decoy rules
    // of a lower severity never shield the one that matters).
    let mut findings = findings;
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity()));
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
            match budget.take(account).await {
                Ok(()) => {}
                Err(Held::Limit(held)) => {
                    entry.outcome = Outcome::WouldRevoke;
                    // Held back, never dropped: the next sweep of the account re-checks it.
                    entry.error = Some(
                        match journal.hold(Revocation::of(&entry.finding, source)).await {
                            Ok(()) => format!("{held}; kept for the next sweep to re-check"),
                            Err(error) => format!(
                                "{held}; it could not be kept for the next sweep ({error}): \
                                 only this message tells it"
                            ),
                        },
                    );
                }
                // Never revoked uncounted: failed, so the handling is retried.
                Err(Held::Uncounted(error)) => {
                    entry.outcome = Outcome::Failed;
                    entry.error = Some(format!(
                        "not revoked: the circuit breaker could not count it ({error})"
                    ));
                    entry.aws_error = Some(error);
                }
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
                RevokeOutcome::Revoked => {
                    let revocation = Revocation::of(&entry.finding, source);
                    if let Err(error) = journal.note(revocation).await {
                        entry.error = Some(format!(
                            "revoked, but the revocation journal could not keep it ({error}): \
                             who removed it will not be told later, and `sgguard restore` \
                             cannot check it against the journal"
                        ));
                    }
                }
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

    /// What [`act`] makes of `findings` in enforce mode, for a sweep within `limits`.
    async fn act_in_enforce(
        fake: &crate::enforce::fake::Fake,
        group: &str,
        findings: Vec<Finding>,
        limits: crate::enforce::breaker::Limits,
    ) -> Vec<FindingOutcome> {
        let state = crate::enforce::state::HubState::in_process(limits);
        act(
            fake,
            group,
            findings,
            Mode::Enforce,
            &RevokeSource::Sweep,
            &state.breaker.event(),
            &state.journal,
        )
        .await
    }

    #[tokio::test]
    async fn act_never_calls_revoke_for_a_protected_group() {
        use crate::enforce::breaker::Limits;
        use crate::enforce::fake::{self, Fake};
        let group = "sg-0123456789abcdef0";
        let rule = fake::ssh_open(group, "sgr-1");
        let fake = Fake::default().with_group(group, Tags::new(), vec![rule]);
        let findings = vec![protected(finding(Some("sgr-1"), Action::Revoke, false))];
        let acted = act_in_enforce(&fake, group, findings, Limits::default()).await;
        assert_eq!(acted.len(), 1);
        assert_eq!(acted[0].outcome, Outcome::Protected);
        assert!(fake.revoke_calls().is_empty());
        assert_eq!(fake.rule_ids(group), ["sgr-1"]);
    }

    #[tokio::test]
    async fn past_a_limit_the_least_severe_are_held_back_not_the_most() {
        use crate::enforce::breaker::Limits;
        use crate::enforce::fake::{self, Fake};
        use crate::finding::Severity;
        let group = "sg-0123456789abcdef0";
        let rules: Vec<_> = ["sgr-1", "sgr-2", "sgr-3"]
            .iter()
            .map(|id| fake::ssh_open(group, id))
            .collect();
        let fake = Fake::default().with_group(group, Tags::new(), rules);
        let limits = Limits {
            per_event: 1,
            ..Limits::default()
        };
        // Two decoys of lower severity come first; the critical one is revoked all the same.
        let mut findings: Vec<Finding> = ["sgr-1", "sgr-2", "sgr-3"]
            .iter()
            .map(|id| finding(Some(id), Action::Revoke, false))
            .collect();
        for decoy in &mut findings[..2] {
            decoy.violations[0].severity = Severity::High;
        }
        let acted = act_in_enforce(&fake, group, findings, limits).await;
        let outcome = |id: &str| {
            acted
                .iter()
                .find(|f| f.finding.rule.rule_id.as_deref() == Some(id))
                .unwrap()
                .outcome
        };
        assert_eq!(outcome("sgr-3"), Outcome::Revoked);
        assert_eq!(outcome("sgr-1"), Outcome::WouldRevoke);
        assert_eq!(outcome("sgr-2"), Outcome::WouldRevoke);
        assert_eq!(fake.rule_ids(group), ["sgr-1", "sgr-2"]);
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
