//! Checks for services with no Debian package here (Microsoft SQL
//! Server, the kubelet, the Hadoop NameNode, Oracle WebLogic), run against
//! servers on 127.0.0.1 that answer with replies written for these tests
//! from each protocol's public specification or documentation ([MS-TDS]
//! 2.2.6.5 PRELOGIN; the Kubernetes PodList and kubelet authn docs;
//! Hadoop's JMX servlet and NameNodeInfo MXBean; the T3 greeting as
//! Oracle's advisories describe it), not captured from real servers:
//! once exposed and once hardened. Hostile servers (stall, flood,
//! garbage) must end in nothing within the check timeout.

mod loopback;
use loopback::{check, host_with, http, probed, run_checks, run_host, serve};
use portolan_checks::{CheckOptions, ScriptResult, Selection, Severity};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

/// [MS-TDS] 2.2.6.5: a PRELOGIN response (packet type 0x04) with
/// VERSION 15.0.2000.5 (SQL Server 2019 RTM) and ENCRYPTION_ON.
fn tds_prelogin_response() -> Vec<u8> {
    let mut opts = vec![
        0x00, 0x00, 0x0b, 0x00, 0x06, // VERSION at 11, 6 bytes
        0x01, 0x00, 0x11, 0x00, 0x01, // ENCRYPTION at 17, 1 byte
        0xff,
    ];
    opts.extend_from_slice(&[15, 0, 0x07, 0xd0, 0x00, 0x05, 0x01]);
    let mut v = vec![0x04, 0x01, 0x00, (8 + opts.len()) as u8, 0, 0, 1, 0];
    v.extend_from_slice(&opts);
    v
}

#[test]
fn mssql_prelogin_names_the_release_and_a_non_tds_server_is_nothing() {
    let found = check(
        "ms-sql-info",
        "ms-sql-s",
        serve(tds_prelogin_response(), false),
        SECOND,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].summary,
        "Microsoft SQL Server 2019 15.0.2000 reachable"
    );
    assert!(
        found[0].output.contains("Encryption: on"),
        "{}",
        found[0].output
    );
    // A TDS error token stream (type 0x04 but no option table) is not a
    // PRELOGIN response.
    let not = vec![0x04, 0x01, 0x00, 0x0b, 0, 0, 1, 0, 0xaa, 0x00, 0x00];
    assert!(check("ms-sql-info", "ms-sql-s", serve(not, false), SECOND).is_empty());
}

#[test]
fn kubelet_anonymous_pods_is_critical_and_401_is_nothing() {
    let pods = r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"kube-apiserver-node1","namespace":"kube-system","uid":"u1"},"spec":{"nodeName":"node1"}},{"metadata":{"name":"web-5d9f","namespace":"default"}}]}"#;
    let found = check(
        "kubelet-pods",
        "http",
        serve(http("200 OK", pods), false),
        SECOND,
    );
    // Not on a kubelet port: the check does not apply to a generic web
    // server named `http`.
    assert!(found.is_empty(), "{found:#?}");
    let mut host_port = None;
    for port in [10255u16, 10250] {
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            host_port = Some((l, port));
            break;
        }
    }
    let Some((l, port)) = host_port else {
        eprintln!("skipped: 127.0.0.1:10255 and :10250 are both taken");
        return;
    };
    // The server thread polls a non-blocking listener until told to stop,
    // then drops it, so the 401 phase can bind the same port again (a
    // thread blocked in accept() would hold it for ever).
    let serve_on = |l: TcpListener, reply: Vec<u8>| {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        l.set_nonblocking(true).unwrap();
        let t = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Ok((mut c, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = c.set_nonblocking(false);
                let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
                let mut buf = [0u8; 4096];
                let n = c.read(&mut buf).unwrap_or(0);
                // The HTTPS attempt sends a ClientHello: hang up on it, as
                // a plain-HTTP server that fails to parse it would.
                if n > 0 && buf[0] != 0x16 {
                    let _ = c.write_all(&reply);
                }
            }
        });
        (stop, t)
    };
    let (stop, t) = serve_on(l, http("200 OK", pods));
    let found = check("kubelet-pods", "http", port, SECOND);
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(
        found[0].output.contains("kube-system/kube-apiserver-node1"),
        "{}",
        found[0].output
    );
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (stop, t) = serve_on(l, http("401 Unauthorized", "Unauthorized"));
    let found = check("kubelet-pods", "http", port, SECOND);
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn hadoop_namenode_info_is_a_finding_and_a_kerberos_401_is_nothing() {
    let body = r#"{"beans":[{"name":"Hadoop:service=NameNode,name=NameNodeInfo","modelerType":"org.apache.hadoop.hdfs.server.namenode.FSNamesystem","Total":105088212992,"ClusterId":"CID-4f1c","BlockPoolId":"BP-1-127.0.0.1-1","Version":"3.3.6, r1be78238728da9266a4f88195058f08fd012bf9c","Safemode":"","LiveNodes":"{\"dn1.example:9866\":{\"infoAddr\":\"198.18.0.2:9864\",\"xferaddr\":\"198.18.0.2:9866\"}}"}]}"#;
    // The check applies to `http` only on the NameNode's ports, so name
    // the service as -sV would for a NameNode found elsewhere.
    let found = check(
        "hadoop-namenode-info",
        "hadoop-namenode",
        serve(http("200 OK", body), false),
        SECOND,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].summary,
        "Hadoop NameNode 3.3.6 answers without authentication"
    );
    assert!(
        found[0].output.contains("dn1.example:9866"),
        "{}",
        found[0].output
    );
    let secured = "HTTP/1.1 401 Authentication required\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n";
    assert!(check(
        "hadoop-namenode-info",
        "hadoop-namenode",
        serve(secured.into(), false),
        SECOND
    )
    .is_empty());
}

#[test]
fn weblogic_t3_helo_is_a_finding_and_a_filtered_server_is_nothing() {
    let helo = b"HELO:12.2.1.3.0.false\nAS:2048\nHL:19\nMS:10000000\nPN:DOMAIN\n\n".to_vec();
    let found = check("weblogic-t3", "t3", serve(helo, false), SECOND);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].summary, "WebLogic 12.2.1.3.0 answers T3");
    // A connection filter that rejects T3 sends an HTTP error page.
    let filtered = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec();
    assert!(check("weblogic-t3", "t3", serve(filtered, false), SECOND).is_empty());
}

/// The VTY banner as FRR's `lib/vty.c` writes it (telnet WILL ECHO, WILL
/// SUPPRESS-GO-AHEAD, DONT LINEMODE first).
fn vty(after: &str) -> Vec<u8> {
    let mut v = vec![0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfe, 0x22];
    v.extend_from_slice(b"\r\nHello, this is Quagga (version 1.2.4).\r\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\r\n\r\n");
    v.extend_from_slice(after.as_bytes());
    v
}

#[test]
fn quagga_vty_without_password_is_critical_and_with_one_is_medium() {
    let found = check("zebra-vty", "zebra", serve(vty("router> "), true), SECOND);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    let found = check(
        "zebra-vty",
        "zebra",
        serve(vty("\r\nUser Access Verification\r\n\r\nPassword: "), true),
        SECOND,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(found[0].summary, "Quagga VTY asks for a password");
}

/// Stall, flood and garbage against each new check under its own
/// service name: nothing, within the timeout.
#[test]
fn hostile_servers_cost_at_most_the_timeout() {
    let cases = [
        ("ms-sql-info", "ms-sql-s"),
        ("mysql-info", "mysql"),
        ("pgsql-info", "postgresql"),
        ("hadoop-namenode-info", "hadoop-namenode"),
        ("weblogic-t3", "t3"),
        ("zebra-vty", "zebra"),
    ];
    let stall = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for c in l.incoming() {
                held.push(c);
            }
        });
        port
    };
    let mut flood = b"HTTP/1.1 200 OK\r\n\r\n{\"beans\":[\"".to_vec();
    flood.resize(4 << 20, b'a');
    let flood = serve(flood, true);
    let garbage = serve((0..=255u8).cycle().take(70_000).collect(), true);
    // A length field claiming more than is sent, for every length parser.
    let short = serve(vec![0xff, 0xff, 0xff, 0x00, 0x0a, b'5'], true);
    for port in [stall, flood, garbage, short] {
        for (id, service) in cases {
            let t = Instant::now();
            let found = check(id, service, port, Duration::from_millis(600));
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "{id}: {:?}",
                t.elapsed()
            );
            assert!(found.is_empty(), "{id}: {found:#?}");
        }
    }
}

/// A TLS server written from RFC 5246 section 7.4 and RFC 6520 (not
/// captured from a real one): it answers the ClientHello with a
/// ServerHello (TLS 1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, with the
/// heartbeat extension in mode peer_allowed_to_send when `heartbeat`)
/// and ServerHelloDone; then, to a heartbeat_request, either what a
/// server that trusts `payload_length` sends (a heartbeat_response with
/// that many bytes of its "memory" and 16 bytes of padding: the
/// Heartbleed bug) or, as RFC 6520 section 4 requires for a length
/// longer than the message, nothing.
fn heartbeat_server(heartbeat: bool, overread: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let _ = c.set_read_timeout(Some(Duration::from_secs(3)));
                let read_record = |c: &mut std::net::TcpStream| -> Option<(u8, Vec<u8>)> {
                    let mut head = [0u8; 5];
                    c.read_exact(&mut head).ok()?;
                    let mut body = vec![0u8; usize::from(u16::from_be_bytes([head[3], head[4]]))];
                    c.read_exact(&mut body).ok()?;
                    Some((head[0], body))
                };
                let Some((22, hello)) = read_record(&mut c) else {
                    return;
                };
                if hello.first() != Some(&1) {
                    return;
                }
                let mut sh = vec![3, 3];
                sh.extend([0x5a; 32]);
                sh.extend([0, 0xc0, 0x2f, 0]);
                let mut ext = vec![0xff, 0x01, 0x00, 0x01, 0x00];
                if heartbeat {
                    ext.extend([0x00, 0x0f, 0x00, 0x01, 0x01]);
                }
                sh.extend((ext.len() as u16).to_be_bytes());
                sh.extend(ext);
                let mut hs = vec![2, 0];
                hs.extend((sh.len() as u16).to_be_bytes());
                hs.extend(sh);
                hs.extend([14, 0, 0, 0]);
                let mut rec = vec![22, 3, 3];
                rec.extend((hs.len() as u16).to_be_bytes());
                rec.extend(hs);
                let _ = c.write_all(&rec);
                let Some((24, req)) = read_record(&mut c) else {
                    return;
                };
                if req.len() < 3 || req[0] != 1 {
                    return;
                }
                let claimed = usize::from(u16::from_be_bytes([req[1], req[2]]));
                if overread {
                    let mut body = vec![2, req[1], req[2]];
                    body.extend((0..claimed).map(|i| (i % 251) as u8));
                    body.extend([0u8; 16]);
                    let mut rec = vec![24, 3, 3];
                    rec.extend((body.len() as u16).to_be_bytes());
                    rec.extend(body);
                    let _ = c.write_all(&rec);
                }
                std::thread::sleep(Duration::from_secs(2));
            });
        }
    });
    port
}

/// Runs `script` against `port`, found by -sV as TLS-wrapped `http`.
fn check_tls(script: &str, port: u16) -> Vec<ScriptResult> {
    run_checks(script, probed("http", Some("ssl")), port, SECOND).0
}

#[test]
fn heartbleed_overread_is_reported_and_rfc_6520_servers_are_not() {
    let found = check_tls("ssl-heartbleed", heartbeat_server(true, true));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(
        found[0].summary,
        "TLS heartbeat returned 16384 bytes of server memory (Heartbleed, CVE-2014-0160)"
    );
    // Discarded silently, as RFC 6520 requires: nothing, within the time.
    let t = Instant::now();
    assert!(check_tls("ssl-heartbleed", heartbeat_server(true, false)).is_empty());
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    // No heartbeat extension in the ServerHello: nothing is sent.
    assert!(check_tls("ssl-heartbleed", heartbeat_server(false, true)).is_empty());
    // Intrusive: never in the default set.
    assert!(!Selection::default_set()
        .checks()
        .iter()
        .any(|c| c.info().id == "ssl-heartbleed"));
}

#[test]
fn max_rate_spaces_check_connections_and_parallelism_bounds_them() {
    // One listener that notes when each connection arrives; it says
    // nothing, so every check waits for its timeout.
    let arrivals = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut ports = Vec::new();
    for _ in 0..5 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        ports.push(l.local_addr().unwrap().port());
        let arrivals = arrivals.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                arrivals.lock().unwrap().push(Instant::now());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 256];
                    let _ = c.set_read_timeout(Some(Duration::from_secs(3)));
                    while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
                });
            }
        });
    }
    // Redis on five ports of one host: five checks.
    let run = |rate: Option<f64>, parallelism: usize| {
        let mut opts = CheckOptions::new(Selection::parse("redis-info").unwrap());
        opts.timeout = Duration::from_millis(300);
        opts.parallelism = parallelism;
        opts.pacer = rate
            .and_then(portolan_checks::pace::Pacer::per_second)
            .map(Arc::new);
        let mut host = host_with(ports.iter().map(|&p| (p, probed("redis", None))).collect());
        run_host(opts, &mut host);
    };
    // 10 per second with a burst of one: arrivals at least ~100 ms apart
    // (a lower bound the limiter guarantees whatever the machine's load).
    run(Some(10.0), 64);
    let times = std::mem::take(&mut *arrivals.lock().unwrap());
    assert_eq!(times.len(), 5);
    for w in times.windows(2) {
        let gap = w[1].duration_since(w[0]);
        assert!(gap >= Duration::from_millis(90), "{gap:?}");
    }
    // Parallelism 2, no rate, a server that never answers: two checks
    // at a time, each ended by its 300 ms timeout, so the third and fifth
    // connections come a timeout and two timeouts after the first.
    std::thread::sleep(Duration::from_millis(400));
    run(None, 2);
    let t = arrivals.lock().unwrap().clone();
    assert_eq!(t.len(), 5);
    assert!(
        t[2].duration_since(t[0]) >= Duration::from_millis(290),
        "{t:?}"
    );
    assert!(
        t[4].duration_since(t[0]) >= Duration::from_millis(590),
        "{t:?}"
    );
}
