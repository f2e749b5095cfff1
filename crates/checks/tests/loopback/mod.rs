//! The conformance tests' harness: servers on 127.0.0.1 that answer
//! with replies written from a product's public specification, and the
//! checks run against one open port as the session's stages run them
//! (a host with that port, the service as -sV named it).

#![allow(dead_code)]

use portolan_checks::{CheckOptions, Runner, ScriptResult, Selection};
use portolan_model::{
    HostResult, HostStatus, PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod,
};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A server on 127.0.0.1 that hands each connection to `conn` on its own
/// thread; runs until the test process ends.
pub fn serve_with(conn: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(c) = c else { continue };
            let conn = conn.clone();
            std::thread::spawn(move || conn(c));
        }
    });
    port
}

/// A server whose connections each read what the client sends (for up
/// to 300 ms, or nothing when `banner` is set) and answer `reply`.
pub fn serve(reply: Vec<u8>, banner: bool) -> u16 {
    serve_with(move |mut c| {
        if !banner {
            let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
        }
        let _ = c.write_all(&reply);
        std::thread::sleep(Duration::from_millis(200));
    })
}

/// An HTTP server answering each request with `reply(path)`.
pub fn serve_http(reply: fn(&str) -> Vec<u8>) -> u16 {
    serve_with(move |mut c| {
        let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&req);
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
        let _ = c.write_all(&reply(&path));
    })
}

/// A JSON reply with `status` ("200 OK") and `body`.
pub fn http(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `service` as -sV names it (inside `tunnel`, such as "ssl").
pub fn probed(service: &str, tunnel: Option<&str>) -> ServiceInfo {
    let mut svc = ServiceInfo::from_table(service);
    svc.method = ServiceMethod::Probed;
    svc.tunnel = tunnel.map(str::to_string);
    svc
}

/// 127.0.0.1, up, with these open TCP ports and their services.
pub fn host_with(ports: Vec<(u16, ServiceInfo)>) -> HostResult {
    let mut host = HostResult::new(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        HostStatus::Up,
        Reason::Localhost,
    );
    for (port, service) in ports {
        host.ports.push(PortResult {
            port,
            protocol: Protocol::Tcp,
            state: PortState::Open,
            reason: Reason::SynAck,
            reason_ttl: 64,
            service: Some(Box::new(service)),
        });
    }
    host
}

/// Runs the checks of `opts` on `host`, as the session's check stage
/// does: how long the run took.
pub fn run_host(opts: CheckOptions, host: &mut HostResult) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    rt.block_on(Runner::new(opts).run_host(host));
    t.elapsed()
}

/// Runs the checks `selection` names against open `port` of 127.0.0.1
/// offering `service`, under `timeout`: their findings (risk hints left
/// out), and how long the run took.
pub fn run_checks(
    selection: &str,
    service: ServiceInfo,
    port: u16,
    timeout: Duration,
) -> (Vec<ScriptResult>, Duration) {
    let mut host = host_with(vec![(port, service)]);
    let mut opts = CheckOptions::new(Selection::parse(selection).unwrap());
    opts.timeout = timeout;
    let took = run_host(opts, &mut host);
    let found = host
        .scripts
        .into_iter()
        .filter(|r| r.id != "risk-hint")
        .collect();
    (found, took)
}

/// Runs `script` against `port`, named `service` by -sV.
pub fn check(script: &str, service: &str, port: u16, timeout: Duration) -> Vec<ScriptResult> {
    run_checks(script, probed(service, None), port, timeout).0
}
