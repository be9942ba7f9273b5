//! Restore: what a message says sgguard revoked, read back into rules; the time-limited
//! exemption that keeps them; and putting them back, each in its account and region, through
//! the hub's [`HubApi`] (the CLI's `restore` wires it to AWS and the operator's role).

use std::fmt::Write as _;

use serde_json::Value;

use super::HubApi;
use super::hub::SecurityGroups;
use crate::aws::{Authorize, AwsError};
use crate::rule::{Direction, Protocol};

/// One revoked rule, as the message tells it.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub account: String,
    pub region: String,
    pub group: String,
    pub rule_id: String,
    pub direction: Direction,
    pub api_protocol: String,
    pub ports: Option<(u16, u16)>,
    pub peer: String,
    pub description: Option<String>,
    pub policy_rules: Vec<String>,
}

/// Puts each rule back in its account and region; per rule, the new rule's id or the error.
/// One failure does not stop the others.
pub async fn put_back<'r, H: HubApi>(
    hub: &H,
    rules: &'r [Revoked],
) -> Vec<(&'r Revoked, Result<Option<String>, AwsError>)> {
    let mut out = Vec::with_capacity(rules.len());
    for rule in rules {
        let result = async {
            let groups = hub.security_groups(&rule.account, &rule.region).await?;
            groups
                .authorize(&Authorize {
                    group_id: &rule.group,
                    direction: rule.direction,
                    protocol: &rule.api_protocol,
                    ports: rule.ports,
                    peer: &rule.peer,
                    description: rule.description.as_deref(),
                })
                .await
        }
        .await;
        out.push((rule, result));
    }
    out
}

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
    let mut out = Vec::new();
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
        out.push(revoked(f).map_err(|e| format!("`{path}`, findings[{index}]: {e}"))?);
    }
    if out.is_empty() {
        return Err(format!(
            "`{path}` has no revoked finding: nothing to restore (audit mode revokes nothing)"
        ));
    }
    Ok(out)
}

fn revoked(f: &Value) -> Result<Revoked, String> {
    let text = |field: &str| {
        f[field]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("`{field}` is missing"))
    };
    let protocol: Protocol = text("protocol")?
        .parse()
        .map_err(|e| format!("`protocol`: {e}"))?;
    let api_protocol = match protocol {
        Protocol::All => "-1".to_owned(),
        Protocol::Tcp => "tcp".to_owned(),
        Protocol::Udp => "udp".to_owned(),
        Protocol::Icmp | Protocol::Icmpv6 => {
            return Err(
                "an ICMP rule cannot be restored exactly: the message does not carry its type \
                 and code"
                    .to_owned(),
            );
        }
        Protocol::Other(n) => n.to_string(),
    };
    let port = |field: &str| f[field].as_u64().and_then(|p| u16::try_from(p).ok());
    let ports = match (port("from_port"), port("to_port")) {
        (Some(from), Some(to)) => Some((from, to)),
        _ => None,
    };
    Ok(Revoked {
        account: text("account_id")?,
        region: text("region")?,
        group: text("group_id")?,
        rule_id: text("rule_id")?,
        direction: match text("direction")?.as_str() {
            "egress" => Direction::Egress,
            _ => Direction::Ingress,
        },
        api_protocol,
        ports,
        peer: text("peer")?,
        description: f["description"].as_str().map(str::to_owned),
        policy_rules: f["violations"]
            .as_array()
            .map(|vs| {
                vs.iter()
                    .filter_map(|v| v["policy_rule"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The exemptions file with one exemption per restored group added (its baseline rules, until
/// `until`); a new file when there was none.
pub fn with_exemption(
    current: Option<&str>,
    revoked: &[Revoked],
    until: jiff::civil::Date,
    reason: Option<&str>,
) -> String {
    let mut text = match current {
        Some(text) if !text.trim().is_empty() => {
            let mut text = text.replace("exemptions: []", "exemptions:");
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        }
        _ => "version: 1\nexemptions:\n".to_owned(),
    };
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for rule in revoked {
        match groups.iter_mut().find(|(g, _)| *g == rule.group) {
            Some((_, rules)) => rules.extend(rule.policy_rules.iter().map(String::as_str)),
            None => groups.push((
                &rule.group,
                rule.policy_rules.iter().map(String::as_str).collect(),
            )),
        }
    }
    for (group, mut rules) in groups {
        rules.sort_unstable();
        rules.dedup();
        let why = reason.unwrap_or("restored with sgguard restore");
        let _ = writeln!(
            text,
            "  - reason: {}\n    group_ids: [{group}]\n    rules: [{}]\n    expires: \"{until}\"",
            serde_json::to_string(why).unwrap_or_default(),
            rules.join(", ")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(outcome: &str) -> Value {
        serde_json::json!({"findings": [{
            "account_id": "111122223333", "region": "eu-west-1", "group_id": "sg-0a",
            "rule_id": "sgr-01", "direction": "ingress", "protocol": "tcp", "from_port": 5432,
            "to_port": 5432, "peer": "0.0.0.0/1", "description": "reporting tool",
            "outcome": outcome,
            "violations": [{"policy_rule": "risky-ports-from-internet"}]}]})
    }

    #[test]
    fn only_revoked_rules_are_restored() {
        let got = select(&message("revoked"), "m.json", &[]).unwrap();
        assert_eq!(got[0].ports, Some((5432, 5432)));
        assert_eq!(got[0].description.as_deref(), Some("reporting tool"));
        let error = select(&message("would_revoke"), "m.json", &[]).unwrap_err();
        assert!(error.contains("no revoked finding"), "{error}");
        let error = select(&message("would_revoke"), "m.json", &["sgr-01".to_owned()]).unwrap_err();
        assert!(
            error.contains("was never revoked (outcome `would_revoke`)"),
            "{error}"
        );
        let error = select(&message("revoked"), "m.json", &["sgr-99".to_owned()]).unwrap_err();
        assert!(error.contains("`sgr-99`"), "{error}");
        let mut icmp = message("revoked");
        icmp["findings"][0]["protocol"] = "icmp".into();
        assert!(select(&icmp, "m.json", &[]).unwrap_err().contains("ICMP"));
    }

    #[test]
    fn the_exemption_is_added_to_the_file_and_validates() {
        let revoked = select(&message("revoked"), "m.json", &[]).unwrap();
        let until = jiff::civil::date(2026, 12, 31);
        let baseline = crate::policy::Baseline::default_baseline().unwrap();
        for current in [None, Some("version: 1\nexemptions: []\n")] {
            let text = with_exemption(current, &revoked, until, Some("CHG-7: reporting"));
            let with = baseline
                .with_exemptions_file(&text, "exemptions.yaml")
                .unwrap();
            assert_eq!(
                with.exemptions.len(),
                baseline.exemptions.len() + 1,
                "{text}"
            );
            assert!(text.contains("expires: \"2026-12-31\""), "{text}");
        }
    }

    #[tokio::test]
    async fn revoked_rules_are_put_back_where_they_were_and_a_failure_is_told() {
        use crate::enforce::fake::Fake;
        use crate::finding::Tags;
        let mut revoked = select(&message("revoked"), "m.json", &[]).unwrap();
        let fake = Fake::default().with_group("sg-0a", Tags::new(), Vec::new());
        let mut lost = revoked[0].clone();
        lost.account = "444455556666".to_owned();
        revoked.push(lost);
        let hub = fake.clone().sharing_with("444455556666", None);
        let results = put_back(&hub, &revoked).await;
        assert_eq!(results.len(), 2);
        let new_id = results[0].1.as_ref().unwrap().clone().unwrap();
        assert_eq!(fake.rule_ids("sg-0a"), [new_id]);
        let restored = fake.authorized();
        assert_eq!(restored.len(), 1);
        assert_eq!(restored[0].peer, "0.0.0.0/1");
        assert_eq!(restored[0].ports, Some((5432, 5432)));
        assert_eq!(restored[0].description.as_deref(), Some("reporting tool"));
        let error = results[1].1.as_ref().unwrap_err();
        assert_eq!(error.account, "444455556666");
    }
}
