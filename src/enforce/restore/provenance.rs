//! Whether sgguard made the revocation a message names: the hub state's revocation journal
//! must hold the same rule id, revoked by sgguard in the same account, region and group, and
//! the same rule (direction, protocol, ports, peer). The rule put back and the baseline rules
//! its exemption names are then the journal's, never the message's.

use super::Revoked;
use crate::aws::AwsError;
use crate::enforce::journal::{Journal, Revocation};

/// Why a rule is not restored: the journal does not show sgguard revoked it as the message
/// says, or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "rule `{rule}`: the hub's revocation journal has no revocation of it (sgguard keeps \
         each for 90 days); a message sgguard did not write, or an older one, restores nothing"
    )]
    NotJournaled { rule: String },
    #[error(
        "rule `{rule}`: the message says {field} `{message}`, the journal of sgguard's \
         revocation says `{journal}`: the message was altered or is not sgguard's"
    )]
    Differs {
        rule: String,
        field: &'static str,
        message: String,
        journal: String,
    },
    #[error("rule `{rule}`: the hub's revocation journal cannot be read: {error}")]
    Unreadable { rule: String, error: Box<AwsError> },
}

/// Each rule as the journal holds it, or the first refusal: nothing is restored unless every
/// rule asked for is sgguard's revocation.
pub async fn verify(journal: &Journal, revoked: Vec<Revoked>) -> Result<Vec<Revoked>, Refusal> {
    let mut out = Vec::with_capacity(revoked.len());
    for said in revoked {
        let rule = said.rule_id().to_owned();
        let kept = journal
            .lookup(&rule)
            .await
            .map_err(|error| Refusal::Unreadable {
                rule: rule.clone(),
                error: Box::new(error),
            })?
            .ok_or_else(|| Refusal::NotJournaled { rule: rule.clone() })?;
        same(&said, &kept)?;
        out.push(Revoked {
            account: said.account,
            rule: kept.rule.clone(),
            policy_rules: kept.policy_rules.clone(),
            journaled: Some(kept.told()),
        });
    }
    Ok(out)
}

/// The message's rule against the journal's: the first field that differs.
fn same(said: &Revoked, kept: &Revocation) -> Result<(), Refusal> {
    let (m, j) = (&said.rule, &kept.rule);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let fields: [(&'static str, String, String); 7] = [
        ("account", said.account.to_string(), text(&j.account_id)),
        ("region", text(&m.region), text(&j.region)),
        ("group", text(&m.group_id), text(&j.group_id)),
        (
            "direction",
            m.direction.to_string(),
            j.direction.to_string(),
        ),
        (
            "protocol",
            m.protocol.api_name().into_owned(),
            j.protocol.api_name().into_owned(),
        ),
        (
            "ports",
            format!("{:?}", m.ports.map(|p| (p.from, p.to))),
            format!("{:?}", j.ports.map(|p| (p.from, p.to))),
        ),
        ("peer", m.peer.to_string(), j.peer.to_string()),
    ];
    for (field, message, journal) in fields {
        if message != journal {
            return Err(Refusal::Differs {
                rule: said.rule_id().to_owned(),
                field,
                message,
                journal,
            });
        }
    }
    Ok(())
}
