//! The remediation role's permissions, judged: together its inline and attached policies must
//! allow every action of `spoke-infra/remediation-actions.json` in the member account, none may
//! deny one, and its permissions boundary (when it has one) must allow each too.
//!
//! The evaluation is deliberately simple and fail-safe. Conditions are not evaluated: a `Deny`
//! with a condition counts as a `Deny`, an `Allow` with one proves nothing. A `Deny` counts
//! whatever its resources; an `Allow` counts when one of its resources is `*` or an ARN of the
//! action's service in this account (an `Allow` with `NotResource` proves nothing). Service
//! control policies and session policies are not read.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{TamperCheck, field, glob, list, one_or_many};
use crate::aws::{NamedPolicy, RolePolicies};

/// The actions the remediation role needs (the one list, also the infrastructure tests' and
/// the spoke template's).
pub(crate) const REMEDIATION_ACTIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/spoke-infra/remediation-actions.json"
));

/// One statement of a policy, as far as this check reads it.
struct Statement<'a> {
    /// The policy it is in (its name, or its ARN).
    policy: &'a str,
    allow: bool,
    /// `Action` patterns, or (`excluded`) `NotAction` patterns; lowercase.
    actions: Vec<String>,
    excluded: bool,
    /// `Resource` patterns; `None` for `NotResource`.
    resources: Option<Vec<String>>,
    conditional: bool,
}

impl Statement<'_> {
    fn names(&self, action: &str) -> bool {
        self.actions.iter().any(|p| glob(p, action, true)) != self.excluded
    }

    /// Whether this statement allows `action` in `account` for certain.
    fn allows(&self, action: &str, account: &str) -> bool {
        let service = action.split(':').next().unwrap_or_default();
        self.allow
            && !self.conditional
            && self.names(action)
            && self
                .resources
                .as_ref()
                .is_some_and(|resources| resources.iter().any(|r| resource_in(r, service, account)))
    }

    fn denies(&self, action: &str) -> bool {
        !self.allow && self.names(action)
    }
}

/// Whether the resource pattern `resource` can name a resource of `service` in `account`.
fn resource_in(resource: &str, service: &str, account: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, arn_service, _, arn_account, _] => {
            glob(&arn_service.to_ascii_lowercase(), service, true)
                && glob(arn_account, account, true)
        }
        _ => false,
    }
}

/// The statements of `policy`; `None` when it cannot be read.
fn statements(policy: &NamedPolicy) -> Option<Vec<Statement<'_>>> {
    let document: Value = serde_json::from_str(&policy.document).ok()?;
    let patterns = |value: &Value| -> Vec<String> {
        one_or_many(value)
            .map(|p| p.as_str().unwrap_or_default().to_ascii_lowercase())
            .collect()
    };
    one_or_many(field(&document, "Statement"))
        .map(|s| {
            let allow = match field(s, "Effect").as_str() {
                Some("Allow") => true,
                Some("Deny") => false,
                _ => return None,
            };
            let excluded = s.get("Action").is_none();
            Some(Statement {
                policy: &policy.name,
                allow,
                actions: patterns(field(s, if excluded { "NotAction" } else { "Action" })),
                excluded,
                resources: s.get("Resource").map(&patterns),
                conditional: s.get("Condition").is_some(),
            })
        })
        .collect()
}

/// The statements of `policy`; none, and a problem said, when it cannot be read.
fn read<'a>(policy: &'a NamedPolicy, problems: &mut Vec<String>) -> Vec<Statement<'a>> {
    statements(policy).unwrap_or_else(|| {
        problems.push(format!(
            "the remediation role's policy `{}` cannot be read: none of its grants is counted",
            policy.name
        ));
        Vec::new()
    })
}

impl TamperCheck {
    /// What is missing from the remediation role's permissions in `account` (`None`: the role
    /// is missing, which the trust check reports).
    pub fn permission_problems(
        &self,
        account: &str,
        policies: Option<&RolePolicies>,
    ) -> Vec<String> {
        let Some(policies) = policies else {
            return Vec::new();
        };
        let Ok(needed) = serde_json::from_str::<Vec<String>>(REMEDIATION_ACTIONS) else {
            return vec!["the remediation actions built into sgguard cannot be read".to_owned()];
        };
        let mut problems = Vec::new();
        let identity: Vec<Statement> = policies
            .inline
            .iter()
            .chain(&policies.attached)
            .flat_map(|p| read(p, &mut problems))
            .collect();
        let boundary = policies
            .boundary
            .as_ref()
            .map(|b| (b, read(b, &mut problems)));

        let mut denied: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut not_allowed = Vec::new();
        let mut beyond_boundary = Vec::new();
        for action in &needed {
            let lower = action.to_ascii_lowercase();
            let deniers = identity
                .iter()
                .chain(boundary.iter().flat_map(|(_, s)| s))
                .filter(|s| s.denies(&lower));
            let mut is_denied = false;
            for statement in deniers {
                is_denied = true;
                let actions = denied.entry(statement.policy).or_default();
                if !actions.contains(&action.as_str()) {
                    actions.push(action);
                }
            }
            if is_denied {
                continue;
            }
            if !identity.iter().any(|s| s.allows(&lower, account)) {
                not_allowed.push(action.as_str());
            }
            if let Some((_, statements)) = &boundary
                && !statements.iter().any(|s| s.allows(&lower, account))
            {
                beyond_boundary.push(action.as_str());
            }
        }
        for (policy, actions) in denied {
            problems.push(format!(
                "the remediation role's policy `{policy}` denies {}: sgguard cannot guard this \
                 account with it",
                list(&actions)
            ));
        }
        if !not_allowed.is_empty() {
            problems.push(format!(
                "the remediation role is no longer allowed {} in this account",
                list(&not_allowed)
            ));
        }
        if let Some((policy, _)) = boundary
            && !beyond_boundary.is_empty()
        {
            problems.push(format!(
                "the remediation role's permissions boundary `{}` does not allow {}",
                policy.name,
                list(&beyond_boundary)
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::enforce::fake;

    const MEMBER: &str = "222222222222";

    fn policy(name: &str, statements: Value) -> NamedPolicy {
        NamedPolicy {
            name: name.to_owned(),
            document: json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
        }
    }

    fn problems(policies: &RolePolicies) -> Vec<String> {
        fake::tamper_check(Vec::new()).permission_problems(MEMBER, Some(policies))
    }

    #[test]
    fn the_list_of_actions_reads() {
        let actions: Vec<String> = serde_json::from_str(REMEDIATION_ACTIONS).unwrap();
        assert!(actions.contains(&"ec2:RevokeSecurityGroupIngress".to_owned()));
    }

    #[test]
    fn the_policies_as_deployed_and_a_missing_role_are_fine() {
        assert_eq!(
            problems(&fake::intact_role_policies()),
            Vec::<String>::new()
        );
        assert!(
            fake::tamper_check(Vec::new())
                .permission_problems(MEMBER, None)
                .is_empty()
        );
        // Scoped to this account's resources, through wildcards and an attached policy.
        let scoped = RolePolicies {
            attached: vec![policy(
                "arn:aws:iam::222222222222:policy/ec2",
                json!([{"Effect": "Allow", "Action": ["ec2:Revoke*", "ec2:Describe*", "ec2:Get*"],
                        "Resource": "arn:aws:ec2:*:222222222222:security-group/*"},
                       {"Effect": "Allow", "Action": "ec2:Restore*",
                        "Resource": "arn:aws:ec2:*:222222222222:prefix-list/*"}]),
            )],
            inline: vec![policy(
                "rest",
                json!([{"Effect": "Allow", "NotAction": "ec2:*",
                        "Resource": "arn:aws:*:*:222222222222:*"},
                       {"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]),
            )],
            boundary: Some(policy(
                "arn:aws:iam::aws:policy/PowerUserAccess",
                json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            )),
        };
        assert_eq!(problems(&scoped), Vec::<String>::new());
    }

    #[test]
    fn an_inline_deny_even_with_a_condition_is_tampering() {
        let mut policies = fake::intact_role_policies();
        policies.inline.push(policy(
            "no-revoke",
            json!([{"Effect": "Deny", "Action": "ec2:Revoke*", "Resource": "*",
                    "Condition": {"Bool": {"aws:ViaAWSService": "true"}}}]),
        ));
        let found = problems(&policies);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`no-revoke` denies `ec2:RevokeSecurityGroupEgress`, `ec2:RevokeSecurityGroupIngress`"), "{found:?}");
        let all_but_reads = RolePolicies {
            inline: vec![policy(
                "all-but-reads",
                json!([{"Effect": "Deny", "NotAction": ["ec2:Describe*", "ec2:Get*"], "Resource": "*"}]),
            )],
            ..fake::intact_role_policies()
        };
        let found = problems(&all_but_reads);
        assert!(
            found[0].contains("`iam:GetRole`") && !found[0].contains("DescribeRegions"),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_or_unproven_allow_is_tampering() {
        let stripped = RolePolicies {
            inline: vec![policy(
                "reads",
                json!([{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
                       // In another account, under a condition, or with NotResource: no proof.
                       {"Effect": "Allow", "Action": "ec2:Revoke*",
                        "Resource": "arn:aws:ec2:*:999999999999:security-group/*"},
                       {"Effect": "Allow", "Action": "ram:*", "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
                       {"Effect": "Allow", "Action": "events:*", "NotResource": "arn:aws:events:*:*:rule/x"}]),
            )],
            ..RolePolicies::default()
        };
        let found = problems(&stripped);
        assert_eq!(found.len(), 1, "{found:?}");
        for action in [
            "ec2:GetManagedPrefixListEntries",
            "ec2:RevokeSecurityGroupIngress",
            "ram:GetResourceShareAssociations",
            "events:DescribeRule",
            "iam:GetRole",
        ] {
            assert!(
                found[0].contains(&format!("`{action}`")),
                "{action}: {found:?}"
            );
        }
        assert!(!found[0].contains("DescribeRegions"));
        let unreadable = RolePolicies {
            inline: vec![NamedPolicy {
                name: "broken".to_owned(),
                document: "not json".to_owned(),
            }],
            ..RolePolicies::default()
        };
        let found = problems(&unreadable);
        assert!(found[0].contains("`broken` cannot be read"), "{found:?}");
        assert!(found[1].contains("no longer allowed"));
    }

    #[test]
    fn a_boundary_without_an_action_is_tampering() {
        let bounded = RolePolicies {
            boundary: Some(policy(
                "arn:aws:iam::222222222222:policy/reads-only",
                json!([{"Effect": "Allow", "Action": ["ec2:Describe*", "ec2:Get*", "events:*", "iam:*", "ram:*", "securityhub:*"], "Resource": "*"}]),
            )),
            ..fake::intact_role_policies()
        };
        let found = problems(&bounded);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("boundary `arn:aws:iam::222222222222:policy/reads-only` does not allow `ec2:RestoreManagedPrefixListVersion`, `ec2:RevokeSecurityGroupEgress`, `ec2:RevokeSecurityGroupIngress`"), "{found:?}");
    }
}
