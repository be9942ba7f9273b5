//! Whether the forwarding rule's event pattern still forwards every event the hub's pattern
//! (`hub/event-pattern.json`) matches. Both are read as JSON and compared by structure: each is
//! turned into its alternatives (`$or` expanded), the hub's down to single values; the rule's
//! pattern covers the hub's when every single-valued hub alternative is matched by one of its
//! alternatives. A pattern that forwards more (more event names, fewer fields) covers it; one
//! narrowed by any field (`eventSource`, `userIdentity`, `requestParameters`, a key the hub's
//! does not have) does not. What cannot be proven to cover is reported.

use serde_json::{Map, Value};

use super::glob;

/// The event pattern the spoke's rule must keep matching (the hub's copy; the infrastructure
/// tests keep the spoke template's equal to it).
pub(crate) const EVENT_PATTERN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/hub/event-pattern.json"
));

/// More alternatives than this and a pattern is not judged (reported as not proven to cover);
/// EventBridge's own limits keep real patterns far below it.
const MAX_ALTERNATIVES: usize = 4096;

/// A field of the event, as the path of keys down to it (`detail.eventName`).
type Path = Vec<String>;

/// One alternative of a pattern: every constraint must hold, each a field and the matchers of
/// which one must match.
type Alternative = Vec<(Path, Vec<Value>)>;

/// Why the rule's pattern does not cover the hub's: the hub's events it does not forward (by
/// event name) and the fields it narrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Narrowed {
    /// The rule's pattern is not a pattern (not JSON, not an object, too complex to judge).
    Unreadable(&'static str),
    /// Some of the hub's events are not forwarded.
    Misses {
        /// The event names (of the hub's pattern) of the events not forwarded.
        events: Vec<String>,
        /// The fields of the rule's pattern that keep them out.
        by: Vec<String>,
    },
}

/// What the rule's `pattern` does not forward of the hub's; `None` when it forwards it all.
pub(super) fn narrowed(pattern: &str) -> Option<Narrowed> {
    let Ok(hub) = serde_json::from_str::<Value>(EVENT_PATTERN) else {
        return Some(Narrowed::Unreadable("the hub's own pattern is not JSON"));
    };
    let Ok(rule) = serde_json::from_str::<Value>(pattern) else {
        return Some(Narrowed::Unreadable("it is not JSON"));
    };
    let (Some(hub), Some(rule)) = (hub.as_object(), rule.as_object()) else {
        return Some(Narrowed::Unreadable("it is not a JSON object"));
    };
    let (Some(hub), Some(rule)) = (alternatives(hub), alternatives(rule)) else {
        return Some(Narrowed::Unreadable(
            "it is too complex to judge or not a valid pattern",
        ));
    };
    let mut events = Vec::new();
    let mut by = Vec::new();
    for wanted in hub.iter().flat_map(single_valued) {
        // The rule's alternative that comes closest, and the fields it fails on.
        let failing = rule
            .iter()
            .map(|alternative| failing_fields(alternative, &wanted))
            .min_by_key(Vec::len)
            .unwrap_or_default();
        if rule.is_empty() || !failing.is_empty() {
            let name = wanted
                .iter()
                .find(|(path, _)| path.last().is_some_and(|k| k == "eventName"))
                .and_then(|(_, value)| value.as_str())
                .unwrap_or("an event")
                .to_owned();
            push_new(&mut events, name);
            for field in failing {
                push_new(&mut by, field);
            }
        }
    }
    (!events.is_empty()).then_some(Narrowed::Misses { events, by })
}

fn push_new(items: &mut Vec<String>, item: String) {
    if !items.contains(&item) {
        items.push(item);
    }
}

/// The fields of `alternative` (the rule's) that do not match the single-valued hub
/// alternative `wanted`: a field `wanted` does not constrain, or whose matchers do not cover
/// its value.
fn failing_fields(alternative: &Alternative, wanted: &[(Path, &Value)]) -> Vec<String> {
    alternative
        .iter()
        .filter(|(path, matchers)| {
            !wanted
                .iter()
                .any(|(p, value)| p == path && matchers.iter().any(|m| covers(m, value)))
        })
        .map(|(path, _)| path.join("."))
        .collect()
}

/// The alternatives of a pattern object: one per combination of `$or` branches; `None` when it
/// is not a pattern (a field neither an object nor a list of matchers) or has too many.
fn alternatives(object: &Map<String, Value>) -> Option<Vec<Alternative>> {
    expand(object, &Vec::new())
}

fn expand(object: &Map<String, Value>, prefix: &Path) -> Option<Vec<Alternative>> {
    let mut out: Vec<Alternative> = vec![Vec::new()];
    for (key, value) in object {
        let choices: Vec<Alternative> = if key == "$or" {
            let mut branches = Vec::new();
            for branch in value.as_array()? {
                branches.extend(expand(branch.as_object()?, prefix)?);
            }
            branches
        } else {
            let mut path = prefix.clone();
            path.push(key.clone());
            match value {
                Value::Object(inner) => expand(inner, &path)?,
                Value::Array(matchers) => vec![vec![(path, matchers.clone())]],
                _ => return None,
            }
        };
        if out.len().saturating_mul(choices.len()) > MAX_ALTERNATIVES {
            return None;
        }
        out = out
            .iter()
            .flat_map(|so_far| {
                choices.iter().map(move |choice| {
                    let mut both = so_far.clone();
                    both.extend(choice.iter().cloned());
                    both
                })
            })
            .collect();
    }
    Some(out)
}

/// The hub's alternative split into one per combination of its fields' values (each field
/// with one matcher): an event the hub's pattern matches matches one of these.
fn single_valued(alternative: &Alternative) -> Vec<Vec<(Path, &Value)>> {
    let mut out: Vec<Vec<(Path, &Value)>> = vec![Vec::new()];
    for (path, matchers) in alternative {
        out = out
            .iter()
            .flat_map(|so_far| {
                matchers.iter().map(move |m| {
                    let mut both = so_far.clone();
                    both.push((path.clone(), m));
                    both
                })
            })
            .collect();
    }
    out
}

/// Whether the rule's matcher `rule` matches every value the hub's matcher `hub` matches.
fn covers(rule: &Value, hub: &Value) -> bool {
    if rule == hub {
        return true;
    }
    let operator = |m: &Value, name: &str| m.as_object().and_then(|o| o.get(name)).cloned();
    let is_value = hub.is_string() || hub.is_number() || hub.is_boolean();
    if operator(rule, "exists") == Some(Value::Bool(true)) {
        return is_value || operator(hub, "prefix").is_some();
    }
    if let Some(Value::String(prefix)) = operator(rule, "prefix") {
        return match (hub, operator(hub, "prefix")) {
            (Value::String(s), _) => s.starts_with(&prefix),
            (_, Some(Value::String(narrower))) => narrower.starts_with(&prefix),
            _ => false,
        };
    }
    if let Some(Value::String(wildcard)) = operator(rule, "wildcard") {
        return hub.as_str().is_some_and(|s| glob(&wildcard, s, false));
    }
    if let Some(Value::String(same)) = operator(rule, "equals-ignore-case") {
        return hub.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&same));
    }
    if let Some(but) = operator(rule, "anything-but") {
        return hub.as_str().is_some_and(|s| match &but {
            Value::String(one) => one != s,
            Value::Array(many) => !many.iter().any(|m| m.as_str() == Some(s)),
            _ => false,
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The hub's pattern with `change` applied to its JSON.
    fn hub_with(change: impl FnOnce(&mut Value)) -> String {
        let mut pattern: Value = serde_json::from_str(EVENT_PATTERN).unwrap();
        change(&mut pattern);
        pattern.to_string()
    }

    fn misses(pattern: &str) -> (Vec<String>, Vec<String>) {
        match narrowed(pattern) {
            Some(Narrowed::Misses { events, by }) => (events, by),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_hubs_pattern_and_one_in_another_order_forward_everything() {
        assert_eq!(narrowed(EVENT_PATTERN), None);
        let reordered = hub_with(|p| {
            let branches = p["detail"]["$or"].as_array_mut().unwrap();
            branches.reverse();
            for branch in branches {
                branch["eventName"].as_array_mut().unwrap().reverse();
            }
        });
        assert_eq!(narrowed(&reordered), None);
    }

    #[test]
    fn a_pattern_forwarding_more_is_not_tampering() {
        let more_names = hub_with(|p| {
            p["detail"]["$or"][0]["eventName"]
                .as_array_mut()
                .unwrap()
                .push(json!("RunInstances"));
        });
        assert_eq!(narrowed(&more_names), None);
        let fewer_fields = hub_with(|p| {
            p["detail"].as_object_mut().unwrap().remove("errorCode");
            p.as_object_mut().unwrap().remove("detail-type");
        });
        assert_eq!(narrowed(&fewer_fields), None);
        let every_ec2_event = r#"{"source": ["aws.ec2"]}"#;
        assert_eq!(narrowed(every_ec2_event), None);
        let by_prefix = hub_with(|p| {
            p["detail"]["$or"][1]["requestParameters"]["resourcesSet"]["items"]["resourceId"] =
                json!([{"exists": true}]);
            p["detail"]["eventSource"] = json!([{"prefix": "ec2."}]);
        });
        assert_eq!(narrowed(&by_prefix), None);
        let one_branch = hub_with(|p| {
            p["detail"].as_object_mut().unwrap().remove("$or");
            p["detail"]["eventName"] = json!([{"anything-but": "RunInstances"}]);
        });
        assert_eq!(narrowed(&one_branch), None);
    }

    #[test]
    fn a_pattern_narrowed_by_any_field_is_tampering() {
        let by_source = hub_with(|p| {
            p["detail"]["eventSource"] = json!(["ec2.us-east-1.amazonaws.com"]);
        });
        let (events, by) = misses(&by_source);
        assert_eq!(events.len(), 7, "{events:?}");
        assert_eq!(by, ["detail.eventSource"]);

        let by_identity = hub_with(|p| {
            p["detail"]["userIdentity"] = json!({"type": ["AssumedRole"]});
        });
        assert_eq!(misses(&by_identity).1, ["detail.userIdentity.type"]);

        let by_request = hub_with(|p| {
            p["detail"]["$or"][0]["requestParameters"] = json!({"groupId": ["sg-1"]});
        });
        let (events, by) = misses(&by_request);
        assert!(events.contains(&"AuthorizeSecurityGroupIngress".to_owned()));
        assert!(!events.contains(&"CreateTags".to_owned()), "{events:?}");
        assert_eq!(by, ["detail.requestParameters.groupId"]);

        let extra_key = hub_with(|p| {
            p["account"] = json!(["123456789012"]);
        });
        assert_eq!(misses(&extra_key).1, ["account"]);

        let tags_of_anything = hub_with(|p| {
            p["detail"]["$or"][1]["requestParameters"]["resourcesSet"]["items"]["resourceId"] =
                json!([{"prefix": "sg-0"}]);
        });
        assert_eq!(misses(&tags_of_anything).0, ["CreateTags", "DeleteTags"]);

        let fewer_names =
            r#"{"source":["aws.ec2"],"detail":{"eventName":["AuthorizeSecurityGroupEgress"]}}"#;
        let (events, by) = misses(fewer_names);
        assert!(events.contains(&"AuthorizeSecurityGroupIngress".to_owned()));
        assert!(!events.contains(&"AuthorizeSecurityGroupEgress".to_owned()));
        assert_eq!(by, ["detail.eventName"]);
    }

    #[test]
    fn a_pattern_that_cannot_be_judged_is_reported() {
        for pattern in [
            "not json",
            "[]",
            r#"{"source": "aws.ec2"}"#,
            r#"{"$or": 1}"#,
        ] {
            assert!(
                matches!(narrowed(pattern), Some(Narrowed::Unreadable(_))),
                "{pattern}"
            );
        }
        // 2^13 alternatives: past the limit.
        let branches: Map<String, Value> = (0..13)
            .map(|i| {
                (
                    format!("k{i}"),
                    json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]}),
                )
            })
            .collect();
        let huge = Value::Object(branches).to_string();
        assert!(matches!(narrowed(&huge), Some(Narrowed::Unreadable(_))));
    }
}
