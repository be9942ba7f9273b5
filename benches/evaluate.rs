//! Evaluation throughput over a synthetic organization of 100,000 rules: mixed protocols,
//! public and private IPv4 and IPv6 CIDRs, split ranges, prefix lists and group references,
//! in groups of 10. Run with `cargo bench --bench evaluate`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use sgguard::policy::{Baseline, Evaluator};
use sgguard::rule::{Direction, Peer, PortRange, Protocol, SecurityGroupRule};

const RULES: usize = 100_000;
const GROUP_SIZE: usize = 10;

/// A small deterministic generator, so every run measures the same organization.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let index = usize::try_from(self.next()).unwrap_or(0) % items.len();
        items.get(index).copied().unwrap_or_else(|| unreachable!())
    }
}

fn synthetic_organization() -> Vec<SecurityGroupRule> {
    let mut rng = Lcg(42);
    let ports = [22u16, 80, 443, 3306, 5432, 8080, 3389, 6379, 9000, 27017];
    let mut rules = Vec::with_capacity(RULES);
    for i in 0..RULES {
        let group = i / GROUP_SIZE;
        let protocol = rng.pick(&[
            Protocol::Tcp,
            Protocol::Tcp,
            Protocol::Tcp,
            Protocol::Udp,
            Protocol::All,
            Protocol::Icmp,
        ]);
        let ports = protocol.has_ports().then(|| {
            if rng.next() % 10 == 0 {
                PortRange {
                    from: 1000,
                    to: 2000,
                }
            } else {
                PortRange::single(rng.pick(&ports))
            }
        });
        let peer = match rng.next() % 10 {
            0 => Peer::Ipv4("0.0.0.0/0".parse().unwrap_or_else(|_| unreachable!())),
            1 => Peer::Ipv6("::/0".parse().unwrap_or_else(|_| unreachable!())),
            // Split halves of a public /8: each half alone is below the threshold.
            2 => {
                let half = u32::try_from(i % 2).unwrap_or(0) << 23;
                Peer::Ipv4(
                    Ipv4Net::new(std::net::Ipv4Addr::from(0x0B00_0000 | half), 9)
                        .unwrap_or_else(|_| unreachable!()),
                )
            }
            3 => Peer::Ipv6(
                Ipv6Net::new(
                    std::net::Ipv6Addr::from(0x2600_u128 << 112 | u128::from(rng.next()) << 64),
                    48,
                )
                .unwrap_or_else(|_| unreachable!())
                .trunc(),
            ),
            4 => Peer::Group {
                id: format!("sg-{:017x}", rng.next()),
                owner: None,
            },
            5 => Peer::PrefixList {
                id: "pl-0123456789abcdef0".to_owned(),
                entries: Some(vec![IpNet::V4(
                    "52.94.0.0/22".parse().unwrap_or_else(|_| unreachable!()),
                )]),
            },
            _ => {
                let addr = std::net::Ipv4Addr::from(u32::try_from(rng.next()).unwrap_or(0));
                let len = u8::try_from(16 + rng.next() % 17).unwrap_or(32);
                Peer::Ipv4(
                    Ipv4Net::new(addr, len)
                        .unwrap_or_else(|_| unreachable!())
                        .trunc(),
                )
            }
        };
        rules.push(SecurityGroupRule {
            account_id: Some(format!("{:012}", 100_000_000_000 + group / 100)),
            region: Some("eu-west-1".to_owned()),
            group_id: Some(format!("sg-{group:017x}")),
            rule_id: Some(format!("sgr-{i:017x}")),
            direction: if rng.next() % 5 == 0 {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            protocol,
            ports,
            peer,
            description: None,
        });
    }
    rules
}

fn evaluate(c: &mut Criterion) {
    let baseline = Baseline::default_baseline().unwrap_or_else(|_| unreachable!());
    let evaluator = Evaluator::new(&baseline, Evaluator::today_utc());
    let rules = synthetic_organization();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(RULES as u64));
    group.sample_size(20);
    group.bench_function("100k_rules_default_baseline", |b| {
        b.iter(|| evaluator.evaluate_rules(std::hint::black_box(&rules), |_| None))
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
