//! The IAM action files name exactly the AWS operations the code sends: every action listed in
//! `spoke-infra/remediation-actions.json` (EC2, granted to the member role and the hub role) and
//! `hub/hub-actions.json` (the hub's own, and those that need no grant) has a request in
//! `src/aws/`, and every request the code builds (every `….operation(…)….send()` chain, whatever
//! the binding it starts from) is listed. The requests the integration tests really made are
//! checked against the deployed policies by `make test`'s IAM tally check
//! (`python -m sgguard_world.iam_check`).

use std::collections::BTreeSet;

use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The EC2 actions of `spoke-infra/remediation-actions.json`.
fn remediation_actions() -> BTreeSet<String> {
    serde_json::from_str::<Vec<String>>(&read("spoke-infra/remediation-actions.json"))
        .unwrap()
        .into_iter()
        .collect()
}

/// `hub/hub-actions.json`.
fn hub_actions() -> Value {
    serde_json::from_str(&read("hub/hub-actions.json")).unwrap()
}

/// IAM actions that authorize a form of a request the code sends under another operation's
/// name, with that operation: a `GetObject` of a named version (the mode per scope at the
/// version the hub's configuration names) is `s3:GetObjectVersion`.
const VARIANTS: &[(&str, &str)] = &[("s3:GetObjectVersion", "GetObject")];

/// Every action sgguard calls, as IAM names it: both files (the [`VARIANTS`] aside).
fn listed_actions() -> BTreeSet<String> {
    let hub = hub_actions();
    let granted = hub["granted"].as_array().unwrap().iter();
    let free = hub["needs_no_grant"].as_object().unwrap().keys();
    let operators = hub["by_the_operators_role"].as_object().unwrap().keys();
    remediation_actions()
        .into_iter()
        .chain(granted.map(|a| a.as_str().unwrap().to_owned()))
        .chain(free.cloned())
        .chain(operators.cloned())
        .filter(|action| VARIANTS.iter().all(|(variant, _)| action != variant))
        .collect()
}

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

/// Where the identifier that ends just before `end` starts (`end` when there is none).
fn identifier_start(text: &[char], end: usize) -> usize {
    let mut start = end;
    while start > 0
        && text
            .get(start - 1)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    {
        start -= 1;
    }
    start
}

/// The method called by the `.name(args)` segment that ends just before `end`, and where that
/// segment starts (its dot), if there is one.
fn segment_before(text: &[char], end: usize) -> Option<(String, usize)> {
    if end == 0 || text.get(end - 1) != Some(&')') {
        return None;
    }
    let mut depth = 0usize;
    let mut open = end - 1;
    loop {
        match text.get(open) {
            Some(')') => depth += 1,
            Some('(') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        open = open.checked_sub(1)?;
    }
    let start = identifier_start(text, open);
    let dot = start.checked_sub(1)?;
    (start < open && text.get(dot) == Some(&'.')).then(|| (text[start..open].iter().collect(), dot))
}

/// The first method of the chain of `.name(args)` segments that ends just before `end`
/// (`x.clone()` counts as part of the receiver), and where the chain starts.
fn chain_start(text: &[char], end: usize) -> (Option<String>, usize) {
    let (mut first, mut end) = (None, end);
    while let Some((name, dot)) = segment_before(text, end) {
        if name != "clone" {
            first = Some(name);
        }
        end = dot;
    }
    (first, end)
}

/// The operation of the request built by the chain ending at `end`: its first method, or, when
/// the chain starts from a binding (`request.send()`), the first method of the chain that
/// binding was last assigned (`let mut request = client.publish()…;`).
fn operation_of_chain(text: &[char], end: usize) -> Option<String> {
    let (first, start) = chain_start(text, end);
    if first.is_some() {
        return first;
    }
    let from = identifier_start(text, start);
    let binding: String = text.get(from..start)?.iter().collect();
    let before: String = text.get(..from)?.iter().collect();
    let assigned = [format!("let mut {binding} = "), format!("let {binding} = ")]
        .iter()
        .filter_map(|pattern| before.rfind(pattern.as_str()).map(|at| at + pattern.len()))
        .max()?;
    let assigned = before.get(..assigned)?.chars().count();
    let statement_end = assigned + text.get(assigned..)?.iter().position(|c| *c == ';')?;
    chain_start(text, statement_end).0
}

/// The operation of every request the code in `src/aws/` sends (every chain ending in
/// `.send()`), as `PascalCase`.
fn operations_sent_by_the_code() -> BTreeSet<String> {
    let mut operations = BTreeSet::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/aws");
    let send: Vec<char> = ".send()".chars().collect();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text: Vec<char> = join_method_chains(&std::fs::read_to_string(&path).unwrap())
            .chars()
            .collect();
        for at in (0..text.len()).filter(|&i| text[i..].starts_with(&send)) {
            let operation = operation_of_chain(&text, at)
                .unwrap_or_else(|| panic!("a `.send()` without an operation in {path:?}"));
            operations.insert(pascal(&operation));
        }
    }
    operations
}

fn operation(action: &str) -> String {
    action.split_once(':').unwrap().1.to_owned()
}

#[test]
fn the_action_files_list_exactly_the_operations_the_code_sends() {
    let sent = operations_sent_by_the_code();
    assert!(
        sent.contains("RevokeSecurityGroupIngress") && sent.contains("Publish"),
        "{sent:?}"
    );
    let listed = listed_actions();
    let operations: BTreeSet<String> = listed.iter().map(|a| operation(a)).collect();
    assert_eq!(
        operations.len(),
        listed.len(),
        "one operation name, two services: {listed:?}"
    );
    assert_eq!(
        operations, sent,
        "spoke-infra/remediation-actions.json + hub/hub-actions.json vs the requests in src/aws/"
    );
    let granted = hub_actions()["granted"].clone();
    for (variant, of) in VARIANTS {
        assert!(sent.contains(*of), "{variant}: no `{of}` request");
        assert!(
            granted.as_array().unwrap().iter().any(|a| a == variant),
            "{variant} is not granted"
        );
    }
}

/// The member role reads and revokes security groups (EC2), reads who a prefix list is shared
/// with (RAM), reads its own spoke stack back for the tamper check (EventBridge, IAM) and the
/// depth of its forwarding dead-letter queue (SQS); the hub's own actions are none of these (its
/// one EventBridge action, PutEvents on its own bus, and its one SQS action, SendMessage to its
/// own queue, are no member's).
#[test]
fn the_remediation_actions_are_member_side_and_the_hub_actions_are_not() {
    let member = |a: &str| {
        ["ec2:", "events:", "iam:", "ram:", "securityhub:", "sqs:"]
            .iter()
            .any(|s| a.starts_with(s))
    };
    let remediation = remediation_actions();
    assert!(remediation.iter().all(|a| member(a)));
    let hub = hub_actions();
    for action in hub["granted"].as_array().unwrap() {
        let action = action.as_str().unwrap();
        assert!(!remediation.contains(action), "{action}");
        assert!(
            !["ec2:", "iam:", "ram:"]
                .iter()
                .any(|s| action.starts_with(s)),
            "{action}"
        );
    }
}

#[test]
fn the_hub_role_grants_exactly_the_hub_actions() {
    let policy = read("hub/iam.tf");
    let hub = hub_actions();
    let granted: BTreeSet<&str> = hub["granted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for service in ["sns", "sqs", "organizations", "sts"] {
        let quoted: BTreeSet<&str> = policy
            .split('"')
            .filter(|s| s.starts_with(&format!("{service}:")))
            .collect();
        // With the grants AWS uses on the Lambda's behalf (CallAs DELEGATED_ADMIN).
        let wanted: BTreeSet<&str> = granted
            .iter()
            .copied()
            .chain(
                hub["for_the_lambda_service"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str),
            )
            .filter(|a| a.starts_with(&format!("{service}:")))
            .collect();
        assert_eq!(
            quoted, wanted,
            "hub/iam.tf {service} actions vs hub/hub-actions.json"
        );
    }
    // The hub's EC2 actions come from the same file as the member role's.
    assert!(policy.contains("remediation-actions.json"));
}
