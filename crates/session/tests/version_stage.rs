//! `VersionStage` on loopback: hosts come back as soon as their ports are
//! identified, hosts with nothing to probe come back at once, UDP
//! `open|filtered` ports that answer become open, `--max-rate` paces new
//! connections, and an interrupted `finish` returns every host quickly.

use portolan_model::{HostResult, HostStatus, PortResult, PortState, Protocol, Reason};
use portolan_session::stage::HostStage;
use portolan_session::version::{detect, load_database, VersionOptions, VersionStage};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn opts() -> VersionOptions {
    VersionOptions {
        intensity: 7,
        ..VersionOptions::default()
    }
}

/// A TCP server on 127.0.0.1 greeting every connection with `banner`
/// (nothing when empty) and keeping it open for a while.
fn banner_server(banner: &'static [u8]) -> u16 {
    let l = TcpListener::bind((LO, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { break };
            thread::spawn(move || {
                let _ = s.write_all(banner);
                let mut buf = [0u8; 1024];
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

fn port(port: u16, protocol: Protocol, state: PortState) -> PortResult {
    PortResult {
        port,
        protocol,
        state,
        reason: if state == PortState::Open {
            Reason::SynAck
        } else {
            Reason::NoResponse
        },
        reason_ttl: 64,
        service: None,
    }
}

fn host(ports: Vec<PortResult>) -> HostResult {
    let mut h = HostResult::new(LO, HostStatus::Up, Reason::Localhost);
    h.ports = ports;
    h
}

/// Polls `try_next` until a host comes back or `limit` passes.
fn next_within(stage: &mut VersionStage, limit: Duration) -> Option<HostResult> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(h) = stage.try_next() {
            return Some(h);
        }
        thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn hosts_come_back_identified_as_soon_as_their_ports_are_done() {
    let ssh = banner_server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    let ftp = banner_server(b"220 (vsFTPd 3.0.3)\r\n");
    let db = load_database(&opts()).unwrap();
    let mut stage = VersionStage::start(db, &opts(), 64, None).unwrap();
    let t0 = Instant::now();
    stage.submit(host(vec![
        port(ssh, Protocol::Tcp, PortState::Open),
        port(ftp, Protocol::Tcp, PortState::Open),
        port(1, Protocol::Tcp, PortState::Closed),
    ]));
    // A host with nothing to probe is handed back at once.
    stage.submit(host(vec![port(2, Protocol::Tcp, PortState::Closed)]));
    let first = stage.try_next().expect("host without open ports is ready");
    assert_eq!(first.ports[0].port, 2);
    let h = next_within(&mut stage, Duration::from_secs(10)).expect("host back");
    let took = t0.elapsed();
    let svc = |p: u16| {
        h.ports
            .iter()
            .find(|x| x.port == p)
            .unwrap()
            .service
            .clone()
    };
    let s = svc(ssh).expect("ssh identified");
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("ssh", Some("OpenSSH"), Some("9.2p1"))
    );
    let f = svc(ftp).expect("ftp identified");
    assert_eq!(
        (f.product.as_deref(), f.version.as_deref()),
        (Some("vsftpd"), Some("3.0.3"))
    );
    assert!(svc(1).is_none());
    // Banners are matched as they arrive, not after the banner wait.
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(stage.finish(false).is_empty());
}

#[test]
fn udp_ports_that_answer_become_open_and_silent_ones_stay_open_filtered() {
    // Answers anything with a few bytes.
    let echo = UdpSocket::bind((LO, 0)).unwrap();
    let answering = echo.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((_, from)) = echo.recv_from(&mut buf) {
            let _ = echo.send_to(b"\x00\x01hello", from);
        }
    });
    // Bound but never answers.
    let silent = UdpSocket::bind((LO, 0)).unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let o = VersionOptions {
        intensity: 1,
        ..VersionOptions::default()
    };
    let db = load_database(&o).unwrap();
    let mut hosts = vec![host(vec![
        port(answering, Protocol::Udp, PortState::OpenFiltered),
        port(silent_port, Protocol::Udp, PortState::OpenFiltered),
    ])];
    let t0 = Instant::now();
    detect(&mut hosts, db, &o, 16).unwrap();
    let p = |n: u16| hosts[0].ports.iter().find(|x| x.port == n).unwrap();
    assert_eq!(p(answering).state, PortState::Open);
    assert_eq!(p(answering).reason, Reason::UdpResponse);
    assert_eq!(p(silent_port).state, PortState::OpenFiltered);
    assert_eq!(p(silent_port).reason, Reason::NoResponse);
    assert!(t0.elapsed() < Duration::from_secs(10));
    drop(silent);
}

#[test]
fn max_rate_paces_new_connections() {
    let ssh = banner_server(b"SSH-2.0-OpenSSH_9.2p1\r\n");
    let db = load_database(&opts()).unwrap();
    // 11 services at 20 connections per second: at least 0.5 s.
    let mut stage = VersionStage::start(db, &opts(), 64, Some(20.0)).unwrap();
    let t0 = Instant::now();
    for _ in 0..11 {
        stage.submit(host(vec![port(ssh, Protocol::Tcp, PortState::Open)]));
    }
    let back = stage.finish(false);
    let took = t0.elapsed();
    assert_eq!(back.len(), 11);
    assert!(back.iter().all(|h| h.ports[0].service.is_some()));
    assert!(took >= Duration::from_millis(480), "took {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn interrupted_finish_returns_every_host_at_once() {
    // Silent services: probing them would take many seconds.
    let silent = banner_server(b"");
    let db = load_database(&opts()).unwrap();
    let mut stage = VersionStage::start(db, &opts(), 64, None).unwrap();
    for _ in 0..5 {
        stage.submit(host(vec![port(silent, Protocol::Tcp, PortState::Open)]));
    }
    stage.submit(host(vec![]));
    thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let back = stage.finish(true);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(back.len(), 6);
    assert!(back
        .iter()
        .flat_map(|h| &h.ports)
        .all(|p| p.state == PortState::Open && p.service.is_none()));
}
