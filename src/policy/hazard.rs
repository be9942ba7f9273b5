//! Revocations that break every VPC. Every new security group starts with an egress rule for all
//! traffic to the internet, and every VPC's default group lets its members reach each other; a
//! baseline whose rules would revoke those would cut off instances across the organization. Such
//! a baseline is refused at load unless it says it means it (`acknowledge:`); `default_group.rs`
//! finds which rules would.

use serde::Deserialize;

/// A revocation that breaks every VPC; its name is the `acknowledge:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Hazard {
    /// The egress rule for all traffic to `0.0.0.0/0` and `::/0` every new group has.
    RevokesDefaultEgress,
    /// The default group's ingress rule for all traffic from the group itself.
    RevokesDefaultGroup,
}

impl Hazard {
    /// What is revoked, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Hazard::RevokesDefaultEgress => {
                "the egress rule every new security group has (all traffic to 0.0.0.0/0 or ::/0)"
            }
            Hazard::RevokesDefaultGroup => {
                "the rule of every VPC's default group that lets its members reach each other \
                 (all traffic from the group itself)"
            }
        }
    }
}
