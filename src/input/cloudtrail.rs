//! CloudTrail decoding: EventBridge envelopes, bare records and bare request parameters of the
//! security-group API calls, into the change they describe and the rules they carry.
//!
//! CloudTrail serializes EC2 requests loosely: lists come as `{"items": [...]}`, as a single
//! object, or as a plain array; ports come as numbers or strings; keys change case between
//! API families. The decoder accepts all of these and names the field when something is wrong.

use ipnet::IpNet;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::rule::{Direction, Peer, Protocol, SecurityGroupRule, ports_for};

/// The event names sgguard acts on.
pub const WATCHED_EVENTS: &[&str] = &[
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "ModifyManagedPrefixList",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct DecodeError {
    pub field: String,
    pub message: String,
}

impl DecodeError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Who made the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub arn: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub principal_id: Option<String>,
    pub account_id: Option<String>,
    /// The AWS service that made the call on the actor's behalf (CloudFormation, …).
    pub invoked_by: Option<String>,
}

/// What the call changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Rules added by AuthorizeSecurityGroupIngress/Egress.
    Authorized {
        group_id: Option<String>,
        group_name: Option<String>,
        rules: Vec<SecurityGroupRule>,
    },
    /// Rules replaced by ModifySecurityGroupRules. The request does not say the direction: the
    /// rules are decoded as ingress and the live state decides.
    Modified {
        group_id: Option<String>,
        rules: Vec<SecurityGroupRule>,
    },
    /// Entries added to or removed from a managed prefix list.
    PrefixListModified {
        prefix_list_id: String,
        added: Vec<IpNet>,
        removed: Vec<IpNet>,
    },
    /// The call failed (`errorCode`): nothing changed.
    Failed { error_code: String },
    /// An event sgguard does not act on.
    Ignored,
}

/// One decoded CloudTrail event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudTrailEvent {
    pub name: String,
    pub id: Option<String>,
    pub time: Option<String>,
    /// The account the call was made in (the member account).
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub actor: Actor,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub change: Change,
}

impl CloudTrailEvent {
    /// Rules the event carries (empty for prefix lists, failures and ignored events).
    pub fn rules(&self) -> &[SecurityGroupRule] {
        match &self.change {
            Change::Authorized { rules, .. } | Change::Modified { rules, .. } => rules,
            _ => &[],
        }
    }

    /// The security groups the event touches.
    pub fn group_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rules()
            .iter()
            .filter_map(|r| r.group_id.clone())
            .collect();
        match &self.change {
            Change::Authorized {
                group_id: Some(id), ..
            }
            | Change::Modified {
                group_id: Some(id), ..
            } => ids.push(id.clone()),
            _ => {}
        }
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Whether a JSON object looks like a CloudTrail record.
pub fn is_record(value: &Value) -> bool {
    value.get("eventName").is_some() && value.get("eventSource").is_some()
        || value.get("eventName").is_some() && value.get("requestParameters").is_some()
}

/// Whether a JSON object looks like an EventBridge envelope of a CloudTrail event.
pub fn is_envelope(value: &Value) -> bool {
    value.get("detail").is_some_and(Value::is_object)
        && (value.get("detail-type").is_some() || value.get("source").is_some())
}

/// Whether a JSON object is the bare `requestParameters` of a call sgguard understands.
pub fn is_bare_request(value: &Value) -> bool {
    value.get("ModifySecurityGroupRulesRequest").is_some()
        || value.get("ModifyManagedPrefixListRequest").is_some()
        || (value.get("ipPermissions").is_some() || value.get("cidrIp").is_some())
            && (value.get("groupId").is_some() || value.get("groupName").is_some())
}

/// Decodes an EventBridge envelope (`detail` is the record).
pub fn decode_envelope(envelope: &Value) -> Result<CloudTrailEvent, DecodeError> {
    let detail = envelope
        .get("detail")
        .ok_or_else(|| DecodeError::new("detail", "missing"))?;
    let mut event = decode_record_unstamped(detail).map_err(|e| DecodeError {
        field: format!("detail.{}", e.field),
        message: e.message,
    })?;
    // The envelope's account and region are the member's; they win over the record's.
    if let Some(account) = text(envelope.get("account")) {
        event.account_id = Some(account);
    }
    if let Some(region) = text(envelope.get("region")) {
        event.region = Some(region);
    }
    stamp_rules(&mut event);
    if event.id.is_none() {
        event.id = text(envelope.get("id"));
    }
    Ok(event)
}

/// Decodes one CloudTrail record.
pub fn decode_record(record: &Value) -> Result<CloudTrailEvent, DecodeError> {
    let mut event = decode_record_unstamped(record)?;
    stamp_rules(&mut event);
    Ok(event)
}

fn decode_record_unstamped(record: &Value) -> Result<CloudTrailEvent, DecodeError> {
    if !record.is_object() {
        return Err(DecodeError::new(
            "",
            "a CloudTrail record must be a JSON object",
        ));
    }
    let name = text(record.get("eventName"))
        .ok_or_else(|| DecodeError::new("eventName", "missing or not a string"))?;
    let identity = record.get("userIdentity");
    let actor = Actor {
        arn: text(get_ci(identity, "arn")),
        kind: text(get_ci(identity, "type")),
        principal_id: text(get_ci(identity, "principalId")),
        account_id: text(get_ci(identity, "accountId")),
        invoked_by: text(get_ci(identity, "invokedBy")),
    };
    let account_id = text(record.get("recipientAccountId"))
        .or_else(|| text(record.get("aws_account_id")))
        .or_else(|| actor.account_id.clone());
    let mut event = CloudTrailEvent {
        id: text(record.get("eventID")),
        time: text(record.get("eventTime")),
        account_id,
        region: text(record.get("awsRegion")),
        actor,
        source_ip: text(record.get("sourceIPAddress")),
        user_agent: text(record.get("userAgent")),
        change: Change::Ignored,
        name,
    };
    if let Some(code) = text(record.get("errorCode")) {
        event.change = Change::Failed { error_code: code };
        return Ok(event);
    }
    let request = record.get("requestParameters");
    let response = record.get("responseElements");
    event.change = decode_change(&event.name, request, response)?;
    Ok(event)
}

/// Decodes bare `requestParameters` (as some exports keep them), naming the call from its
/// shape. An Authorize request does not say its direction: it is taken as ingress.
pub fn decode_bare_request(request: &Value) -> Result<CloudTrailEvent, DecodeError> {
    let name = if request.get("ModifySecurityGroupRulesRequest").is_some() {
        "ModifySecurityGroupRules"
    } else if request.get("ModifyManagedPrefixListRequest").is_some() {
        "ModifyManagedPrefixList"
    } else {
        "AuthorizeSecurityGroupIngress"
    };
    let change = decode_change(name, Some(request), None).map_err(|e| DecodeError {
        field: format!(
            "requestParameters.{}",
            e.field.trim_start_matches("requestParameters.")
        ),
        message: e.message,
    })?;
    Ok(CloudTrailEvent {
        name: name.to_owned(),
        id: None,
        time: None,
        account_id: None,
        region: None,
        actor: Actor::default(),
        source_ip: None,
        user_agent: None,
        change,
    })
}

/// Copies the event's account and region onto rules that do not carry their own.
fn stamp_rules(event: &mut CloudTrailEvent) {
    let (account, region) = (event.account_id.clone(), event.region.clone());
    if let Change::Authorized { rules, .. } | Change::Modified { rules, .. } = &mut event.change {
        for rule in rules {
            if rule.account_id.is_none() {
                rule.account_id.clone_from(&account);
            }
            if rule.region.is_none() {
                rule.region.clone_from(&region);
            }
        }
    }
}

fn decode_change(
    name: &str,
    request: Option<&Value>,
    response: Option<&Value>,
) -> Result<Change, DecodeError> {
    match name {
        "AuthorizeSecurityGroupIngress" => authorize(Direction::Ingress, request, response),
        "AuthorizeSecurityGroupEgress" => authorize(Direction::Egress, request, response),
        "ModifySecurityGroupRules" => modify_rules(request),
        "ModifyManagedPrefixList" => modify_prefix_list(request),
        _ => Ok(Change::Ignored),
    }
}

fn authorize(
    direction: Direction,
    request: Option<&Value>,
    response: Option<&Value>,
) -> Result<Change, DecodeError> {
    let request = request
        .filter(|r| r.is_object())
        .ok_or_else(|| DecodeError::new("requestParameters", "missing or not an object"))?;
    let group_id = text(request.get("groupId"));
    let group_name = text(request.get("groupName"));

    // The response's rule set (2021 on) carries rule ids and is what AWS actually created.
    let rule_set = response.and_then(|r| r.get("securityGroupRuleSet"));
    let created = items(rule_set);
    if !created.is_empty() {
        let mut rules = Vec::with_capacity(created.len());
        for (i, item) in created.iter().enumerate() {
            let field = format!("responseElements.securityGroupRuleSet.items[{i}]");
            rules.push(rule_set_item(item, direction, &field)?);
        }
        return Ok(Change::Authorized {
            group_id,
            group_name,
            rules,
        });
    }

    let mut rules = Vec::new();
    let permissions = items(request.get("ipPermissions"));
    for (i, permission) in permissions.iter().enumerate() {
        let field = format!("requestParameters.ipPermissions.items[{i}]");
        permission_rules(
            permission,
            direction,
            group_id.as_deref(),
            &field,
            &mut rules,
        )?;
    }
    // The legacy flat form: cidrIp / ipProtocol / fromPort / toPort beside the group.
    if request.get("cidrIp").is_some() || request.get("sourceSecurityGroupName").is_some() {
        permission_rules(
            request,
            direction,
            group_id.as_deref(),
            "requestParameters",
            &mut rules,
        )?;
    }
    if rules.is_empty() {
        return Err(DecodeError::new(
            "requestParameters.ipPermissions",
            "the request holds no permission",
        ));
    }
    Ok(Change::Authorized {
        group_id,
        group_name,
        rules,
    })
}

/// The rules of one `IpPermission` (or the legacy flat request): one per peer.
fn permission_rules(
    permission: &Value,
    direction: Direction,
    group_id: Option<&str>,
    field: &str,
    out: &mut Vec<SecurityGroupRule>,
) -> Result<(), DecodeError> {
    let protocol = protocol_of(permission.get("ipProtocol"), &format!("{field}.ipProtocol"))?;
    let ports = ports_for(
        protocol,
        int(permission.get("fromPort"), &format!("{field}.fromPort"))?,
        int(permission.get("toPort"), &format!("{field}.toPort"))?,
    )
    .map_err(|m| DecodeError::new(format!("{field}.fromPort"), m))?;
    let before = out.len();
    let mut pending: Vec<(Peer, Option<String>)> = Vec::new();
    let mut push = |peer: Peer, description: Option<String>| pending.push((peer, description));
    for (j, range) in items(permission.get("ipRanges")).iter().enumerate() {
        let at = format!("{field}.ipRanges.items[{j}].cidrIp");
        push(
            cidr(range.get("cidrIp"), &at)?,
            text(range.get("description")),
        );
    }
    for (j, range) in items(permission.get("ipv6Ranges")).iter().enumerate() {
        let at = format!("{field}.ipv6Ranges.items[{j}].cidrIpv6");
        push(
            cidr(range.get("cidrIpv6"), &at)?,
            text(range.get("description")),
        );
    }
    for (j, list) in items(permission.get("prefixListIds")).iter().enumerate() {
        let id = text(list.get("prefixListId")).ok_or_else(|| {
            DecodeError::new(
                format!("{field}.prefixListIds.items[{j}].prefixListId"),
                "missing",
            )
        })?;
        push(
            Peer::PrefixList { id, entries: None },
            text(list.get("description")),
        );
    }
    for (j, group) in items(permission.get("groups")).iter().enumerate() {
        let id = text(group.get("groupId"))
            .or_else(|| text(group.get("groupName")))
            .ok_or_else(|| {
                DecodeError::new(format!("{field}.groups.items[{j}].groupId"), "missing")
            })?;
        push(
            Peer::Group {
                id,
                owner: text(group.get("userId")),
            },
            text(group.get("description")),
        );
    }
    if let Some(value) = permission.get("cidrIp").filter(|v| !v.is_null()) {
        push(cidr(Some(value), &format!("{field}.cidrIp"))?, None);
    }
    if let Some(name) = text(permission.get("sourceSecurityGroupName")) {
        push(
            Peer::Group {
                id: name,
                owner: text(permission.get("sourceSecurityGroupOwnerId")),
            },
            None,
        );
    }
    out.extend(
        pending
            .into_iter()
            .map(|(peer, description)| SecurityGroupRule {
                account_id: None,
                region: None,
                group_id: group_id.map(str::to_owned),
                rule_id: None,
                direction,
                protocol,
                ports,
                peer,
                description,
            }),
    );
    let added = out.len() - before;
    if added == 0 {
        return Err(DecodeError::new(
            field,
            "the permission names no peer (ipRanges, ipv6Ranges, prefixListIds or groups)",
        ));
    }
    Ok(())
}

/// One item of `securityGroupRuleSet` (CloudTrail's lower-camel `SecurityGroupRule`).
fn rule_set_item(
    item: &Value,
    default_direction: Direction,
    field: &str,
) -> Result<SecurityGroupRule, DecodeError> {
    let direction = match item.get("isEgress").and_then(bool_value) {
        Some(true) => Direction::Egress,
        Some(false) => Direction::Ingress,
        None => default_direction,
    };
    let protocol = protocol_of(item.get("ipProtocol"), &format!("{field}.ipProtocol"))?;
    let ports = ports_for(
        protocol,
        int(item.get("fromPort"), &format!("{field}.fromPort"))?,
        int(item.get("toPort"), &format!("{field}.toPort"))?,
    )
    .map_err(|m| DecodeError::new(format!("{field}.fromPort"), m))?;
    let peer = peer_of(
        item.get("cidrIpv4"),
        item.get("cidrIpv6"),
        item.get("prefixListId"),
        item.get("referencedGroupInfo")
            .and_then(|g| text(g.get("groupId")).map(|id| (id, text(g.get("userId"))))),
        field,
    )?;
    Ok(SecurityGroupRule {
        account_id: text(item.get("groupOwnerId")),
        region: None,
        group_id: text(item.get("groupId")),
        rule_id: text(item.get("securityGroupRuleId")),
        direction,
        protocol,
        ports,
        peer,
        description: text(item.get("description")),
    })
}

fn peer_of(
    ipv4: Option<&Value>,
    ipv6: Option<&Value>,
    prefix_list: Option<&Value>,
    group: Option<(String, Option<String>)>,
    field: &str,
) -> Result<Peer, DecodeError> {
    if let Some(value) = ipv4.filter(|v| !v.is_null()) {
        return cidr(Some(value), &format!("{field}.cidrIpv4"));
    }
    if let Some(value) = ipv6.filter(|v| !v.is_null()) {
        return cidr(Some(value), &format!("{field}.cidrIpv6"));
    }
    if let Some(id) = text(prefix_list) {
        return Ok(Peer::PrefixList { id, entries: None });
    }
    if let Some((id, owner)) = group {
        return Ok(Peer::Group { id, owner });
    }
    Err(DecodeError::new(
        field,
        "the rule names no peer (CIDR, prefix list or referenced group)",
    ))
}

fn modify_rules(request: Option<&Value>) -> Result<Change, DecodeError> {
    const BASE: &str = "requestParameters.ModifySecurityGroupRulesRequest";
    let body = get_ci(request, "ModifySecurityGroupRulesRequest")
        .filter(|b| b.is_object())
        .ok_or_else(|| DecodeError::new(BASE, "missing or not an object"))?;
    let group_id = text(get_ci(Some(body), "GroupId"));
    let updates = items(get_ci(Some(body), "SecurityGroupRule"));
    if updates.is_empty() {
        return Err(DecodeError::new(
            format!("{BASE}.SecurityGroupRule"),
            "the request modifies no rule",
        ));
    }
    let mut rules = Vec::with_capacity(updates.len());
    for (i, update) in updates.iter().enumerate() {
        let field = format!("{BASE}.SecurityGroupRule[{i}]");
        let rule_id = text(get_ci(Some(update), "SecurityGroupRuleId"))
            .ok_or_else(|| DecodeError::new(format!("{field}.SecurityGroupRuleId"), "missing"))?;
        let spec = get_ci(Some(update), "SecurityGroupRule")
            .filter(|s| s.is_object())
            .ok_or_else(|| DecodeError::new(format!("{field}.SecurityGroupRule"), "missing"))?;
        let at = format!("{field}.SecurityGroupRule");
        let protocol = protocol_of(
            get_ci(Some(spec), "IpProtocol"),
            &format!("{at}.IpProtocol"),
        )?;
        let ports = ports_for(
            protocol,
            int(get_ci(Some(spec), "FromPort"), &format!("{at}.FromPort"))?,
            int(get_ci(Some(spec), "ToPort"), &format!("{at}.ToPort"))?,
        )
        .map_err(|m| DecodeError::new(format!("{at}.FromPort"), m))?;
        let peer = peer_of(
            get_ci(Some(spec), "CidrIpv4"),
            get_ci(Some(spec), "CidrIpv6"),
            get_ci(Some(spec), "PrefixListId"),
            text(get_ci(Some(spec), "ReferencedGroupId")).map(|id| (id, None)),
            &at,
        )?;
        rules.push(SecurityGroupRule {
            account_id: None,
            region: None,
            group_id: group_id.clone(),
            rule_id: Some(rule_id),
            direction: Direction::Ingress,
            protocol,
            ports,
            peer,
            description: text(get_ci(Some(spec), "Description")),
        });
    }
    Ok(Change::Modified { group_id, rules })
}

fn modify_prefix_list(request: Option<&Value>) -> Result<Change, DecodeError> {
    const BASE: &str = "requestParameters.ModifyManagedPrefixListRequest";
    let body = get_ci(request, "ModifyManagedPrefixListRequest")
        .filter(|b| b.is_object())
        .ok_or_else(|| DecodeError::new(BASE, "missing or not an object"))?;
    let prefix_list_id = text(get_ci(Some(body), "PrefixListId"))
        .ok_or_else(|| DecodeError::new(format!("{BASE}.PrefixListId"), "missing"))?;
    let entries = |key: &str| -> Result<Vec<IpNet>, DecodeError> {
        items(get_ci(Some(body), key))
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let at = format!("{BASE}.{key}[{i}].Cidr");
                let value = get_ci(Some(entry), "Cidr");
                let text_value =
                    text(value).ok_or_else(|| DecodeError::new(at.clone(), "missing"))?;
                text_value
                    .trim()
                    .parse::<IpNet>()
                    .map_err(|_| DecodeError::new(at, format!("`{text_value}` is not a CIDR")))
            })
            .collect()
    };
    Ok(Change::PrefixListModified {
        added: entries("AddEntry")?,
        removed: entries("RemoveEntry")?,
        prefix_list_id,
    })
}

// --- Loose JSON helpers -------------------------------------------------------------------

/// The elements of a CloudTrail list: `{"items": [...]}`, `{"items": {...}}`, `[...]`, a single
/// object, or nothing (`{}`, null, absent).
fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(Value::Object(map)) => match map.get("items") {
            Some(inner) => items(Some(inner)),
            None if map.is_empty() => Vec::new(),
            None => vec![value].into_iter().flatten().collect(),
        },
        Some(_) => Vec::new(),
    }
}

/// A key looked up without regard to case (CloudTrail mixes `cidr` and `Description`).
fn get_ci<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    let map: &Map<String, Value> = value?.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn bool_value(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.to_ascii_lowercase().parse().ok(),
        _ => None,
    }
}

/// A number or a numeric string; absent and null are `None`.
fn int(value: Option<&Value>, field: &str) -> Result<Option<i64>, DecodeError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| DecodeError::new(field, format!("`{n}` is not a whole number"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| DecodeError::new(field, format!("`{s}` is not a number"))),
        Some(other) => Err(DecodeError::new(
            field,
            format!("expected a number, found `{other}`"),
        )),
    }
}

fn protocol_of(value: Option<&Value>, field: &str) -> Result<Protocol, DecodeError> {
    let raw = match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => return Err(DecodeError::new(field, "missing")),
        Some(other) => {
            return Err(DecodeError::new(
                field,
                format!("expected a protocol, found `{other}`"),
            ));
        }
    };
    raw.parse::<Protocol>()
        .map_err(|e| DecodeError::new(field, e.to_string()))
}

fn cidr(value: Option<&Value>, field: &str) -> Result<Peer, DecodeError> {
    let raw = text(value).ok_or_else(|| DecodeError::new(field, "missing or not a string"))?;
    Peer::cidr(&raw).map_err(|m| DecodeError::new(field, m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_accepts_every_list_form() {
        let one = json!({"items": {"cidrIp": "1.2.3.4/32"}});
        assert_eq!(items(Some(&one)).len(), 1);
        let many = json!({"items": [{"a": 1}, {"a": 2}]});
        assert_eq!(items(Some(&many)).len(), 2);
        let plain = json!([{"a": 1}]);
        assert_eq!(items(Some(&plain)).len(), 1);
        assert!(items(Some(&json!({}))).is_empty());
        assert!(items(None).is_empty());
    }

    #[test]
    fn ports_as_strings_decode() {
        let request = json!({"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "6", "fromPort": "22", "toPort": "22",
             "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
        let change = authorize(Direction::Ingress, Some(&request), None).unwrap();
        let Change::Authorized { rules, .. } = change else {
            panic!("not an authorization")
        };
        assert_eq!(rules[0].protocol, Protocol::Tcp);
        assert_eq!(rules[0].ports.unwrap().from, 22);
    }

    #[test]
    fn a_permission_without_peer_is_an_error_naming_the_field() {
        let request = json!({"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22}]}});
        let error = authorize(Direction::Ingress, Some(&request), None).unwrap_err();
        assert_eq!(error.field, "requestParameters.ipPermissions.items[0]");
    }

    #[test]
    fn error_events_are_failed_not_errors() {
        let record = json!({"eventName": "AuthorizeSecurityGroupIngress",
            "eventSource": "ec2.amazonaws.com", "errorCode": "Client.InvalidPermission.Duplicate",
            "requestParameters": {}});
        let event = decode_record(&record).unwrap();
        assert!(matches!(event.change, Change::Failed { .. }));
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
