//! Services that make `-sV` wait: one that sends part of a banner and then
//! nothing for 10 s (an IRC server looking up the client's name and
//! ident), and one that stays silent until spoken to in its protocol (a
//! job queue). Each is a loopback listener that behaves like that; the
//! prober must not wait for them (issue 12: these took 9–13 s).

use portolan_model::Protocol;
use portolan_service::{Database, ProbeOptions, Prober, Target};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn tcp(port: u16) -> Target {
    Target {
        addr: LO,
        port,
        protocol: Protocol::Tcp,
    }
}

/// An IRC server whose lookups take 10 s: it sends its notice at once and
/// answers registration only after the lookups.
async fn slow_irc() -> u16 {
    let l = TcpListener::bind((LO, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let start = Instant::now();
                let _ = s
                    .write_all(b":irc.slow.test NOTICE * :*** Looking up your hostname...\r\n")
                    .await;
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                loop {
                    match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => return,
                        Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                        Err(_) => {}
                    }
                    if start.elapsed() >= Duration::from_secs(10) {
                        break;
                    }
                }
                if got.windows(4).any(|w| w == b"NICK") {
                    let _ = s
                        .write_all(b":irc.slow.test 001 portolan :Welcome\r\n:irc.slow.test 002 portolan :Your host is irc.slow.test, running version ngircd-26.1 (x86_64/pc/linux-gnu)\r\n")
                        .await;
                }
            });
        }
    });
    port
}

/// A job queue that says nothing until it gets `stats\r\n`.
async fn silent_queue() -> u16 {
    let l = TcpListener::bind((LO, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    if buf[..n].starts_with(b"stats\r\n") {
                        let _ = s
                            .write_all(
                                b"OK 48\r\n---\ncurrent-jobs-urgent: 0\nversion: \"1.12\"\n\r\n",
                            )
                            .await;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_partial_banner_then_a_long_wait_costs_one_short_probe() {
    let port = slow_irc().await;
    let db = Arc::new(Database::builtin().unwrap());
    let t0 = Instant::now();
    let trace: portolan_service::TraceFn = Arc::new(move |ev| {
        if std::env::var_os("PORTOLAN_VERSION_TRACE").is_some() {
            eprintln!("{:>5}ms {ev:?}", t0.elapsed().as_millis());
        }
    });
    let prober = Prober::new(db, ProbeOptions::default()).with_trace(trace);
    let d = prober.detect(&[tcp(port)]).await.remove(0);
    let took = t0.elapsed();
    let s = d.service.expect("identified");
    assert_eq!(s.name, "irc");
    // The notice names the service only (soft); registration, which
    // would name the daemon, waits for the lookups, and the prober does
    // not: IrcRegister's 2 s wait bounds it.
    assert_eq!(s.conf, portolan_service::CONF_SOFT);
    assert!(took <= Duration::from_millis(2600), "took {took:?}");
}

#[tokio::test]
async fn a_silent_service_gets_its_port_hinted_probe_at_once() {
    let port = silent_queue().await;
    let mut db = Database::builtin().unwrap();
    let hint =
        format!("probe BeanstalkStats tcp \"stats\\r\\n\"\n wait 2s\n rarity 7\n ports {port}\n");
    db.merge(Database::parse(&hint, "hint.db").unwrap())
        .unwrap();
    let prober = Prober::new(Arc::new(db), ProbeOptions::default());
    let t0 = Instant::now();
    let d = prober.detect(&[tcp(port)]).await.remove(0);
    let took = t0.elapsed();
    let s = d.service.expect("identified");
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("beanstalkd", Some("beanstalkd"), Some("1.12"))
    );
    // Not after the NULL probe's silence (0.3 s), nor its wait (1.5 s).
    assert!(took <= Duration::from_millis(250), "took {took:?}");
}
