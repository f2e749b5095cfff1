//! Namespace tests (root): sockets in every interesting state, listed by
//! portolan and by `ss -tanupH` in the same namespace, must agree.

mod common;

use common::{Ns, NAMED_PY, STATES_NFT, STATES_PY};
use portolan_local::{list, Backend, LocalQuery, Proto, Snapshot, State};
use std::collections::BTreeSet;
use std::net::SocketAddr;

type Row = (String, String, SocketAddr, SocketAddr, Vec<u32>);

fn ss_state(proto: Proto, s: State) -> String {
    match (proto, s) {
        (_, State::Established) => "ESTAB".into(),
        (_, State::Close) => "UNCONN".into(),
        (_, State::FinWait1) => "FIN-WAIT-1".into(),
        (_, State::FinWait2) => "FIN-WAIT-2".into(),
        (p, s) => s.name(p).replace('_', "-"),
    }
}

fn ss_addr(text: &str) -> SocketAddr {
    let (ip, port) = text.rsplit_once(':').unwrap();
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    let ip = ip.split('%').next().unwrap();
    // ss writes a dual-stack IPv6 wildcard as `*`.
    let ip = if ip == "*" { "::" } else { ip };
    let port: u16 = if port == "*" {
        0
    } else {
        port.parse().unwrap()
    };
    SocketAddr::new(ip.parse().unwrap(), port)
}

fn ss_rows(ns: &Ns) -> BTreeSet<Row> {
    let out = ns.output(&["ss", "-tanupH"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let mut pids: Vec<u32> = l
                .split("pid=")
                .skip(1)
                .map(|s| s.split(|c: char| !c.is_ascii_digit()).next().unwrap())
                .map(|s| s.parse().unwrap())
                .collect();
            pids.sort();
            pids.dedup();
            (
                f[0].to_string(),
                f[1].to_string(),
                ss_addr(f[4]),
                ss_addr(f[5]),
                pids,
            )
        })
        .collect()
}

fn our_rows(snap: &Snapshot) -> BTreeSet<Row> {
    snap.sockets
        .iter()
        .map(|e| {
            let mut pids: Vec<u32> = e.owners.iter().map(|p| p.pid).collect();
            pids.sort();
            (
                e.raw.proto.name().to_string(),
                ss_state(e.raw.proto, e.raw.state),
                e.raw.local,
                e.raw.remote,
                pids,
            )
        })
        .collect()
}

fn states_ns(tag: &str) -> (Ns, u32) {
    let mut ns = Ns::new(tag);
    ns.nft(STATES_NFT);
    let pid = ns.spawn_python(STATES_PY, &[]);
    (ns, pid)
}

fn q(ns: &Ns) -> LocalQuery {
    LocalQuery {
        all: true,
        netns: Some(ns.name.clone()),
        ..Default::default()
    }
}

#[test]
fn every_state_agrees_with_ss() {
    if !portolan_testbed::require_root() {
        return;
    }
    let (ns, pid) = states_ns("ss");
    let snap = list(&q(&ns)).unwrap();
    assert_eq!(snap.source, "netlink");
    let ours = our_rows(&snap);
    let theirs = ss_rows(&ns);
    assert_eq!(ours, theirs, "portolan vs ss -tanupH");
    let states: BTreeSet<&str> = snap.sockets.iter().map(|e| e.state_name()).collect();
    for want in [
        "LISTEN",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "FIN_WAIT2",
        "TIME_WAIT",
        "SYN_RECV",
        "SYN_SENT",
        "UNCONN",
        "ESTAB",
    ] {
        assert!(states.contains(want), "no {want} socket in {states:?}");
    }
    // Owners, v4 and v6, scope, service, queues.
    let l3 = snap
        .sockets
        .iter()
        .find(|e| e.raw.local.port() == 7003)
        .unwrap();
    assert_eq!(l3.scope().name(), "all");
    assert_eq!(l3.raw.send_q, 7, "backlog as ss shows it");
    assert_eq!(l3.owners[0].pid, pid);
    assert_eq!(l3.owners[0].user, "root");
    assert!(l3.owners[0].cmdline.contains("-c"));
    assert_eq!(l3.netns.as_deref(), Some(ns.name.as_str()));
    let l2 = snap
        .sockets
        .iter()
        .find(|e| e.raw.local.port() == 7002 && e.raw.state == State::Listen)
        .unwrap();
    assert_eq!(l2.scope().name(), "loopback");
    assert!(l2.raw.local.is_ipv6());
    let tw = snap
        .sockets
        .iter()
        .find(|e| e.raw.state == State::TimeWait)
        .unwrap();
    assert!(tw.owners.is_empty());
    assert_eq!(tw.raw.local.port(), 7005);
}

#[test]
fn procfs_fallback_agrees_with_netlink() {
    if !portolan_testbed::require_root() {
        return;
    }
    let (ns, _) = states_ns("proc");
    let a = list(&q(&ns)).unwrap();
    let b = list(&LocalQuery {
        backend: Backend::ProcNet,
        ..q(&ns)
    })
    .unwrap();
    assert_eq!(b.source, "procfs");
    assert_eq!(our_rows(&a), our_rows(&b));
    assert_eq!(our_rows(&b), ss_rows(&ns));
}

#[test]
fn filters_select() {
    if !portolan_testbed::require_root() {
        return;
    }
    let (mut ns, pid) = states_ns("filt");
    let other = ns.spawn_python(NAMED_PY, &["7020", "otherproc"]);
    let ports = |query: LocalQuery| -> Vec<(u16, &'static str)> {
        let s = list(&query).unwrap();
        let mut v: Vec<_> = s
            .sockets
            .iter()
            .map(|e| (e.raw.local.port(), e.state_name()))
            .collect();
        v.sort();
        v
    };
    let base = || LocalQuery {
        netns: Some(ns.name.clone()),
        ..Default::default()
    };
    // Default: listeners only, TCP and UDP.
    assert_eq!(
        ports(base()),
        [
            (7001, "LISTEN"),
            (7002, "LISTEN"),
            (7003, "LISTEN"),
            (7004, "LISTEN"),
            (7005, "LISTEN"),
            (7006, "LISTEN"),
            (7010, "UNCONN"),
            (7011, "UNCONN"),
            (7020, "LISTEN")
        ]
    );
    assert_eq!(
        ports(LocalQuery {
            udp: true,
            ipv6: true,
            ..base()
        }),
        [(7011, "UNCONN")]
    );
    assert_eq!(
        ports(LocalQuery {
            states: vec!["close-wait,syn_recv".into()],
            ..base()
        }),
        [(7004, "CLOSE_WAIT"), (7006, "SYN_RECV")]
    );
    assert_eq!(
        ports(LocalQuery {
            all: true,
            tcp: true,
            ports: Some("7002".into()),
            ..base()
        })
        .len(),
        3,
        "listener and both ends of the connection"
    );
    // The kernel's bytecode filter keeps exactly what the ports select.
    let everything = list(&LocalQuery {
        all: true,
        ..base()
    })
    .unwrap();
    let wanted = |p: u16| (7001..=7003).contains(&p) || p == 7010 || p == 7011;
    let mut expect: Vec<(u16, &str)> = everything
        .sockets
        .iter()
        .filter(|e| wanted(e.raw.local.port()) || wanted(e.raw.remote.port()))
        .map(|e| (e.raw.local.port(), e.state_name()))
        .collect();
    expect.sort();
    assert_eq!(
        ports(LocalQuery {
            all: true,
            ports: Some("7001-7003,7010,7011".into()),
            ..base()
        }),
        expect
    );
    assert_eq!(
        ports(LocalQuery {
            pid: Some(other),
            ..base()
        }),
        [(7020, "LISTEN")]
    );
    assert_eq!(
        ports(LocalQuery {
            process: Some("otherproc".into()),
            all: true,
            ..base()
        }),
        [(7020, "LISTEN")]
    );
    let mine = ports(LocalQuery {
        pid: Some(pid),
        ipv4: true,
        udp: true,
        all: true,
        ..base()
    });
    let states: Vec<&str> = mine.iter().map(|x| x.1).collect();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(states.contains(&"UNCONN") && states.contains(&"ESTAB"));
}

#[test]
fn unprivileged_sees_sockets_and_hides_other_owners() {
    if !portolan_testbed::require_root() {
        return;
    }
    let (mut ns, _) = states_ns("nobody");
    let mine = ns.spawn_python_as(&common::AS_NOBODY, NAMED_PY, &["7030", "nobodyproc"]);
    let root = list(&q(&ns)).unwrap();
    let exe = common::example();
    let exe = exe.to_str().unwrap();
    let mut args: Vec<&str> = common::AS_NOBODY.to_vec();
    args.extend([exe, "-a", "--json"]);
    let out = ns.output(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("hidden").count(), 1, "said once: {stderr:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["portolanlocal"]["owners_hidden"], true);
    let socks = doc["sockets"].as_array().unwrap();
    // Every socket is listed (a few may change state between the two
    // listings only if the kernel times them out: none does within a
    // test's seconds).
    assert_eq!(socks.len(), root.sockets.len());
    for s in socks {
        let owners = s["owners"].as_array().unwrap();
        if s["local_port"] == 7030 {
            assert_eq!(owners[0]["pid"], mine);
            assert_eq!(owners[0]["user"], "nobody");
            assert_eq!(owners[0]["name"], "nobodyproc");
        } else {
            assert!(owners.is_empty(), "root's owners shown to nobody: {s}");
        }
    }
}

#[test]
fn netns_all_labels_rows() {
    if !portolan_testbed::require_root() {
        return;
    }
    let (ns, pid) = states_ns("all");
    let snap = list(&LocalQuery {
        netns: Some("all".into()),
        tcp: true,
        ..Default::default()
    })
    .unwrap();
    let ours: Vec<_> = snap
        .sockets
        .iter()
        .filter(|e| e.netns.as_deref() == Some(ns.name.as_str()))
        .collect();
    assert_eq!(ours.len(), 6, "the six TCP listeners of the namespace");
    assert!(ours.iter().all(|e| e.owners[0].pid == pid));
    // The current namespace's rows carry no label and none of ours.
    assert!(snap
        .sockets
        .iter()
        .filter(|e| e.netns.is_none())
        .all(|e| !(7001..=7007).contains(&e.raw.local.port())));
    let table = portolan_local::render(&snap, portolan_local::Format::Table);
    assert!(table.starts_with("NETNS "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&format!("{} ", ns.name)) && l.contains(" tcp ")),
        "{table}"
    );
    // Summary of the namespace: counts per state and the owner.
    let one = list(&q(&ns)).unwrap();
    let sum = portolan_local::summarize(&one, None);
    assert_eq!(sum.total, one.sockets.len());
    assert_eq!(sum.per_state[&(Proto::Tcp, State::Listen)], 6);
    assert_eq!(sum.per_state[&(Proto::Tcp, State::TimeWait)], 1);
    assert_eq!(sum.per_process[0].0, pid);
    assert!(sum.warnings.is_empty());
}
