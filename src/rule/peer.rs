//! The other side of a rule: an IPv4 or IPv6 range, a managed prefix list, or another
//! security group.

use std::fmt;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The other side of a rule: where traffic may come from (ingress) or go to (egress).
/// Serialized as its `Display` text.
#[derive(
    Debug, Clone, PartialEq, Eq, serde_with::SerializeDisplay, serde_with::DeserializeFromStr,
)]
pub enum Peer {
    Ipv4(Ipv4Net),
    Ipv6(Ipv6Net),
    /// A managed prefix list; `entries` when the input (or the live API) told them.
    PrefixList {
        id: String,
        entries: Option<Vec<IpNet>>,
    },
    /// Another security group, possibly in another account; never the internet.
    Group {
        id: String,
        owner: Option<String>,
    },
}

impl Peer {
    /// Parses an IPv4 or IPv6 CIDR as AWS inputs carry them; a bare address is a /32 or /128.
    pub fn cidr(text: &str) -> Result<Peer, String> {
        let text = text.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Peer::from(net));
        }
        if let Ok(addr) = text.parse::<std::net::IpAddr>() {
            return Ok(Peer::from(IpNet::from(addr)));
        }
        Err(format!("`{text}` is not an IPv4 or IPv6 CIDR"))
    }

    pub fn ip_net(&self) -> Option<IpNet> {
        match self {
            Peer::Ipv4(net) => Some(IpNet::V4(*net)),
            Peer::Ipv6(net) => Some(IpNet::V6(*net)),
            _ => None,
        }
    }
}

impl From<IpNet> for Peer {
    fn from(net: IpNet) -> Self {
        match net {
            IpNet::V4(v4) => Peer::Ipv4(v4),
            IpNet::V6(v6) => Peer::Ipv6(v6),
        }
    }
}

/// The text `Display` writes, read back: a CIDR, a prefix list id (`pl-…`, its entries
/// unknown) or a group id (`sg-…`, its owner unknown).
impl std::str::FromStr for Peer {
    type Err = String;

    fn from_str(text: &str) -> Result<Peer, String> {
        if text.starts_with("pl-") {
            return Ok(Peer::PrefixList {
                id: text.to_owned(),
                entries: None,
            });
        }
        if text.starts_with("sg-") {
            return Ok(Peer::Group {
                id: text.to_owned(),
                owner: None,
            });
        }
        Peer::cidr(text).map_err(|_| {
            format!("`{text}` is not a CIDR, a prefix list id (`pl-…`) or a group id (`sg-…`)")
        })
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Ipv4(net) => write!(f, "{net}"),
            Peer::Ipv6(net) => write!(f, "{net}"),
            Peer::PrefixList { id, .. } => f.write_str(id),
            Peer::Group { id, .. } => f.write_str(id),
        }
    }
}
