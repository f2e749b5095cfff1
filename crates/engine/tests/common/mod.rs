//! What the simulator tests share: the probe context and one scan run
//! over a simulated network.

#![allow(dead_code)]

use portolan_engine::sim::{SimConfig, SimNet};
use portolan_engine::{
    run_raw, HostSource, ProbeContext, ProbeModule, Scan, ScanPlan, ValidationKey,
};
use portolan_model::HostResult;
use std::net::Ipv4Addr;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// The scanner's side: 198.18.0.1, a fixed validation key, TTL 64.
pub fn ctx() -> ProbeContext {
    ProbeContext {
        src_v4: Some(Ipv4Addr::new(198, 18, 0, 1)),
        src_v6: None,
        source_port: None,
        key: ValidationKey::from_seed(7),
        ttl: 64,
    }
}

/// Runs `plan` over `targets` with `module` in a network of `cfg`: the
/// hosts in the order they finished, and the network afterwards (its
/// simulated time and counts).
pub fn run_sim(
    cfg: SimConfig,
    plan: ScanPlan,
    targets: Box<dyn HostSource>,
    module: &dyn ProbeModule,
) -> (Vec<HostResult>, SimNet) {
    let t0 = Instant::now();
    let mut net = SimNet::new(cfg, t0);
    let clock = net.clock();
    let mut scan = Scan::new(plan, targets, t0);
    let mut hosts = Vec::new();
    let stop = AtomicBool::new(false);
    run_raw(
        &mut scan,
        &[module],
        &ctx(),
        &mut net,
        &clock,
        &stop,
        &mut |h| hosts.push(h),
    )
    .unwrap();
    (hosts, net)
}
