//! The mass resolver against fake DNS servers on 127.0.0.1 (ephemeral
//! ports): names and NXDOMAIN, dropped queries (retransmission), garbage,
//! a closed port, a silent server, and 5,000 lookups for speed. Every test
//! names its servers; none ever reads the machine's resolv.conf.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portolan_dns::{wire, ResolverConfig, ReverseResolver};

/// What a fake server does with a query for an address, by how many
/// queries for that address it has seen before.
#[derive(Clone, Copy, Debug)]
enum Action {
    Name,
    NxDomain,
    Drop,
    Garbage,
}

/// A DNS server on 127.0.0.1 deciding per query; stops on drop.
struct FakeServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    queries: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(decide: impl Fn(IpAddr, usize) -> Action + Send + 'static) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(AtomicUsize::new(0));
        let (flag, count) = (stop.clone(), queries.clone());
        let thread = std::thread::spawn(move || {
            let mut seen: HashMap<IpAddr, usize> = HashMap::new();
            let mut buf = [0u8; 512];
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                count.fetch_add(1, Ordering::Relaxed);
                let q = &buf[..n];
                let Some(a) = wire::query_address(q) else {
                    continue;
                };
                let k = seen.entry(a).or_default();
                let reply = match decide(a, *k) {
                    Action::Name => wire::ptr_response(q, Some(&name_of(a))),
                    Action::NxDomain => wire::ptr_response(q, None),
                    Action::Drop => None,
                    Action::Garbage => {
                        // Right ID, then noise; then the query echoed.
                        let mut g = q[..2].to_vec();
                        g.extend_from_slice(&[0xff; 40]);
                        let _ = sock.send_to(&g, from);
                        Some(q.to_vec())
                    }
                };
                *k += 1;
                if let Some(r) = reply {
                    let _ = sock.send_to(&r, from);
                }
            }
        });
        FakeServer {
            addr,
            stop,
            queries,
            thread: Some(thread),
        }
    }

    fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn name_of(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v4) => format!("host-{}.test", v4.octets()[3]),
        IpAddr::V6(v6) => format!("host6-{}.test", v6.octets()[15]),
    }
}

fn config(servers: &[SocketAddr], timeout_ms: &[u64]) -> ResolverConfig {
    ResolverConfig {
        servers: servers.to_vec(),
        timeouts: timeout_ms
            .iter()
            .map(|&m| Duration::from_millis(m))
            .collect(),
        ..ResolverConfig::default()
    }
}

fn addrs(n: usize) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::from([198, 18, (i / 250) as u8, (i % 250) as u8 + 1]))
        .collect()
}

/// Submits every address and collects every answer, within `limit`.
fn resolve_all(
    r: &mut ReverseResolver,
    addrs: &[IpAddr],
    limit: Duration,
) -> HashMap<IpAddr, Option<String>> {
    for &a in addrs {
        assert!(r.submit(a));
    }
    let end = Instant::now() + limit;
    let mut out = HashMap::new();
    while out.len() < addrs.len() && Instant::now() < end {
        if let Some((a, n)) = r.recv_timeout(Duration::from_millis(50)) {
            assert!(out.insert(a, n).is_none(), "{a} answered twice");
        }
    }
    assert_eq!(out.len(), addrs.len(), "every address answered in time");
    assert_eq!(r.pending(), 0);
    assert!(r.try_recv().is_none());
    out
}

fn odd(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => v4.octets()[3] % 2 == 1,
        IpAddr::V6(v6) => v6.octets()[15] % 2 == 1,
    }
}

#[test]
fn names_and_nxdomain() {
    let srv = FakeServer::start(|a, _| {
        if odd(a) {
            Action::Name
        } else {
            Action::NxDomain
        }
    });
    let mut r = ReverseResolver::new(config(&[srv.addr], &[1000, 2000])).unwrap();
    let mut all = addrs(20);
    all.push("2001:2::7".parse().unwrap());
    all.push("2001:2::8".parse().unwrap());
    let got = resolve_all(&mut r, &all, Duration::from_secs(5));
    for a in all {
        let want = odd(a).then(|| name_of(a));
        assert_eq!(got[&a], want, "{a}");
    }
}

#[test]
fn dropped_queries_are_retransmitted() {
    // The first query for every even address is dropped; the rest are
    // answered (a server that never answered is given up on instead).
    let srv = FakeServer::start(|a, seen| {
        if seen == 0 && !odd(a) {
            Action::Drop
        } else {
            Action::Name
        }
    });
    let mut r = ReverseResolver::new(config(&[srv.addr], &[150, 300])).unwrap();
    let all = addrs(50);
    let t0 = Instant::now();
    let got = resolve_all(&mut r, &all, Duration::from_secs(5));
    assert!(t0.elapsed() >= Duration::from_millis(150));
    for a in all {
        assert_eq!(got[&a], Some(name_of(a)), "{a}");
    }
    assert_eq!(
        srv.queries(),
        75,
        "one retransmission for each even address"
    );
}

#[test]
fn two_tries_then_no_name() {
    let srv = FakeServer::start(|_, seen| if seen < 2 { Action::Drop } else { Action::Name });
    let mut r = ReverseResolver::new(config(&[srv.addr], &[100, 100])).unwrap();
    // Two addresses: fewer timeouts than it takes to give up on a server.
    let got = resolve_all(&mut r, &addrs(2), Duration::from_secs(5));
    assert!(got.values().all(Option::is_none));
    assert_eq!(srv.queries(), 4);
}

#[test]
fn garbage_is_ignored() {
    let bad = FakeServer::start(|_, _| Action::Garbage);
    let good = FakeServer::start(|_, _| Action::Name);
    // Garbage only: nothing accepted, every lookup ends without a name.
    let mut r = ReverseResolver::new(config(&[bad.addr], &[100, 100])).unwrap();
    let got = resolve_all(&mut r, &addrs(10), Duration::from_secs(5));
    assert!(got.values().all(Option::is_none));
    // Garbage first, then a good server on the retry.
    let mut r = ReverseResolver::new(config(&[bad.addr, good.addr], &[100, 200])).unwrap();
    let all = addrs(10);
    let got = resolve_all(&mut r, &all, Duration::from_secs(5));
    for a in all {
        assert_eq!(got[&a], Some(name_of(a)), "{a}");
    }
}

#[test]
fn closed_port_fails_fast() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The socket is closed here: the port answers ICMP port unreachable.
    let mut r = ReverseResolver::new(config(&[port], &[1000, 2000])).unwrap();
    let t0 = Instant::now();
    let got = resolve_all(&mut r, &addrs(1000), Duration::from_secs(5));
    assert!(got.values().all(Option::is_none));
    assert!(
        t0.elapsed() < Duration::from_millis(900),
        "took {:?}",
        t0.elapsed()
    );
}

#[test]
fn silent_server_costs_one_timeout() {
    let srv = FakeServer::start(|_, _| Action::Drop);
    let mut r = ReverseResolver::new(config(&[srv.addr], &[300, 600])).unwrap();
    let t0 = Instant::now();
    let got = resolve_all(&mut r, &addrs(1000), Duration::from_secs(5));
    assert!(got.values().all(Option::is_none));
    let took = t0.elapsed();
    // Without giving up on the server: about 30 s (1000 lookups, 0.9 s each).
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[test]
fn hosts_entries_need_no_server() {
    let mut cfg = config(&[], &[100]);
    cfg.hosts
        .insert("198.18.0.1".parse().unwrap(), "one.hosts".into());
    let mut r = ReverseResolver::new(cfg).unwrap();
    let got = resolve_all(
        &mut r,
        &["198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap()],
        Duration::from_secs(2),
    );
    assert_eq!(
        got[&"198.18.0.1".parse().unwrap()],
        Some("one.hosts".into())
    );
    assert_eq!(got[&"198.18.0.2".parse().unwrap()], None);
}

#[test]
fn five_thousand_lookups_are_fast() {
    let srv = FakeServer::start(|a, _| {
        if odd(a) {
            Action::Name
        } else {
            Action::NxDomain
        }
    });
    let mut r = ReverseResolver::new(config(&[srv.addr], &[1000, 2000])).unwrap();
    let all = addrs(5000);
    let t0 = Instant::now();
    let got = resolve_all(&mut r, &all, Duration::from_secs(10));
    let took = t0.elapsed();
    eprintln!("5000 lookups in {took:?}, {} queries", srv.queries());
    assert_eq!(got.values().filter(|n| n.is_some()).count(), 2500);
    // About 0.1 s here (debug build); slack for a loaded machine.
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn dropping_the_resolver_stops_it() {
    let srv = FakeServer::start(|_, _| Action::Drop);
    let mut r = ReverseResolver::new(config(&[srv.addr], &[5000, 5000])).unwrap();
    for a in addrs(10) {
        r.submit(a);
    }
    let t0 = Instant::now();
    drop(r);
    assert!(t0.elapsed() < Duration::from_secs(1));
}

/// `--system-dns`: only where the lookup is sure to stay local (the hosts
/// file is consulted first and names 127.0.0.1), so it never reaches the
/// machine's name servers.
#[test]
fn system_resolver_answers_from_the_hosts_file() {
    let nss = std::fs::read_to_string("/etc/nsswitch.conf").unwrap_or_default();
    let files_first = nss.lines().any(|l| {
        let mut w = l.split_whitespace();
        w.next() == Some("hosts:") && w.next() == Some("files")
    });
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let listed = portolan_dns::config::parse_hosts(&hosts);
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let Some(want) = listed.get(&lo).filter(|_| files_first) else {
        eprintln!("skipped: 127.0.0.1 might not be answered locally");
        return;
    };
    let mut r = ReverseResolver::system(4).unwrap();
    let got = resolve_all(&mut r, &[lo], Duration::from_secs(5));
    assert_eq!(got[&lo].as_deref(), Some(want.as_str()));
}

/// `--system-dns` never asks about a loopback address the hosts file does
/// not list (it would go to the machine's name servers).
#[test]
fn system_resolver_keeps_unlisted_loopback_local() {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let listed = portolan_dns::config::parse_hosts(&hosts);
    let unlisted: Vec<IpAddr> = ["127.0.0.2", "127.1.2.3", "::1"]
        .iter()
        .map(|a| a.parse().unwrap())
        .filter(|a| !listed.contains_key(a))
        .collect();
    let mut r = ReverseResolver::system(2).unwrap();
    let t0 = Instant::now();
    let got = resolve_all(&mut r, &unlisted, Duration::from_secs(1));
    assert!(got.values().all(Option::is_none));
    assert!(t0.elapsed() < Duration::from_millis(200));
}
