//! Measures the history store and `diff` on two generated scans of
//! 5,000 hosts × 1,000 TCP ports (about 1 % of hosts changed between
//! them): the time to record each scan host by host (as a scan does),
//! the store's size, and the time to load both back and diff them.
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
}
