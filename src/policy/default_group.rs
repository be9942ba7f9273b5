//! The hazards of a baseline: its rules judged by the evaluator itself against a VPC's default
//! group as AWS creates it, so that what is refused at load is exactly what the guard would
//! revoke.

use ipnet::{Ipv4Net, Ipv6Net};

use super::baseline::Baseline;
use super::evaluate::Evaluator;
use super::hazard::Hazard;
use crate::finding::{Action, Tags};
use crate::rule::{Direction, Peer, Protocol, SecurityGroupRule};

/// The group the rules are judged in.
const DEFAULT_GROUP: &str = "sg-default";

/// The rules of a VPC's default group as AWS creates them (a new group has the two egress
/// rules), each named by the hazard its revocation is.
fn default_group() -> [(Hazard, SecurityGroupRule); 3] {
    let rule = |id: &str, direction: Direction, peer: Peer| SecurityGroupRule {
        account_id: None,
        region: None,
        group_id: Some(DEFAULT_GROUP.to_owned()),
        rule_id: Some(id.to_owned()),
        direction,
        protocol: Protocol::All,
        ports: None,
        peer,
        description: None,
    };
    let itself = Peer::Group {
        id: DEFAULT_GROUP.to_owned(),
        owner: None,
    };
    [
        (
            Hazard::RevokesDefaultGroup,
            rule("sgr-from-itself", Direction::Ingress, itself),
        ),
        (
            Hazard::RevokesDefaultEgress,
            rule(
                "sgr-to-ipv4",
                Direction::Egress,
                Peer::Ipv4(Ipv4Net::default()),
            ),
        ),
        (
            Hazard::RevokesDefaultEgress,
            rule(
                "sgr-to-ipv6",
                Direction::Egress,
                Peer::Ipv6(Ipv6Net::default()),
            ),
        ),
    ]
}

/// The hazards of a baseline's rules, each with the ids of the baseline rules that would revoke
/// (in baseline order); exemptions and protections aside, as they cover chosen groups only.
pub fn hazards(baseline: &Baseline) -> Vec<(Hazard, Vec<String>)> {
    let rules_only = Baseline {
        exemptions: Vec::new(),
        protected: Vec::new(),
        ..baseline.clone()
    };
    let group = default_group();
    let rules: Vec<SecurityGroupRule> = group.iter().map(|(_, rule)| rule.clone()).collect();
    let findings =
        Evaluator::new(&rules_only, Evaluator::today_utc()).evaluate_group(&rules, &Tags::new());
    let mut found: Vec<(Hazard, Vec<String>)> = Vec::new();
    for rule in &baseline.rules {
        for (hazard, target) in &group {
            let revokes = findings.iter().any(|f| {
                f.rule.rule_id == target.rule_id
                    && f.violations
                        .iter()
                        .any(|v| v.policy_rule == rule.id && v.action == Action::Revoke)
            });
            if !revokes {
                continue;
            }
            match found.iter_mut().find(|(h, _)| h == hazard) {
                Some((_, ids)) if ids.contains(&rule.id) => {}
                Some((_, ids)) => ids.push(rule.id.clone()),
                None => found.push((*hazard, vec![rule.id.clone()])),
            }
        }
    }
    found.sort_by_key(|(hazard, _)| *hazard);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hazards of a baseline of these rules that acknowledges both (so that it loads).
    fn hazards_of(rules: &str) -> Vec<(Hazard, Vec<String>)> {
        let yaml = format!(
            "version: 1\nrules:\n{rules}acknowledge: [revokes-default-egress, revokes-default-group]\n"
        );
        hazards(&Baseline::from_yaml(&yaml, "hazard.yaml").unwrap())
    }

    #[test]
    fn the_default_baseline_revokes_nothing_every_vpc_needs() {
        assert_eq!(hazards(&Baseline::default_baseline().unwrap()), vec![]);
    }

    #[test]
    fn egress_and_any_peer_rules_are_named_with_their_hazard() {
        let found = hazards_of(
            "  - {id: no-smtp-out, title: t, direction: egress, protocols: [tcp], ports: [25], action: revoke, severity: low}\n  - {id: telnet-any, title: t, source: any, protocols: [tcp], ports: [23], action: revoke, severity: high}\n  - {id: all-out-noted, title: t, direction: egress, protocols: [all], action: notify, severity: low}\n",
        );
        assert_eq!(
            found,
            vec![
                (Hazard::RevokesDefaultEgress, vec!["no-smtp-out".to_owned()]),
                (Hazard::RevokesDefaultGroup, vec!["telnet-any".to_owned()]),
            ]
        );
    }
}
