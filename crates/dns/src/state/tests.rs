use super::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn core(servers: usize) -> Core {
    let servers: Vec<SocketAddr> = (0..servers)
        .map(|i| SocketAddr::new(ip("127.0.0.1"), 5300 + i as u16))
        .collect();
    Core::new(ResolverConfig {
        servers,
        ..ResolverConfig::default()
    })
}

fn transmits(c: &mut Core) -> Vec<Transmit> {
    std::iter::from_fn(|| c.poll_transmit()).collect()
}

fn answers(c: &mut Core) -> Vec<Answer> {
    std::iter::from_fn(|| c.poll_answer()).collect()
}

fn reply(t: &Transmit, name: Option<&str>) -> Vec<u8> {
    wire::ptr_response(&t.payload, name).unwrap()
}

#[test]
fn answers_a_name_and_nxdomain() {
    let mut c = core(1);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.submit(ip("198.18.0.2"));
    c.advance(t0);
    let tx = transmits(&mut c);
    assert_eq!(tx.len(), 2);
    for t in &tx {
        let a = wire::query_address(&t.payload).unwrap();
        let name = (a == ip("198.18.0.1")).then_some("one.test");
        c.on_datagram(0, &reply(t, name), t0);
    }
    let mut got = answers(&mut c);
    got.sort();
    assert_eq!(
        got,
        vec![
            (ip("198.18.0.1"), Some("one.test".into())),
            (ip("198.18.0.2"), None)
        ]
    );
    assert_eq!(c.pending(), 0);
    assert_eq!(c.next_deadline(), None);
}

#[test]
fn hosts_file_answers_without_a_query() {
    let mut cfg = ResolverConfig::default();
    cfg.hosts.insert(ip("198.18.0.9"), "nine.local".into());
    let mut c = Core::new(cfg);
    c.submit(ip("198.18.0.9"));
    c.advance(Instant::now());
    assert!(transmits(&mut c).is_empty());
    assert_eq!(
        answers(&mut c),
        vec![(ip("198.18.0.9"), Some("nine.local".into()))]
    );
}

#[test]
fn retransmits_to_the_next_server_then_gives_up() {
    let mut c = core(2);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.advance(t0);
    let first = transmits(&mut c);
    assert_eq!(first.len(), 1);
    // Nothing before the first timeout.
    c.advance(t0 + Duration::from_millis(999));
    assert!(transmits(&mut c).is_empty());
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(c.next_deadline(), Some(t1));
    c.advance(t1);
    let second = transmits(&mut c);
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].server, first[0].server, "rotates servers");
    assert_eq!(second[0].payload, first[0].payload, "same ID and question");
    // A late answer to the first try, from the first server, still counts.
    let t2 = t1 + Duration::from_secs(2);
    assert_eq!(c.next_deadline(), Some(t2));
    c.advance(t2);
    assert!(transmits(&mut c).is_empty());
    assert_eq!(answers(&mut c), vec![(ip("198.18.0.1"), None)]);
}

#[test]
fn late_answer_from_an_earlier_server_is_taken() {
    let mut c = core(2);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.advance(t0);
    let first = transmits(&mut c).remove(0);
    c.advance(t0 + Duration::from_secs(1));
    assert_eq!(transmits(&mut c).len(), 1);
    c.on_datagram(first.server, &reply(&first, Some("late.test")), t0);
    assert_eq!(
        answers(&mut c),
        vec![(ip("198.18.0.1"), Some("late.test".into()))]
    );
}

#[test]
fn ignores_answers_from_servers_not_asked_and_garbage() {
    let mut c = core(2);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.advance(t0);
    let t = transmits(&mut c).remove(0);
    let other = 1 - t.server;
    c.on_datagram(other, &reply(&t, Some("spoof.test")), t0);
    c.on_datagram(t.server, b"\x00", t0);
    c.on_datagram(t.server, &t.payload, t0); // the query itself
    let mut wrong_id = reply(&t, Some("spoof.test"));
    wrong_id[0] ^= 0xff;
    c.on_datagram(t.server, &wrong_id, t0);
    c.on_datagram(99, &reply(&t, Some("spoof.test")), t0);
    assert!(answers(&mut c).is_empty());
    assert_eq!(c.pending(), 1);
    c.on_datagram(t.server, &reply(&t, Some("real.test")), t0);
    assert_eq!(
        answers(&mut c),
        vec![(ip("198.18.0.1"), Some("real.test".into()))]
    );
    // A duplicate answer is ignored.
    c.on_datagram(t.server, &reply(&t, Some("real.test")), t0);
    assert!(answers(&mut c).is_empty());
}

#[test]
fn a_failed_server_is_skipped_and_none_left_fails_fast() {
    let mut c = core(2);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.advance(t0);
    let t = transmits(&mut c).remove(0);
    c.server_failed(t.server, t0);
    c.advance(t0);
    let retry = transmits(&mut c);
    assert_eq!(retry.len(), 1);
    assert_ne!(retry[0].server, t.server);
    c.server_failed(retry[0].server, t0);
    for i in 0..50 {
        c.submit(ip(&format!("198.18.1.{i}")));
    }
    c.advance(t0);
    assert!(transmits(&mut c).is_empty());
    let got = answers(&mut c);
    assert_eq!(got.len(), 51);
    assert!(got.iter().all(|(_, n)| n.is_none()));
    assert_eq!(c.pending(), 0);
}

#[test]
fn no_servers_means_no_names_at_once() {
    let mut c = core(0);
    c.submit(ip("198.18.0.1"));
    c.advance(Instant::now());
    assert_eq!(answers(&mut c), vec![(ip("198.18.0.1"), None)]);
}

#[test]
fn a_silent_server_is_given_up_after_a_few_timeouts() {
    let mut c = core(1);
    let t0 = Instant::now();
    for i in 0..1000 {
        c.submit(ip(&format!("198.18.{}.{}", i / 256, i % 256)));
    }
    c.advance(t0);
    assert_eq!(transmits(&mut c).len(), INITIAL_WINDOW);
    c.advance(t0 + Duration::from_secs(1));
    // The first timeouts kill the server; every lookup ends now.
    assert_eq!(answers(&mut c).len(), 1000);
    assert_eq!(c.pending(), 0);
}

#[test]
fn a_server_that_answered_is_kept_through_timeouts() {
    let mut c = core(1);
    let t0 = Instant::now();
    for i in 0..10 {
        c.submit(ip(&format!("198.18.0.{i}")));
    }
    c.advance(t0);
    let tx = transmits(&mut c);
    c.on_datagram(0, &reply(&tx[0], Some("a.test")), t0);
    c.advance(t0 + Duration::from_secs(1));
    assert_eq!(transmits(&mut c).len(), 9, "every other query retried");
}

#[test]
fn servfail_tries_another_server() {
    let mut c = core(2);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.advance(t0);
    let t = transmits(&mut c).remove(0);
    let mut fail = reply(&t, None);
    fail[3] = 0x82;
    c.on_datagram(t.server, &fail, t0);
    c.advance(t0);
    let retry = transmits(&mut c);
    assert_eq!(retry.len(), 1);
    assert_ne!(retry[0].server, t.server);
    // SERVFAIL from the second too: no name, no third try.
    c.on_datagram(retry[0].server, &fail, t0);
    c.advance(t0);
    assert!(transmits(&mut c).is_empty());
    assert_eq!(answers(&mut c), vec![(ip("198.18.0.1"), None)]);
}

#[test]
fn the_same_address_twice_gets_two_answers() {
    let mut c = core(1);
    let t0 = Instant::now();
    c.submit(ip("198.18.0.1"));
    c.submit(ip("198.18.0.1"));
    c.advance(t0);
    for t in transmits(&mut c) {
        c.on_datagram(0, &reply(&t, Some("x.test")), t0);
    }
    assert_eq!(answers(&mut c).len(), 2);
}

#[test]
fn the_window_grows_with_answers_up_to_the_limit() {
    let mut c = core(1);
    let t0 = Instant::now();
    for i in 0..2000 {
        c.submit(ip(&format!("198.18.{}.{}", i / 250, i % 250)));
    }
    let mut most = 0;
    for _ in 0..6 {
        c.advance(t0);
        let tx = transmits(&mut c);
        most = most.max(c.inflight.len());
        for t in &tx {
            c.on_datagram(0, &reply(t, None), t0);
        }
    }
    assert_eq!(most, 128);
    // A round of timeouts halves it, once.
    let t1 = t0 + Duration::from_secs(1);
    c.advance(t0);
    assert_eq!(c.inflight.len(), 128);
    c.advance(t1);
    assert_eq!(c.window, 64);
}

/// One thing that can happen to the resolver.
#[derive(Debug, Clone)]
enum Event {
    Submit(u8),
    Wait(u16),
    /// Answer the n-th transmit so far (name or not), from its server or
    /// another, possibly mangled.
    Reply {
        which: usize,
        name: bool,
        other_server: bool,
        mangle: Option<(usize, u8)>,
    },
    Garbage(Vec<u8>, usize),
    Fail(usize),
}

fn event() -> impl proptest::strategy::Strategy<Value = Event> {
    use proptest::prelude::*;
    prop_oneof![
        any::<u8>().prop_map(Event::Submit),
        (0u16..3000).prop_map(Event::Wait),
        (
            any::<usize>(),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of((any::<usize>(), any::<u8>()))
        )
            .prop_map(|(which, name, other_server, mangle)| Event::Reply {
                which,
                name,
                other_server,
                mangle
            }),
        (proptest::collection::vec(any::<u8>(), 0..80), 0usize..4)
            .prop_map(|(b, s)| Event::Garbage(b, s)),
        (0usize..4).prop_map(Event::Fail),
    ]
}

proptest::proptest! {
    /// Whatever happens, nothing panics, the window is respected, and
    /// every submitted address is answered exactly once in the end.
    #[test]
    fn every_lookup_is_answered_exactly_once(
        servers in 0usize..4,
        events in proptest::collection::vec(event(), 0..200),
    ) {
        let mut c = core(servers);
        let mut now = Instant::now();
        let mut sent: Vec<Transmit> = Vec::new();
        let mut submitted: HashMap<IpAddr, usize> = HashMap::new();
        let mut answered: HashMap<IpAddr, usize> = HashMap::new();
        let mut collect = |c: &mut Core, sent: &mut Vec<Transmit>, now: Instant| {
            c.advance(now);
            sent.extend(transmits(c));
            proptest::prop_assert!(c.inflight.len() <= c.cfg.max_outstanding);
            for (a, _) in answers(c) {
                *answered.entry(a).or_default() += 1;
            }
            Ok(())
        };
        for e in events {
            match e {
                Event::Submit(b) => {
                    let a = IpAddr::from([198, 18, 0, b]);
                    *submitted.entry(a).or_default() += 1;
                    c.submit(a);
                }
                Event::Wait(ms) => now += Duration::from_millis(u64::from(ms)),
                Event::Reply { which, name, other_server, mangle } => {
                    if !sent.is_empty() {
                        let t = &sent[which % sent.len()];
                        let mut r = reply(t, name.then_some("x.test"));
                        if let Some((at, b)) = mangle {
                            let n = r.len();
                            r[at % n] = b;
                        }
                        let server = if other_server { t.server + 1 } else { t.server };
                        c.on_datagram(server, &r, now);
                    }
                }
                Event::Garbage(b, s) => c.on_datagram(s, &b, now),
                Event::Fail(s) => c.server_failed(s, now),
            }
            collect(&mut c, &mut sent, now)?;
        }
        // Time passes with no more answers: everything ends.
        for _ in 0..(submitted.values().sum::<usize>() + 10) {
            now += Duration::from_secs(3);
            collect(&mut c, &mut sent, now)?;
        }
        proptest::prop_assert_eq!(c.pending(), 0);
        proptest::prop_assert_eq!(submitted, answered);
    }
}

#[test]
fn loopback_addresses_are_never_asked() {
    let mut cfg = ResolverConfig {
        servers: vec!["127.0.0.1:5300".parse().unwrap()],
        ..ResolverConfig::default()
    };
    cfg.hosts.insert(ip("127.0.0.1"), "localhost".into());
    let mut c = Core::new(cfg);
    for a in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.9"] {
        c.submit(ip(a));
    }
    c.advance(Instant::now());
    assert!(transmits(&mut c).is_empty());
    assert_eq!(
        answers(&mut c),
        vec![
            (ip("127.0.0.1"), Some("localhost".into())),
            (ip("127.0.0.2"), None),
            (ip("::1"), None),
            (ip("::ffff:127.0.0.9"), None),
        ]
    );
}
