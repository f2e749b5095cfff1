use super::*;
use crate::model::{RawSocket, SocketEntry};
use portolan_model::{HostResult, HostStatus, PortResult, Reason, ScanInfo};

fn sock(proto: Proto, state: State, local: &str, v6only: bool, pid: u32) -> SocketEntry {
    SocketEntry {
        raw: RawSocket {
            proto,
            local: local.parse().unwrap(),
            remote: if local.starts_with('[') {
                "[::]:0".parse().unwrap()
            } else {
                "0.0.0.0:0".parse().unwrap()
            },
            state,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: u64::from(pid),
            v6only,
        },
        owners: vec![Arc::new(Process {
            pid,
            name: format!("p{pid}"),
            cmdline: String::new(),
            user: "root".into(),
        })],
        service: None,
        netns: None,
    }
}

fn scan(addr: &str, ports: &[(Protocol, u16, PortState)]) -> ScanDocument {
    let info = ScanInfo {
        version: String::new(),
        args: String::new(),
        start_time: 0,
        scans: Vec::new(),
        verbose: 0,
        debugging: 0,
    };
    let mut doc = ScanDocument::new(info);
    let mut h = HostResult::new(addr.parse().unwrap(), HostStatus::Up, Reason::UserSet);
    for &(protocol, port, state) in ports {
        h.ports.push(PortResult {
            port,
            protocol,
            state,
            reason: Reason::UserSet,
            reason_ttl: 0,
            service: None,
        });
    }
    doc.hosts.push(h);
    doc
}

fn here(addrs: &[&str]) -> Vec<(Option<Arc<str>>, Vec<IpAddr>)> {
    vec![(None, addrs.iter().map(|a| a.parse().unwrap()).collect())]
}

fn verdicts(e: &Exposure) -> Vec<(u16, Option<String>, Option<String>, Verdict)> {
    e.rows
        .iter()
        .map(|r| {
            (
                r.port,
                r.listen.map(|a| a.to_string()),
                r.scanned.map(|a| a.to_string()),
                r.verdict,
            )
        })
        .collect()
}

const T: Protocol = Protocol::Tcp;

#[test]
fn each_verdict_from_listeners_and_a_scan() {
    use PortState::*;
    let snap = Snapshot {
        sockets: vec![
            sock(Proto::Tcp, State::Listen, "0.0.0.0:22", false, 1),
            sock(Proto::Tcp, State::Listen, "127.0.0.1:5432", false, 2),
            sock(Proto::Tcp, State::Listen, "0.0.0.0:6379", false, 3),
            sock(Proto::Tcp, State::Listen, "198.18.0.2:8000", false, 4),
            sock(Proto::Tcp, State::Listen, "198.18.0.2:8001", false, 4),
            sock(Proto::Tcp, State::Listen, "0.0.0.0:9000", false, 5),
            sock(Proto::Udp, State::Close, "0.0.0.0:53", false, 6),
            // A connection is no listener.
            sock(Proto::Tcp, State::Established, "198.18.0.2:40000", false, 7),
        ],
        ..Default::default()
    };
    let doc = scan(
        "198.18.0.2",
        &[
            (T, 22, Open),
            (T, 5432, Closed),
            (T, 6379, Filtered),
            (T, 8000, Filtered),
            (T, 8001, Closed),
            (T, 8080, Open),
            (T, 8081, Closed),
            (Protocol::Udp, 53, OpenFiltered),
        ],
    );
    let e = join(&snap, &[doc], &here(&["127.0.0.1", "198.18.0.2"])).unwrap();
    let s = |x: &str| Some(x.to_string());
    let ip = s("198.18.0.2");
    assert_eq!(
        verdicts(&e),
        [
            (22, s("0.0.0.0"), ip.clone(), Verdict::Reachable),
            (5432, s("127.0.0.1"), None, Verdict::Loopback),
            (6379, s("0.0.0.0"), ip.clone(), Verdict::LocalOnly),
            (8000, ip.clone(), ip.clone(), Verdict::Filtered),
            (8001, ip.clone(), ip.clone(), Verdict::Filtered),
            (8080, None, ip.clone(), Verdict::Forwarded),
            (9000, s("0.0.0.0"), ip.clone(), Verdict::NotScanned),
            (53, s("0.0.0.0"), ip.clone(), Verdict::Inconclusive),
        ]
    );
    assert_eq!(e.rows[0].owners[0].pid, 1);
    assert!(!e.hosts[0].assumed);
}

#[test]
fn ipv6_wildcards_take_ipv4_unless_v6only() {
    let snap = Snapshot {
        sockets: vec![
            sock(Proto::Tcp, State::Listen, "[::]:80", false, 1),
            sock(Proto::Tcp, State::Listen, "[::]:81", true, 2),
            sock(
                Proto::Tcp,
                State::Listen,
                "[::ffff:198.18.0.2]:82",
                false,
                3,
            ),
            sock(Proto::Tcp, State::Listen, "198.18.0.9:83", false, 4),
        ],
        ..Default::default()
    };
    let doc = scan(
        "198.18.0.2",
        &[
            (T, 80, PortState::Open),
            (T, 81, PortState::Open),
            (T, 82, PortState::Open),
        ],
    );
    let e = join(&snap, &[doc], &here(&["198.18.0.2", "198.18.0.9"])).unwrap();
    let v: Vec<_> = verdicts(&e).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(
        v,
        [
            (80, Verdict::Reachable),
            // v6only: the IPv4 scan reached no listener (the forward row,
            // without a listener, sorts first), and the listener's IPv6
            // addresses were not scanned.
            (81, Verdict::Forwarded),
            (81, Verdict::NotScanned),
            (82, Verdict::Reachable),
            // Bound to another address of ours, which the scan missed.
            (83, Verdict::NotScanned),
        ]
    );
}

#[test]
fn foreign_hosts_are_ignored_or_one_is_assumed_or_none_is_an_error() {
    let snap = Snapshot {
        sockets: vec![
            sock(Proto::Tcp, State::Listen, "10.0.0.5:443", false, 1),
            sock(Proto::Tcp, State::Listen, "127.0.0.1:444", false, 1),
        ],
        ..Default::default()
    };
    let open = [(T, 443, PortState::Open), (T, 444, PortState::Open)];
    // A scan of a forwarded public address: assumed to be us.
    let e = join(&snap, &[scan("203.0.113.7", &open)], &here(&["10.0.0.5"])).unwrap();
    assert!(e.hosts[0].assumed);
    let v: Vec<_> = verdicts(&e).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(
        v,
        [
            (443, Verdict::Reachable),
            (444, Verdict::Forwarded),
            (444, Verdict::Loopback)
        ]
    );
    // Two scanned hosts, one ours: the other is listed as foreign.
    let two = [scan("10.0.0.5", &open), scan("10.0.0.6", &open)];
    let e = join(&snap, &two, &here(&["10.0.0.5"])).unwrap();
    assert_eq!(e.foreign, ["10.0.0.6".parse::<IpAddr>().unwrap()]);
    assert_eq!(e.hosts.len(), 1);
    // Two scanned hosts, neither ours: an error naming them.
    let two = [scan("10.0.0.7", &open), scan("10.0.0.6", &open)];
    let err = join(&snap, &two, &here(&["10.0.0.5"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--exposure: no scanned host is an address of this machine (scanned: 10.0.0.6, 10.0.0.7)"
    );
}

#[test]
fn a_newer_scan_of_a_port_wins() {
    let snap = Snapshot {
        sockets: vec![sock(Proto::Tcp, State::Listen, "0.0.0.0:22", false, 1)],
        ..Default::default()
    };
    let mut old = scan("198.18.0.2", &[(T, 22, PortState::Filtered)]);
    old.info.start_time = 100;
    let mut new = scan("198.18.0.2", &[(T, 22, PortState::Open)]);
    new.info.start_time = 200;
    let e = join(&snap, &[new, old], &here(&["198.18.0.2"])).unwrap();
    assert_eq!(e.rows[0].verdict, Verdict::Reachable);
}
