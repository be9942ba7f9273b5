//! Terraform plans (`terraform show -json`): the security-group rules a plan would create, from
//! `resource_changes` (after-state, deletions skipped) or, without them, `planned_values`.
//!
//! Group ids are not known before apply, so a group is named by its resource address
//! (`aws_security_group.web`), and a separate rule resource is tied to its group through the
//! plan's configuration references.

use std::collections::HashMap;

use serde_json::Value;

use super::Document;
use crate::finding::Tags;
use crate::rule::{Direction, Peer, Protocol, SecurityGroupRule, ports_for};

const GROUP: &str = "aws_security_group";
const RULE: &str = "aws_security_group_rule";
const INGRESS_RULE: &str = "aws_vpc_security_group_ingress_rule";
const EGRESS_RULE: &str = "aws_vpc_security_group_egress_rule";

struct Resource<'a> {
    address: String,
    kind: &'a str,
    values: &'a Value,
}

pub fn plan(plan: &Value, document: &mut Document) -> Result<(), String> {
    let resources = resources(plan)?;
    let references = configuration_references(plan);
    for resource in &resources {
        let at = &resource.address;
        match resource.kind {
            GROUP => group(resource, document).map_err(|m| format!("`{at}`: {m}"))?,
            RULE | INGRESS_RULE | EGRESS_RULE => {
                rule_resource(resource, &references, document)
                    .map_err(|m| format!("`{at}`: {m}"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn resources(plan: &Value) -> Result<Vec<Resource<'_>>, String> {
    let mut out = Vec::new();
    if let Some(changes) = plan.get("resource_changes") {
        let list = changes
            .as_array()
            .ok_or("`resource_changes` is not an array")?;
        for (i, change) in list.iter().enumerate() {
            let kind = change
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !is_relevant(kind) {
                continue;
            }
            let address = change
                .get("address")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`resource_changes[{i}].address` is missing"))?;
            let after = change.get("change").and_then(|c| c.get("after"));
            match after {
                Some(values) if values.is_object() => out.push(Resource {
                    address: address.to_owned(),
                    kind,
                    values,
                }),
                // Deleted (after is null): nothing to judge.
                _ => {}
            }
        }
        return Ok(out);
    }
    let root = plan
        .get("planned_values")
        .and_then(|p| p.get("root_module"))
        .ok_or("`planned_values.root_module` is missing")?;
    collect_module(root, &mut out);
    Ok(out)
}

fn collect_module<'a>(module: &'a Value, out: &mut Vec<Resource<'a>>) {
    for resource in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = resource
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if resource.get("mode").and_then(Value::as_str) == Some("data") || !is_relevant(kind) {
            continue;
        }
        if let (Some(address), Some(values)) = (
            resource.get("address").and_then(Value::as_str),
            resource.get("values").filter(|v| v.is_object()),
        ) {
            out.push(Resource {
                address: address.to_owned(),
                kind,
                values,
            });
        }
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_module(child, out);
    }
}

fn is_relevant(kind: &str) -> bool {
    matches!(kind, GROUP | RULE | INGRESS_RULE | EGRESS_RULE)
}

/// For each rule resource address, the group resource its `security_group_id` refers to.
fn configuration_references(plan: &Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(root) = plan.get("configuration").and_then(|c| c.get("root_module")) {
        walk_configuration(root, "", &mut out);
    }
    out
}

fn walk_configuration(module: &Value, prefix: &str, out: &mut HashMap<String, String>) {
    for resource in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(address) = resource.get("address").and_then(Value::as_str) else {
            continue;
        };
        let references = resource
            .get("expressions")
            .and_then(|e| e.get("security_group_id"))
            .and_then(|e| e.get("references"))
            .and_then(Value::as_array);
        let target = references
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|r| {
                let r = r.strip_suffix(".id").unwrap_or(r);
                r.starts_with("aws_security_group.")
                    .then(|| format!("{prefix}{r}"))
            });
        if let Some(target) = target {
            out.insert(format!("{prefix}{address}"), target);
        }
    }
    if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
        for (name, call) in calls {
            if let Some(child) = call.get("module") {
                walk_configuration(child, &format!("{prefix}module.{name}."), out);
            }
        }
    }
}

fn str_of<'a>(values: &'a Value, key: &str) -> Option<&'a str> {
    values
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn int_of(values: &Value, key: &str) -> Result<Option<i64>, String> {
    match values.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a whole number")),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("`{key}`: `{s}` is not a number")),
        Some(_) => Err(format!("`{key}` is not a number")),
    }
}

fn strings_of<'a>(values: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    values
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn protocol_of(values: &Value, key: &str) -> Result<Protocol, String> {
    let raw = match values.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(format!("`{key}` is missing")),
    };
    raw.parse().map_err(|e| format!("`{key}`: {e}"))
}

/// The peers of a Terraform rule block: CIDR lists, prefix lists, groups and `self`.
fn block_peers(block: &Value, own_group: &str) -> Result<Vec<Peer>, String> {
    let mut peers = Vec::new();
    for key in ["cidr_blocks", "ipv6_cidr_blocks"] {
        for cidr in strings_of(block, key) {
            peers.push(Peer::cidr(cidr).map_err(|m| format!("`{key}`: {m}"))?);
        }
    }
    for key in ["cidr_ipv4", "cidr_ipv6"] {
        if let Some(cidr) = str_of(block, key) {
            peers.push(Peer::cidr(cidr).map_err(|m| format!("`{key}`: {m}"))?);
        }
    }
    for id in strings_of(block, "prefix_list_ids").chain(str_of(block, "prefix_list_id")) {
        peers.push(Peer::PrefixList {
            id: id.to_owned(),
            entries: None,
        });
    }
    for id in strings_of(block, "security_groups")
        .chain(str_of(block, "source_security_group_id"))
        .chain(str_of(block, "referenced_security_group_id"))
    {
        peers.push(Peer::Group {
            id: id.to_owned(),
            owner: None,
        });
    }
    if block.get("self").and_then(Value::as_bool) == Some(true) {
        peers.push(Peer::Group {
            id: own_group.to_owned(),
            owner: None,
        });
    }
    Ok(peers)
}

fn push_rules(
    document: &mut Document,
    group_id: &str,
    direction: Direction,
    block: &Value,
    protocol_key: &str,
) -> Result<(), String> {
    let protocol = protocol_of(block, protocol_key)?;
    let ports = ports_for(
        protocol,
        int_of(block, "from_port")?,
        int_of(block, "to_port")?,
    )?;
    let description = str_of(block, "description").map(str::to_owned);
    for peer in block_peers(block, group_id)? {
        document.rules.push(SecurityGroupRule {
            account_id: None,
            region: None,
            group_id: Some(group_id.to_owned()),
            rule_id: None,
            direction,
            protocol,
            ports,
            peer,
            description: description.clone(),
        });
    }
    Ok(())
}

fn group(resource: &Resource<'_>, document: &mut Document) -> Result<(), String> {
    let group_id = str_of(resource.values, "id")
        .unwrap_or(&resource.address)
        .to_owned();
    if let Some(tags) = resource.values.get("tags").and_then(Value::as_object) {
        let tags: Tags = tags
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect();
        document.group_tags.insert(group_id.clone(), tags);
    }
    for (key, direction) in [
        ("ingress", Direction::Ingress),
        ("egress", Direction::Egress),
    ] {
        for (i, block) in resource
            .values
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            push_rules(document, &group_id, direction, block, "protocol")
                .map_err(|m| format!("{key}[{i}]: {m}"))?;
        }
    }
    Ok(())
}

fn rule_resource(
    resource: &Resource<'_>,
    references: &HashMap<String, String>,
    document: &mut Document,
) -> Result<(), String> {
    let values = resource.values;
    let group_id = str_of(values, "security_group_id")
        .map(str::to_owned)
        .or_else(|| references.get(&resource.address).cloned())
        .unwrap_or_else(|| resource.address.clone());
    let (direction, protocol_key) = match resource.kind {
        INGRESS_RULE => (Direction::Ingress, "ip_protocol"),
        EGRESS_RULE => (Direction::Egress, "ip_protocol"),
        _ => match str_of(values, "type") {
            Some("ingress") => (Direction::Ingress, "protocol"),
            Some("egress") => (Direction::Egress, "protocol"),
            other => {
                return Err(format!(
                    "`type` is `{}`, not ingress or egress",
                    other.unwrap_or("missing")
                ));
            }
        },
    };
    push_rules(document, &group_id, direction, values, protocol_key)
}
