//! The two ways probes reach the network, set up for one engine scan.
//!
//! Why here and not in the engine: choosing an interface and source
//! addresses (from the route to the first target of each family), opening
//! the raw sockets, drawing the validation key, and building a tokio
//! runtime for the connect driver are decisions about this host's
//! environment, which the sans-IO engine does not make.

use crate::config::ScanConfig;
use crate::neighbours::FrameLinks;
use crate::plan::Plan;
use crate::SessionError;
use portolan_connect::{socket_budget, ConnectOptions, Connector};
use portolan_engine::{
    Engine, FrameLink, Layer, Links, Observer, PacketIo, ProbeContext, ProbeModule, SystemClock,
    ValidationKey,
};
use portolan_netio::{route_to, RawConfig, RawIo};
use portolan_targets::TargetList;
use std::net::IpAddr;
use std::sync::atomic::AtomicBool;

/// Connect attempts in flight at most when they share the raw driver.
const CONNECT_SOCKETS: usize = 16_384;

/// Runs `scan` over TCP connect sockets on a tokio runtime of its own.
pub(crate) fn run_connect(
    scan: &mut dyn Engine,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut dyn Observer,
) -> Result<(), SessionError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let copts = ConnectOptions {
        source: opts.net.source_addr,
        max_sockets: 0,
    };
    rt.block_on(portolan_connect::run(scan, &copts, stop, sink));
    Ok(())
}

/// Runs `scan` over raw sockets: route and source addresses from the
/// first target of each family, then the engine's raw driver; with
/// `link`, link-layer modules' frames go through it in the same loop.
pub(crate) fn run_raw(
    scan: &mut dyn Engine,
    modules: &[Box<dyn ProbeModule>],
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut dyn Observer,
    link: Option<&mut FrameLinks>,
) -> Result<(), SessionError> {
    let (first_v4, first_v6) = first_of_each_family(&plan.targets);
    let Some(first) = first_v4.or(first_v6) else {
        return Ok(());
    };
    let iface = opts.net.interface.as_deref();
    let route = route_to(first, iface, opts.net.source_addr)?;
    let mut cfg = RawConfig::from_route(&route);
    cfg.bind_device = iface.is_some();
    if let (Some(v4), Some(v6)) = (first_v4, first_v6) {
        let other = if route.src.is_ipv4() { v6 } else { v4 };
        if let Ok(r) = route_to(other, iface, None) {
            cfg.add_source(r.src);
        }
    }
    let refs: Vec<&dyn ProbeModule> = modules.iter().map(|m| m.as_ref()).collect();
    // No raw IP socket (nor its packet ring) when nothing goes by IP, as
    // for -PR -sn.
    let mut io = if refs.iter().any(|m| m.layer() == Layer::Ip) {
        Some(RawIo::open(&cfg)?)
    } else {
        None
    };
    let ctx = ProbeContext {
        src_v4: cfg.src_v4,
        src_v6: cfg.src_v6,
        source_port: opts.net.source_port,
        key: validation_key(opts, KEY_SALT_SCAN),
        ttl: opts.net.ttl.unwrap_or(64),
    };
    let mut connector = if refs.iter().any(|m| m.layer() == Layer::Connect) {
        Some(Connector::new(
            opts.net.source_addr,
            socket_budget(CONNECT_SOCKETS),
            plan.timing.max_rtt_timeout,
        )?)
    } else {
        None
    };
    if let (Some(io), None, None) = (io.as_mut(), &link, &connector) {
        portolan_engine::run_raw(scan, &refs, &ctx, io, &SystemClock, stop, sink)?;
        return Ok(());
    }
    let link = link.map(|l| l as &mut dyn FrameLink);
    let ip = io.as_mut().map(|i| i as &mut dyn PacketIo);
    let mut links = Links::new(ip, link, &SystemClock);
    if let Some(c) = connector.as_mut() {
        links = links.with_connect(c);
    }
    portolan_engine::run(scan, &refs, &ctx, &mut links, &SystemClock, stop, sink)?;
    Ok(())
}

/// The first IPv4 and IPv6 target, for finding routes and sources. Only
/// the first 65536 targets are looked at, so a huge list costs nothing.
pub(crate) fn first_of_each_family(targets: &TargetList) -> (Option<IpAddr>, Option<IpAddr>) {
    let mut v4 = None;
    let mut v6 = None;
    for t in targets.iter().take(65_536) {
        match t.addr {
            IpAddr::V4(_) if v4.is_none() => v4 = Some(t.addr),
            IpAddr::V6(_) if v6.is_none() => v6 = Some(t.addr),
            _ => {}
        }
        if v4.is_some() && v6.is_some() {
            break;
        }
    }
    (v4, v6)
}

/// Salts that give each validation key of a run its own value from one
/// `--seed`: the scan's context, and the port scan's modules in a
/// pipeline (which must not take the pings' replies).
pub(crate) const KEY_SALT_SCAN: u64 = 0x7363_616e;
/// See [`KEY_SALT_SCAN`].
pub(crate) const KEY_SALT_PORTS: u64 = 0x706f_7274;

/// A reply-validation key: random, or, with `--seed`, derived from the
/// seed, so that the whole run (order, shards and the numbers in every
/// probe) is reproducible from that one number, as the simulator's runs
/// are. A seed the user shares with others (shards) makes the keys
/// predictable to them, which is the point of sharing it.
pub(crate) fn validation_key(opts: &ScanConfig, salt: u64) -> ValidationKey {
    match opts.seed {
        Some(seed) => ValidationKey::from_seed(splitmix64(seed ^ salt)),
        None => ValidationKey::new(rand::random()),
    }
}

/// SplitMix64's finaliser: spreads nearby seeds far apart.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_distinct_keys_in_every_run() {
        let seeded = ScanConfig {
            seed: Some(7),
            ..ScanConfig::default()
        };
        let a = validation_key(&seeded, KEY_SALT_SCAN);
        assert_eq!(a, validation_key(&seeded, KEY_SALT_SCAN));
        assert_ne!(a, validation_key(&seeded, KEY_SALT_PORTS));
        let other = ScanConfig {
            seed: Some(8),
            ..ScanConfig::default()
        };
        assert_ne!(a, validation_key(&other, KEY_SALT_SCAN));
        let unseeded = ScanConfig::default();
        assert_ne!(
            validation_key(&unseeded, KEY_SALT_SCAN),
            validation_key(&unseeded, KEY_SALT_SCAN)
        );
    }
}
