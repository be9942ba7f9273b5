//! Terraform plans (`terraform show -json`): the security-group rules a plan would create, from
//! `resource_changes` (after-state, deletions skipped) or, without them, `planned_values`.
//!
//! Group ids are not known before apply, so a group is named by its resource address
//! (`aws_security_group.web`), and a separate rule resource is tied to its group through the
//! plan's configuration references.
//!
//! The plan is decoded into the serde structs below. Plans carry many attributes sgguard does
//! not read and every provider version adds some, so unknown fields are ignored (no
//! `deny_unknown_fields`); resources of other types are kept only as [`Resource::Other`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_with::{DefaultOnNull, serde_as, skip_serializing_none};

use super::document::Document;
use super::lenient::{Port, ProtocolText, number};
use crate::finding::Tags;
use crate::rule::{ApiRule, Direction, SecurityGroupRule};

/// A plan, as `terraform show -json` writes it (the parts sgguard reads).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub resource_changes: Option<Vec<Resource>>,
    pub planned_values: Option<PlannedValues>,
    pub configuration: Option<Configuration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedValues {
    pub root_module: Module,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub resources: Vec<Resource>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub child_modules: Vec<Module>,
}

/// A resource of `planned_values` or `resource_changes`, by its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Resource {
    #[serde(rename = "aws_security_group")]
    SecurityGroup(Entry<GroupValues>),
    #[serde(rename = "aws_security_group_rule")]
    Rule(Entry<RuleValues>),
    #[serde(rename = "aws_vpc_security_group_ingress_rule")]
    IngressRule(Entry<RuleValues>),
    #[serde(rename = "aws_vpc_security_group_egress_rule")]
    EgressRule(Entry<RuleValues>),
    #[serde(other)]
    Other,
}

/// Where a resource is and what it will be: `values` in planned values, `change.after` in
/// resource changes (null when the resource is deleted).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry<V> {
    pub address: String,
    /// `data` for data sources, which create nothing.
    pub mode: Option<String>,
    pub values: Option<V>,
    pub change: Option<After<V>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct After<V> {
    pub after: Option<V>,
}

impl<V> Entry<V> {
    /// The values the plan will leave, or `None` (deleted, or a data source).
    fn planned(&self) -> Option<&V> {
        if self.mode.as_deref() == Some("data") {
            return None;
        }
        match &self.change {
            Some(change) => change.after.as_ref(),
            None => self.values.as_ref(),
        }
    }
}

/// `aws_security_group`: its inline `ingress` and `egress` blocks and its tags.
#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupValues {
    pub id: Option<String>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub tags: BTreeMap<String, Option<String>>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub ingress: Vec<RuleValues>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub egress: Vec<RuleValues>,
}

/// An inline rule block or a rule resource (`aws_security_group_rule` names the protocol
/// `protocol`, the `aws_vpc_security_group_*_rule` resources `ip_protocol`).
#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleValues {
    #[serde(alias = "ip_protocol")]
    pub protocol: Option<ProtocolText>,
    pub from_port: Option<Port>,
    pub to_port: Option<Port>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub cidr_blocks: Vec<String>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub ipv6_cidr_blocks: Vec<String>,
    pub cidr_ipv4: Option<String>,
    pub cidr_ipv6: Option<String>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub prefix_list_ids: Vec<String>,
    pub prefix_list_id: Option<String>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub security_groups: Vec<String>,
    pub source_security_group_id: Option<String>,
    pub referenced_security_group_id: Option<String>,
    #[serde(rename = "self")]
    pub to_itself: Option<bool>,
    pub description: Option<String>,
    /// `aws_security_group_rule`: `ingress` or `egress`.
    #[serde(rename = "type")]
    pub direction: Option<String>,
    pub security_group_id: Option<String>,
}

/// The plan's configuration: where each rule resource's `security_group_id` points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    pub root_module: ConfigModule,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigModule {
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub resources: Vec<ConfigResource>,
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub module_calls: BTreeMap<String, ModuleCall>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleCall {
    pub module: Option<ConfigModule>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigResource {
    pub address: Option<String>,
    pub expressions: Option<Expressions>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expressions {
    pub security_group_id: Option<Expression>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expression {
    #[serde_as(as = "DefaultOnNull")]
    #[serde(default)]
    pub references: Vec<String>,
}

/// Decodes a plan's bytes, naming the field at fault.
pub fn decode(bytes: &[u8]) -> Result<Plan, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| match e.path().to_string() {
        path if path == "." => e.into_inner().to_string(),
        path => format!("`{path}`: {}", e.into_inner()),
    })
}

pub fn plan(plan: &Plan, document: &mut Document) -> Result<(), String> {
    let references = plan
        .configuration
        .as_ref()
        .map(|c| configuration_references(&c.root_module))
        .unwrap_or_default();
    let resources: Vec<&Resource> = match (&plan.resource_changes, &plan.planned_values) {
        (Some(changes), _) => changes.iter().collect(),
        (None, Some(planned)) => {
            let mut out = Vec::new();
            collect_module(&planned.root_module, &mut out);
            out
        }
        (None, None) => return Err("`planned_values.root_module` is missing".to_owned()),
    };
    for resource in resources {
        let (address, result) = match resource {
            Resource::SecurityGroup(entry) => (&entry.address, group(entry, document)),
            Resource::Rule(entry) => (&entry.address, rule(entry, None, &references, document)),
            Resource::IngressRule(entry) => (
                &entry.address,
                rule(entry, Some(Direction::Ingress), &references, document),
            ),
            Resource::EgressRule(entry) => (
                &entry.address,
                rule(entry, Some(Direction::Egress), &references, document),
            ),
            Resource::Other => continue,
        };
        result.map_err(|m| format!("`{address}`: {m}"))?;
    }
    Ok(())
}

fn collect_module<'a>(module: &'a Module, out: &mut Vec<&'a Resource>) {
    out.extend(&module.resources);
    for child in &module.child_modules {
        collect_module(child, out);
    }
}

/// For each rule resource address, the group resource its `security_group_id` refers to.
fn configuration_references(root: &ConfigModule) -> HashMap<String, String> {
    let mut out = HashMap::new();
    walk_configuration(root, "", &mut out);
    out
}

fn walk_configuration(module: &ConfigModule, prefix: &str, out: &mut HashMap<String, String>) {
    for resource in &module.resources {
        let Some(address) = &resource.address else {
            continue;
        };
        let references = resource
            .expressions
            .as_ref()
            .and_then(|e| e.security_group_id.as_ref())
            .map_or(&[][..], |e| &e.references);
        let target = references.iter().find_map(|r| {
            let r = r.strip_suffix(".id").unwrap_or(r);
            r.starts_with("aws_security_group.")
                .then(|| format!("{prefix}{r}"))
        });
        if let Some(target) = target {
            out.insert(format!("{prefix}{address}"), target);
        }
    }
    for (name, call) in &module.module_calls {
        if let Some(child) = &call.module {
            walk_configuration(child, &format!("{prefix}module.{name}."), out);
        }
    }
}

fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.is_empty())
}

impl RuleValues {
    /// The rules of the block: one per peer (CIDR lists, prefix lists, groups and `self`).
    fn push_rules(
        &self,
        document: &mut Document,
        group_id: &str,
        direction: Direction,
    ) -> Result<(), String> {
        let protocol = self
            .protocol
            .as_ref()
            .ok_or("`protocol` is missing")?
            .to_string();
        let base = ApiRule {
            group_id: Some(group_id),
            is_egress: direction == Direction::Egress,
            ip_protocol: &protocol,
            from_port: number(self.from_port),
            to_port: number(self.to_port),
            description: non_empty(&self.description),
            ..ApiRule::default()
        };
        let cidrs = (self.cidr_blocks.iter()).map(|c| ("cidr_blocks", c.as_str()));
        let cidrs = cidrs
            .chain((self.ipv6_cidr_blocks.iter()).map(|c| ("ipv6_cidr_blocks", c.as_str())))
            .chain(non_empty(&self.cidr_ipv4).map(|c| ("cidr_ipv4", c)))
            .chain(non_empty(&self.cidr_ipv6).map(|c| ("cidr_ipv6", c)));
        let mut peers: Vec<(&str, ApiRule<'_>)> = cidrs
            .map(|(key, cidr)| {
                let api = ApiRule {
                    cidr_ipv4: Some(cidr),
                    ..base
                };
                (key, api)
            })
            .collect();
        let lists = self.prefix_list_ids.iter().map(String::as_str);
        for id in lists.chain(non_empty(&self.prefix_list_id)) {
            let api = ApiRule {
                prefix_list_id: Some(id),
                ..base
            };
            peers.push(("prefix_list_ids", api));
        }
        let groups = self.security_groups.iter().map(String::as_str);
        let groups = groups
            .chain(non_empty(&self.source_security_group_id))
            .chain(non_empty(&self.referenced_security_group_id))
            .chain((self.to_itself == Some(true)).then_some(group_id));
        for id in groups {
            let api = ApiRule {
                referenced_group: Some((id, None)),
                ..base
            };
            peers.push(("security_groups", api));
        }
        for (key, api) in peers {
            let rule = SecurityGroupRule::from_api(api, None).map_err(|e| {
                let key = match e.field {
                    Some("IpProtocol") => "protocol",
                    Some("FromPort") => "from_port",
                    _ => key,
                };
                format!("`{key}`: {}", e.message)
            })?;
            document.rules.push(rule);
        }
        Ok(())
    }
}

fn group(entry: &Entry<GroupValues>, document: &mut Document) -> Result<(), String> {
    let Some(values) = entry.planned() else {
        return Ok(());
    };
    let group_id = non_empty(&values.id).unwrap_or(&entry.address).to_owned();
    if !values.tags.is_empty() {
        let tags: Tags = values
            .tags
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect();
        document.group_tags.insert(group_id.clone(), tags);
    }
    for (key, direction, blocks) in [
        ("ingress", Direction::Ingress, &values.ingress),
        ("egress", Direction::Egress, &values.egress),
    ] {
        for (i, block) in blocks.iter().enumerate() {
            block
                .push_rules(document, &group_id, direction)
                .map_err(|m| format!("{key}[{i}]: {m}"))?;
        }
    }
    Ok(())
}

/// A rule resource; `direction` is `None` for `aws_security_group_rule`, which says it in `type`.
fn rule(
    entry: &Entry<RuleValues>,
    direction: Option<Direction>,
    references: &HashMap<String, String>,
    document: &mut Document,
) -> Result<(), String> {
    let Some(values) = entry.planned() else {
        return Ok(());
    };
    let group_id = non_empty(&values.security_group_id)
        .map(str::to_owned)
        .or_else(|| references.get(&entry.address).cloned())
        .unwrap_or_else(|| entry.address.clone());
    let direction = match (direction, non_empty(&values.direction)) {
        (Some(direction), _) => direction,
        (None, Some("ingress")) => Direction::Ingress,
        (None, Some("egress")) => Direction::Egress,
        (None, other) => {
            return Err(format!(
                "`type` is `{}`, not ingress or egress",
                other.unwrap_or("missing")
            ));
        }
    };
    values.push_rules(document, &group_id, direction)
}
