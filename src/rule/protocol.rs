//! What a rule lets through: its direction and its IP protocol, each read and written as one
//! text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which way the traffic a rule allows flows. Its text (`ingress`, `egress`) is derived once:
/// `Display`, `FromStr`, `as_str` (strum) and serde all use the same lowercase names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An IP protocol as security groups know it: `-1` (all), a named one, or any other number.
/// Its text is `Display` and `FromStr` below; serde uses them (`SerializeDisplay`,
/// `DeserializeFromStr`), so there is one conversion each way.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde_with::SerializeDisplay,
    serde_with::DeserializeFromStr,
)]
pub enum Protocol {
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol `{0}`: expected all, -1, tcp, udp, icmp, icmpv6 or a number 0-255")]
pub struct UnknownProtocol(pub String);

impl Protocol {
    pub fn from_number(number: u8) -> Self {
        match number {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            1 => Protocol::Icmp,
            58 => Protocol::Icmpv6,
            other => Protocol::Other(other),
        }
    }

    /// Whether the protocol has ports (only TCP and UDP do; ICMP has type and code).
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }

    /// The name used in findings: `all`, `tcp`, `udp`, `icmp`, `icmpv6` or the number.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self {
            Protocol::All => "all".into(),
            Protocol::Tcp => "tcp".into(),
            Protocol::Udp => "udp".into(),
            Protocol::Icmp => "icmp".into(),
            Protocol::Icmpv6 => "icmpv6".into(),
            Protocol::Other(n) => n.to_string().into(),
        }
    }
}

impl Protocol {
    /// The name EC2's `IpProtocol` takes: `-1` for all traffic, else as [`Protocol::name`].
    pub fn api_name(self) -> std::borrow::Cow<'static, str> {
        match self {
            Protocol::All => "-1".into(),
            other => other.name(),
        }
    }
}

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        match trimmed.to_ascii_lowercase().as_str() {
            "-1" | "all" | "any" => Ok(Protocol::All),
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "icmp" => Ok(Protocol::Icmp),
            "icmpv6" | "icmp6" | "ipv6-icmp" => Ok(Protocol::Icmpv6),
            other => other
                .parse::<u8>()
                .map(Protocol::from_number)
                .map_err(|_| UnknownProtocol(trimmed.to_owned())),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}
