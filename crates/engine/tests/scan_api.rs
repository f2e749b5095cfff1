//! The `Scan` state machine driven directly, without a network.

use portolan_engine::{
    HostSource, HostTarget, Ipv4Range, ProbeSpec, Reply, Scan, ScanPlan, SendError, TechniquePlan,
    Timing,
};
use portolan_model::{PortState, Protocol, Reason};
use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

fn tech(ports: Vec<u16>) -> TechniquePlan {
    TechniquePlan {
        protocol: Protocol::Tcp,
        ports,
        no_reply: (PortState::Filtered, Reason::NoResponse),
    }
}

fn plan(techs: Vec<TechniquePlan>, seed: u64) -> ScanPlan {
    let mut p = ScanPlan::new(techs, Timing::default());
    p.seed = seed;
    p
}

fn rst(spec: &ProbeSpec) -> Reply {
    Reply {
        dst: spec.dst,
        dport: spec.dport,
        attempt: Some(spec.attempt),
        state: PortState::Closed,
        reason: Reason::Reset,
        ttl: 64,
        traits: None,
        mac: None,
    }
}

/// Runs a scan where every probe is answered at once; returns the probes
/// sent as (technique, host, port) and the hosts reported.
fn answer_all(mut scan: Scan) -> (Vec<(usize, IpAddr, u16)>, Vec<IpAddr>) {
    let mut now = Instant::now();
    let mut sent = Vec::new();
    let mut hosts = Vec::new();
    for _ in 0..10_000_000 {
        if scan.is_done() {
            break;
        }
        now += Duration::from_micros(10);
        while let Some(p) = scan.poll_probe(now) {
            sent.push((p.technique, p.spec.dst, p.spec.dport));
            scan.on_reply(now, p.technique, rst(&p.spec));
        }
        scan.handle_timeouts(now);
        while let Some(h) = scan.poll_host() {
            assert!(h.ports.iter().all(|p| p.state == PortState::Closed));
            hosts.push(h.addr);
        }
    }
    while let Some(h) = scan.poll_host() {
        hosts.push(h.addr);
    }
    assert!(scan.is_done());
    (sent, hosts)
}

fn range(n: u64) -> Box<dyn HostSource> {
    Box::new(Ipv4Range {
        first: u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0)),
        len: n,
    })
}

#[test]
fn shards_are_disjoint_and_complete() {
    let techs = || vec![tech(vec![22, 80, 443]), tech(vec![53])];
    let (all, all_hosts) = answer_all(Scan::new(plan(techs(), 5), range(1000), Instant::now()));
    assert_eq!(all.len(), 4000);
    assert_eq!(all_hosts.len(), 1000);
    let all: BTreeSet<_> = all.into_iter().collect();
    assert_eq!(all.len(), 4000);
    for n in [1u32, 2, 3, 7] {
        let mut union = BTreeSet::new();
        let mut hosts = HashSet::new();
        for k in 1..=n {
            let mut p = plan(techs(), 5);
            p.shard = Some((k, n));
            let (sent, done) = answer_all(Scan::new(p, range(1000), Instant::now()));
            for s in sent {
                assert!(union.insert(s), "{s:?} in two shards of {n}");
            }
            for h in done {
                assert!(hosts.insert(h), "{h} reported by two shards");
            }
        }
        assert_eq!(union, all, "shards of {n}");
        assert_eq!(hosts.len(), 1000);
    }
}

#[test]
fn order_is_permuted_and_reproducible_and_r_keeps_ports_in_order() {
    let ports: Vec<u16> = (1..=100).collect();
    let (a, _) = answer_all(Scan::new(
        plan(vec![tech(ports.clone())], 1),
        range(10),
        Instant::now(),
    ));
    let (b, _) = answer_all(Scan::new(
        plan(vec![tech(ports.clone())], 1),
        range(10),
        Instant::now(),
    ));
    let (c, _) = answer_all(Scan::new(
        plan(vec![tech(ports.clone())], 2),
        range(10),
        Instant::now(),
    ));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Consecutive probes rarely hit the same host.
    let same = a.windows(2).filter(|w| w[0].1 == w[1].1).count();
    assert!(same < a.len() / 4, "{same}");
    let mut p = plan(vec![tech(ports.clone())], 1);
    p.sequential_ports = true;
    let (r, _) = answer_all(Scan::new(p, range(10), Instant::now()));
    for h in 0..10u32 {
        let addr = IpAddr::V4((u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0)) + h).into());
        let seq: Vec<u16> = r.iter().filter(|s| s.1 == addr).map(|s| s.2).collect();
        assert_eq!(seq, ports);
    }
}

struct EveryOther(u64);

impl HostSource for EveryOther {
    fn len(&self) -> u64 {
        self.0
    }
    fn get(&self, i: u64) -> Option<HostTarget> {
        (i % 2 == 0).then(|| HostTarget {
            addr: IpAddr::V6(Ipv6Addr::from(
                0x2001_0002_0000_0000_0000_0000_0000_0000u128 + u128::from(i),
            )),
            name: Some("even".into()),
        })
    }
}

#[test]
fn excluded_indexes_are_skipped() {
    let (sent, hosts) = answer_all(Scan::new(
        plan(vec![tech(vec![80])], 3),
        Box::new(EveryOther(101)),
        Instant::now(),
    ));
    assert_eq!(sent.len(), 51);
    assert_eq!(hosts.len(), 51);
}

#[test]
fn stray_duplicate_and_late_replies_are_ignored() {
    let t0 = Instant::now();
    let mut scan = Scan::new(plan(vec![tech(vec![80, 81])], 3), range(1), t0);
    let p = scan.poll_probe(t0).unwrap();
    let mut stray = rst(&p.spec);
    stray.dport = 9999;
    scan.on_reply(t0, 0, stray);
    stray.dst = "198.19.0.1".parse().unwrap();
    scan.on_reply(t0, 0, stray);
    scan.on_reply(t0, 7, rst(&p.spec));
    let mut open = rst(&p.spec);
    open.state = PortState::Open;
    open.reason = Reason::SynAck;
    scan.on_reply(t0, 0, open);
    scan.on_reply(t0, 0, rst(&p.spec));
    // The other port has not been probed: a reply for it is unsolicited.
    let other = ProbeSpec {
        dport: 161 - p.spec.dport,
        ..p.spec
    };
    scan.on_reply(t0, 0, rst(&other));
    let q = scan.poll_probe(t0).unwrap();
    assert_eq!(q.spec.dport, other.dport);
    scan.on_send_error(t0, &q, SendError::Transient);
    let q = scan.poll_probe(t0).unwrap();
    assert_eq!((q.spec.dport, q.spec.attempt), (other.dport, 0));
    scan.on_send_error(t0, &q, SendError::Permanent);
    let h = scan.poll_host().unwrap();
    assert_eq!(h.ports.len(), 2);
    assert_eq!(
        h.ports_in(PortState::Open, Protocol::Tcp),
        vec![p.spec.dport]
    );
    assert!(scan.is_done());
    scan.on_reply(t0, 0, rst(&p.spec));
    assert!(scan.poll_host().is_none());
}

#[test]
fn huge_virtual_scan_keeps_state_bounded() {
    // 2^24 hosts x 1000 ports, nothing ever answers: run a bounded number
    // of steps and check that in-flight probes and live hosts stay bounded.
    let t0 = Instant::now();
    let src = Box::new(EveryOther(1 << 24));
    let mut scan = Scan::new(plan(vec![tech((1..=1000).collect())], 9), src, t0);
    let mut now = t0;
    let mut sent = 0u64;
    let max_window = Timing::default().max_parallelism as usize;
    for _ in 0..20_000 {
        now += Duration::from_millis(1);
        for _ in 0..64 {
            if scan.poll_probe(now).is_none() {
                break;
            }
            sent += 1;
        }
        scan.handle_timeouts(now);
        assert!(scan.in_flight() <= scan.in_flight_cap().max(4 * max_window));
        assert!(scan.active_hosts() <= 2 * scan.group_size() as usize);
        while scan.poll_host().is_some() {}
    }
    // Silent targets give no feedback: the window for them stays at four
    // times the initial window, with the 1 s initial timeout.
    assert!(sent > 4000, "{sent}");
    assert_eq!(scan.progress().probes_sent, sent);
    assert_eq!(scan.progress().hosts_total, 1 << 24);
    scan.stop();
    assert!(scan.is_done());
    assert_eq!(scan.in_flight(), 0);
    assert!(scan.poll_probe(now).is_none());
}

#[test]
fn empty_inputs_do_not_panic() {
    let (sent, hosts) = answer_all(Scan::new(plan(vec![], 1), range(3), Instant::now()));
    assert!(sent.is_empty());
    assert_eq!(hosts.len(), 3);
    let (sent, hosts) = answer_all(Scan::new(
        plan(vec![tech(vec![1])], 1),
        range(0),
        Instant::now(),
    ));
    assert!(sent.is_empty() && hosts.is_empty());
    let mut p = plan(vec![tech(vec![1])], 1);
    p.shard = Some((5, 2));
    let (sent, _) = answer_all(Scan::new(p, range(4), Instant::now()));
    assert_eq!(sent.len(), 4);
}

/// Run with `cargo test --release -p portolan-engine -- --ignored --nocapture`.
#[test]
#[ignore]
fn per_probe_cost() {
    let t0 = Instant::now();
    let scan = Scan::new(plan(vec![tech((1..=65535).collect())], 1), range(16), t0);
    let wall = Instant::now();
    let (sent, hosts) = answer_all(scan);
    let dt = wall.elapsed();
    eprintln!(
        "{} probes, {} hosts in {:?}: {:?} per probe+reply",
        sent.len(),
        hosts.len(),
        dt,
        dt / sent.len() as u32
    );
}

#[test]
fn scan_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Scan>();
}

#[test]
fn replies_for_attempts_never_sent_are_ignored() {
    use portolan_engine::{Reply, Scan, ScanPlan, TechniquePlan, Timing};
    use portolan_model::{PortState, Protocol, Reason};
    use std::net::IpAddr;
    use std::time::Instant;
    let plan = ScanPlan::new(
        vec![TechniquePlan {
            protocol: Protocol::Tcp,
            ports: vec![80],
            no_reply: (PortState::Filtered, Reason::NoResponse),
        }],
        Timing::default(),
    );
    let target: IpAddr = "198.18.0.2".parse().unwrap();
    let now = Instant::now();
    let mut scan = Scan::new(plan, Box::new(vec![target]), now);
    let probe = scan.poll_probe(now).expect("one probe");
    assert_eq!(probe.spec.attempt, 0);
    let reply = |attempt| Reply {
        dst: target,
        dport: 80,
        attempt: Some(attempt),
        state: PortState::Open,
        reason: Reason::Syn,
        ttl: 64,
        traits: None,
        mac: None,
    };
    // Only attempt 0 went out: a reply claiming attempt 3 is someone else's.
    scan.on_reply(now, 0, reply(3));
    assert_eq!(scan.progress().ports_resolved, 0);
    scan.on_reply(now, 0, reply(0));
    assert_eq!(scan.progress().ports_resolved, 1);
}

#[test]
fn a_probe_sent_again_after_a_send_error_keeps_its_own_deadline() {
    // One port, 1 s initial timeout. The first transmission fails to send
    // half a second in and goes out again: its timeout runs from the
    // second send, not from the failed one.
    let t0 = Instant::now();
    let hosts: Box<dyn HostSource> = Box::new(vec![HostTarget {
        addr: "198.18.0.9".parse().unwrap(),
        name: None,
    }]);
    let mut scan = Scan::new(plan(vec![tech(vec![80])], 1), hosts, t0);
    let p = scan.poll_probe(t0).expect("first probe");
    let t1 = t0 + Duration::from_millis(500);
    scan.on_send_error(t1, &p, SendError::Transient);
    let again = scan.poll_probe(t1).expect("sent again");
    assert_eq!(again.spec.attempt, 0);
    // A second after the failed send, the real one is 0.5 s old.
    scan.handle_timeouts(t0 + Duration::from_millis(1100));
    assert_eq!(scan.poll_probe(t0 + Duration::from_millis(1100)), None);
    assert_eq!(scan.in_flight(), 1);
    // Its own deadline passes: retransmitted.
    let t2 = again.deadline + Duration::from_millis(1);
    scan.handle_timeouts(t2);
    assert_eq!(scan.poll_probe(t2).map(|p| p.spec.attempt), Some(1));
}

#[test]
fn a_hosts_replies_leave_their_stack_traits_in_its_result() {
    use portolan_engine::{SampleKind, StackTraits};
    // Two ports: a SYN/ACK and a RST+ACK each leave one sample, a second
    // SYN/ACK of the same host is not kept (bounded per host, not per
    // port), and the finished host hands them out.
    let target: IpAddr = "198.18.0.2".parse().unwrap();
    let now = Instant::now();
    let mut with_samples = plan(vec![tech(vec![22, 80, 443])], 3);
    with_samples.stack_samples = true;
    let mut scan = Scan::new(with_samples, Box::new(vec![target]), now);
    let mut probes = Vec::new();
    while let Some(p) = scan.poll_probe(now) {
        probes.push(p);
    }
    assert_eq!(probes.len(), 3);
    let syn_ack = |window| StackTraits {
        ttl: 64,
        flags: 0x12,
        window,
        mss: Some(1460),
        ..StackTraits::default()
    };
    let reply = |port, state, reason, traits| Reply {
        dst: target,
        dport: port,
        attempt: Some(0),
        state,
        reason,
        ttl: 64,
        traits: Some(traits),
        mac: None,
    };
    scan.on_reply(
        now,
        0,
        reply(22, PortState::Open, Reason::SynAck, syn_ack(65160)),
    );
    scan.on_reply(
        now,
        0,
        reply(443, PortState::Open, Reason::SynAck, syn_ack(1)),
    );
    let rst_ack = StackTraits {
        ttl: 64,
        flags: 0x14,
        ..StackTraits::default()
    };
    scan.on_reply(now, 0, reply(80, PortState::Closed, Reason::Reset, rst_ack));
    let host = scan.poll_host().expect("the host is finished");
    let stack = host.stack.expect("samples kept");
    assert_eq!(stack.len(), 2);
    assert_eq!(stack.get(SampleKind::SynAck).map(|t| t.window), Some(65160));
    assert_eq!(stack.get(SampleKind::RstAck), Some(&rst_ack));

    // Without the plan asking, nothing is kept (a sweep's live hosts
    // would otherwise each carry a box nobody reads).
    let mut scan = Scan::new(plan(vec![tech(vec![22])], 3), Box::new(vec![target]), now);
    let p = scan.poll_probe(now).expect("one probe");
    assert_eq!(p.spec.dport, 22);
    scan.on_reply(
        now,
        0,
        reply(22, PortState::Open, Reason::SynAck, syn_ack(65160)),
    );
    assert_eq!(scan.poll_host().expect("finished").stack, None);
}

#[test]
fn a_stopped_scan_hands_out_partial_hosts_marked_and_drops_unbegun_ones() {
    // 20 hosts x 100 ports, host groups of 4: stop after 150 answers.
    let mut p = plan(vec![tech((1..=100).collect())], 9);
    p.timing.max_hostgroup = Some(4);
    let mut scan = Scan::new(p, range(20), Instant::now());
    let mut now = Instant::now();
    let mut answered: HashSet<(IpAddr, u16)> = HashSet::new();
    let mut hosts = Vec::new();
    while answered.len() < 150 {
        now += Duration::from_micros(10);
        while let Some(pr) = scan.poll_probe(now) {
            if answered.len() < 150 {
                answered.insert((pr.spec.dst, pr.spec.dport));
                scan.on_reply(now, pr.technique, rst(&pr.spec));
            }
        }
        scan.handle_timeouts(now);
        while let Some(h) = scan.poll_host() {
            hosts.push(h);
        }
    }
    scan.stop();
    while let Some(h) = scan.poll_host() {
        hosts.push(h);
    }
    assert!(scan.is_done());
    // Every answer is in a reported host, and nothing else is.
    let reported: HashSet<(IpAddr, u16)> = hosts
        .iter()
        .flat_map(|h| h.ports.iter().map(move |p| (h.addr, p.port)))
        .collect();
    assert_eq!(reported, answered);
    for h in &hosts {
        assert_eq!(h.incomplete, h.ports.len() < 100, "{}", h.addr);
    }
    assert!(hosts.iter().any(|h| h.incomplete));
    assert!(hosts.len() < 20, "hosts never begun are not reported");
}

#[test]
fn a_stopped_discovery_scan_hands_out_no_undecided_host() {
    let mut p = plan(vec![tech(vec![80, 443])], 3);
    p.decide_on_answer = true;
    let mut scan = Scan::new(p, range(8), Instant::now());
    let now = Instant::now();
    // The first pings go out and nothing answers yet: no host is decided,
    // so none is handed out as down.
    while scan.poll_probe(now).is_some() {}
    scan.stop();
    assert!(scan.poll_host().is_none());
}
