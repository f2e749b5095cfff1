//! Hand-built scans shared by the format tests.

use crate::{OutputFormat, OutputOptions};
use portolan_model::{
    HostResult, HostStatus, Hostname, HostnameKind, MacAddress, PortResult, PortState, Protocol,
    Reason, RunStats, ScanInfo, ScanType, ScanTypeInfo, ServiceInfo, ServiceMethod,
};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A format's constructor, as the crate exports them.
pub type Make = fn(Box<dyn Write + Send>, OutputOptions) -> Box<dyn OutputFormat>;

/// Feeds a whole scan to the format `make` builds and returns what it
/// wrote; with `stats` None the run is left unfinished.
pub fn render(
    make: Make,
    opts: OutputOptions,
    info: &ScanInfo,
    hosts: &[HostResult],
    stats: Option<&RunStats>,
) -> String {
    let buf = SharedBuf::default();
    let mut out = make(Box::new(buf.clone()), opts);
    out.begin(info).unwrap();
    for h in hosts {
        out.host(h).unwrap();
    }
    if let Some(st) = stats {
        out.end(st).unwrap();
    }
    buf.text()
}

/// Validates every JSON line against docs/portolan-output.schema.json
/// with a JSON-Schema validator (draft 2020-12, formats checked).
pub fn check_schema(lines: &[serde_json::Value]) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/portolan-output.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    for (i, l) in lines.iter().enumerate() {
        let errors: Vec<String> = validator
            .iter_errors(l)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "line {}: {errors:?}\n{l}", i + 1);
    }
}

/// 2026-11-22 10:15:00 UTC.
pub const T0: u64 = 1_795_342_500;

/// A writer whose bytes the test can read back after handing it away.
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub fn scan_info() -> ScanInfo {
    ScanInfo {
        version: "0.1.0".into(),
        args: "portolan -sT -p 1-1000 localhost".into(),
        start_time: T0,
        scans: vec![ScanTypeInfo {
            scan_type: ScanType::Connect,
            protocol: Protocol::Tcp,
            num_services: 1000,
            services: "1-1000".into(),
        }],
        verbose: 0,
        debugging: 0,
    }
}

pub fn mixed_scan_info() -> ScanInfo {
    ScanInfo {
        version: "0.1.0".into(),
        args: "portolan -sS -sU -p T:1-100,U:53,161 198.18.0.1".into(),
        start_time: T0,
        scans: vec![
            ScanTypeInfo {
                scan_type: ScanType::Syn,
                protocol: Protocol::Tcp,
                num_services: 100,
                services: "1-100".into(),
            },
            ScanTypeInfo {
                scan_type: ScanType::Udp,
                protocol: Protocol::Udp,
                num_services: 2,
                services: "53,161".into(),
            },
        ],
        verbose: 0,
        debugging: 0,
    }
}

pub fn stats(interrupted: bool) -> RunStats {
    RunStats {
        end_time: T0,
        elapsed: 0.05,
        hosts_up: 1,
        hosts_down: 0,
        interrupted,
        hosts_incomplete: 0,
        error: None,
    }
}

pub fn port(
    port: u16,
    protocol: Protocol,
    state: PortState,
    reason: Reason,
    ttl: u8,
) -> PortResult {
    PortResult {
        port,
        protocol,
        state,
        reason,
        reason_ttl: ttl,
        service: None,
    }
}

pub fn with_service(mut p: PortResult, name: &str) -> PortResult {
    p.service = Some(Box::new(ServiceInfo::from_table(name)));
    p
}

fn up(addr: &str, reason: Reason) -> HostResult {
    let mut h = HostResult::new(addr.parse().unwrap(), HostStatus::Up, reason);
    h.start_time = T0;
    h.end_time = T0;
    h
}

/// localhost: 22/tcp open ssh, 999 other ports closed (conn-refused).
pub fn one_open_999_closed() -> HostResult {
    let mut h = up("127.0.0.1", Reason::ConnRefused);
    h.hostnames.push(Hostname {
        name: "localhost".into(),
        kind: HostnameKind::User,
    });
    h.latency = Some(Duration::from_micros(84));
    for p in 1..=1000u16 {
        let r = if p == 22 {
            with_service(
                port(p, Protocol::Tcp, PortState::Open, Reason::SynAck, 0),
                "ssh",
            )
        } else {
            port(p, Protocol::Tcp, PortState::Closed, Reason::ConnRefused, 0)
        };
        h.ports.push(r);
    }
    h
}

/// 198.18.0.1 after a SYN + UDP scan: 100 TCP ports (22 and 80 open, 3
/// filtered, the rest reset), UDP 53 open and 161 open|filtered, and a MAC.
pub fn mixed_tcp_udp() -> HostResult {
    let mut h = up("198.18.0.1", Reason::ArpResponse);
    h.latency = Some(Duration::from_micros(1000));
    h.mac = Some(MacAddress {
        octets: [0x02, 0x42, 0xac, 0x11, 0x00, 0x02],
        vendor: None,
    });
    for p in 1..=100u16 {
        let r = match p {
            22 => with_service(
                port(p, Protocol::Tcp, PortState::Open, Reason::SynAck, 64),
                "ssh",
            ),
            80 => {
                let mut r = port(p, Protocol::Tcp, PortState::Open, Reason::SynAck, 64);
                r.service = Some(Box::new(ServiceInfo {
                    product: Some("nginx".into()),
                    version: Some("1.24.0".into()),
                    extrainfo: Some("Ubuntu".into()),
                    ostype: Some("Linux".into()),
                    method: ServiceMethod::Probed,
                    conf: 10,
                    cpe: vec![
                        "cpe:/a:igor_sysoev:nginx:1.24.0".into(),
                        "cpe:/o:linux:linux_kernel".into(),
                    ],
                    ..ServiceInfo::from_table("http")
                }));
                r
            }
            90..=92 => port(p, Protocol::Tcp, PortState::Filtered, Reason::NoResponse, 0),
            _ => port(p, Protocol::Tcp, PortState::Closed, Reason::Reset, 64),
        };
        h.ports.push(r);
    }
    h.ports.push(with_service(
        port(53, Protocol::Udp, PortState::Open, Reason::UdpResponse, 64),
        "domain",
    ));
    h.ports.push(with_service(
        port(
            161,
            Protocol::Udp,
            PortState::OpenFiltered,
            Reason::NoResponse,
            0,
        ),
        "snmp",
    ));
    // The model keeps ports sorted by port then protocol.
    h.ports.sort_by_key(|p| (p.port, p.protocol));
    h
}

/// Every port state, with table-guessed services on summarised ports,
/// two reply TTLs among the resets, a probed service on a closed port
/// (listed although its state is summarised) and a PTR name: the host
/// the JSON round trip and schema tests lean on.
pub fn every_state() -> HostResult {
    let mut h = up("198.18.0.2", Reason::ArpResponse);
    h.reason_ttl = 64;
    h.latency = Some(Duration::from_nanos(123_456));
    h.end_time = T0 + 7;
    h.hostnames.push(Hostname {
        name: "target.test".into(),
        kind: HostnameKind::User,
    });
    h.hostnames.push(Hostname {
        name: "t.example".into(),
        kind: HostnameKind::Ptr,
    });
    h.mac = Some(MacAddress {
        octets: [0x02, 0, 0x5e, 0x10, 0xfe, 0xff],
        vendor: Some("Example Vendor".into()),
    });
    let table = |p: PortResult, name: &str| with_service(p, name);
    for n in 1..=60u16 {
        let p = match n {
            1..=30 => port(n, Protocol::Tcp, PortState::Closed, Reason::Reset, 64),
            31..=45 => port(n, Protocol::Tcp, PortState::Closed, Reason::Reset, 63),
            46..=50 => port(
                n,
                Protocol::Tcp,
                PortState::Filtered,
                Reason::AdminProhibited,
                64,
            ),
            51 => port(n, Protocol::Tcp, PortState::Unfiltered, Reason::Reset, 64),
            52 => port(
                n,
                Protocol::Tcp,
                PortState::ClosedFiltered,
                Reason::NoResponse,
                0,
            ),
            _ => port(n, Protocol::Tcp, PortState::Filtered, Reason::NoResponse, 0),
        };
        let p = match n {
            21 => table(p, "ftp"),
            23 => table(p, "telnet"),
            40..=45 => table(p, "unknown"),
            _ => p,
        };
        h.ports.push(p);
    }
    let mut odd = port(25, Protocol::Tcp, PortState::Closed, Reason::Reset, 64);
    odd.service = Some(Box::new(ServiceInfo {
        product: Some("Postfix".into()),
        method: ServiceMethod::Probed,
        conf: 8,
        ..ServiceInfo::from_table("smtp")
    }));
    h.ports[24] = odd;
    h.ports.push(port(
        80,
        Protocol::Sctp,
        PortState::Open,
        Reason::InitAck,
        64,
    ));
    h.ports.push(port(
        81,
        Protocol::Sctp,
        PortState::Closed,
        Reason::Abort,
        64,
    ));
    h.ports.push(with_service(
        port(123, Protocol::Udp, PortState::Open, Reason::UdpResponse, 64),
        "ntp",
    ));
    h.ports.push(port(
        124,
        Protocol::Udp,
        PortState::Closed,
        Reason::PortUnreach,
        64,
    ));
    h.ports.sort_by_key(|p| (p.port, p.protocol));
    h
}

/// An IPv6 host with one open port and two closed ones.
pub fn ipv6_host() -> HostResult {
    let mut h = up("2001:2::1", Reason::SynAck);
    h.reason_ttl = 64;
    h.latency = Some(Duration::from_micros(120));
    h.hostnames.push(Hostname {
        name: "bench6.example".into(),
        kind: HostnameKind::Ptr,
    });
    h.ports.push(with_service(
        port(443, Protocol::Tcp, PortState::Open, Reason::SynAck, 64),
        "https",
    ));
    h.ports.push(port(
        444,
        Protocol::Tcp,
        PortState::Closed,
        Reason::Reset,
        64,
    ));
    h.ports.push(port(
        445,
        Protocol::Tcp,
        PortState::Closed,
        Reason::Reset,
        64,
    ));
    h
}

/// The characters a hostile banner may use against each format.
pub const HOSTILE: &str = "<evil attr=\"x\" & 'y'>\u{1b}[2J\u{0}\u{7}\n\t,/|\u{FFFE}";

/// A host whose service strings are all [`HOSTILE`].
pub fn hostile_host() -> HostResult {
    let mut h = up("198.18.0.66", Reason::SynAck);
    h.hostnames.push(Hostname {
        name: format!("x{HOSTILE}"),
        kind: HostnameKind::Ptr,
    });
    h.mac = Some(MacAddress {
        octets: [2, 0, 0, 0, 0, 1],
        vendor: Some(HOSTILE.into()),
    });
    let mut p = port(8080, Protocol::Tcp, PortState::Open, Reason::SynAck, 64);
    p.service = Some(Box::new(ServiceInfo {
        name: HOSTILE.into(),
        product: Some(HOSTILE.into()),
        version: Some(HOSTILE.into()),
        extrainfo: Some(HOSTILE.into()),
        hostname: Some(HOSTILE.into()),
        ostype: Some(HOSTILE.into()),
        devicetype: Some(HOSTILE.into()),
        method: ServiceMethod::Probed,
        conf: 10,
        tunnel: Some("ssl".into()),
        cpe: vec![format!("cpe:/o:{HOSTILE}")],
        certificate: Some(Box::new(portolan_model::Certificate {
            subject: vec![portolan_model::NameAttribute {
                key: "commonName".into(),
                value: HOSTILE.into(),
            }],
            issuer: vec![portolan_model::NameAttribute {
                key: HOSTILE.into(),
                value: HOSTILE.into(),
            }],
            not_before: 0,
            not_after: 4_102_444_800,
            alt_names: vec![format!("DNS:{HOSTILE}")],
        })),
    }));
    h.ports.push(p);
    h
}

/// A host that did not answer.
pub fn down_host() -> HostResult {
    let mut h = HostResult::new(
        "198.18.0.5".parse().unwrap(),
        HostStatus::Down,
        Reason::NoResponse,
    );
    h.start_time = T0;
    h.end_time = T0;
    h
}

/// A host cut short by `--host-timeout`.
pub fn timed_out_host() -> HostResult {
    let mut h = up("198.18.0.7", Reason::EchoReply);
    h.timed_out = true;
    h.ports
        .push(port(1, Protocol::Tcp, PortState::Closed, Reason::Reset, 64));
    h
}

/// A Linux host scanned with `-sU -p1-1000`: 3 answering services, the
/// ICMP burst's 5 closed ports, the rest unresolved by the rate limit.
pub fn udp_rate_limited() -> HostResult {
    let mut h = up("198.18.0.9", Reason::UdpResponse);
    for p in 1..=1000u16 {
        let (state, reason) = match p {
            53 | 123 | 161 => (PortState::Open, Reason::UdpResponse),
            1..=5 => (PortState::Closed, Reason::PortUnreach),
            _ => (PortState::OpenFiltered, Reason::NoResponse),
        };
        h.ports.push(port(p, Protocol::Udp, state, reason, 64));
    }
    h.icmp_rate_limit = Some(portolan_model::IcmpRateLimit {
        protocol: Protocol::Udp,
        observed_per_sec: 1.0,
        unresolved: 992,
        exact: false,
        tcp_icmp: false,
    });
    h
}

/// localhost with all 1000 ports closed.
pub fn all_closed() -> HostResult {
    let mut h = one_open_999_closed();
    h.ports[21] = port(22, Protocol::Tcp, PortState::Closed, Reason::ConnRefused, 0);
    h
}

/// A host with one TLS web server (`-sV` found nginx inside TLS) and its
/// certificate: commonName/organizationName, one alternative name, valid
/// from T0 for two days.
pub fn tls_host() -> HostResult {
    let mut h = HostResult::new(
        "198.18.0.1".parse().unwrap(),
        HostStatus::Up,
        Reason::SynAck,
    );
    let mut p = port(443, Protocol::Tcp, PortState::Open, Reason::SynAck, 64);
    let attr = |key: &str, value: &str| portolan_model::NameAttribute {
        key: key.into(),
        value: value.into(),
    };
    p.service = Some(Box::new(ServiceInfo {
        product: Some("nginx".into()),
        method: ServiceMethod::Probed,
        conf: 10,
        tunnel: Some("ssl".into()),
        certificate: Some(Box::new(portolan_model::Certificate {
            subject: vec![
                attr("commonName", "portolan-test"),
                attr("organizationName", "Portolan"),
            ],
            issuer: vec![attr("commonName", "Portolan CA")],
            not_before: T0 as i64,
            not_after: T0 as i64 + 2 * 86_400,
            alt_names: vec!["DNS:portolan.test".into()],
        })),
        ..ServiceInfo::from_table("http")
    }));
    h.ports.push(p);
    h
}
