//! One `--max-rate` budget shared by two consumers over the simulated
//! network: two scans driven through one driver draw from one
//! `SharedRateLimiter` and together never exceed it (deterministic:
//! assertions are on simulated time).

mod common;
use common::ctx;

use portolan_engine::sim::{SimConfig, SimHost, SimModule, SimNet};
use portolan_engine::{
    run_raw, Engine, Probe, ProbeModule, Progress, Reply, Scan, ScanPlan, SendError,
    SharedRateLimiter, TechniquePlan, Timing,
};
use portolan_model::{HostResult, PortState, Protocol};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn host(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 3, i))
}

fn scan(addr: IpAddr, id: u32, timing: Timing, now: Instant) -> Scan {
    let plan = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports: (1..=1000).collect(),
            no_reply: SimModule.no_reply(),
        }],
        timing,
    );
    let mut s = Scan::new(plan, Box::new(vec![addr]), now);
    s.set_id(id);
    s
}

/// Two scans of different hosts through one driver, asked for probes in
/// turn. Replies and send errors go to both: a scan ignores replies about
/// hosts it does not hold and send errors of probes of another id.
struct Both(Scan, Scan, bool);

impl Engine for Both {
    fn poll_probe(&mut self, now: Instant) -> Option<Probe> {
        self.2 = !self.2;
        let (a, b) = if self.2 {
            (&mut self.0, &mut self.1)
        } else {
            (&mut self.1, &mut self.0)
        };
        a.poll_probe(now).or_else(|| b.poll_probe(now))
    }
    fn on_reply(&mut self, now: Instant, technique: usize, reply: Reply) {
        self.0.on_reply(now, technique, reply);
        self.1.on_reply(now, technique, reply);
    }
    fn on_send_error(&mut self, now: Instant, probe: &Probe, err: SendError) {
        self.0.on_send_error(now, probe, err);
        self.1.on_send_error(now, probe, err);
    }
    fn handle_timeouts(&mut self, now: Instant) {
        self.0.handle_timeouts(now);
        self.1.handle_timeouts(now);
    }
    fn next_wakeup(&self) -> Option<Instant> {
        match (self.0.next_wakeup(), self.1.next_wakeup()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    fn poll_host(&mut self) -> Option<HostResult> {
        self.0.poll_host().or_else(|| self.1.poll_host())
    }
    fn is_done(&self) -> bool {
        self.0.is_done() && self.1.is_done()
    }
    fn progress(&self) -> Progress {
        self.0.progress()
    }
    fn stop(&mut self) {
        self.0.stop();
        self.1.stop();
    }
}

#[test]
fn two_scans_sharing_one_budget_never_exceed_it_together() {
    let rate = 1000.0;
    let t0 = Instant::now();
    let mut cfg = SimConfig {
        record_sends: true,
        ..SimConfig::default()
    };
    cfg.hosts.insert(host(1), SimHost::with_open(&[80]));
    cfg.hosts.insert(host(2), SimHost::with_open(&[443]));
    let mut net = SimNet::new(cfg, t0);
    let clock = net.clock();
    let budget = SharedRateLimiter::per_second(rate, t0).unwrap();
    // Each scan alone would be allowed the whole rate.
    let timing = Timing {
        max_rate: Some(rate),
        ..Timing::default()
    };
    let mut a = scan(host(1), 1, timing.clone(), t0);
    let mut b = scan(host(2), 2, timing, t0);
    a.set_rate_limiter(budget.clone());
    b.set_rate_limiter(budget);
    let mut both = Both(a, b, false);
    let mut hosts = Vec::new();
    let stop = AtomicBool::new(false);
    let m: &dyn ProbeModule = &SimModule;
    run_raw(&mut both, &[m], &ctx(), &mut net, &clock, &stop, &mut |h| {
        hosts.push(h)
    })
    .unwrap();

    hosts.sort_by_key(|h| h.addr);
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0].ports_in(PortState::Open, Protocol::Tcp), vec![80]);
    assert_eq!(hosts[1].ports_in(PortState::Open, Protocol::Tcp), vec![443]);
    assert!(hosts.iter().all(|h| h.ports.len() == 1000));

    let times = &net.stats().send_times;
    assert_eq!(times.len(), 2000);
    let burst = 10.0;
    let start = times[0];
    for (i, t) in times.iter().enumerate() {
        let allowed = rate * t.duration_since(start).as_secs_f64() + burst + 1.0;
        assert!(
            (i as f64) < allowed,
            "send {i} at {:?}",
            t.duration_since(start)
        );
    }
    // 2000 probes at 1000/s: about two seconds, not one.
    let elapsed = net.elapsed();
    assert!(elapsed >= Duration::from_secs_f64(1.98), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}
