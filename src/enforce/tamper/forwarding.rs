//! The forwarding rule as read in one member region, judged: it exists and is enabled, its
//! pattern forwards everything the hub's does (`pattern`), and it sends the events unchanged to
//! the hub bus as the spoke's forwarder role, and nowhere else. A region without it is a
//! coverage gap, told apart by whether the spokes were deployed there.

use super::pattern::{Narrowed, narrowed};
use super::{FORWARDING_RULE, TamperCheck, list};
use crate::aws::{AwsError, ForwardingRule, RuleTarget};
use crate::ids::Arn;
use crate::outcome::{Forwarding, RuleSeen};

/// The forwarding rule of one account × region as read, judged.
#[derive(Debug, PartialEq, Eq)]
pub struct Judged {
    /// What was read.
    pub seen: RuleSeen,
    /// What is wrong with it: tampering.
    pub problems: Vec<String>,
    /// The region has no rule: a coverage gap, and whether the spokes forward from there.
    pub gap: Option<Forwarding>,
}

/// The rule states that forward the events the pattern matches (`ENABLED_WITH_ALL_…` forwards
/// the read-only management events too: more, not less).
const FORWARDING_STATES: [&str; 2] = ["ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"];

impl TamperCheck {
    /// Whether the spokes deploy the forwarding rule to `region`.
    pub fn forwarding_in(&self, region: &str) -> Forwarding {
        match &self.forwarding_regions {
            None => Forwarding::Unknown,
            Some(regions) if regions.iter().any(|r| r == region) => Forwarding::Expected,
            Some(_) => Forwarding::NotDeployed,
        }
    }

    /// The forwarding rule of `account` in `region` as read (one read serves both checks). A
    /// missing rule is a coverage gap; in a `member` (the hub account may be no StackSet
    /// target) it is tampering too where the spokes deploy it. A rule that cannot be read is a
    /// problem: nothing there is proven.
    pub fn judge_forwarding(
        &self,
        account: &str,
        region: &str,
        member: bool,
        read: Result<Option<ForwardingRule>, AwsError>,
    ) -> Judged {
        match read {
            Err(error) => Judged {
                seen: RuleSeen::Unreadable,
                problems: vec![format!("cannot read the forwarding rule: {error}")],
                gap: None,
            },
            Ok(Some(rule)) => Judged {
                problems: self.rule_problems(account, Some(&rule)),
                seen: RuleSeen::State(rule.state),
                gap: None,
            },
            Ok(None) => {
                let forwarding = self.forwarding_in(region);
                let deployed = member && forwarding == Forwarding::Expected;
                Judged {
                    seen: RuleSeen::Missing,
                    problems: if deployed {
                        self.rule_problems(account, None)
                    } else {
                        Vec::new()
                    },
                    gap: Some(forwarding),
                }
            }
        }
    }

    /// What is wrong with the forwarding rule of `account` as read (`None`: it is missing).
    pub fn rule_problems(&self, account: &str, rule: Option<&ForwardingRule>) -> Vec<String> {
        let Some(rule) = rule else {
            return vec![format!(
                "the forwarding rule `{FORWARDING_RULE}` is missing: no event of this region \
                 reaches the hub"
            )];
        };
        let mut problems = Vec::new();
        if !FORWARDING_STATES.contains(&rule.state.as_str()) {
            problems.push(format!(
                "the forwarding rule `{FORWARDING_RULE}` is {}, not ENABLED: no event of this \
                 region reaches the hub",
                if rule.state.is_empty() {
                    "in no state"
                } else {
                    &rule.state
                }
            ));
        }
        problems.extend(pattern_problem(rule.pattern.as_deref()));
        problems.extend(self.target_problems(account, &rule.targets));
        problems
    }

    fn target_problems(&self, account: &str, targets: &[RuleTarget]) -> Vec<String> {
        let (to_hub, elsewhere): (Vec<&RuleTarget>, Vec<&RuleTarget>) =
            targets.iter().partition(|t| self.is_hub_bus(&t.arn));
        let mut problems = Vec::new();
        if to_hub.is_empty() {
            let arns: Vec<&str> = targets.iter().map(|t| t.arn.as_str()).collect();
            problems.push(format!(
                "the forwarding rule no longer sends to the hub bus (targets: {})",
                list(&arns)
            ));
        }
        let role = format!("role/{}", self.forwarder_role);
        for target in to_hub {
            if !target.rewrites.is_empty() {
                problems.push(format!(
                    "the forwarding rule's target `{}` rewrites the events it sends to the hub \
                     ({}): the hub no longer receives the CloudTrail events",
                    target.id,
                    list(&target.rewrites)
                ));
            }
            let as_forwarder = target
                .role_arn
                .as_deref()
                .and_then(|arn| arn.parse::<Arn>().ok())
                .is_some_and(|arn| {
                    arn.service() == "iam" && arn.account() == account && arn.resource() == role
                });
            if !as_forwarder {
                problems.push(format!(
                    "the forwarding rule's target `{}` sends to the hub as {}, not as the \
                     forwarder role `{}` of this account",
                    target.id,
                    target
                        .role_arn
                        .as_deref()
                        .map_or("no role".to_owned(), |r| format!("`{r}`")),
                    role,
                ));
            }
        }
        if !elsewhere.is_empty() {
            let arns: Vec<&str> = elsewhere.iter().map(|t| t.arn.as_str()).collect();
            problems.push(format!(
                "the forwarding rule also sends to {}: this account's security-group changes \
                 leak there",
                list(&arns)
            ));
        }
        problems
    }

    /// Whether `arn` is the hub bus: the exact ARN when known, else any bus of the hub account.
    fn is_hub_bus(&self, arn: &str) -> bool {
        match &self.hub_bus_arn {
            Some(bus) => arn == bus,
            None => arn.parse::<Arn>().is_ok_and(|arn| {
                arn.service() == "events"
                    && arn.account() == self.hub_account
                    && arn.resource().starts_with("event-bus/")
            }),
        }
    }
}

/// What is wrong with the rule's pattern (`None`: the rule has none).
fn pattern_problem(pattern: Option<&str>) -> Option<String> {
    let Some(pattern) = pattern else {
        return Some(
            "the forwarding rule has no event pattern: it forwards no security-group change"
                .to_owned(),
        );
    };
    match narrowed(pattern)? {
        Narrowed::Unreadable(why) => Some(format!(
            "the forwarding rule's pattern cannot be judged ({why}): it is not proven to forward \
             the hub's events"
        )),
        Narrowed::Misses { events, by } => Some(format!(
            "the forwarding rule's pattern no longer forwards every {} event of the hub's \
             pattern (narrowed by {})",
            list(&events),
            list(&by)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::fake;

    const MEMBER: &str = "222222222222";

    fn check() -> TamperCheck {
        fake::tamper_check(Vec::new())
    }

    fn problems(change: impl FnOnce(&mut ForwardingRule)) -> Vec<String> {
        let mut rule = fake::intact_forwarding_rule(MEMBER);
        change(&mut rule);
        check().rule_problems(MEMBER, Some(&rule))
    }

    #[test]
    fn the_rule_as_deployed_is_fine_also_with_the_exact_bus_or_forwarding_more() {
        assert_eq!(problems(|_| {}), Vec::<String>::new());
        let rule = fake::intact_forwarding_rule(MEMBER);
        let exact = TamperCheck {
            hub_bus_arn: Some(rule.targets[0].arn.clone()),
            ..check()
        };
        assert!(exact.rule_problems(MEMBER, Some(&rule)).is_empty());
        let all_management_events = problems(|r| {
            r.state = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS".to_owned();
        });
        assert!(
            all_management_events.is_empty(),
            "{all_management_events:?}"
        );
    }

    #[test]
    fn a_missing_disabled_or_patternless_rule_is_tampering() {
        assert!(check().rule_problems(MEMBER, None)[0].contains("missing"));
        let disabled = problems(|r| r.state = "DISABLED".to_owned());
        assert_eq!(disabled.len(), 1);
        assert!(disabled[0].contains("is DISABLED, not ENABLED"));
        assert!(problems(|r| r.state.clear())[0].contains("in no state"));
        assert!(problems(|r| r.pattern = None)[0].contains("no event pattern"));
        let narrowed = problems(|r| {
            r.pattern = Some(r#"{"source":["aws.ec2"],"detail":{"eventSource":["x"]}}"#.to_owned());
        });
        assert!(
            narrowed[0].contains("pattern no longer forwards every")
                && narrowed[0].contains("`detail.eventSource`"),
            "{narrowed:?}"
        );
    }

    /// A missing rule is a coverage gap wherever it is, and tampering only in a member and
    /// where the spokes deploy it; a rule that is there is judged, one that cannot be read is
    /// a problem.
    #[test]
    fn a_missing_rule_is_a_gap_and_tampering_only_where_it_was_deployed() {
        let deployed = TamperCheck {
            forwarding_regions: Some(vec!["eu-west-1".to_owned()]),
            ..check()
        };
        let missing = |check: &TamperCheck, region: &str, member: bool| {
            check.judge_forwarding(MEMBER, region, member, Ok(None))
        };
        let removed = missing(&deployed, "eu-west-1", true);
        assert_eq!(removed.gap, Some(Forwarding::Expected));
        assert_eq!(removed.problems.len(), 1);
        assert!(removed.problems[0].contains("is missing"), "{removed:?}");
        let hub_account = missing(&deployed, "eu-west-1", false);
        let gap_only = |gap| Judged {
            seen: RuleSeen::Missing,
            problems: Vec::new(),
            gap: Some(gap),
        };
        assert_eq!(hub_account, gap_only(Forwarding::Expected));
        let elsewhere = missing(&deployed, "ap-south-1", true);
        assert_eq!(elsewhere, gap_only(Forwarding::NotDeployed));
        let unknown = missing(&check(), "eu-west-1", true);
        assert_eq!(unknown, gap_only(Forwarding::Unknown));

        let intact = fake::intact_forwarding_rule(MEMBER);
        let present = deployed.judge_forwarding(MEMBER, "ap-south-1", false, Ok(Some(intact)));
        assert_eq!(
            present,
            Judged {
                seen: RuleSeen::State("ENABLED".to_owned()),
                problems: Vec::new(),
                gap: None
            },
            "a rule deployed by hand counts"
        );
        let mut disabled = fake::intact_forwarding_rule(MEMBER);
        disabled.state = "DISABLED".to_owned();
        let judged = deployed.judge_forwarding(MEMBER, "eu-west-1", true, Ok(Some(disabled)));
        assert_eq!((judged.problems.len(), judged.gap), (1, None));
        let unreadable = AwsError {
            operation: "DescribeRule",
            account: MEMBER.to_owned(),
            region: "eu-west-1".to_owned(),
            code: Some("AccessDeniedException".to_owned()),
            message: "AccessDeniedException: denied".to_owned(),
        };
        let judged = deployed.judge_forwarding(MEMBER, "eu-west-1", true, Err(unreadable));
        assert!(
            judged.gap.is_none()
                && judged.seen == RuleSeen::Unreadable
                && judged.problems[0].starts_with("cannot read the forwarding rule"),
            "{judged:?}"
        );
    }

    #[test]
    fn a_wrong_bus_or_another_target_is_tampering_naming_it() {
        let elsewhere = "arn:aws:events:us-east-1:999999999999:event-bus/attacker";
        let redirected = problems(|r| r.targets[0].arn = elsewhere.to_owned());
        assert_eq!(redirected.len(), 2, "{redirected:?}");
        assert!(redirected[0].contains(&format!(
            "no longer sends to the hub bus (targets: `{elsewhere}`)"
        )));
        assert!(redirected[1].contains(&format!("also sends to `{elsewhere}`")));
        assert!(problems(|r| r.targets.clear())[0].contains("targets: none"));
        let leaking = problems(|r| {
            let mut copy = r.targets[0].clone();
            copy.arn = elsewhere.to_owned();
            r.targets.push(copy);
        });
        assert_eq!(leaking.len(), 1);
        assert!(leaking[0].contains("leak"));
        // With the exact bus known, another bus of the hub account is not the hub's.
        let exact = TamperCheck {
            hub_bus_arn: Some(fake::intact_target(MEMBER).arn),
            ..check()
        };
        let mut rule = fake::intact_forwarding_rule(MEMBER);
        rule.targets[0].arn = rule.targets[0]
            .arn
            .replace("event-bus/sgguard", "event-bus/other");
        assert_eq!(exact.rule_problems(MEMBER, Some(&rule)).len(), 2);
    }

    #[test]
    fn a_hub_target_rewriting_the_event_or_sending_as_another_role_is_tampering() {
        for field in ["Input", "InputPath", "InputTransformer"] {
            let rewritten = problems(|r| r.targets[0].rewrites = vec![field]);
            assert_eq!(rewritten.len(), 1, "{rewritten:?}");
            assert!(rewritten[0].contains(&format!(
                "rewrites the events it sends to the hub (`{field}`)"
            )));
        }
        let other_role = problems(|r| {
            r.targets[0].role_arn = Some(format!("arn:aws:iam::{MEMBER}:role/other"));
        });
        assert!(other_role[0].contains("sends to the hub as `arn:aws:iam::222222222222:role/other`, not as the forwarder role `role/sgguard-event-forwarder`"), "{other_role:?}");
        let other_account = problems(|r| {
            r.targets[0].role_arn =
                Some("arn:aws:iam::999999999999:role/sgguard-event-forwarder".to_owned());
        });
        assert_eq!(other_account.len(), 1);
        assert!(problems(|r| r.targets[0].role_arn = None)[0].contains("as no role"));
    }
}
