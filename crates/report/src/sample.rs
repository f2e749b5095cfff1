//! Synthetic scans for tests and the benchmark: many hosts with a
//! realistic mix of states and services, made without a network.

use portolan_model::{
    HostResult, HostStatus, PortResult, PortState, Protocol, Reason, RunStats, ScanDocument,
    ScanInfo, ScanType, ScanTypeInfo, ServiceInfo,
};
use std::net::{IpAddr, Ipv4Addr};

const SERVICES: [(u16, &str, &str, &str); 10] = [
    (22, "ssh", "OpenSSH", "9.2p1 Debian 2+deb12u3"),
    (80, "http", "nginx", "1.22.1"),
    (443, "https", "nginx", "1.22.1"),
    (21, "ftp", "vsftpd", "3.0.3"),
    (25, "smtp", "Postfix smtpd", ""),
    (3306, "mysql", "MariaDB", "10.11.6"),
    (5432, "postgresql", "PostgreSQL DB", "15.8"),
    (6379, "redis", "Redis key-value store", "7.0.15"),
    (8080, "http-proxy", "Apache Tomcat", "10.1.6"),
    (11211, "memcache", "Memcached", "1.6.18"),
];

/// A scan of `hosts` hosts (198.18.0.0/15 addresses), each scanned on
/// ports 1..=`ports` (TCP): `open` of them open with services and
/// versions, a few filtered, the rest closed.
pub fn scan(hosts: u32, ports: u16, open: u16) -> ScanDocument {
    let info = ScanInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        args: format!("portolan -sS -sV -p1-{ports} --seed 42 198.18.0.0/15"),
        start_time: 1_790_000_000,
        scans: vec![ScanTypeInfo {
            scan_type: ScanType::Syn,
            protocol: Protocol::Tcp,
            num_services: u32::from(ports),
            services: format!("1-{ports}"),
        }],
        verbose: 0,
        debugging: 0,
    };
    let mut doc = ScanDocument::new(info);
    for h in 0..hosts {
        let addr = IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 1)) + h));
        let mut host = HostResult::new(addr, HostStatus::Up, Reason::EchoReply);
        host.reason_ttl = 64;
        let open_set: Vec<u16> = (0..open)
            .map(|i| 1 + ((u32::from(i) * 97 + h * 13) % u32::from(ports)) as u16)
            .collect();
        for port in 1..=ports {
            let (state, reason, ttl) = if open_set.contains(&port) {
                (PortState::Open, Reason::SynAck, 64)
            } else if port % 199 == 0 {
                (PortState::Filtered, Reason::NoResponse, 0)
            } else {
                (PortState::Closed, Reason::Reset, 64)
            };
            let service = (state == PortState::Open).then(|| {
                let (_, name, product, version) = SERVICES[usize::from(port) % SERVICES.len()];
                let mut s = ServiceInfo::from_table(name);
                s.product = Some(product.into());
                s.version = (!version.is_empty()).then(|| version.into());
                Box::new(s)
            });
            host.ports.push(PortResult {
                port,
                protocol: Protocol::Tcp,
                state,
                reason,
                reason_ttl: ttl,
                service,
            });
        }
        doc.hosts.push(host);
    }
    doc.stats = Some(RunStats {
        end_time: 1_790_000_600,
        elapsed: 600.0,
        hosts_up: u64::from(hosts),
        hosts_down: 0,
        interrupted: false,
        hosts_incomplete: 0,
        error: None,
    });
    doc
}
