//! `--host-timeout` as nmap users know it: 0 is no limit, and the limit
//! bounds service detection too (the host is then reported timed out).
//! The discovery case needs a silent host: see `discovery.rs`.

mod common;
use common::{portolan, Loopback};
use std::time::{Duration, Instant};

#[test]
fn zero_means_no_limit() {
    let lo = Loopback::new(1, 1);
    let ports = format!("{},{}", lo.open[0], lo.closed[0]);
    // -T5 alone sets nmap's 15-minute limit; 0 lifts any limit.
    for t in ["-T3", "-T5"] {
        let out = common::run(&[
            "-sT",
            "-Pn",
            "-n",
            t,
            "--host-timeout",
            "0",
            "-p",
            &ports,
            "127.0.0.1",
        ]);
        assert!(out.status.success(), "{}", common::stderr(&out));
        let text = common::stdout(&out);
        assert!(!text.contains("host timeout"), "{t}: {text}");
        assert!(
            text.contains(&format!("{}/tcp open", lo.open[0])),
            "{t}: {text}"
        );
    }
}

#[test]
fn the_limit_bounds_service_detection() {
    // A service that accepts and never speaks keeps -sV waiting for many
    // seconds at --version-all; a 2 s host timeout ends it, and the host
    // is reported timed out in every format.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(64).flatten() {
            conns.push(c);
        }
    });
    let dir = std::env::temp_dir().join(format!("portolan-ht-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("scan.xml");
    let json = dir.join("scan.json");
    let t0 = Instant::now();
    let out = portolan()
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-sV",
            "--version-all",
            "--host-timeout",
            "2s",
        ])
        .args(["-p", &port.to_string()])
        .args(["-oX", xml.to_str().unwrap(), "-oJ", json.to_str().unwrap()])
        .arg("127.0.0.1")
        .output()
        .unwrap();
    let took = t0.elapsed();
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let text = common::stdout(&out);
    assert!(
        text.contains("Skipping host 127.0.0.1 due to host timeout"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&xml).unwrap();
    assert!(xml.contains(r#"timedout="true""#), "{xml}");
    let json = std::fs::read_to_string(&json).unwrap();
    assert!(json.contains(r#""timed_out":true"#), "{json}");
    drop(held);
}
