//! The testbed behaves the same on a host that forwards: new namespaces
//! inherit the host's IPv4 settings, so the testbed must set its own.
//!
//! Its own test binary (one test), so no other test of this crate builds a
//! namespace while the host's settings are changed; they are changed only
//! while the testbed is built and restored by a guard, even on panic.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use portolan_testbed::bench::Scenario;
use portolan_testbed::{in_netns, require_root, ROUTING_SYSCTLS};

/// Host settings a router would have: forwarding of both families on,
/// strict reverse-path filtering.
const ROUTER: [(&str, &str); 4] = [
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv6.conf.all.forwarding", "1"),
    ("net.ipv4.conf.all.rp_filter", "1"),
    ("net.ipv4.conf.default.rp_filter", "1"),
];

fn proc_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// Host sysctls set for the guard's life, put back as they were on drop.
struct HostSysctls {
    saved: Vec<(String, String)>,
}

impl HostSysctls {
    fn set(settings: &[(&str, &str)]) -> HostSysctls {
        let mut guard = HostSysctls { saved: Vec::new() };
        for (key, value) in settings {
            let path = proc_path(key);
            let old = std::fs::read_to_string(&path).expect("read host sysctl");
            guard.saved.push((path.clone(), old.trim().to_string()));
            std::fs::write(&path, value).expect("write host sysctl");
        }
        guard
    }
}

impl Drop for HostSysctls {
    fn drop(&mut self) {
        // Reverse order: ip_forward resets per-family defaults when written.
        for (path, old) in self.saved.iter().rev() {
            if let Err(e) = std::fs::write(path, old) {
                eprintln!("could not restore {path} to {old}: {e}");
            }
        }
    }
}

fn ns_sysctl_value(ns: &str, key: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sysctl", "-n", key])
        .output()
        .expect("run sysctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn connect(ns: &str, addr: SocketAddr, ms: u64) -> std::io::Result<()> {
    in_netns(ns, move || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(ms)).map(drop)
    })
    .expect("enter scanner namespace")
}

#[test]
fn a_forwarding_host_does_not_leak_into_the_testbed() {
    if !require_root() {
        return;
    }
    let mut p = {
        let _router = HostSysctls::set(&ROUTER);
        Scenario::Mem15.prepare().unwrap()
    };
    let target = p.testbed.target(0).unwrap().ns().to_string();
    let tb = &p.testbed;
    // mem15: the /15 is routed to the target, which drops what is not its
    // own instead of answering "net unreachable".
    let far: SocketAddr = "198.18.200.1:80".parse().unwrap();
    let e = connect(tb.scanner_ns(), far, 300).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    // The target itself is reachable: a closed port refuses, over both
    // families.
    for ip in [
        IpAddr::V4(tb.target_addr(0)),
        IpAddr::V6(tb.target_addr6(0)),
    ] {
        let e = connect(tb.scanner_ns(), SocketAddr::new(ip, 9), 1000).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{ip}: {e}");
    }
    for ns in [tb.scanner_ns(), target.as_str()] {
        for (key, want) in ROUTING_SYSCTLS {
            assert_eq!(ns_sysctl_value(ns, key), want, "{key} in {ns}");
        }
    }
}
