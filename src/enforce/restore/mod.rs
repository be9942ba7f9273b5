//! Restore: the rules a message says sgguard revoked, put back only when the hub's revocation
//! journal shows sgguard revoked exactly them (`provenance.rs`), each in its account and region
//! through the hub's [`HubApi`]; then the time-limited exemption that keeps them
//! (`exemption.rs`). The message is read strictly (`message.rs`); the CLI's `restore` wires it
//! to AWS and the operator's role.

mod exemption;
mod message;
mod provenance;

pub use exemption::{ExemptionsObject, with_exemption, write_exemption};
pub use message::select;
pub use provenance::{Refusal, verify};

use super::HubApi;
use super::hub::SecurityGroups;
use crate::aws::{Authorize, AwsError};
use crate::ids::AccountId;
use crate::rule::SecurityGroupRule;

/// One revoked rule: read from a message, then (with the journal) as sgguard journaled it.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub account: AccountId,
    /// The rule with its account, region, group and rule id.
    pub rule: SecurityGroupRule,
    /// The baseline rules it broke.
    pub policy_rules: Vec<String>,
    /// How the journal tells sgguard's revocation (`revoked by sgguard at …`), once verified.
    pub journaled: Option<String>,
}

impl Revoked {
    pub fn region(&self) -> &str {
        self.rule.region.as_deref().unwrap_or_default()
    }

    pub fn group(&self) -> &str {
        self.rule.group_id.as_deref().unwrap_or_default()
    }

    pub fn rule_id(&self) -> &str {
        self.rule.rule_id.as_deref().unwrap_or_default()
    }
}

/// Puts each rule back in its account and region; per rule, the new rule's id or the error.
/// One failure does not stop the others.
pub async fn put_back<'r, H: HubApi>(
    hub: &H,
    rules: &'r [Revoked],
) -> Vec<(&'r Revoked, Result<Option<String>, AwsError>)> {
    let mut out = Vec::with_capacity(rules.len());
    for revoked in rules {
        let rule = &revoked.rule;
        let (protocol, peer) = (rule.protocol.api_name(), rule.peer.to_string());
        let result = async {
            let groups = hub
                .security_groups(revoked.account.as_str(), revoked.region())
                .await?;
            groups
                .authorize(&Authorize {
                    group_id: revoked.group(),
                    direction: rule.direction,
                    protocol: &protocol,
                    ports: rule.ports.map(|p| (p.from, p.to)),
                    peer: &peer,
                    description: rule.description.as_deref(),
                })
                .await
        }
        .await;
        out.push((revoked, result));
    }
    out
}

#[cfg(test)]
mod tests;
