//! `aws ec2 describe-security-group-rules` and `describe-security-groups` output, decoded
//! straight into typed structures (these files can hold hundreds of thousands of rules).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::document::Document;
use crate::finding::Tags;
use crate::rule::{self, Direction, Peer, Protocol, SecurityGroupRule, ports_for};

#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("`{field}`: {message}")]
    Field { field: String, message: String },
}

fn field_error(field: String, message: impl Into<String>) -> DescribeError {
    DescribeError::Field {
        field,
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiRule {
    security_group_rule_id: Option<String>,
    group_id: Option<String>,
    group_owner_id: Option<String>,
    #[serde(default)]
    is_egress: bool,
    ip_protocol: String,
    from_port: Option<i64>,
    to_port: Option<i64>,
    cidr_ipv4: Option<String>,
    cidr_ipv6: Option<String>,
    prefix_list_id: Option<String>,
    referenced_group_info: Option<ReferencedGroup>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReferencedGroup {
    group_id: Option<String>,
    user_id: Option<String>,
}

/// Decodes describe-security-group-rules output, converting each rule as it is parsed so that
/// a large file is never held as two lists at once.
pub fn rules(bytes: &[u8], document: &mut Document) -> Result<(), DescribeError> {
    let mut failure = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    RulesOutput {
        rules: &mut document.rules,
        failure: &mut failure,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    match failure {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The top-level object: `SecurityGroupRules` is streamed, other keys are skipped.
struct RulesOutput<'a> {
    rules: &'a mut Vec<SecurityGroupRule>,
    failure: &'a mut Option<DescribeError>,
}

impl<'de> DeserializeSeed<'de> for RulesOutput<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RulesOutput<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with `SecurityGroupRules`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "SecurityGroupRules" {
                map.next_value_seed(RuleList {
                    rules: &mut *self.rules,
                    failure: &mut *self.failure,
                })?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("SecurityGroupRules"))
        }
    }
}

struct RuleList<'a> {
    rules: &'a mut Vec<SecurityGroupRule>,
    failure: &'a mut Option<DescribeError>,
}

impl<'de> DeserializeSeed<'de> for RuleList<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RuleList<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of security group rules")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(size) = seq.size_hint() {
            self.rules.reserve(size);
        }
        let mut index = 0;
        while let Some(api) = seq.next_element::<ApiRule>()? {
            if self.failure.is_none() {
                match convert(api, index) {
                    Ok(rule) => self.rules.push(rule),
                    Err(error) => *self.failure = Some(error),
                }
            }
            index += 1;
        }
        Ok(())
    }
}

fn convert(api: ApiRule, i: usize) -> Result<SecurityGroupRule, DescribeError> {
    let fields = rule::ApiRule {
        rule_id: api.security_group_rule_id.as_deref(),
        group_id: api.group_id.as_deref(),
        group_owner_id: api.group_owner_id.as_deref(),
        is_egress: api.is_egress,
        ip_protocol: &api.ip_protocol,
        from_port: api.from_port,
        to_port: api.to_port,
        cidr_ipv4: api.cidr_ipv4.as_deref(),
        cidr_ipv6: api.cidr_ipv6.as_deref(),
        prefix_list_id: api.prefix_list_id.as_deref(),
        referenced_group: api
            .referenced_group_info
            .as_ref()
            .and_then(|g| Some((g.group_id.as_deref()?, g.user_id.as_deref()))),
        description: api.description.as_deref(),
    };
    SecurityGroupRule::from_api(fields, None).map_err(|e| {
        let field = match e.field {
            Some(name) => format!("SecurityGroupRules[{i}].{name}"),
            None => format!("SecurityGroupRules[{i}]"),
        };
        field_error(field, e.message)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupsOutput {
    security_groups: Vec<ApiGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiGroup {
    group_id: String,
    owner_id: Option<String>,
    #[serde(default)]
    tags: Vec<ApiTag>,
    #[serde(default)]
    ip_permissions: Vec<ApiPermission>,
    #[serde(default)]
    ip_permissions_egress: Vec<ApiPermission>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiTag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiPermission {
    ip_protocol: String,
    from_port: Option<i64>,
    to_port: Option<i64>,
    #[serde(default)]
    ip_ranges: Vec<ApiRange>,
    #[serde(default)]
    ipv6_ranges: Vec<ApiRange>,
    #[serde(default)]
    prefix_list_ids: Vec<ApiPrefixList>,
    #[serde(default)]
    user_id_group_pairs: Vec<ApiGroupPair>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiRange {
    cidr_ip: Option<String>,
    cidr_ipv6: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiPrefixList {
    prefix_list_id: String,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiGroupPair {
    group_id: Option<String>,
    group_name: Option<String>,
    user_id: Option<String>,
    description: Option<String>,
}

/// Decodes describe-security-groups output (no rule ids: that API does not return them).
pub fn groups(bytes: &[u8], document: &mut Document) -> Result<(), DescribeError> {
    let output: GroupsOutput = serde_json::from_slice(bytes)?;
    for (g, group) in output.security_groups.into_iter().enumerate() {
        if !group.tags.is_empty() {
            let tags: Tags = group.tags.into_iter().map(|t| (t.key, t.value)).collect();
            document.group_tags.insert(group.group_id.clone(), tags);
        }
        let directions = [
            (Direction::Ingress, "IpPermissions", group.ip_permissions),
            (
                Direction::Egress,
                "IpPermissionsEgress",
                group.ip_permissions_egress,
            ),
        ];
        for (direction, key, permissions) in directions {
            for (p, permission) in permissions.into_iter().enumerate() {
                let field = format!("SecurityGroups[{g}].{key}[{p}]");
                let protocol: Protocol = permission
                    .ip_protocol
                    .parse()
                    .map_err(|e| field_error(format!("{field}.IpProtocol"), format!("{e}")))?;
                let ports = ports_for(protocol, permission.from_port, permission.to_port)
                    .map_err(|m| field_error(format!("{field}.FromPort"), m))?;
                let mut push = |peer: Peer, description: Option<String>| {
                    document.rules.push(SecurityGroupRule {
                        account_id: group.owner_id.clone(),
                        region: None,
                        group_id: Some(group.group_id.clone()),
                        rule_id: None,
                        direction,
                        protocol,
                        ports,
                        peer,
                        description,
                    });
                };
                for range in permission
                    .ip_ranges
                    .into_iter()
                    .chain(permission.ipv6_ranges)
                {
                    let Some(cidr) = range.cidr_ip.or(range.cidr_ipv6) else {
                        return Err(field_error(field, "an IP range without a CIDR"));
                    };
                    let peer = Peer::cidr(&cidr).map_err(|m| field_error(field.clone(), m))?;
                    push(peer, range.description);
                }
                for list in permission.prefix_list_ids {
                    push(
                        Peer::PrefixList {
                            id: list.prefix_list_id,
                            entries: None,
                        },
                        list.description,
                    );
                }
                for pair in permission.user_id_group_pairs {
                    let Some(id) = pair.group_id.or(pair.group_name) else {
                        return Err(field_error(field, "a group pair without a group id"));
                    };
                    push(
                        Peer::Group {
                            id,
                            owner: pair.user_id,
                        },
                        pair.description,
                    );
                }
            }
        }
    }
    Ok(())
}
