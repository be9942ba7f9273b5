//! The sweep's tamper check: what the spoke stack deployed in each member account, read back and
//! compared with what it should be. A member administrator who deletes or disables the
//! forwarding rule, points it somewhere else, or lets another principal assume the remediation
//! role switches the guard off, or takes it over, without a single security-group event; the
//! sweep reports each as a failure naming the account (and the region, for the rule).

use serde_json::Value;

use crate::aws::{Aws, ForwardingRule};
use crate::ids::Arn;

/// The forwarding rule's name in every member region (`SecurityGroupChangeRule` of
/// `spoke-infra/sgguard-spoke.yaml`).
pub const FORWARDING_RULE: &str = "sgguard-forward-sg-changes";

/// The event pattern the spoke's rule must keep matching (the hub's copy; the infrastructure
/// tests keep the spoke template's equal to it).
pub(crate) const EVENT_PATTERN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/hub/event-pattern.json"
));

/// What the spoke stack should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TamperCheck {
    /// The hub account: the rule must send to an event bus there.
    pub hub_account: String,
    /// The hub bus's exact ARN, when known (`SGGUARD_HUB_BUS_ARN`).
    pub hub_bus_arn: Option<String>,
    /// The principals the remediation role may trust (`SGGUARD_TRUSTED_PRINCIPALS`, else the
    /// hub's own role); empty: the trust policy is not judged.
    pub trusted: Vec<String>,
    /// The remediation role whose trust is judged (`SGGUARD_ROLE_NAME`), whichever role the
    /// sweep reaches the accounts through (a scan may use the read-only audit role).
    pub remediation_role: String,
}

impl TamperCheck {
    /// The check for this hub: `trusted` when given, else the hub's own role (none when the hub
    /// does not run as a role: then only a missing role is judged).
    pub fn for_hub(
        aws: &Aws,
        hub_bus_arn: Option<String>,
        trusted: &[String],
        remediation_role: &str,
    ) -> TamperCheck {
        TamperCheck {
            remediation_role: remediation_role.to_owned(),
            hub_account: aws.hub_account().to_owned(),
            hub_bus_arn,
            trusted: if trusted.is_empty() {
                aws.hub_role_arn().into_iter().collect()
            } else {
                trusted.to_vec()
            },
        }
    }

    /// What is wrong with the forwarding rule as read (`None`: it is missing).
    pub fn rule_problems(&self, rule: Option<&ForwardingRule>) -> Vec<String> {
        let Some(rule) = rule else {
            return vec![format!(
                "the forwarding rule `{FORWARDING_RULE}` is missing: no event of this region \
                 reaches the hub"
            )];
        };
        let mut problems = Vec::new();
        if rule.state != "ENABLED" {
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
        let missing = missing_event_names(rule.pattern.as_deref());
        if !missing.is_empty() {
            problems.push(format!(
                "the forwarding rule's pattern no longer forwards {}",
                missing.join(", ")
            ));
        }
        let to_hub = |arn: &&String| match &self.hub_bus_arn {
            Some(bus) => *arn == bus,
            None => arn.parse::<Arn>().is_ok_and(|arn| {
                arn.service() == "events"
                    && arn.account() == self.hub_account
                    && arn.resource().starts_with("event-bus/")
            }),
        };
        if !rule.targets.iter().any(|t| to_hub(&t)) {
            problems.push(format!(
                "the forwarding rule no longer sends to the hub bus (targets: {})",
                list(&rule.targets)
            ));
        }
        let elsewhere: Vec<String> = rule
            .targets
            .iter()
            .filter(|t| !to_hub(t))
            .cloned()
            .collect();
        if !elsewhere.is_empty() {
            problems.push(format!(
                "the forwarding rule also sends to {}",
                list(&elsewhere)
            ));
        }
        problems
    }

    /// What is wrong with the remediation role's trust policy (`None`: the role is missing).
    pub fn trust_problems(&self, document: Option<&str>) -> Vec<String> {
        let Some(document) = document else {
            return vec!["the remediation role is missing".to_owned()];
        };
        if self.trusted.is_empty() {
            return Vec::new();
        }
        let Ok(policy) = serde_json::from_str::<Value>(document) else {
            return vec!["the remediation role's trust policy cannot be read".to_owned()];
        };
        let mut problems = Vec::new();
        let mut trusts_hub = false;
        for statement in one_or_many(field(&policy, "Statement")) {
            if field(statement, "Effect") != "Allow" || !allows_assume_role(statement) {
                continue;
            }
            for principal in principals(field(statement, "Principal")) {
                if self.trusted.contains(&principal) {
                    trusts_hub = true;
                } else {
                    problems.push(format!(
                        "the remediation role also trusts `{principal}`: whoever that is can \
                         act as sgguard in this account"
                    ));
                }
            }
        }
        if !trusts_hub {
            problems.push(format!(
                "the remediation role no longer trusts the hub ({})",
                list(&self.trusted)
            ));
        }
        problems
    }
}

/// The event names of the hub's pattern that `pattern` does not forward (all of them when it
/// cannot be read).
fn missing_event_names(pattern: Option<&str>) -> Vec<String> {
    let names = |text: &str| -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            event_names(field(&value, "detail"), &mut names);
        }
        names
    };
    let wanted = names(EVENT_PATTERN);
    let present = pattern.map(names).unwrap_or_default();
    wanted
        .into_iter()
        .filter(|n| !present.contains(n))
        .collect()
}

/// Every `eventName` a pattern's `detail` matches, in `$or` branches too.
fn event_names(detail: &Value, names: &mut Vec<String>) {
    match detail {
        Value::Object(fields) => {
            for (key, value) in fields {
                if key == "eventName" {
                    names.extend(one_or_many(value).filter_map(|n| n.as_str().map(str::to_owned)));
                } else if key == "$or" {
                    event_names(value, names);
                }
            }
        }
        Value::Array(branches) => branches.iter().for_each(|b| event_names(b, names)),
        _ => {}
    }
}

fn allows_assume_role(statement: &Value) -> bool {
    if !field(statement, "NotAction").is_null() {
        return true; // allows everything but some actions: judged as allowing AssumeRole
    }
    one_or_many(field(statement, "Action")).any(|action| {
        matches!(
            action.as_str().map(str::to_ascii_lowercase).as_deref(),
            Some("sts:assumerole" | "sts:*" | "*")
        )
    })
}

/// Every principal a statement's `Principal` names (`*` for anyone).
fn principals(principal: &Value) -> Vec<String> {
    match principal {
        Value::String(any) => vec![any.clone()],
        Value::Object(kinds) => kinds
            .values()
            .flat_map(one_or_many)
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The member `key` of an object; null when there is none.
fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

fn one_or_many(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Null => Box::new(std::iter::empty()),
        one => Box::new(std::iter::once(one)),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUB: &str = "111111111111";
    const BUS: &str = "arn:aws:events:us-east-1:111111111111:event-bus/sgguard-hub";
    const HUB_ROLE: &str = "arn:aws:iam::111111111111:role/sgguard-lambda";

    fn check() -> TamperCheck {
        TamperCheck {
            hub_account: HUB.to_owned(),
            hub_bus_arn: None,
            trusted: vec![HUB_ROLE.to_owned()],
            remediation_role: "sgguard-remediation".to_owned(),
        }
    }

    fn rule(state: &str, targets: &[&str]) -> ForwardingRule {
        ForwardingRule {
            state: state.to_owned(),
            pattern: Some(EVENT_PATTERN.to_owned()),
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn the_rule_as_deployed_is_fine() {
        assert!(
            check()
                .rule_problems(Some(&rule("ENABLED", &[BUS])))
                .is_empty()
        );
        let exact = TamperCheck {
            hub_bus_arn: Some(BUS.to_owned()),
            ..check()
        };
        assert!(
            exact
                .rule_problems(Some(&rule("ENABLED", &[BUS])))
                .is_empty()
        );
    }

    #[test]
    fn a_missing_disabled_narrowed_or_redirected_rule_is_tampering() {
        let c = check();
        assert!(c.rule_problems(None)[0].contains("missing"));
        assert!(c.rule_problems(Some(&rule("DISABLED", &[BUS])))[0].contains("DISABLED"));
        let elsewhere = "arn:aws:events:us-east-1:999999999999:event-bus/attacker";
        let redirected = c.rule_problems(Some(&rule("ENABLED", &[elsewhere])));
        assert_eq!(redirected.len(), 2, "{redirected:?}");
        assert!(redirected[0].contains("no longer sends to the hub bus"));
        assert!(redirected[1].contains(elsewhere));
        assert!(c.rule_problems(Some(&rule("ENABLED", &[])))[0].contains("targets: none"));
        let exact = TamperCheck {
            hub_bus_arn: Some(BUS.to_owned()),
            ..check()
        };
        let other_bus = "arn:aws:events:us-east-1:111111111111:event-bus/other";
        assert_eq!(
            exact
                .rule_problems(Some(&rule("ENABLED", &[other_bus])))
                .len(),
            2
        );

        let mut narrowed = rule("ENABLED", &[BUS]);
        narrowed.pattern = Some(
            r#"{"source":["aws.ec2"],"detail":{"eventName":["AuthorizeSecurityGroupEgress"]}}"#
                .to_owned(),
        );
        let problems = c.rule_problems(Some(&narrowed));
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("AuthorizeSecurityGroupIngress"),
            "{problems:?}"
        );
        assert!(!problems[0].contains("AuthorizeSecurityGroupEgress"));
    }

    fn trust(principal: Value) -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
        }]})
        .to_string()
    }

    #[test]
    fn the_trust_as_deployed_is_fine_and_any_other_principal_is_tampering() {
        let c = check();
        assert!(
            c.trust_problems(Some(&trust(serde_json::json!({"AWS": HUB_ROLE}))))
                .is_empty()
        );
        let intruder = "arn:aws:iam::222222222222:role/admin";
        let problems = c.trust_problems(Some(&trust(
            serde_json::json!({"AWS": [HUB_ROLE, intruder]}),
        )));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains(intruder));
        let anyone = c.trust_problems(Some(&trust(serde_json::json!("*"))));
        assert_eq!(anyone.len(), 2, "{anyone:?}");
        assert!(anyone[0].contains("`*`"));
        assert!(anyone[1].contains("no longer trusts the hub"));
        let service = c.trust_problems(Some(&trust(
            serde_json::json!({"Service": "ec2.amazonaws.com"}),
        )));
        assert!(service[0].contains("ec2.amazonaws.com"));
        assert!(c.trust_problems(None)[0].contains("missing"));
        assert!(c.trust_problems(Some("not json"))[0].contains("cannot be read"));
        // A statement that denies, or allows something else, trusts no one.
        let deny = trust(serde_json::json!({"AWS": intruder})).replace("Allow", "Deny");
        assert_eq!(c.trust_problems(Some(&deny)).len(), 1);
        // Without known principals, only a missing role is judged.
        let blind = TamperCheck {
            trusted: Vec::new(),
            ..check()
        };
        assert!(
            blind
                .trust_problems(Some(&trust(serde_json::json!("*"))))
                .is_empty()
        );
    }
}
