//! The store suite, run on each backend by `sqlite.rs` and `postgres.rs`.
#![allow(dead_code)]

pub mod pg;

use portolan_model::{
    format_ranges, Certificate, HostResult, HostStatus, Hostname, HostnameKind, MacAddress,
    NameAttribute, PortResult, PortState, Protocol, Reason, RunStats, ScanInfo, ScanType,
    ScanTypeInfo, ServiceInfo, ServiceMethod,
};
use portolan_store::{Location, ScanMeta, ScanStatus, Store, StoreError, TimelineQuery};
use std::time::Duration;

/// A case of the suite: a name and a test of one fresh, empty store.
pub type Case = (&'static str, fn(&Location));

/// Every case of the suite.
pub const CASES: &[Case] = &[
    ("round_trip", round_trip),
    ("hosts_are_committed_as_they_finish", streamed),
    ("interrupted_scans_say_so", interrupted),
    ("last_ids_and_tags_resolve", resolve),
    ("prune_removes_old_scans_only", prune),
    ("reopening_keeps_the_schema", reopen),
    ("a_newer_schema_is_refused", newer_schema),
    ("hosts_off_coverage_keep_every_port", partial_host),
    ("timelines_follow_ports_across_scans", timeline),
    ("imports_record_a_whole_document", import),
    ("shards_of_one_scan_id_are_one_scan", shard_group),
    ("silent_hosts_are_kept_as_lists_and_read_back", silent),
    ("a_resumed_scan_drops_hosts_after_its_checkpoint", resumed),
];

/// The scan of the suite: TCP 1-100 and UDP 53,161.
pub fn info(start: u64) -> ScanInfo {
    ScanInfo {
        version: "0.1.0".into(),
        args: "portolan -sS -sU -p T:1-100,U:53,161 198.18.0.2".into(),
        start_time: start,
        scans: vec![
            ScanTypeInfo {
                scan_type: ScanType::Syn,
                protocol: Protocol::Tcp,
                num_services: 100,
                services: format_ranges(&(1..=100).collect::<Vec<_>>()),
            },
            ScanTypeInfo {
                scan_type: ScanType::Udp,
                protocol: Protocol::Udp,
                num_services: 2,
                services: "53,161".into(),
            },
        ],
        verbose: 0,
        debugging: 0,
    }
}

fn meta() -> ScanMeta {
    ScanMeta {
        targets: "198.18.0.2".into(),
        seed: Some(u64::MAX),
        shard: Some((1, 2)),
        source: "scan".into(),
        group: None,
    }
}

fn port(port: u16, protocol: Protocol, state: PortState, reason: Reason, ttl: u8) -> PortResult {
    PortResult {
        port,
        protocol,
        state,
        reason,
        reason_ttl: ttl,
        service: None,
    }
}

/// A host as the store gives it back: every covered port, the closed
/// ones without TTL or table service (they are the host's common state).
pub fn host(addr: &str) -> HostResult {
    let mut h = HostResult::new(addr.parse().unwrap(), HostStatus::Up, Reason::ArpResponse);
    h.mac = Some(MacAddress {
        octets: [2, 0, 0, 0, 0, 2],
        vendor: Some("Example".into()),
    });
    h.hostnames = vec![
        Hostname {
            name: "target.example".into(),
            kind: HostnameKind::User,
        },
        Hostname {
            name: "t.example".into(),
            kind: HostnameKind::Ptr,
        },
    ];
    h.latency = Some(Duration::from_micros(250));
    h.start_time = 1_800_000_001;
    h.end_time = 1_800_000_009;
    for p in 1..=100u16 {
        h.ports.push(match p {
            22 | 80 => port(p, Protocol::Tcp, PortState::Open, Reason::SynAck, 64),
            81 => port(p, Protocol::Tcp, PortState::Filtered, Reason::NoResponse, 0),
            _ => port(p, Protocol::Tcp, PortState::Closed, Reason::Reset, 0),
        });
    }
    let mut ssh = ServiceInfo::from_table("ssh");
    ssh.product = Some("OpenSSH".into());
    ssh.version = Some("9.2p1".into());
    ssh.method = ServiceMethod::Probed;
    ssh.conf = 10;
    ssh.cpe = vec![
        "cpe:/a:openbsd:openssh:9.2p1".into(),
        "cpe:/o:linux:linux_kernel".into(),
    ];
    h.ports[21].service = Some(Box::new(ssh));
    let mut https = ServiceInfo::from_table("http");
    https.tunnel = Some("ssl".into());
    https.certificate = Some(Box::new(Certificate {
        subject: vec![NameAttribute {
            key: "commonName".into(),
            value: "target.example".into(),
        }],
        issuer: vec![NameAttribute {
            key: "commonName".into(),
            value: "Example CA".into(),
        }],
        not_before: 1_700_000_000,
        not_after: 1_900_000_000,
        alt_names: vec!["DNS:target.example".into()],
    }));
    h.ports[79].service = Some(Box::new(https));
    h.ports.push(port(
        53,
        Protocol::Udp,
        PortState::Open,
        Reason::UdpResponse,
        63,
    ));
    h.ports.push(port(
        161,
        Protocol::Udp,
        PortState::OpenFiltered,
        Reason::NoResponse,
        0,
    ));
    h.ports.sort_by_key(|p| (p.port, p.protocol));
    h.os = Some(portolan_model::OsReport {
        matches: vec![portolan_model::OsMatch {
            name: "Linux 6.18".into(),
            accuracy: 100,
            classes: vec![portolan_model::OsClass {
                device_type: "general purpose".into(),
                vendor: "Linux".into(),
                family: "Linux".into(),
                generation: Some("6.X".into()),
                accuracy: 100,
                cpe: vec!["cpe:/o:linux:linux_kernel:6.18".into()],
            }],
        }],
        distance: Some(1),
        fingerprint: "ttl=64 df=1 opts=MSTNW".into(),
        ..Default::default()
    });
    h.scripts.push(portolan_model::ScriptResult {
        id: "redis-info".into(),
        port: Some(80),
        protocol: Some(Protocol::Tcp),
        severity: portolan_model::Severity::High,
        summary: "Redis answers INFO without authentication".into(),
        output: "redis_version: 7.0.15".into(),
        items: Vec::new(),
    });
    h
}

fn stats(interrupted: bool) -> RunStats {
    RunStats {
        end_time: 1_800_000_010,
        elapsed: 9.5,
        hosts_up: 1,
        hosts_down: 1,
        interrupted,
        hosts_incomplete: 0,
        error: None,
    }
}

fn round_trip(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let id = s.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    let up = host("198.18.0.2");
    let down = HostResult::new(
        "198.18.0.3".parse().unwrap(),
        HostStatus::Down,
        Reason::NoResponse,
    );
    s.add_host(id, &up).unwrap();
    s.add_host(id, &down).unwrap();
    s.finish_scan(id, &stats(false)).unwrap();
    let doc = s.load(id).unwrap();
    assert_eq!(doc.info, info(1_800_000_000));
    assert_eq!(doc.hosts, vec![up, down]);
    assert_eq!(doc.stats, Some(stats(false)));
    let rec = s.scan(id).unwrap();
    assert_eq!(rec.status, ScanStatus::Complete);
    assert_eq!(rec.seed, Some(u64::MAX));
    assert_eq!(rec.shard.as_deref(), Some("1/2"));
    assert_eq!(rec.targets, "198.18.0.2");
    assert_eq!((rec.hosts_up, rec.hosts_down), (Some(1), Some(1)));
}

fn streamed(loc: &Location) {
    let mut writer = Store::open(loc).unwrap();
    let id = writer.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    writer.add_host(id, &host("198.18.0.2")).unwrap();
    // Another process (here: another connection) sees the committed host
    // while the scan still runs.
    let mut reader = Store::open(loc).unwrap();
    assert_eq!(reader.scan(id).unwrap().status, ScanStatus::Running);
    let doc = reader.load(id).unwrap();
    assert_eq!(doc.hosts.len(), 1);
    assert_eq!(doc.stats, None);
}

fn interrupted(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let id = s.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    s.finish_scan(id, &stats(true)).unwrap();
    assert_eq!(s.scan(id).unwrap().status, ScanStatus::Interrupted);
    assert!(s.load(id).unwrap().stats.unwrap().interrupted);
}

fn resolve(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    assert!(matches!(s.resolve("last"), Err(StoreError::NotFound(_))));
    let a = s.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    let b = s.begin_scan(&info(1_800_000_100), &meta()).unwrap();
    assert_eq!(s.resolve("last").unwrap(), b);
    assert_eq!(s.resolve(&a.to_string()).unwrap(), a);
    s.tag(a, "baseline").unwrap();
    assert_eq!(s.resolve("baseline").unwrap(), a);
    s.tag(b, "baseline").unwrap();
    assert_eq!(s.resolve("baseline").unwrap(), b);
    assert_eq!(s.scans().unwrap()[1].tags, vec!["baseline".to_string()]);
    let e = s.resolve("nosuch").unwrap_err().to_string();
    assert_eq!(e, "no scan `nosuch` in the history store");
    assert!(s.resolve("999").is_err());
    assert!(s.tag(999, "x").is_err());
}

fn prune(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let old = s.begin_scan(&info(1_000), &meta()).unwrap();
    s.add_host(old, &host("198.18.0.2")).unwrap();
    s.tag(old, "old").unwrap();
    let new = s.begin_scan(&info(2_000), &meta()).unwrap();
    s.add_host(new, &host("198.18.0.2")).unwrap();
    assert_eq!(s.prune(1_500).unwrap(), 1);
    let ids: Vec<_> = s.scans().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![new]);
    assert_eq!(s.load(new).unwrap().hosts.len(), 1);
    assert!(s.resolve("old").is_err());
}

fn reopen(loc: &Location) {
    let id = {
        let mut s = Store::open(loc).unwrap();
        s.begin_scan(&info(1_800_000_000), &meta()).unwrap()
    };
    let mut s = Store::open(loc).unwrap();
    assert_eq!(s.resolve("last").unwrap(), id);
}

fn newer_schema(loc: &Location) {
    drop(Store::open(loc).unwrap());
    set_version(loc, 99);
    let e = Store::open(loc).err().expect("refused");
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("schema version 99") && !text.contains('\n'),
        "{text}"
    );
}

/// Sets the stored schema version behind the store's back.
fn set_version(loc: &Location, v: i64) {
    let sql = format!("UPDATE portolan_meta SET value = '{v}' WHERE name = 'schema_version'");
    match loc {
        Location::Sqlite(p) => {
            rusqlite::Connection::open(p)
                .unwrap()
                .execute_batch(&sql)
                .unwrap();
        }
        Location::Postgres(url) => {
            postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .batch_execute(&sql)
                .unwrap();
        }
    }
}

fn partial_host(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let id = s.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    let mut h = host("198.18.0.4");
    h.timed_out = true;
    h.ports.truncate(10);
    for p in &mut h.ports {
        p.reason_ttl = 7;
    }
    s.add_host(id, &h).unwrap();
    assert_eq!(s.load(id).unwrap().hosts, vec![h]);
}

fn timeline(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let mut ids = Vec::new();
    // Scan 1: 22 and 80 open; scan 2: 22 closed; scan 3: 22 open again.
    for (i, ssh_open) in [true, false, true].into_iter().enumerate() {
        let id = s
            .begin_scan(&info(1_800_000_000 + i as u64 * 100), &meta())
            .unwrap();
        let mut h = host("198.18.0.2");
        if !ssh_open {
            let p = h.ports.iter_mut().find(|p| p.port == 22).unwrap();
            p.state = PortState::Closed;
            p.reason = Reason::Reset;
            p.service = None;
        }
        s.add_host(id, &h).unwrap();
        s.finish_scan(id, &stats(false)).unwrap();
        ids.push(id);
    }
    let all = s.timeline(&TimelineQuery::default()).unwrap();
    let ports: Vec<(Protocol, u16)> = all.iter().map(|t| (t.protocol, t.port)).collect();
    assert_eq!(
        ports,
        [
            (Protocol::Tcp, 22),
            (Protocol::Udp, 53),
            (Protocol::Tcp, 80)
        ]
    );
    let ssh = &all[0];
    assert_eq!(ssh.first_open, Some((ids[0], 1_800_000_000)));
    assert_eq!(ssh.last_open, Some((ids[2], 1_800_000_200)));
    let states: Vec<PortState> = ssh.changes.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [PortState::Open, PortState::Closed, PortState::Open]
    );
    assert_eq!(ssh.changes[0].service.as_deref(), Some("ssh OpenSSH 9.2p1"));
    assert_eq!(ssh.scans, 3);
    let q = TimelineQuery {
        target: Some("TARGET.example".into()),
        port: Some(23),
        service: None,
    };
    let closed = s.timeline(&q).unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].first_open, None);
    assert_eq!(closed[0].changes.len(), 1);
    let q = TimelineQuery {
        service: Some("SSH".into()),
        ..Default::default()
    };
    assert_eq!(s.timeline(&q).unwrap().len(), 1);
    let q = TimelineQuery {
        target: Some("198.18.0.99".into()),
        ..Default::default()
    };
    assert!(s.timeline(&q).unwrap().is_empty());
}

fn import(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let mut doc = portolan_model::ScanDocument::new(info(1_700_000_000));
    doc.hosts.push(host("198.18.0.2"));
    doc.stats = Some(stats(false));
    let id = s.import(&doc, "scan.xml").unwrap();
    let rec = s.scan(id).unwrap();
    assert_eq!(
        (rec.source.as_str(), rec.targets.as_str()),
        ("scan.xml", "198.18.0.2")
    );
    assert_eq!(rec.status, ScanStatus::Complete);
    assert_eq!(s.load(id).unwrap(), doc);
    // Without an end (a killed scan's file): interrupted.
    doc.stats = None;
    let id = s.import(&doc, "killed.json").unwrap();
    assert_eq!(s.scan(id).unwrap().status, ScanStatus::Interrupted);
}

/// Four shards of one `--scan-id`: one scan once all are complete, an
/// error naming the missing ones before, a rerun shard replacing its
/// earlier rows.
fn shard_group(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let shard = |s: &mut Store, k: u32, last: u8, finish: bool| {
        let m = ScanMeta {
            shard: Some((k, 4)),
            group: Some("weekly".into()),
            ..meta()
        };
        let id = s
            .begin_scan(&info(1_800_000_000 + u64::from(k)), &m)
            .unwrap();
        s.add_host(id, &host(&format!("198.18.0.{last}"))).unwrap();
        if finish {
            s.finish_scan(id, &stats(false)).unwrap();
        }
        id
    };
    let first = shard(&mut s, 3, 30, true);
    shard(&mut s, 1, 10, true);
    shard(&mut s, 2, 20, false);
    let e = s.load(first).unwrap_err().to_string();
    assert!(
        e.contains("shards 2, 4 of 4 missing or not finished"),
        "{e}"
    );
    // The shard killed and run again: its first row goes.
    shard(&mut s, 2, 20, true);
    shard(&mut s, 4, 40, true);
    assert_eq!(s.scans().unwrap().len(), 4);
    let id = s.resolve("weekly").unwrap();
    let whole = s.load(id).unwrap();
    let addrs: Vec<String> = whole.hosts.iter().map(|h| h.addr.to_string()).collect();
    assert_eq!(
        addrs,
        ["198.18.0.10", "198.18.0.20", "198.18.0.30", "198.18.0.40"]
    );
    let stats = whole.stats.unwrap();
    assert_eq!(stats.hosts_up, 4);
    assert_eq!(whole.info.start_time, 1_800_000_001);
    // Any shard's id names the whole scan too.
    assert_eq!(s.load(first).unwrap().hosts.len(), 4);
}

/// A host of a `-Pn` sweep that nothing answered: every covered port
/// filtered, no reply.
fn silent_host(addr: &str) -> HostResult {
    let mut h = HostResult::new(addr.parse().unwrap(), HostStatus::Up, Reason::UserSet);
    h.start_time = 1_800_000_001;
    h.end_time = 1_800_000_002;
    for p in 1..=100 {
        h.ports.push(port(
            p,
            Protocol::Tcp,
            PortState::Filtered,
            Reason::NoResponse,
            0,
        ));
    }
    for p in [53, 161] {
        h.ports.push(port(
            p,
            Protocol::Udp,
            PortState::Filtered,
            Reason::NoResponse,
            0,
        ));
    }
    // In the order a loaded host lists them.
    h.ports.sort_by_key(|p| (p.port, p.protocol));
    h
}

fn silent(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let id = s.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    let quiet: Vec<HostResult> = (1..=50)
        .map(|i| silent_host(&format!("198.18.1.{i}")))
        .collect();
    let mut batch = quiet.clone();
    batch.push(host("198.18.0.2"));
    s.add_hosts(id, &batch).unwrap();
    s.finish_scan(id, &stats(false)).unwrap();
    let doc = s.load(id).unwrap();
    // The host with something to say first (its own row), then the silent
    // ones as they were, ports restored from the coverage.
    assert!(doc.hosts[0] == host("198.18.0.2"), "the host with a row");
    assert_eq!(doc.hosts.len(), quiet.len() + 1);
    for (got, want) in doc.hosts[1..].iter().zip(&quiet) {
        let mut g = got.clone();
        g.ports.clear();
        let mut w = want.clone();
        w.ports.clear();
        assert_eq!(g, w);
        let diff: Vec<_> = got
            .ports
            .iter()
            .zip(&want.ports)
            .filter(|(a, b)| a != b)
            .take(2)
            .collect();
        assert!(
            got.ports == want.ports,
            "{}: ports {} vs {}: {diff:?}",
            want.addr,
            got.ports.len(),
            want.ports.len()
        );
    }
}

fn resumed(loc: &Location) {
    let mut s = Store::open(loc).unwrap();
    let id = s.begin_scan(&info(1_800_000_000), &meta()).unwrap();
    let batch = vec![
        host("198.18.0.2"),
        host("198.18.0.3"),
        silent_host("198.18.1.1"),
        silent_host("198.18.1.2"),
    ];
    s.add_hosts(id, &batch).unwrap();
    // Killed; the checkpoint had 198.18.0.2 and 198.18.1.1 only.
    let keep = ["198.18.0.2".parse().unwrap(), "198.18.1.1".parse().unwrap()];
    s.resume_scan(id, &keep).unwrap();
    assert_eq!(s.scan(id).unwrap().status, ScanStatus::Resumed);
    s.add_hosts(id, &[host("198.18.0.3"), silent_host("198.18.1.2")])
        .unwrap();
    s.finish_scan_as(id, &stats(false), true).unwrap();
    let mut addrs: Vec<String> = s
        .load(id)
        .unwrap()
        .hosts
        .iter()
        .map(|h| h.addr.to_string())
        .collect();
    addrs.sort();
    assert_eq!(
        addrs,
        ["198.18.0.2", "198.18.0.3", "198.18.1.1", "198.18.1.2"]
    );
    assert_eq!(s.scan(id).unwrap().status, ScanStatus::Resumed);
    assert!(
        s.resume_scan(id + 100, &keep).is_err(),
        "a scan not in the store"
    );
}
