//! `sgguard restore`: puts back exactly the rules a message says sgguard revoked, with their
//! descriptions, through a role the operator names (the remediation role can only revoke);
//! optionally writing a time-limited exemption first, so that the guard leaves them.

use std::fmt::Write as _;

use serde_json::Value;

use super::{EXIT_CLEAN, EXIT_ERROR, LiveSetup, RestoreArgs, policy_flag, print_error};
use crate::aws::Aws;
use crate::rule::{Direction, Protocol};

/// Largest message read: an inbox message is at most 256 KB.
const MAX_MESSAGE_BYTES: u64 = 1024 * 1024;

/// One revoked rule, as the message tells it.
#[derive(Debug, Clone)]
struct Revoked {
    account: String,
    region: String,
    group: String,
    rule_id: String,
    direction: Direction,
    api_protocol: String,
    ports: Option<(u16, u16)>,
    peer: String,
    description: Option<String>,
    policy_rules: Vec<String>,
}

pub fn run(args: &RestoreArgs) -> u8 {
    let revoked = match read(&args.message).and_then(|doc| select(&doc, &args.message, &args.rules))
    {
        Ok(revoked) => revoked,
        Err(error) => {
            print_error(error);
            return EXIT_ERROR;
        }
    };
    let LiveSetup {
        settings,
        baseline,
        runtime,
    } = match LiveSetup::new(None, &[policy_flag(args.policy.as_deref())]) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    if args.exempt_days.is_some() && settings.exemptions_uri.is_none() {
        print_error(
            "`--exempt-days` writes to the exemptions file: set `SGGUARD_EXEMPTIONS_URI` (the \
             hub module's `exemptions_enabled`)",
        );
        return EXIT_ERROR;
    }
    runtime.block_on(async {
        let aws = match Aws::from_env(&args.role_name).await {
            Ok(aws) => aws,
            Err(error) => {
                print_error(error);
                return EXIT_ERROR;
            }
        };
        if let (Some(days), Some(uri)) = (args.exempt_days, &settings.exemptions_uri) {
            let current = match aws.object_text(uri).await {
                Ok(fetched) => Some(fetched.text),
                Err(error) if error.code_is("NoSuchKey") => None,
                Err(error) => {
                    print_error(format!("cannot read the exemptions file: {error}"));
                    return EXIT_ERROR;
                }
            };
            let until = jiff::Timestamp::now()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .unwrap_or(jiff::civil::Date::MAX);
            let text = with_exemption(current.as_deref(), &revoked, until, args.reason.as_deref());
            // Validated as the hub will read it: a file that would not load is never written.
            if let Err(error) = baseline.with_exemptions_file(&text, &uri.to_string()) {
                print_error(format!(
                    "the exemption would not validate, nothing written: {error}"
                ));
                return EXIT_ERROR;
            }
            if let Err(error) = aws.put_text(uri, &text).await {
                print_error(error);
                return EXIT_ERROR;
            }
            println!("exemption written to {uri}, until {until}");
        }
        let mut failed = false;
        for rule in &revoked {
            let result = async {
                let ec2 = aws.ec2(&rule.account, &rule.region).await?;
                ec2.authorize(
                    &rule.group,
                    rule.direction,
                    &rule.api_protocol,
                    rule.ports,
                    &rule.peer,
                    rule.description.as_deref(),
                )
                .await
            }
            .await;
            match result {
                Ok(new_id) => println!(
                    "restored {} in {} {} group {} as {}",
                    rule.rule_id,
                    rule.account,
                    rule.region,
                    rule.group,
                    new_id.as_deref().unwrap_or("a new rule")
                ),
                Err(error) => {
                    failed = true;
                    print_error(format!("{} not restored: {error}", rule.rule_id));
                }
            }
        }
        if failed { EXIT_ERROR } else { EXIT_CLEAN }
    })
}

/// The message's JSON document (`-`: standard input).
fn read(path: &str) -> Result<Value, String> {
    let bytes = if path == "-" {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), MAX_MESSAGE_BYTES + 1),
            &mut buffer,
        )
        .map_err(|e| format!("cannot read standard input: {e}"))?;
        buffer
    } else {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{path}`: {e}"))?
            .len();
        if size > MAX_MESSAGE_BYTES {
            return Err(format!("`{path}` is larger than {MAX_MESSAGE_BYTES} bytes"));
        }
        std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?
    };
    serde_json::from_slice(&bytes).map_err(|e| format!("`{path}` is not valid JSON: {e}"))
}

/// The revoked findings to restore: `only` (rule ids) or every revoked one. A rule that was not
/// revoked (audit mode's `would_revoke`, `reported`, …) is refused: there is nothing to put back.
fn select(doc: &Value, path: &str, only: &[String]) -> Result<Vec<Revoked>, String> {
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
fn with_exemption(
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
}
