//! Baseline examples: a one-line notation for a group's rules, used by `examples`,
//! `negative_examples` and `sgguard policy explain`.
//!
//! ```text
//! tcp 22 from 0.0.0.0/0
//! egress udp 53 to ::/0
//! all from 0.0.0.0/1 + 128.0.0.0/1          (two rules, one per peer)
//! all from 0.0.0.0/1; tcp 22 from 128.0.0.0/1   (two rules of one group)
//! tcp 443 from pl-0abc=0.0.0.0/0,10.0.0.0/8  (a prefix list with its entries)
//! tcp 5432 from sg-0123                      (a referenced group)
//! ```

use std::fmt;

use ipnet::IpNet;

use crate::rule::{Direction, Peer, PortRange, Protocol, SecurityGroupRule};

/// The group id examples are evaluated as.
pub const EXAMPLE_GROUP: &str = "sg-example";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    pub rules: Vec<SecurityGroupRule>,
}

impl fmt::Display for Example {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Example {
    pub fn parse(text: &str) -> Result<Example, String> {
        let mut rules = Vec::new();
        for part in text.split(';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            parse_rules(part, rules.len(), &mut rules)?;
        }
        if rules.is_empty() {
            return Err(match text.trim() {
                "" => "the example is empty: it holds no rule".to_owned(),
                text => format!("`{text}` holds no rule"),
            });
        }
        Ok(Example {
            text: text.trim().to_owned(),
            rules,
        })
    }
}

fn parse_rules(
    text: &str,
    first_index: usize,
    out: &mut Vec<SecurityGroupRule>,
) -> Result<(), String> {
    let usage = || {
        format!("`{text}` is not an example like `tcp 22 from 0.0.0.0/0` or `egress all to ::/0`")
    };
    let mut words = text.split_whitespace().peekable();
    let direction = match words.peek().copied() {
        Some("ingress") => {
            words.next();
            Direction::Ingress
        }
        Some("egress") => {
            words.next();
            Direction::Egress
        }
        _ => Direction::Ingress,
    };
    let protocol: Protocol = words
        .next()
        .ok_or_else(usage)?
        .parse()
        .map_err(|e| format!("{e} in `{text}`"))?;
    let mut next = words.next().ok_or_else(usage)?;
    let mut ports = None;
    if next != "from" && next != "to" {
        let range = parse_ports(next)
            .ok_or_else(|| format!("`{next}` is not a port or range in `{text}`"))?;
        if !protocol.has_ports() {
            return Err(format!("{protocol} has no ports in `{text}`"));
        }
        ports = Some(range);
        next = words.next().ok_or_else(usage)?;
    } else if protocol.has_ports() {
        ports = Some(PortRange::ALL);
    }
    if next != "from" && next != "to" {
        return Err(usage());
    }
    let peers: Vec<&str> = words.filter(|w| *w != "+").collect();
    if peers.is_empty() {
        return Err(usage());
    }
    for (offset, peer_text) in peers.iter().enumerate() {
        let peer = parse_peer(peer_text).map_err(|e| format!("{e} in `{text}`"))?;
        out.push(SecurityGroupRule {
            account_id: None,
            region: None,
            group_id: Some(EXAMPLE_GROUP.to_owned()),
            rule_id: Some(format!("sgr-example{}", first_index + offset + 1)),
            direction,
            protocol,
            ports,
            peer,
            description: None,
        });
    }
    Ok(())
}

fn parse_ports(text: &str) -> Option<PortRange> {
    match text.split_once('-') {
        Some((from, to)) => PortRange::new(from.parse().ok()?, to.parse().ok()?),
        None => text.parse().ok().map(PortRange::single),
    }
}

fn parse_peer(text: &str) -> Result<Peer, String> {
    if text.starts_with("sg-") {
        return Ok(Peer::Group {
            id: text.to_owned(),
            owner: None,
        });
    }
    if text.starts_with("pl-") {
        let (id, entries) = match text.split_once('=') {
            Some((id, list)) => {
                let entries = list
                    .split(',')
                    .map(|cidr| {
                        cidr.parse::<IpNet>()
                            .map_err(|_| format!("`{cidr}` is not a CIDR"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                (id, Some(entries))
            }
            None => (text, None),
        };
        return Ok(Peer::PrefixList {
            id: id.to_owned(),
            entries,
        });
    }
    Peer::cidr(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_parse_into_group_rules() {
        let example = Example::parse("all from 0.0.0.0/1 + 128.0.0.0/1; tcp 22 from ::/0").unwrap();
        assert_eq!(example.rules.len(), 3);
        assert_eq!(example.rules[0].protocol, Protocol::All);
        assert_eq!(example.rules[0].ports, None);
        assert_eq!(example.rules[2].ports, Some(PortRange::single(22)));
        assert_eq!(example.rules[2].rule_id.as_deref(), Some("sgr-example3"));

        let egress = Example::parse("egress udp to 0.0.0.0/0").unwrap();
        assert_eq!(egress.rules[0].direction, Direction::Egress);
        assert_eq!(egress.rules[0].ports, Some(PortRange::ALL));

        let pl = Example::parse("tcp 443 from pl-1=0.0.0.0/0,10.0.0.0/8").unwrap();
        assert!(
            matches!(&pl.rules[0].peer, Peer::PrefixList { entries: Some(e), .. } if e.len() == 2)
        );
    }

    #[test]
    fn bad_examples_say_what_is_wrong() {
        let usage = |text: &str| {
            format!(
                "`{text}` is not an example like `tcp 22 from 0.0.0.0/0` or `egress all to ::/0`"
            )
        };
        for (bad, message) in [
            ("", "the example is empty: it holds no rule".to_owned()),
            (" ; ", "`;` holds no rule".to_owned()),
            ("tcp", usage("tcp")),
            ("tcp 22", usage("tcp 22")),
            ("tcp 22 from", usage("tcp 22 from")),
            ("tcp 22 at 0.0.0.0/0", usage("tcp 22 at 0.0.0.0/0")),
            (
                "gre 22 from 0.0.0.0/0",
                "unknown protocol `gre`: expected all, -1, tcp, udp, icmp, icmpv6 or a number \
                 0-255 in `gre 22 from 0.0.0.0/0`"
                    .to_owned(),
            ),
            (
                "tcp 80-22 from 0.0.0.0/0",
                "`80-22` is not a port or range in `tcp 80-22 from 0.0.0.0/0`".to_owned(),
            ),
            (
                "icmp 8 from 0.0.0.0/0",
                "icmp has no ports in `icmp 8 from 0.0.0.0/0`".to_owned(),
            ),
            (
                "tcp 22 from banana",
                "`banana` is not an IPv4 or IPv6 CIDR in `tcp 22 from banana`".to_owned(),
            ),
            (
                "tcp 443 from pl-1=10.0.0.0/8,x",
                "`x` is not a CIDR in `tcp 443 from pl-1=10.0.0.0/8,x`".to_owned(),
            ),
            // The part of a longer example that is wrong is the one named.
            (
                "tcp 22 from ::/0; udp from 0.0.0.0/0 + banana",
                "`banana` is not an IPv4 or IPv6 CIDR in `udp from 0.0.0.0/0 + banana`".to_owned(),
            ),
        ] {
            assert_eq!(Example::parse(bad), Err(message), "{bad}");
        }
    }
}
