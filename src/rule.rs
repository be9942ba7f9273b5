//! The normalized security-group rule: one group, one direction, one protocol, one port range
//! and exactly one peer, whatever input it was decoded from (CloudTrail, describe output,
//! Terraform plans, the live EC2 API).

use std::fmt;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use range_set_blaze::RangeSetBlaze;
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

/// An inclusive range of TCP or UDP ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange {
        from: 0,
        to: u16::MAX,
    };

    /// A range from its two ends; `None` when they are reversed.
    pub fn new(from: u16, to: u16) -> Option<Self> {
        (from <= to).then_some(PortRange { from, to })
    }

    pub fn single(port: u16) -> Self {
        PortRange {
            from: port,
            to: port,
        }
    }

    pub fn contains(self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }

    pub fn intersection(self, other: PortRange) -> Option<PortRange> {
        PortRange::new(self.from.max(other.from), self.to.min(other.to))
    }

    pub fn len(self) -> u32 {
        u32::from(self.to) - u32::from(self.from) + 1
    }

    pub fn is_empty(self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// A set of ports (a baseline rule's `ports`, or the complement of its `except_ports`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSet(RangeSetBlaze<u16>);

impl PortSet {
    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> Self {
        PortSet(ranges.into_iter().map(|r| r.from..=r.to).collect())
    }

    /// Every port except these.
    pub fn complement(&self) -> Self {
        PortSet(!&self.0)
    }

    /// The ports as sorted, disjoint, non-adjacent ranges.
    pub fn ranges(&self) -> Vec<PortRange> {
        self.0
            .ranges()
            .map(|r| PortRange {
                from: *r.start(),
                to: *r.end(),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn intersects(&self, range: PortRange) -> bool {
        !self.0.is_disjoint(&Self::of(range))
    }

    pub fn intersection(&self, range: PortRange) -> PortSet {
        PortSet(&self.0 & &Self::of(range))
    }

    fn of(range: PortRange) -> RangeSetBlaze<u16> {
        RangeSetBlaze::from(range.from..=range.to)
    }
}

/// Turns the `fromPort`/`toPort` pair of any AWS input into the rule's port range.
///
/// Only TCP and UDP have ports: for them a missing end or `-1` means every port. For ICMP the
/// pair holds type and code, and for all traffic or other protocols it means nothing.
pub fn ports_for(
    protocol: Protocol,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Option<PortRange>, String> {
    if !protocol.has_ports() {
        return Ok(None);
    }
    let (from, to) = match (from, to) {
        (None, None) | (Some(-1), _) | (_, Some(-1)) => return Ok(Some(PortRange::ALL)),
        (Some(f), None) => (f, f),
        (None, Some(t)) => (t, t),
        (Some(f), Some(t)) => (f, t),
    };
    let port = |n: i64| u16::try_from(n).map_err(|_| format!("port `{n}` is not in 0-65535"));
    let (from, to) = (port(from)?, port(to)?);
    PortRange::new(from, to)
        .map(Some)
        .ok_or_else(|| format!("port range `{from}-{to}` is reversed"))
}

/// The other side of a rule: where traffic may come from (ingress) or go to (egress).
/// Serialized as its `Display` text.
#[derive(Debug, Clone, PartialEq, Eq, serde_with::SerializeDisplay)]
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

/// One security-group rule, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupRule {
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// `None` only where the input names the group some other way (a default-VPC group name).
    pub group_id: Option<String>,
    pub rule_id: Option<String>,
    pub direction: Direction,
    pub protocol: Protocol,
    /// `None` for protocols without ports (all traffic, ICMP, other numbers).
    pub ports: Option<PortRange>,
    pub peer: Peer,
    pub description: Option<String>,
}

impl SecurityGroupRule {
    /// Whether `found` is this rule: the same rule id when both have one; otherwise the same
    /// group (when this rule names one), direction, protocol, ports and peer (a prefix list by
    /// its id, whatever entries either was read with).
    pub fn is_same_rule(&self, found: &SecurityGroupRule) -> bool {
        if let (Some(mine), Some(theirs)) = (&self.rule_id, &found.rule_id) {
            return mine == theirs;
        }
        let peer = match (&self.peer, &found.peer) {
            (Peer::PrefixList { id: a, .. }, Peer::PrefixList { id: b, .. }) => a == b,
            (a, b) => a == b,
        };
        peer && (self.group_id.is_none() || self.group_id == found.group_id)
            && self.direction == found.direction
            && self.protocol == found.protocol
            && self.ports == found.ports
    }

    /// Whether this rule lets `protocol` through on `port` (ignoring the peer).
    pub fn opens(&self, protocol: Protocol, ports: Option<PortRange>) -> bool {
        if self.protocol == Protocol::All {
            return true;
        }
        if self.protocol != protocol {
            return false;
        }
        match (self.ports, ports) {
            (Some(mine), Some(theirs)) => mine.intersection(theirs).is_some(),
            _ => true,
        }
    }
}

/// The fields of EC2's `SecurityGroupRule` as the API, the CLI's describe output and the SDK
/// all carry them; one conversion for every source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiRule<'a> {
    pub rule_id: Option<&'a str>,
    pub group_id: Option<&'a str>,
    pub group_owner_id: Option<&'a str>,
    pub is_egress: bool,
    pub ip_protocol: &'a str,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ipv4: Option<&'a str>,
    pub cidr_ipv6: Option<&'a str>,
    pub prefix_list_id: Option<&'a str>,
    /// Referenced group id and its owner.
    pub referenced_group: Option<(&'a str, Option<&'a str>)>,
    pub description: Option<&'a str>,
}

/// Which field of an [`ApiRule`] is wrong (`IpProtocol`, `FromPort`, `CidrIpv4`, `CidrIpv6`, or
/// none for a rule without a peer), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRuleError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl SecurityGroupRule {
    /// Converts EC2's rule shape; `region` is the caller's (the shape does not carry it).
    pub fn from_api(api: ApiRule<'_>, region: Option<&str>) -> Result<Self, ApiRuleError> {
        let error = |field, message| ApiRuleError {
            field: Some(field),
            message,
        };
        let protocol: Protocol = api
            .ip_protocol
            .parse()
            .map_err(|e: UnknownProtocol| error("IpProtocol", e.to_string()))?;
        let ports =
            ports_for(protocol, api.from_port, api.to_port).map_err(|m| error("FromPort", m))?;
        let peer = if let Some(cidr) = api.cidr_ipv4 {
            Peer::cidr(cidr).map_err(|m| error("CidrIpv4", m))?
        } else if let Some(cidr) = api.cidr_ipv6 {
            Peer::cidr(cidr).map_err(|m| error("CidrIpv6", m))?
        } else if let Some(id) = api.prefix_list_id {
            Peer::PrefixList {
                id: id.to_owned(),
                entries: None,
            }
        } else if let Some((id, owner)) = api.referenced_group {
            Peer::Group {
                id: id.to_owned(),
                owner: owner.map(str::to_owned),
            }
        } else {
            return Err(ApiRuleError {
                field: None,
                message: "the rule names no peer".to_owned(),
            });
        };
        Ok(SecurityGroupRule {
            account_id: api.group_owner_id.map(str::to_owned),
            region: region.map(str::to_owned),
            group_id: api.group_id.map(str::to_owned),
            rule_id: api.rule_id.map(str::to_owned),
            direction: if api.is_egress {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            protocol,
            ports,
            peer,
            description: api.description.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_by_name_and_number_normalize_alike() {
        for (text, expected) in [
            ("-1", Protocol::All),
            ("all", Protocol::All),
            ("tcp", Protocol::Tcp),
            ("6", Protocol::Tcp),
            ("TCP", Protocol::Tcp),
            ("udp", Protocol::Udp),
            ("17", Protocol::Udp),
            ("icmp", Protocol::Icmp),
            ("1", Protocol::Icmp),
            ("icmpv6", Protocol::Icmpv6),
            ("58", Protocol::Icmpv6),
            ("47", Protocol::Other(47)),
        ] {
            assert_eq!(text.parse::<Protocol>(), Ok(expected), "{text}");
        }
        assert!("gre".parse::<Protocol>().is_err());
        assert!("256".parse::<Protocol>().is_err());
    }

    #[test]
    fn missing_or_minus_one_ports_mean_all_ports_for_tcp_and_udp() {
        assert_eq!(
            ports_for(Protocol::Tcp, None, None),
            Ok(Some(PortRange::ALL))
        );
        assert_eq!(
            ports_for(Protocol::Udp, Some(-1), Some(-1)),
            Ok(Some(PortRange::ALL))
        );
        assert_eq!(
            ports_for(Protocol::Tcp, Some(22), Some(22)),
            Ok(Some(PortRange::single(22)))
        );
        assert!(ports_for(Protocol::Tcp, Some(80), Some(22)).is_err());
        assert!(ports_for(Protocol::Tcp, Some(70000), Some(70000)).is_err());
    }

    #[test]
    fn icmp_type_and_code_are_not_ports() {
        assert_eq!(ports_for(Protocol::Icmp, Some(8), Some(0)), Ok(None));
        assert_eq!(ports_for(Protocol::All, Some(0), Some(65535)), Ok(None));
        assert_eq!(ports_for(Protocol::Other(47), Some(1), Some(2)), Ok(None));
    }

    #[test]
    fn bare_addresses_are_host_cidrs() {
        assert_eq!(Peer::cidr("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(Peer::cidr("::/0").unwrap().to_string(), "::/0");
        assert!(Peer::cidr("sg-123").is_err());
    }

    #[test]
    fn port_sets_merge_complement_and_intersect() {
        let range = |from, to| PortRange::new(from, to).unwrap();
        let set =
            PortSet::from_ranges([range(80, 80), range(22, 22), range(81, 90), range(85, 86)]);
        assert_eq!(set.ranges(), [range(22, 22), range(80, 90)]);
        assert_eq!(
            set.complement().ranges(),
            [range(0, 21), range(23, 79), range(91, u16::MAX)]
        );
        assert!(
            PortSet::from_ranges([PortRange::ALL])
                .complement()
                .is_empty()
        );
        assert!(set.intersects(range(0, 22)));
        assert!(!set.intersects(range(23, 79)));
        assert_eq!(set.intersection(range(85, 100)).ranges(), [range(85, 90)]);
        assert!(set.intersection(range(1000, 2000)).is_empty());
    }

    #[test]
    fn the_same_rule_by_id_or_by_what_it_opens() {
        let rule = SecurityGroupRule {
            account_id: None,
            region: None,
            group_id: None,
            rule_id: None,
            direction: Direction::Ingress,
            protocol: Protocol::Tcp,
            ports: Some(PortRange::single(22)),
            peer: Peer::PrefixList {
                id: "pl-1".to_owned(),
                entries: None,
            },
            description: None,
        };
        let found = SecurityGroupRule {
            group_id: Some("sg-1".to_owned()),
            rule_id: Some("sgr-1".to_owned()),
            peer: Peer::PrefixList {
                id: "pl-1".to_owned(),
                entries: Some(Vec::new()),
            },
            ..rule.clone()
        };
        // No rule id on one side: the group (when named), direction, protocol, ports and the
        // prefix list's id decide.
        assert!(rule.is_same_rule(&found));
        let other_ports = SecurityGroupRule {
            ports: Some(PortRange::single(23)),
            ..found.clone()
        };
        assert!(!rule.is_same_rule(&other_ports));
        let other_group = SecurityGroupRule {
            group_id: Some("sg-2".to_owned()),
            ..rule.clone()
        };
        assert!(!other_group.is_same_rule(&found));
        // Rule ids on both sides: they alone decide.
        let named = SecurityGroupRule {
            rule_id: Some("sgr-2".to_owned()),
            ..found.clone()
        };
        assert!(!named.is_same_rule(&found));
    }

    #[test]
    fn directions_and_protocols_read_and_write_the_same_text() {
        for direction in [Direction::Ingress, Direction::Egress] {
            let text = direction.to_string();
            assert_eq!(text, direction.as_str());
            assert_eq!(text.parse::<Direction>(), Ok(direction));
            assert_eq!(serde_json::to_value(direction).unwrap(), text.as_str());
        }
        for protocol in [
            Protocol::All,
            Protocol::Tcp,
            Protocol::Icmpv6,
            Protocol::Other(47),
        ] {
            let json = serde_json::to_value(protocol).unwrap();
            assert_eq!(json, protocol.to_string().as_str());
            assert_eq!(serde_json::from_value::<Protocol>(json).unwrap(), protocol);
        }
    }
}
