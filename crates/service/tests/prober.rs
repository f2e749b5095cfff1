//! The prober against small in-process servers on 127.0.0.1: banners,
//! probe order and soft matches, silent and closing services, UDP, a user
//! database, the intensity limit and the trace hook. Needs no daemons.

use portolan_model::{Protocol, ServiceMethod};
use portolan_service::{Database, ProbeOptions, Prober, Target, TraceEvent, TraceFn};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A TCP server: sends `banner` on connect, then answers each read with
/// `reply(read bytes)`; `close` closes at once without a word.
async fn server(banner: &'static [u8], close: bool, reply: fn(&[u8]) -> Option<Vec<u8>>) -> u16 {
    let l = TcpListener::bind((LO, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                if close {
                    return;
                }
                let _ = s.write_all(banner).await;
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Some(r) = reply(&buf[..n]) {
                        let _ = s.write_all(&r).await;
                    }
                }
            });
        }
    });
    port
}

fn tcp(port: u16) -> Target {
    Target {
        addr: LO,
        port,
        protocol: Protocol::Tcp,
    }
}

fn opts() -> ProbeOptions {
    ProbeOptions {
        service_timeout: Duration::from_secs(20),
        ..ProbeOptions::default()
    }
}

#[tokio::test]
async fn banner_probe_and_soft_match() {
    let db = Arc::new(Database::builtin().unwrap());
    let ssh = server(
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n",
        false,
        |_| None,
    )
    .await;
    // Speaks only when asked in HTTP; a blank line gives a soft memcached
    // answer first elsewhere, so check probe order via the HTTP server.
    let http = server(b"", false, |req| {
        req.starts_with(b"GET ")
            .then(|| b"HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.69\r\n\r\n".to_vec())
    })
    .await;
    let mc = server(b"", false, |req| match req {
        b"version\r\n" => Some(b"VERSION 1.6.21\r\n".to_vec()),
        _ if req.iter().all(|b| *b == b'\r' || *b == b'\n') => Some(b"ERROR\r\n".to_vec()),
        _ => None,
    })
    .await;
    let closer = server(b"", true, |_| None).await;
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let ev = events.clone();
    let trace: TraceFn = Arc::new(move |e: &TraceEvent<'_>| {
        if let TraceEvent::Sent { probe, .. } = e {
            ev.lock().unwrap().push(probe.to_string());
        }
    });
    let prober = Prober::new(db, opts()).with_trace(trace);
    let t0 = Instant::now();
    let r = prober
        .detect(&[tcp(ssh), tcp(http), tcp(mc), tcp(closer)])
        .await;
    let took = t0.elapsed();
    let s = r[0].service.as_ref().unwrap();
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("ssh", Some("OpenSSH"), Some("9.2p1"))
    );
    assert_eq!(s.method, ServiceMethod::Probed);
    assert_eq!(s.conf, 10);
    assert_eq!(
        r[0].banner.as_deref(),
        Some(&b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"[..])
    );
    let h = r[1].service.as_ref().unwrap();
    assert_eq!(
        (h.name.as_str(), h.product.as_deref(), h.version.as_deref()),
        ("http", Some("lighttpd"), Some("1.4.69"))
    );
    let m = r[2].service.as_ref().unwrap();
    assert_eq!(
        (m.name.as_str(), m.version.as_deref(), m.conf),
        ("memcached", Some("1.6.21"), 10)
    );
    let c = r[3].service.as_ref().unwrap();
    assert_eq!((c.name.as_str(), c.conf), ("tcpwrapped", 8));
    assert!(events.lock().unwrap().iter().any(|p| p == "HttpGet"));
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[tokio::test]
async fn user_database_udp_and_intensity() {
    let udp = UdpSocket::bind((LO, 0)).await.unwrap();
    let uport = udp.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = udp.recv_from(&mut buf).await {
            if &buf[..n] == b"PING?" {
                let _ = udp.send_to(b"PONG acme/2.5", from).await;
            }
        }
    });
    let tport = server(b"", false, |req| {
        (req == b"HELLO\n").then(|| b"ACME ready v3.1\n".to_vec())
    })
    .await;
    let user = format!(
        "probe AcmeUdp udp \"PING?\"\n  wait 1s\n  rarity 9\n  ports {uport}\nmatch acme /^PONG acme\\/([\\d.]+)/\n  product \"Acme\"\n  version \"$1\"\n\
         probe AcmeTcp tcp \"HELLO\\n\"\n  wait 1s\n  rarity 9\nmatch acme /^ACME ready v([\\d.]+)/\n  version \"$1\"\n"
    );
    let mut db = Database::builtin().unwrap();
    db.merge(Database::parse(&user, "user.db").unwrap())
        .unwrap();
    let db = Arc::new(db);
    let u = Target {
        addr: LO,
        port: uport,
        protocol: Protocol::Udp,
    };
    // Rarity 9 but hinted by port: sent at the default intensity.
    let r = Prober::new(db.clone(), opts()).detect(&[u]).await;
    let s = r[0].service.as_ref().unwrap();
    assert_eq!(
        (s.name.as_str(), s.version.as_deref()),
        ("acme", Some("2.5"))
    );
    // Unhinted rarity-9 probe: only with --version-all.
    let light = ProbeOptions {
        intensity: 2,
        ..opts()
    };
    let r = Prober::new(db.clone(), light).detect(&[tcp(tport)]).await;
    assert!(
        r[0].service.as_ref().is_none_or(|s| s.name != "acme"),
        "{r:?}"
    );
    // Every probe of the database, the user's last: enough in flight
    // that ~250 probes a silent server lets wait out fit the budget.
    let all = ProbeOptions {
        intensity: 9,
        probes_in_flight: 64,
        ..opts()
    };
    let r = Prober::new(db, all).detect(&[tcp(tport)]).await;
    let s = r[0].service.as_ref().unwrap();
    assert_eq!(
        (s.name.as_str(), s.version.as_deref()),
        ("acme", Some("3.1"))
    );
}

#[tokio::test]
async fn closed_port_gives_nothing() {
    let l = TcpListener::bind((LO, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let db = Arc::new(Database::builtin().unwrap());
    let r = Prober::new(db, opts()).detect(&[tcp(port)]).await;
    assert_eq!(r[0].service, None);
    assert_eq!(r[0].banner, None);
}

/// Services that wait to be asked, on ports no probe hints: the probes go
/// out 0.3 s into the NULL probe's 1.5 s wait, a few at once, so each is
/// named well before the banner wait alone would end (it once took the
/// NULL wait plus every earlier probe's wait).
#[tokio::test]
async fn silent_services_are_asked_before_the_banner_wait_ends() {
    let db = Arc::new(Database::builtin().unwrap());
    let http = server(b"", false, |req| {
        req.starts_with(b"GET ")
            .then(|| b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n".to_vec())
    })
    .await;
    // Answers only memcached's `version` (rarity 2) and ignores the rest.
    let mc = server(b"", false, |req| {
        (req == b"version\r\n").then(|| b"VERSION 1.6.18\r\n".to_vec())
    })
    .await;
    // A banner late enough that other probes are already out.
    let late = {
        let l = TcpListener::bind((LO, 0)).await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(600)).await;
                    let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await;
                    let mut buf = [0u8; 1024];
                    while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
        port
    };
    let prober = Prober::new(db, opts());
    let t0 = Instant::now();
    let r = prober.detect(&[tcp(http), tcp(mc), tcp(late)]).await;
    let took = t0.elapsed();
    let got: Vec<_> = r
        .iter()
        .map(|d| {
            let s = d.service.as_ref().expect("identified");
            (s.name.clone(), s.version.clone())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("http".to_string(), Some("1.22.1".to_string())),
            ("memcached".to_string(), Some("1.6.18".to_string())),
            ("ssh".to_string(), Some("9.6".to_string())),
        ]
    );
    assert!(took < Duration::from_millis(1200), "took {took:?}");
}
