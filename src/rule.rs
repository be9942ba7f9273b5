//! The normalized security-group rule: one group, one direction, one protocol, one port range
//! and exactly one peer, whatever input it was decoded from (CloudTrail, describe output,
//! Terraform plans, the live EC2 API).

mod peer;
mod ports;
mod protocol;

pub use peer::Peer;
pub use ports::{PortRange, PortSet, ports_for};
pub use protocol::{Direction, Protocol, UnknownProtocol};

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
        self.has_same_values(found)
            && (self.group_id.is_none() || self.group_id == found.group_id)
            && self.direction == found.direction
    }

    /// Whether `other` lets the same traffic through: the same protocol, ports and peer (a
    /// prefix list by its id, whatever entries either was read with), whatever its id, group
    /// or direction.
    pub fn has_same_values(&self, other: &SecurityGroupRule) -> bool {
        let peer = match (&self.peer, &other.peer) {
            (Peer::PrefixList { id: a, .. }, Peer::PrefixList { id: b, .. }) => a == b,
            (a, b) => a == b,
        };
        peer && self.protocol == other.protocol && self.ports == other.ports
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
mod tests;
