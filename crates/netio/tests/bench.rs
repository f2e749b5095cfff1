//! Throughput benchmark: SYNs to all 65535 TCP ports of a namespace over
//! veth, counting the RSTs that come back. Ignored by default; run as root:
//!
//! ```text
//! cargo test --release -p portolan-netio --test bench -- --ignored --nocapture
//! ```

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::*;
use portolan_engine::PacketIo;
use portolan_netio::{route_to, RawConfig, RawIo};

const SPORT: u16 = 40000;
const BATCH: usize = 256;

#[test]
#[ignore = "benchmark; run explicitly with --ignored --nocapture (root)"]
fn syn_all_ports_over_veth_ipv4() {
    if root_or_skip("syn_all_ports_over_veth_ipv4") {
        syn_all_ports(TARGET_V4);
    }
}

#[test]
#[ignore = "benchmark; run explicitly with --ignored --nocapture (root)"]
fn syn_all_ports_over_veth_ipv6() {
    if root_or_skip("syn_all_ports_over_veth_ipv6") {
        syn_all_ports(TARGET_V6);
    }
}

/// Sends a SYN to every TCP port of `target` and counts the RSTs.
fn syn_all_ports(target: &str) {
    let tb = Testbed::new();
    tb.in_scanner(|| {
        let target: IpAddr = target.parse().unwrap();
        let route = route_to(target, None, None).unwrap();
        let mut io = RawIo::open(&RawConfig::from_route(&route)).unwrap();
        // Resolve the neighbour first, as host discovery would: the kernel
        // queues only a few hundred packets for an unresolved neighbour and
        // silently drops the rest (and on a fresh IPv6 link the first
        // neighbour solicitation is often lost, costing a second).
        let warm = syn(route.src, target, SPORT - 1, 1, 0);
        io.send(&[&warm]).unwrap();
        let mut warmed = false;
        let t = Instant::now();
        while !warmed && t.elapsed() < Duration::from_secs(5) {
            io.recv(Duration::from_millis(100), &mut |p| {
                warmed |= parse(p).is_some_and(|s| s.src == target && s.dport == SPORT - 1)
            })
            .unwrap();
        }
        assert!(warmed, "no reply to the warm-up probe");
        let packets: Vec<Vec<u8>> =
            (1..=65535u16).map(|p| syn(route.src, target, SPORT, p, u32::from(p))).collect();
        let refs: Vec<&[u8]> = packets.iter().map(Vec::as_slice).collect();
        let n = refs.len();
        let mut answered = vec![false; 65536];
        let mut replies = 0usize;

        let cpu0 = cpu_time();
        let t0 = Instant::now();
        let mut sent = 0;
        let mut send_done = None;
        let mut last_reply = t0;
        let mut calls = 0u64;
        while t0.elapsed() < Duration::from_secs(5) {
            if sent < n {
                let end = (sent + BATCH).min(n);
                sent += io.send(&refs[sent..end]).unwrap();
                if sent == n {
                    send_done = Some(t0.elapsed());
                }
            }
            let wait = if sent < n { Duration::ZERO } else { Duration::from_millis(20) };
            calls += 1;
            let got = io
                .recv(wait, &mut |p| {
                    if let Some(s) = parse(p) {
                        let port = usize::from(s.sport);
                        if s.src == target && s.dport == SPORT && s.flags & RST != 0 && !answered[port] {
                            answered[port] = true;
                            replies += 1;
                        }
                    }
                })
                .unwrap();
            if got > 0 {
                last_reply = Instant::now();
            }
            if replies == n || (sent == n && last_reply.elapsed() > Duration::from_millis(300)) {
                break;
            }
        }
        let send_t = send_done.unwrap_or_else(|| t0.elapsed());
        let total = last_reply - t0;
        let cpu = cpu_time() - cpu0;
        let stats = io.stats();
        println!(
            "netio bench {target}: CPU time {:.3} s (user+sys, includes the target's kernel work done in our softirqs) = {:.0} probes+replies per CPU-second",
            cpu.as_secs_f64(),
            sent as f64 / cpu.as_secs_f64(),
        );
        println!(
            "netio bench {target}: sent {sent} SYNs in {:.3} s = {:.0} pkt/s; {replies} RSTs received by {:.3} s = {:.0} pkt/s; recv calls {calls}; {stats:?}",
            send_t.as_secs_f64(),
            sent as f64 / send_t.as_secs_f64(),
            total.as_secs_f64(),
            replies as f64 / total.as_secs_f64(),
        );
        assert_eq!(sent, n, "not everything was sent");
    });
}

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(u.user_time()) + tv(u.system_time())
}
