//! Shared by the fuzz and corpus tests: push one input through every
//! parser entry point, with no expectation but "no panic".

use portolan_targets::{
    parse_list, resolve_ports, split_exclude_list, MapResolver, PortSpec, Protocol, ServiceTable,
    TargetList, TargetOptions,
};
use std::net::IpAddr;

const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

fn resolver() -> MapResolver {
    let a: IpAddr = "198.18.0.9".parse().unwrap();
    let b: IpAddr = "2001:2::9".parse().unwrap();
    MapResolver::new().with("host.test", &[a, b])
}

/// Runs `text` through every target entry point; must not panic.
pub fn exercise_targets(text: &str) {
    let r = resolver();
    for opts in [
        TargetOptions::default(),
        TargetOptions {
            ipv6: true,
            resolve_all: true,
            unique: true,
        },
    ] {
        let one = vec![text.to_string()];
        let many = parse_list(text);
        let excl = split_exclude_list(text);
        for (targets, excludes) in [
            (&one, &vec![]),
            (&many, &excl),
            (&vec!["198.18.0.0/24".to_string()], &excl),
        ] {
            if let Ok((list, _warnings)) = TargetList::build(targets, excludes, &opts, &r) {
                let n = list.len();
                for i in [0, 1, n / 2, n.saturating_sub(1), n, u64::MAX] {
                    let _ = list.get(i);
                }
                // iter() walks the index space, excluded indices too: bound it
                // by size, not by how many targets it yields.
                if n <= 1 << 16 {
                    let _ = list.iter().count();
                }
            }
        }
    }
}

/// Runs `text` through every port entry point; must not panic.
pub fn exercise_ports(text: &str) {
    let table = ServiceTable::builtin();
    let _ = PortSpec::parse(text, table);
    let _ = resolve_ports(Some(text), None, None, &ALL, table);
    let _ = resolve_ports(Some(text), Some(text), Some(10), &ALL, table);
    let _ = resolve_ports(None, Some(text), None, &[Protocol::Tcp], table);
}
