//! Times a connect scan of every TCP port of 127.0.0.1 (a quick check of
//! the driver and engine alone; the benchmarks proper are in scripts/).

use portolan_connect::{run, ConnectOptions};
use portolan_engine::{Scan, ScanPlan, TechniquePlan, Timing};
use portolan_model::{HostResult, PortState, Protocol, Reason};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() {
    let plan = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports: (1..=65535).collect(),
            no_reply: (PortState::Filtered, Reason::NoResponse),
        }],
        Timing::template(4).expect("template 4 exists"),
    );
    let start = Instant::now();
    let mut scan = Scan::new(plan, Box::new(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]), start);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stop = AtomicBool::new(false);
    let mut hosts = Vec::new();
    rt.block_on(run(
        &mut scan,
        &ConnectOptions::default(),
        &stop,
        &mut |h: HostResult| hosts.push(h),
    ));
    let open: Vec<u16> = hosts[0].ports_in(PortState::Open, Protocol::Tcp);
    println!(
        "{:.3} s, {} open: {:?}, progress {:?}",
        start.elapsed().as_secs_f64(),
        open.len(),
        open,
        scan.progress()
    );
}
