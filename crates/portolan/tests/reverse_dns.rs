//! Reverse DNS: the [`ReverseDnsStage`] against a fake DNS server on
//! 127.0.0.1, and the binary's `-sL` / `-sn` against a fake server inside
//! a namespace testbed (needs root; skipped, saying so, without it).
//!
//! Every lookup goes to a server the test started: explicit servers only,
//! never the machine's resolv.conf.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portolan_dns::{wire, ResolverConfig, ReverseResolver};
use portolan_model::{HostResult, HostStatus, Hostname, HostnameKind, Reason};
use portolan_session::rdns::{add_ptr_name, ReverseDnsStage};
use portolan_session::stage::HostStage;
use portolan_testbed::{in_netns, require_root, Testbed};

/// What the fake server says about an address: a name, NXDOMAIN (`None`),
/// or nothing at all (absent from the map).
type Zone = HashMap<IpAddr, Option<String>>;

/// A DNS server on a socket the test bound; stops on drop.
struct FakeServer {
    stop: Arc<AtomicBool>,
    queries: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn serve(sock: UdpSocket, zone: Zone) -> Self {
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(AtomicUsize::new(0));
        let (flag, count) = (stop.clone(), queries.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let end = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && Instant::now() < end {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                count.fetch_add(1, Ordering::Relaxed);
                let q = &buf[..n];
                let Some(answer) = wire::query_address(q).and_then(|a| zone.get(&a)) else {
                    continue;
                };
                if let Some(r) = wire::ptr_response(q, answer.as_deref()) {
                    let _ = sock.send_to(&r, from);
                }
            }
        });
        FakeServer {
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

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn zone(entries: &[(&str, Option<&str>)]) -> Zone {
    entries
        .iter()
        .map(|(a, n)| (ip(a), n.map(str::to_string)))
        .collect()
}

fn host(addr: &str) -> HostResult {
    HostResult::new(ip(addr), HostStatus::Up, Reason::UserSet)
}

/// A stage asking a fake server on 127.0.0.1 with short timeouts.
fn loopback_stage(zone: Zone) -> (ReverseDnsStage, FakeServer, SocketAddr) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let server = FakeServer::serve(sock, zone);
    let cfg = ResolverConfig {
        servers: vec![addr],
        timeouts: vec![Duration::from_millis(200), Duration::from_millis(200)],
        ..ResolverConfig::default()
    };
    let stage = ReverseDnsStage::with_resolver(ReverseResolver::new(cfg).unwrap());
    (stage, server, addr)
}

fn names(h: &HostResult) -> Vec<(String, &'static str)> {
    h.hostnames
        .iter()
        .map(|n| (n.name.clone(), n.kind.as_str()))
        .collect()
}

#[test]
fn stage_names_hosts_as_answers_arrive() {
    let (mut stage, server, _) = loopback_stage(zone(&[
        ("198.18.0.1", Some("one.test")),
        ("198.18.0.2", None),
        ("198.18.0.3", Some("three.test")),
        ("198.18.0.4", Some("198.18.0.4")),
        ("2001:2::5", Some("five.test.")),
    ]));
    let mut typed = host("198.18.0.3");
    typed.hostnames.push(Hostname {
        name: "three.test".into(),
        kind: HostnameKind::User,
    });
    stage.submit(host("198.18.0.1"));
    stage.submit(host("198.18.0.2"));
    stage.submit(typed);
    stage.submit(host("198.18.0.4"));
    stage.submit(host("2001:2::5"));
    // The same target twice: both come back, from one query.
    stage.submit(host("198.18.0.1"));
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    while got.len() < 6 && Instant::now() < end {
        match stage.try_next() {
            Some(h) => got.push(h),
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    assert_eq!(got.len(), 6);
    assert!(stage.finish(false).is_empty());
    assert_eq!(server.queries(), 5);
    let by_addr: BTreeMap<String, Vec<_>> =
        got.iter().map(|h| (h.addr.to_string(), names(h))).collect();
    let ptr = |n: &str| vec![(n.to_string(), "PTR")];
    assert_eq!(by_addr["198.18.0.1"], ptr("one.test"));
    assert_eq!(by_addr["198.18.0.2"], vec![]);
    assert_eq!(
        by_addr["198.18.0.3"],
        vec![("three.test".to_string(), "user")],
        "a name already there is not repeated"
    );
    assert_eq!(
        by_addr["198.18.0.4"],
        vec![],
        "an address literal is dropped"
    );
    assert_eq!(by_addr["2001:2::5"], ptr("five.test"));
}

#[test]
fn finish_waits_for_every_answer() {
    let entries: Vec<(String, Option<String>)> = (1..=200)
        .map(|i| {
            let a = format!("198.18.1.{i}");
            let n = (i % 3 != 0).then(|| format!("h{i}.test"));
            (a, n)
        })
        .collect();
    let z: Zone = entries.iter().map(|(a, n)| (ip(a), n.clone())).collect();
    let (mut stage, _server, _) = loopback_stage(z);
    for (a, _) in &entries {
        stage.submit(host(a));
    }
    let mut got = stage.finish(false);
    assert_eq!(got.len(), 200);
    got.sort_by_key(|h| h.addr);
    for (h, (_, n)) in got.iter().zip(&entries) {
        assert_eq!(h.hostnames.first().map(|x| x.name.clone()), n.clone());
    }
}

#[test]
fn interrupted_finish_returns_at_once_unnamed() {
    // The server never answers this address.
    let (mut stage, _server, _) = loopback_stage(Zone::new());
    stage.submit(host("198.18.0.9"));
    let t0 = Instant::now();
    let got = stage.finish(true);
    assert!(t0.elapsed() < Duration::from_millis(100));
    assert_eq!(got.len(), 1);
    assert!(got[0].hostnames.is_empty());
}

#[test]
fn unreachable_server_does_not_hold_hosts() {
    // A closed port: ICMP port unreachable, the server is dropped at once.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = ResolverConfig {
        servers: vec![closed],
        ..ResolverConfig::default()
    };
    let mut stage = ReverseDnsStage::with_resolver(ReverseResolver::new(cfg).unwrap());
    for i in 1..=100 {
        stage.submit(host(&format!("198.18.2.{i}")));
    }
    let t0 = Instant::now();
    let got = stage.finish(false);
    assert_eq!(got.len(), 100);
    assert!(
        t0.elapsed() < Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn ptr_names_are_added_once_and_never_as_literals() {
    let mut h = host("198.18.0.1");
    add_ptr_name(&mut h, "a.test.");
    add_ptr_name(&mut h, "a.test");
    add_ptr_name(&mut h, "2001:2::1");
    add_ptr_name(&mut h, "");
    assert_eq!(names(&h), vec![("a.test".to_string(), "PTR")]);
}

// ---- The binary, in a namespace testbed ----

/// A testbed of one target, which will run the fake DNS server.
fn dns_testbed() -> Testbed {
    Testbed::builder("rdns")
        .targets(1)
        .build()
        .expect("testbed")
}

/// A fake DNS server on target 0's address, port 53, answering for the
/// addresses of `zone`.
fn dns_server(tb: &mut Testbed, zone: Zone) -> FakeServer {
    let addr = tb.target_addr(0);
    let ns = tb.target(0).unwrap().ns().to_string();
    let sock = in_netns(&ns, || UdpSocket::bind((addr, 53)))
        .expect("enter the target namespace")
        .expect("bind port 53 in the target namespace");
    FakeServer::serve(sock, zone)
}

/// Address -> hostnames (name, type) of every host in an XML report.
fn xml_names(xml: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let doc = common::parse_xml(xml);
    common::xml_hosts(&doc)
        .map(|(addr, h)| {
            let names = h
                .descendants()
                .filter(|n| n.has_tag_name("hostname"))
                .map(|n| {
                    (
                        n.attribute("name").unwrap_or("").to_string(),
                        n.attribute("type").unwrap_or("").to_string(),
                    )
                })
                .collect();
            (addr, names)
        })
        .collect()
}

fn run_in_scanner(tb: &Testbed, args: &[&str]) -> String {
    common::stdout(&common::run_in_scanner(tb, args))
}

#[test]
fn list_scan_names_targets_through_dns_servers() {
    if !require_root() {
        return;
    }
    let named = "198.18.250.1";
    let missing = "198.18.250.2";
    let six = "2001:2:0:fa::1";
    let mut tb = dns_testbed();
    let server = dns_server(
        &mut tb,
        zone(&[
            (named, Some("alpha.rdns.test")),
            (missing, None),
            (six, Some("six.rdns.test")),
        ]),
    );
    let dns = tb.target_addr(0).to_string();
    let xml = run_in_scanner(
        &tb,
        &[
            "-sL",
            "--dns-servers",
            &dns,
            named,
            missing,
            six,
            "-oX",
            "-",
        ],
    );
    let got = xml_names(&xml);
    let ptr = |n: &str| vec![(n.to_string(), "PTR".to_string())];
    assert_eq!(got[named], ptr("alpha.rdns.test"), "{xml}");
    assert_eq!(got[missing], vec![], "{xml}");
    assert_eq!(got[six], ptr("six.rdns.test"), "{xml}");
    assert!(server.queries() >= 3);
    // Normal output: "Nmap scan report for name (address)".
    let normal = run_in_scanner(&tb, &["-sL", "--dns-servers", &dns, named]);
    assert!(
        normal.contains(&format!("alpha.rdns.test ({named})")),
        "{normal}"
    );
}

#[test]
fn ping_scan_names_up_hosts() {
    if !require_root() {
        return;
    }
    let mut tb = dns_testbed();
    let target = tb.target_addr(0).to_string();
    let server = dns_server(&mut tb, zone(&[(&target, Some("target.rdns.test"))]));
    // Up hosts are named without -R, as nmap does.
    let xml = run_in_scanner(&tb, &["-sn", "--dns-servers", &target, &target, "-oX", "-"]);
    assert_eq!(
        xml_names(&xml)[&target],
        vec![("target.rdns.test".to_string(), "PTR".to_string())],
        "{xml}"
    );
    assert!(server.queries() >= 1);
}

#[test]
fn no_dns_flag_sends_no_query() {
    if !require_root() {
        return;
    }
    let named = "198.18.250.1";
    let mut tb = dns_testbed();
    let server = dns_server(&mut tb, zone(&[(named, Some("alpha.rdns.test"))]));
    let dns = tb.target_addr(0).to_string();
    let xml = run_in_scanner(
        &tb,
        &["-sL", "-n", "--dns-servers", &dns, named, "-oX", "-"],
    );
    assert_eq!(xml_names(&xml)[named], vec![], "{xml}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.queries(), 0);
}

#[test]
fn unroutable_server_fails_fast() {
    if !require_root() {
        return;
    }
    // Inside the scanner namespace only the testbed's own /30 links are
    // routed: connecting to this server fails (ENETUNREACH), nothing is
    // sent, and every host comes back unnamed at once.
    let tb = dns_testbed();
    let server: SocketAddr = "198.18.255.53:53".parse().unwrap();
    let cfg = ResolverConfig {
        servers: vec![server],
        ..ResolverConfig::default()
    };
    let resolver = in_netns(tb.scanner_ns(), || ReverseResolver::new(cfg))
        .expect("enter the scanner namespace")
        .expect("resolver starts");
    let mut stage = ReverseDnsStage::with_resolver(resolver);
    for i in 1..=50 {
        stage.submit(host(&format!("198.18.3.{i}")));
    }
    let t0 = Instant::now();
    let got = stage.finish(false);
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|h| h.hostnames.is_empty()));
    assert!(
        t0.elapsed() < Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
}
