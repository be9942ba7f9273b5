//! The remediation role's trust policy, judged: every statement that allows a way into the role
//! (`sts:AssumeRole`, `sts:AssumeRoleWithWebIdentity`, `sts:AssumeRoleWithSAML`, by name or by
//! wildcard, or through `NotAction`) may name only the hub's principals, and one must still
//! name them. An `Allow` whose principals cannot be told (`NotPrincipal`, none) is reported;
//! conditions are not evaluated (a statement for another principal is reported with or without
//! one).

use serde_json::Value;

use super::{TamperCheck, field, glob, list, one_or_many};

/// Every way into a role through STS (lowercase, as matched).
const WAYS_IN: [&str; 3] = [
    "sts:assumerole",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
];

/// The way the hub comes in.
const HUB_WAY_IN: &str = "sts:assumerole";

impl TamperCheck {
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
            if field(statement, "Effect") != "Allow" {
                continue;
            }
            let ways = ways_in(statement);
            if ways.is_empty() {
                continue;
            }
            let how = list(&ways);
            if let Some(excepted) = statement.get("NotPrincipal") {
                problems.push(format!(
                    "the remediation role trusts everyone but {} ({how}): whoever that is can act \
                     as sgguard in this account",
                    list(&principals(excepted))
                ));
                continue;
            }
            let named = principals(field(statement, "Principal"));
            if named.is_empty() {
                problems.push(format!(
                    "the remediation role has a trust statement ({how}) whose principals cannot \
                     be told"
                ));
            }
            for principal in named {
                if self.trusted.contains(&principal) {
                    trusts_hub |= ways.contains(&HUB_WAY_IN);
                } else {
                    problems.push(format!(
                        "the remediation role also trusts `{principal}` ({how}): whoever that is \
                         can act as sgguard in this account"
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

/// The ways into the role an `Allow` statement allows: those its `Action` patterns match, or
/// those its `NotAction` does not exclude (all of them when it has neither: IAM would refuse
/// it, and what cannot be read is not harmless).
fn ways_in(statement: &Value) -> Vec<&'static str> {
    let patterns = |key: &str| -> Option<Vec<String>> {
        statement.get(key).map(|value| {
            one_or_many(value)
                .map(|p| p.as_str().unwrap_or_default().to_ascii_lowercase())
                .collect()
        })
    };
    let named = |patterns: &[String], way: &str| patterns.iter().any(|p| glob(p, way, true));
    WAYS_IN
        .into_iter()
        .filter(|way| match (patterns("Action"), patterns("NotAction")) {
            (Some(actions), _) => named(&actions, way),
            (None, Some(excluded)) => !named(&excluded, way),
            (None, None) => true,
        })
        .collect()
}

/// Every principal a statement's `Principal` (or `NotPrincipal`) names (`*` for anyone).
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::enforce::fake;

    const HUB_ROLE: &str = "arn:aws:iam::111111111111:role/sgguard-lambda";
    const INTRUDER: &str = "arn:aws:iam::222222222222:role/admin";

    fn check() -> TamperCheck {
        fake::tamper_check(vec![HUB_ROLE.to_owned()])
    }

    /// The deployed trust statement, then `extra`.
    fn with(extra: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": HUB_ROLE}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}},
            extra,
        ]})
        .to_string()
    }

    #[test]
    fn the_trust_as_deployed_is_fine() {
        let deployed = with(json!({"Effect": "Deny", "Principal": "*", "Action": "sts:*"}));
        assert_eq!(
            check().trust_problems(Some(&deployed)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_way_in_for_another_principal_is_tampering() {
        for action in [
            json!("sts:AssumeRole"),
            json!("sts:AssumeRoleWithWebIdentity"),
            json!("sts:AssumeRoleWithSAML"),
            json!("STS:assumerole*"),
            json!("sts:Assume*"),
            json!("sts:*"),
            json!("*"),
            json!(["s3:GetObject", "sts:AssumeRoleWith?AML"]),
        ] {
            let document =
                with(json!({"Effect": "Allow", "Principal": {"AWS": INTRUDER}, "Action": action}));
            let problems = check().trust_problems(Some(&document));
            assert_eq!(problems.len(), 1, "{action}: {problems:?}");
            assert!(problems[0].contains(INTRUDER), "{problems:?}");
        }
        let federated = with(json!({"Effect": "Allow",
            "Principal": {"Federated": "accounts.google.com"},
            "Action": "sts:AssumeRoleWithWebIdentity"}));
        let problems = check().trust_problems(Some(&federated));
        assert!(problems[0].contains("`accounts.google.com` (`sts:assumerolewithwebidentity`)"));
        // What is not a way in is not judged.
        let tagging = with(
            json!({"Effect": "Allow", "Principal": {"AWS": INTRUDER}, "Action": "sts:TagSession"}),
        );
        assert!(check().trust_problems(Some(&tagging)).is_empty());
    }

    #[test]
    fn not_action_and_not_principal_are_judged_fail_safe() {
        let all_but_tagging = with(json!({"Effect": "Allow", "Principal": {"AWS": INTRUDER},
            "NotAction": "sts:TagSession"}));
        let problems = check().trust_problems(Some(&all_but_tagging));
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("`sts:assumerolewithsaml`"),
            "{problems:?}"
        );
        let all_but_ways_in = with(json!({"Effect": "Allow", "Principal": {"AWS": INTRUDER},
            "NotAction": "sts:AssumeRole*"}));
        assert!(check().trust_problems(Some(&all_but_ways_in)).is_empty());
        let everyone_but = with(json!({"Effect": "Allow", "NotPrincipal": {"AWS": INTRUDER},
            "Action": "sts:AssumeRole"}));
        let problems = check().trust_problems(Some(&everyone_but));
        assert!(problems[0].contains("trusts everyone but"), "{problems:?}");
        let nobody_named = with(json!({"Effect": "Allow", "Action": "sts:AssumeRole"}));
        assert!(check().trust_problems(Some(&nobody_named))[0].contains("cannot be told"));
    }

    #[test]
    fn anyone_missing_or_unreadable_is_tampering() {
        let c = check();
        let anyone = json!({"Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": "sts:AssumeRole"}]})
        .to_string();
        let problems = c.trust_problems(Some(&anyone));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`*`"));
        assert!(problems[1].contains("no longer trusts the hub"));
        // The hub named only for another way in does not let the hub in.
        let saml_only = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": HUB_ROLE},
            "Action": "sts:AssumeRoleWithSAML"}]})
        .to_string();
        assert!(c.trust_problems(Some(&saml_only))[0].contains("no longer trusts the hub"));
        assert!(c.trust_problems(None)[0].contains("missing"));
        assert!(c.trust_problems(Some("not json"))[0].contains("cannot be read"));
        // Without known principals, only a missing role is judged.
        let blind = TamperCheck {
            trusted: Vec::new(),
            ..check()
        };
        assert!(blind.trust_problems(Some(&anyone)).is_empty());
    }
}
