//! `--exposure` on nmap's own XML: the committed fixtures (real Nmap 7.93
//! output of a scan of 198.18.0.2 and 2001:2::2, see
//! `crates/output/tests/fixtures/nmap/README.md`) joined with made-up
//! listeners of a machine holding those addresses. No root, no network.

use portolan_local::exposure::join;
use portolan_local::{Process, Proto, RawSocket, Snapshot, SocketEntry, State, Verdict};
use portolan_model::ScanDocument;
use std::net::IpAddr;
use std::sync::Arc;

fn fixture(name: &str) -> ScanDocument {
    let path = format!(
        "{}/../output/tests/fixtures/nmap/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    portolan_output::read::read_xml_str(&text).unwrap()
}

fn listener(proto: Proto, local: &str, v6only: bool) -> SocketEntry {
    let v6 = local.starts_with('[');
    SocketEntry {
        raw: RawSocket {
            proto,
            local: local.parse().unwrap(),
            remote: if v6 { "[::]:0" } else { "0.0.0.0:0" }.parse().unwrap(),
            state: if proto == Proto::Tcp {
                State::Listen
            } else {
                State::Close
            },
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 7,
            v6only,
        },
        owners: vec![Arc::new(Process {
            pid: 42,
            name: "daemon".into(),
            cmdline: "daemon -f".into(),
            user: "root".into(),
        })],
        service: None,
        netns: None,
    }
}

#[test]
fn nmap_fixtures_give_each_port_its_verdict() {
    use Verdict::*;
    let (t, u) = (Proto::Tcp, Proto::Udp);
    let snap = Snapshot {
        sockets: vec![
            listener(t, "0.0.0.0:22", false),
            listener(t, "[::]:22", true),
            listener(t, "127.0.0.1:25", false),
            listener(t, "[::]:80", true),
            listener(t, "198.18.0.2:81", false),
            listener(t, "0.0.0.0:82", false),
            listener(t, "0.0.0.0:3306", false),
            listener(u, "0.0.0.0:53", false),
            listener(u, "0.0.0.0:161", false),
            listener(u, "0.0.0.0:5002", false),
        ],
        ..Default::default()
    };
    let scans = [
        fixture("tcp-syn-version.xml"),
        fixture("udp.xml"),
        fixture("ipv6-connect.xml"),
    ];
    let here: Vec<IpAddr> = ["127.0.0.1", "198.18.0.2", "::1", "2001:2::2"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let e = join(&snap, &scans, &[(None, here)]).unwrap();
    assert!(e.foreign.is_empty());
    let got: Vec<(Proto, u16, String, String, Verdict)> = e
        .rows
        .iter()
        .map(|r| {
            let s = |a: Option<IpAddr>| a.map_or("-".into(), |a| a.to_string());
            (r.proto, r.port, s(r.listen), s(r.scanned), r.verdict)
        })
        .collect();
    let (v4, v6) = ("198.18.0.2", "2001:2::2");
    let want: Vec<(Proto, u16, String, String, Verdict)> = [
        (t, 21, "-", v4, Forwarded),
        (t, 21, "-", v6, Forwarded),
        (t, 22, "0.0.0.0", v4, Reachable),
        (t, 22, "::", v6, Reachable),
        (t, 25, "127.0.0.1", "-", Loopback),
        // IPV6_V6ONLY: the IPv4 scan's closed port 80 is not this listener.
        (t, 80, "::", v6, LocalOnly),
        (t, 81, v4, v4, Filtered),
        (t, 82, "0.0.0.0", v4, LocalOnly),
        (t, 3306, "0.0.0.0", v4, NotScanned),
        (t, 8000, "-", v4, Forwarded),
        (t, 8000, "-", v6, Forwarded),
        (u, 53, "0.0.0.0", v4, LocalOnly),
        (u, 161, "0.0.0.0", v4, Inconclusive),
        (u, 5000, "-", v4, Forwarded),
        (u, 5002, "0.0.0.0", v4, LocalOnly),
    ]
    .into_iter()
    .map(|(p, n, l, s, v)| (p, n, l.to_string(), s.to_string(), v))
    .collect();
    assert_eq!(got, want);
    let ssh = &e.rows[2];
    assert_eq!(ssh.owners[0].name, "daemon");
    assert_eq!(ssh.outside.map(|s| s.as_str()), Some("open"));
}
