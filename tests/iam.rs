//! The IAM policies grant exactly the AWS actions the code calls: the list is read from the
//! code itself (every SDK call on a client in `src/aws/`), not kept by hand.

use std::collections::BTreeSet;

/// `describe_security_group_rules` → `DescribeSecurityGroupRules`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Removes the white space around dots, so that `client\n    .describe_x()` reads
/// `client.describe_x()`, and keeps it elsewhere.
fn join_method_chains(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if next == Some(&'.') || out.ends_with('.') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Every `<client>.<operation>()` in `src/aws/`, as `service:Operation`.
fn actions_called_by_the_code() -> BTreeSet<String> {
    let receivers = [
        ("client", "ec2"),
        ("sts", "sts"),
        ("sns", "sns"),
        ("organizations", "organizations"),
    ];
    let mut actions = BTreeSet::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/aws");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let compact = join_method_chains(&text);
        for (receiver, service) in receivers {
            let needle = format!("{receiver}.");
            let mut rest = compact.as_str();
            while let Some(at) = rest.find(&needle) {
                let before = rest[..at].chars().last();
                rest = &rest[at + needle.len()..];
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let is_call = rest[name.len()..].starts_with("()");
                if is_call && !name.is_empty() && name != "clone" {
                    actions.insert(format!("{service}:{}", pascal(&name)));
                }
            }
        }
    }
    actions
}

fn quoted_actions(text: &str, service: &str) -> BTreeSet<String> {
    text.split('"')
        .filter(|s| s.starts_with(&format!("{service}:")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_action_list_in_the_code_is_what_the_code_calls() {
    let called = actions_called_by_the_code();
    let listed: BTreeSet<String> = sgguard::aws::ACTIONS
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    assert_eq!(
        called, listed,
        "sgguard::aws::ACTIONS drifted from the calls in src/aws/"
    );
}

#[test]
fn the_member_role_grants_exactly_the_ec2_actions_called() {
    let called: BTreeSet<String> = actions_called_by_the_code()
        .into_iter()
        .filter(|a| a.starts_with("ec2:"))
        .collect();
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spoke-infra/remediation-actions.json"
    ))
    .unwrap();
    let granted: BTreeSet<String> = serde_json::from_str::<Vec<String>>(&file)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(granted, called, "spoke-infra/remediation-actions.json");
}

#[test]
fn the_hub_role_grants_exactly_the_other_actions_called() {
    let called = actions_called_by_the_code();
    let policy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/hub/iam.tf")).unwrap();
    for service in ["sns", "organizations"] {
        let wanted: BTreeSet<String> = called
            .iter()
            .filter(|a| a.starts_with(&format!("{service}:")))
            .cloned()
            .collect();
        assert_eq!(
            quoted_actions(&policy, service),
            wanted,
            "hub/iam.tf {service} actions"
        );
    }
    // sts:GetCallerIdentity needs no permission; AssumeRole is granted on the member role only.
    let sts = quoted_actions(&policy, "sts");
    assert!(sts.iter().all(|a| a == "sts:AssumeRole"), "{sts:?}");
    // The hub's EC2 actions come from the same file as the member role's.
    assert!(policy.contains("remediation-actions.json"));
}
