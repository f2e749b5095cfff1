//! Measures the history store and `diff` on two generated scans of
//! 5,000 hosts × 1,000 TCP ports (about 1 % of hosts changed between
//! them): the time to record each scan host by host (as a scan does),
//! the store's size, and the time to load both back and diff them. Then
//! a third scan whose ports are a third open, closed and filtered each,
//! so that 1,000,000 port rows are stored one by one (the common state
//! of a host is not), and the store's growth for them.
//!
//! ```sh
//! cargo run --release -p portolan-store --example bench_history -- /tmp/bench.sqlite
//! time target/release/portolan diff --history /tmp/bench.sqlite 1 2 > /dev/null
//! ```

use portolan_model::{
    format_ranges, HostResult, HostStatus, PortResult, PortState, Protocol, Reason, RunStats,
    ScanDocument, ScanInfo, ScanType, ScanTypeInfo, ServiceInfo,
};
use portolan_store::{Location, ScanMeta, Store};
use std::time::Instant;

const HOSTS: u32 = 5_000;
const PORTS: u16 = 1_000;

fn scan(start: u64, changed: bool) -> ScanDocument {
    let mut doc = ScanDocument::new(ScanInfo {
        version: "0.1.0".into(),
        args: "portolan -sS -p 1-1000 198.18.0.0/19".into(),
        start_time: start,
        scans: vec![ScanTypeInfo {
            scan_type: ScanType::Syn,
            protocol: Protocol::Tcp,
            num_services: u32::from(PORTS),
            services: format_ranges(&(1..=PORTS).collect::<Vec<_>>()),
        }],
        verbose: 0,
        debugging: 0,
    });
    for i in 0..HOSTS {
        let addr = std::net::Ipv4Addr::from(0xc612_0000 + i + 1);
        let mut h = HostResult::new(addr.into(), HostStatus::Up, Reason::EchoReply);
        for port in 1..=PORTS {
            let open = matches!(port, 22 | 80 | 443) || (changed && i % 100 == 0 && port == 8);
            h.ports.push(PortResult {
                port,
                protocol: Protocol::Tcp,
                state: if open {
                    PortState::Open
                } else {
                    PortState::Closed
                },
                reason: if open { Reason::SynAck } else { Reason::Reset },
                reason_ttl: 64,
                service: open.then(|| Box::new(ServiceInfo::from_table("http"))),
            });
        }
        doc.hosts.push(h);
    }
    doc.stats = Some(RunStats {
        end_time: start + 60,
        elapsed: 60.0,
        hosts_up: u64::from(HOSTS),
        hosts_down: 0,
        interrupted: false,
        hosts_incomplete: 0,
        error: None,
    });
    doc
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or("/tmp/portolan-bench.sqlite".into());
    let _ = std::fs::remove_file(&path);
    let mut store = Store::open(&Location::Sqlite(path.clone().into())).expect("store");
    for (n, doc) in [scan(1_800_000_000, false), scan(1_800_086_400, true)]
        .iter()
        .enumerate()
    {
        let t = Instant::now();
        let id = store
            .begin_scan(
                &doc.info,
                &ScanMeta {
                    targets: "198.18.0.0/19".into(),
                    source: "scan".into(),
                    group: None,
                    ..ScanMeta::default()
                },
            )
            .expect("begin");
        for h in &doc.hosts {
            store.add_host(id, h).expect("host");
        }
        store
            .finish_scan(id, doc.stats.as_ref().unwrap())
            .expect("end");
        println!(
            "record scan {}: {} hosts x {} ports in {:.3} s ({:.0} us per host)",
            n + 1,
            HOSTS,
            PORTS,
            t.elapsed().as_secs_f64(),
            t.elapsed().as_secs_f64() * 1e6 / f64::from(HOSTS)
        );
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("store size: {:.1} MB", size as f64 / 1e6);
    // 1,000,000 stored port rows: 1,500 hosts x 1,000 ports in three
    // states; the host's most common state (333 or 334 ports) is not
    // stored row by row, the other 666 or 667 are.
    let mut doc = scan(1_800_172_800, false);
    doc.hosts.truncate(1_500);
    for h in &mut doc.hosts {
        for p in &mut h.ports {
            (p.state, p.reason) = match p.port % 3 {
                0 => (PortState::Open, Reason::SynAck),
                1 => (PortState::Closed, Reason::Reset),
                _ => (PortState::Filtered, Reason::NoResponse),
            };
        }
    }
    let t = Instant::now();
    let id = store
        .begin_scan(
            &doc.info,
            &ScanMeta {
                targets: "198.18.0.0/21".into(),
                source: "scan".into(),
                ..ScanMeta::default()
            },
        )
        .expect("begin");
    for h in &doc.hosts {
        store.add_host(id, h).expect("host");
    }
    store
        .finish_scan(id, doc.stats.as_ref().unwrap())
        .expect("end");
    let grown = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) - size;
    let rows_secs = t.elapsed().as_secs_f64();
    println!(
        "record 1,000,000 stored port rows ({} hosts x {} ports, 3 states): {:.3} s, store grew {:.1} MB",
        doc.hosts.len(),
        PORTS,
        rows_secs,
        grown as f64 / 1e6
    );
    // A /16 sweep of one port with -Pn: 65,536 hosts of one port each,
    // written as the scan's recorder does (batches of 2,048).
    let mut info = doc.info.clone();
    info.scans[0].num_services = 1;
    info.scans[0].services = "80".into();
    let sweep: Vec<HostResult> = (0..65_536u32)
        .map(|i| {
            let mut h = HostResult::new(
                // In permuted order, as a scan finishes them.
                std::net::Ipv4Addr::from(0xc613_0000 + (i.wrapping_mul(40_503) & 0xffff)).into(),
                HostStatus::Up,
                Reason::UserSet,
            );
            let open = i % 13 == 0;
            h.ports.push(PortResult {
                port: 80,
                protocol: Protocol::Tcp,
                state: if open {
                    PortState::Open
                } else {
                    PortState::Filtered
                },
                reason: if open {
                    Reason::SynAck
                } else {
                    Reason::NoResponse
                },
                // An unanswered port has no reply TTL.
                reason_ttl: if open { 64 } else { 0 },
                service: None,
            });
            h
        })
        .collect();
    let t = Instant::now();
    let id = store
        .begin_scan(
            &info,
            &ScanMeta {
                targets: "198.19.0.0/16".into(),
                source: "scan".into(),
                ..ScanMeta::default()
            },
        )
        .expect("begin");
    for chunk in sweep.chunks(2048) {
        store.add_hosts(id, chunk).expect("hosts");
    }
    println!(
        "record a /16 sweep (65,536 hosts x 1 port): {:.3} s ({:.1} us per host)",
        t.elapsed().as_secs_f64(),
        t.elapsed().as_secs_f64() * 1e6 / 65_536.0
    );
}
