//! What a message says sgguard revoked, read strictly: every id checked for its shape, the
//! direction exactly `ingress` or `egress`, the rule through the one conversion every source
//! uses, and at least one baseline rule broken. The message only names what to restore; the
//! journal says whether sgguard revoked it (`provenance.rs`).

use serde_json::Value;

use super::Revoked;
use crate::enforce::scope::is_region_name;
use crate::ids::AccountId;
use crate::rule::{ApiRule, Protocol, SecurityGroupRule};

/// The revoked findings to restore: `only` (rule ids) or every revoked one. A rule that was not
/// revoked (audit mode's `would_revoke`, `reported`, …) is refused: there is nothing to put back.
pub fn select(doc: &Value, path: &str, only: &[String]) -> Result<Vec<Revoked>, String> {
    let findings = doc
        .get("findings")
        .or_else(|| doc.get("detail").and_then(|d| d.get("findings")))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            format!("`{path}` has no `findings`: give the JSON of an sgguard message or report")
        })?;
    for id in only {
        if !findings.iter().any(|f| f["rule_id"] == id.as_str()) {
            return Err(format!("`{path}` has no finding of rule `{id}`"));
        }
    }
    let mut out: Vec<Revoked> = Vec::new();
    for (index, f) in findings.iter().enumerate() {
        let rule_id = f["rule_id"].as_str().unwrap_or_default();
        if !only.is_empty() && !only.iter().any(|id| id == rule_id) {
            continue;
        }
        let outcome = f["outcome"].as_str().unwrap_or_default();
        if outcome != "revoked" {
            if only.is_empty() {
                continue;
            }
            return Err(format!(
                "rule `{rule_id}` was never revoked (outcome `{outcome}`): nothing to restore"
            ));
        }
        let revoked = revoked(f).map_err(|e| format!("`{path}`, findings[{index}]: {e}"))?;
        if out.iter().any(|r| r.rule_id() == revoked.rule_id()) {
            return Err(format!(
                "`{path}`, findings[{index}]: rule `{}` is named twice",
                revoked.rule_id()
            ));
        }
        out.push(revoked);
    }
    if out.is_empty() {
        return Err(format!(
            "`{path}` has no revoked finding: nothing to restore (audit mode revokes nothing)"
        ));
    }
    Ok(out)
}

/// `text` when it is `prefix` followed by 8 or 17 lowercase hexadecimal digits (EC2's ids).
fn ec2_id(field: &str, text: &str, prefix: &str) -> Result<(), String> {
    let hex = text.strip_prefix(prefix).unwrap_or_default();
    if matches!(hex.len(), 8 | 17)
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "`{field}` `{text}` is not an EC2 id (`{prefix}` and 8 or 17 hexadecimal digits)"
        ))
    }
}

fn revoked(f: &Value) -> Result<Revoked, String> {
    let text = |field: &str| {
        f[field]
            .as_str()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("`{field}` is missing"))
    };
    let account: AccountId = text("account_id")?
        .parse()
        .map_err(|e| format!("`account_id`: {e}"))?;
    let region_name = text("region")?;
    if !is_region_name(region_name) {
        return Err(format!("`region` `{region_name}` is not an AWS region"));
    }
    let group = text("group_id")?;
    ec2_id("group_id", group, "sg-")?;
    let rule_id = text("rule_id")?;
    ec2_id("rule_id", rule_id, "sgr-")?;
    let is_egress = match text("direction")? {
        "ingress" => false,
        "egress" => true,
        other => {
            return Err(format!(
                "`direction` `{other}` is neither `ingress` nor `egress`"
            ));
        }
    };
    let protocol: Protocol = text("protocol")?
        .parse()
        .map_err(|e| format!("`protocol`: {e}"))?;
    if matches!(protocol, Protocol::Icmp | Protocol::Icmpv6) {
        return Err(
            "an ICMP rule cannot be restored exactly: the message does not carry its type and \
             code"
                .to_owned(),
        );
    }
    let peer = text("peer")?;
    let (mut cidr_ipv4, mut cidr_ipv6, mut prefix_list, mut referenced) = (None, None, None, None);
    if peer.starts_with("pl-") {
        ec2_id("peer", peer, "pl-")?;
        prefix_list = Some(peer);
    } else if peer.starts_with("sg-") {
        ec2_id("peer", peer, "sg-")?;
        referenced = Some((peer, None));
    } else if peer.contains(':') {
        cidr_ipv6 = Some(peer);
    } else {
        cidr_ipv4 = Some(peer);
    }
    let port = |field: &str| f[field].as_i64();
    let api_protocol = protocol.api_name();
    let rule = SecurityGroupRule::from_api(
        ApiRule {
            rule_id: Some(rule_id),
            group_id: Some(group),
            group_owner_id: Some(account.as_str()),
            is_egress,
            ip_protocol: &api_protocol,
            from_port: port("from_port"),
            to_port: port("to_port"),
            cidr_ipv4,
            cidr_ipv6,
            prefix_list_id: prefix_list,
            referenced_group: referenced,
            description: f["description"].as_str(),
        },
        Some(region_name),
    )
    .map_err(|e| format!("the rule: {}", e.message))?;
    let policy_rules: Vec<String> = f["violations"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v["policy_rule"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if policy_rules.is_empty() {
        return Err(
            "`violations` names no baseline rule: sgguard revokes a rule only for the baseline \
             rules it breaks"
                .to_owned(),
        );
    }
    Ok(Revoked {
        account,
        rule,
        policy_rules,
        journaled: None,
    })
}
