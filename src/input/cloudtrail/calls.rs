//! The calls sgguard watches (the hub's EventBridge pattern lists them): each call's request
//! parameters (and response elements) typed as [`Call`], then turned into the [`Change`] they
//! make, every rule converted through [`SecurityGroupRule::from_api`] with errors naming the
//! field.

use std::sync::LazyLock;

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::Value;

use super::event::{Change, CloudTrailEvent, DecodeError, non_empty, typed};
use super::syntax::{
    Actor, Authorize, Call, CallName, IpPermission, ModifyPrefixListRequest, ModifyRulesRequest,
    PrefixListEntry, RuleShape, TagsParameters,
};
use crate::input::lenient::{ProtocolText, number};
use crate::rule::{ApiRule, Direction, SecurityGroupRule};

/// The EventBridge pattern of the hub's rule: the one list of the calls sgguard acts on.
const EVENT_PATTERN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/hub/event-pattern.json"
));

/// The event names the hub subscribes to (every `eventName` of `hub/event-pattern.json`'s
/// `detail`, its `$or` alternatives included), in the pattern's order.
pub fn watched_events() -> &'static [String] {
    #[derive(Deserialize)]
    struct Pattern {
        detail: PatternDetail,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PatternDetail {
        #[serde(default)]
        event_name: Vec<String>,
        #[serde(default, rename = "$or")]
        alternatives: Vec<PatternDetail>,
    }
    fn names(detail: PatternDetail, out: &mut Vec<String>) {
        out.extend(detail.event_name);
        for alternative in detail.alternatives {
            names(alternative, out);
        }
    }
    // A pattern that does not parse watches nothing; the unit test below keeps it parsing.
    static WATCHED: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut watched = Vec::new();
        if let Ok(pattern) = serde_json::from_str::<Pattern>(EVENT_PATTERN) {
            names(pattern.detail, &mut watched);
        }
        watched
    });
    &WATCHED
}

/// Decodes bare `requestParameters` (as some exports keep them), naming the call from its
/// shape. An Authorize request does not say its direction: it is taken as ingress.
pub fn decode_bare_request(request: &Value) -> Result<CloudTrailEvent, DecodeError> {
    let name = if request.get("ModifySecurityGroupRulesRequest").is_some() {
        CallName::ModifySecurityGroupRules
    } else if request.get("ModifyManagedPrefixListRequest").is_some() {
        CallName::ModifyManagedPrefixList
    } else {
        CallName::AuthorizeSecurityGroupIngress
    };
    let change = Call::decode(name, request, None)?.change()?;
    Ok(CloudTrailEvent {
        name: name.as_ref().to_owned(),
        id: None,
        time: None,
        account_id: None,
        region: None,
        actor: Actor::default(),
        source_ip: None,
        user_agent: None,
        change,
        unreadable: None,
    })
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

const REQUEST: &str = "requestParameters";

impl Call {
    /// Types the parameters of the call `name`; errors name the field.
    pub fn decode(
        name: CallName,
        request: &Value,
        response: Option<&Value>,
    ) -> Result<Call, DecodeError> {
        let authorize = || -> Result<Authorize, DecodeError> {
            Ok(Authorize {
                request: typed(request, REQUEST)?,
                response: match response {
                    Some(response) => typed(response, "responseElements")?,
                    None => None,
                },
            })
        };
        Ok(match name {
            CallName::AuthorizeSecurityGroupIngress => {
                Call::AuthorizeSecurityGroupIngress(authorize()?)
            }
            CallName::AuthorizeSecurityGroupEgress => {
                Call::AuthorizeSecurityGroupEgress(authorize()?)
            }
            CallName::ModifySecurityGroupRules => {
                Call::ModifySecurityGroupRules(typed(request, REQUEST)?)
            }
            CallName::ModifyManagedPrefixList => {
                Call::ModifyManagedPrefixList(typed(request, REQUEST)?)
            }
            CallName::RestoreManagedPrefixListVersion => {
                Call::RestoreManagedPrefixListVersion(typed(request, REQUEST)?)
            }
            CallName::CreateTags => Call::CreateTags(typed(request, REQUEST)?),
            CallName::DeleteTags => Call::DeleteTags(typed(request, REQUEST)?),
        })
    }

    /// The record's `requestParameters` and `responseElements` that carry this call (the
    /// inverse of decoding: a record rebuilt from them decodes to the same call).
    pub fn parameters(&self) -> Result<(Value, Option<Value>), serde_json::Error> {
        match self {
            Call::AuthorizeSecurityGroupIngress(call)
            | Call::AuthorizeSecurityGroupEgress(call) => {
                let response = call.response.as_ref().map(serde_json::to_value);
                Ok((serde_json::to_value(&call.request)?, response.transpose()?))
            }
            Call::ModifySecurityGroupRules(call) => Ok((serde_json::to_value(call)?, None)),
            Call::ModifyManagedPrefixList(call) => Ok((serde_json::to_value(call)?, None)),
            Call::RestoreManagedPrefixListVersion(call) => Ok((serde_json::to_value(call)?, None)),
            Call::CreateTags(call) | Call::DeleteTags(call) => {
                Ok((serde_json::to_value(call)?, None))
            }
        }
    }

    /// What the call changed, its rules converted.
    pub fn change(&self) -> Result<Change, DecodeError> {
        match self {
            Call::AuthorizeSecurityGroupIngress(call) => call.change(Direction::Ingress),
            Call::AuthorizeSecurityGroupEgress(call) => call.change(Direction::Egress),
            Call::ModifySecurityGroupRules(call) => call.request.change(),
            Call::ModifyManagedPrefixList(call) => call.request.change(),
            Call::RestoreManagedPrefixListVersion(call) => {
                let request = call.request.as_ref();
                let id = request
                    .and_then(|r| r.prefix_list_id.as_ref())
                    .or(call.prefix_list_id.as_ref());
                Ok(Change::PrefixListModified {
                    prefix_list_id: required(
                        id,
                        "requestParameters.RestoreManagedPrefixListVersionRequest.PrefixListId",
                    )?
                    .to_owned(),
                    added: Vec::new(),
                    removed: Vec::new(),
                    current_version: request.and_then(|r| r.current_version),
                })
            }
            Call::CreateTags(call) | Call::DeleteTags(call) => call.change(),
        }
    }
}

impl TagsParameters {
    /// The security groups among the tagged resources, and the keys that changed.
    fn change(&self) -> Result<Change, DecodeError> {
        if self.resources_set.is_empty() {
            return Err(DecodeError::new(
                format!("{REQUEST}.resourcesSet"),
                "the request names no resource",
            ));
        }
        let mut group_ids: Vec<String> = self
            .resources_set
            .iter()
            .filter_map(|r| r.resource_id.as_ref())
            .filter(|id| id.starts_with("sg-"))
            .cloned()
            .collect();
        group_ids.sort();
        group_ids.dedup();
        let mut keys: Vec<String> = self.tag_set.iter().filter_map(|t| t.key.clone()).collect();
        keys.sort();
        keys.dedup();
        Ok(Change::TagsChanged { group_ids, keys })
    }
}

impl Authorize {
    fn change(&self, direction: Direction) -> Result<Change, DecodeError> {
        let request = &self.request;
        let group_id = non_empty(request.group_id.as_ref());
        let mut rules = Vec::new();
        let created = self
            .response
            .as_ref()
            .map_or(&[][..], |r| &r.security_group_rule_set);
        if created.is_empty() {
            for (i, permission) in request.ip_permissions.iter().enumerate() {
                let at = format!("{REQUEST}.ipPermissions.items[{i}]");
                permission.rules(direction, group_id.as_deref(), &at, &mut rules)?;
            }
            let flat = &request.flat;
            if flat.cidr_ip.is_some() || flat.source_security_group_name.is_some() {
                flat.rules(direction, group_id.as_deref(), REQUEST, &mut rules)?;
            }
            if rules.is_empty() {
                return Err(DecodeError::new(
                    format!("{REQUEST}.ipPermissions"),
                    "the request holds no permission",
                ));
            }
        } else {
            let base = ApiRule {
                is_egress: direction == Direction::Egress,
                ..ApiRule::default()
            };
            for (i, rule) in created.iter().enumerate() {
                let at = format!("responseElements.securityGroupRuleSet.items[{i}]");
                rules.push(rule.rule(base, &at, lower_camel)?);
            }
        }
        Ok(Change::Authorized {
            group_id,
            group_name: non_empty(request.group_name.as_ref()),
            rules,
        })
    }
}

impl IpPermission {
    /// The rules of the permission: one per peer.
    fn rules(
        &self,
        direction: Direction,
        group_id: Option<&str>,
        at: &str,
        out: &mut Vec<SecurityGroupRule>,
    ) -> Result<(), DecodeError> {
        let protocol = required_protocol(self.ip_protocol.as_ref(), &format!("{at}.ipProtocol"))?;
        let base = ApiRule {
            group_id,
            is_egress: direction == Direction::Egress,
            ip_protocol: &protocol,
            from_port: number(self.from_port),
            to_port: number(self.to_port),
            ..ApiRule::default()
        };
        // Each peer, with the field it was read from.
        let mut peers: Vec<(String, ApiRule<'_>)> = Vec::new();
        let lists = [
            ("ipRanges", &self.ip_ranges),
            ("ipv6Ranges", &self.ipv6_ranges),
            ("prefixListIds", &self.prefix_list_ids),
            ("groups", &self.groups),
        ];
        for (list, items) in lists {
            for (j, item) in items.iter().enumerate() {
                let group = item.group_id.as_deref().or(item.group_name.as_deref());
                let api = ApiRule {
                    cidr_ipv4: item.cidr_ip.as_deref(),
                    cidr_ipv6: item.cidr_ipv6.as_deref(),
                    prefix_list_id: item.prefix_list_id.as_deref(),
                    referenced_group: group.map(|id| (id, item.user_id.as_deref())),
                    description: item.description.as_deref(),
                    ..base
                };
                peers.push((format!("{at}.{list}.items[{j}]"), api));
            }
        }
        // The legacy flat form names its peer beside the protocol.
        let source = self.source_security_group_name.as_deref();
        if self.cidr_ip.is_some() || source.is_some() {
            let owner = self.source_security_group_owner_id.as_deref();
            let api = ApiRule {
                cidr_ipv4: self.cidr_ip.as_deref(),
                referenced_group: source.map(|name| (name, owner)),
                ..base
            };
            peers.push((at.to_owned(), api));
        }
        if peers.is_empty() {
            return Err(DecodeError::new(
                at,
                "the permission names no peer (ipRanges, ipv6Ranges, prefixListIds or groups)",
            ));
        }
        for (peer, api) in peers {
            let rule = SecurityGroupRule::from_api(api, None).map_err(|e| {
                let field = match e.field {
                    Some("CidrIpv4") => format!("{peer}.cidrIp"),
                    Some("CidrIpv6") => format!("{peer}.cidrIpv6"),
                    Some(name) => format!("{at}.{}", lower_camel(name)),
                    None => peer,
                };
                DecodeError::new(field, e.message)
            })?;
            out.push(rule);
        }
        Ok(())
    }
}

fn required<'a>(value: Option<&'a String>, field: &str) -> Result<&'a str, DecodeError> {
    value
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| DecodeError::new(field, "missing or not a string"))
}

fn required_protocol(value: Option<&ProtocolText>, field: &str) -> Result<String, DecodeError> {
    value
        .map(ToString::to_string)
        .ok_or_else(|| DecodeError::new(field, "missing"))
}

impl RuleShape {
    /// The rule, over `base`: the direction when the shape does not say it, and the group and
    /// rule id a modify request gives beside the shape. `name` spells a field as the input
    /// does (`IpProtocol` is `ipProtocol` in a response).
    fn rule(
        &self,
        base: ApiRule<'_>,
        at: &str,
        name: fn(&str) -> String,
    ) -> Result<SecurityGroupRule, DecodeError> {
        let field = |f: &str| format!("{at}.{}", name(f));
        let protocol = required_protocol(self.ip_protocol.as_ref(), &field("IpProtocol"))?;
        let referenced = self.referenced_group_info.as_ref();
        let api = ApiRule {
            rule_id: self.security_group_rule_id.as_deref().or(base.rule_id),
            group_id: self.group_id.as_deref().or(base.group_id),
            group_owner_id: self.group_owner_id.as_deref(),
            is_egress: self.is_egress.unwrap_or(base.is_egress),
            ip_protocol: &protocol,
            from_port: number(self.from_port),
            to_port: number(self.to_port),
            cidr_ipv4: self.cidr_ipv4.as_deref(),
            cidr_ipv6: self.cidr_ipv6.as_deref(),
            prefix_list_id: self.prefix_list_id.as_deref(),
            referenced_group: referenced
                .and_then(|g| Some((g.group_id.as_deref()?, g.user_id.as_deref())))
                .or(self.referenced_group_id.as_deref().map(|id| (id, None))),
            description: self.description.as_deref(),
        };
        SecurityGroupRule::from_api(api, None)
            .map_err(|e| DecodeError::new(e.field.map_or(at.to_owned(), field), e.message))
    }
}

impl ModifyRulesRequest {
    fn change(&self) -> Result<Change, DecodeError> {
        const BASE: &str = "requestParameters.ModifySecurityGroupRulesRequest";
        let group_id = non_empty(self.group_id.as_ref());
        if self.security_group_rule.is_empty() {
            return Err(DecodeError::new(
                format!("{BASE}.SecurityGroupRule"),
                "the request modifies no rule",
            ));
        }
        let mut rules = Vec::with_capacity(self.security_group_rule.len());
        for (i, update) in self.security_group_rule.iter().enumerate() {
            let at = format!("{BASE}.SecurityGroupRule[{i}]");
            let rule_id = required(
                update.security_group_rule_id.as_ref(),
                &format!("{at}.SecurityGroupRuleId"),
            )?;
            let at = format!("{at}.SecurityGroupRule");
            let shape = (update.security_group_rule.as_ref())
                .ok_or_else(|| DecodeError::new(&at, "missing"))?;
            let base = ApiRule {
                rule_id: Some(rule_id),
                group_id: group_id.as_deref(),
                ..ApiRule::default()
            };
            rules.push(shape.rule(base, &at, str::to_owned)?);
        }
        Ok(Change::Modified { group_id, rules })
    }
}

impl ModifyPrefixListRequest {
    fn change(&self) -> Result<Change, DecodeError> {
        const BASE: &str = "requestParameters.ModifyManagedPrefixListRequest";
        let prefix_list_id = required(
            self.prefix_list_id.as_ref(),
            &format!("{BASE}.PrefixListId"),
        )?
        .to_owned();
        let entries = |key: &str, list: &[PrefixListEntry]| -> Result<Vec<IpNet>, DecodeError> {
            list.iter()
                .enumerate()
                .map(|(i, entry)| {
                    let at = format!("{BASE}.{key}[{i}].Cidr");
                    let cidr = required(entry.cidr.as_ref(), &at)?;
                    cidr.trim()
                        .parse::<IpNet>()
                        .map_err(|_| DecodeError::new(at, format!("`{cidr}` is not a CIDR")))
                })
                .collect()
        };
        Ok(Change::PrefixListModified {
            added: entries("AddEntry", &self.add_entry)?,
            removed: entries("RemoveEntry", &self.remove_entry)?,
            prefix_list_id,
            current_version: self.current_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Protocol;
    use serde_json::json;
    use strum::VariantArray;

    fn authorize(request: Value) -> Result<Change, DecodeError> {
        decode_bare_request(&request).map(|event| event.change)
    }

    #[test]
    fn the_event_pattern_lists_exactly_the_calls_the_decoder_knows() {
        let known: Vec<&str> = CallName::VARIANTS.iter().map(|c| c.as_ref()).collect();
        assert_eq!(watched_events(), known);
    }

    #[test]
    fn ports_as_strings_decode() {
        let request = json!({"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "6", "fromPort": "22", "toPort": "22",
             "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
        let Change::Authorized { rules, .. } = authorize(request).unwrap() else {
            panic!("not an authorization")
        };
        assert_eq!(rules[0].protocol, Protocol::Tcp);
        assert_eq!(rules[0].ports.unwrap().from, 22);
    }

    #[test]
    fn a_permission_without_peer_is_an_error_naming_the_field() {
        let request = json!({"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22}]}});
        let error = authorize(request).unwrap_err();
        assert_eq!(error.field, "requestParameters.ipPermissions.items[0]");
    }

    #[test]
    fn a_bad_port_names_its_list() {
        let request = json!({"groupId": "sg-1", "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": "ssh", "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}]});
        let error = authorize(request).unwrap_err();
        assert_eq!(error.field, "requestParameters.ipPermissions", "{error}");
    }

    #[test]
    fn modify_rules_accepts_a_list_of_rules() {
        let request = json!({"ModifySecurityGroupRulesRequest": {"GroupId": "sg-1",
            "SecurityGroupRule": [
              {"SecurityGroupRuleId": "sgr-1", "SecurityGroupRule": {"IpProtocol": "tcp",
                "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}},
              {"SecurityGroupRuleId": "sgr-2", "SecurityGroupRule": {"IpProtocol": "-1",
                "CidrIpv6": "::/0"}}]}});
        let event = decode_bare_request(&request).unwrap();
        assert_eq!(event.name, "ModifySecurityGroupRules");
        assert_eq!(event.rules().len(), 2);
        assert_eq!(event.rules()[1].protocol, Protocol::All);
    }
}
