//! Key-value stores from Debian's packages, each started twice in a
//! namespace: exposed (the finding must be reported) and hardened
//! (nothing may be).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::{Protocol, Severity};

const T: Protocol = Protocol::Tcp;
const U: Protocol = Protocol::Udp;

#[test]
fn redis_without_auth_is_a_finding_and_requirepass_or_protected_mode_is_not() {
    let Some(mut lab) = Lab::new("redis", &["/usr/bin/redis-server"]) else {
        return;
    };
    let dir = lab.dir.display().to_string();
    // The exposed one on target 0, the hardened ones on target 1: the
    // same port, so the check applies by port as well as by name.
    for (i, name, port, extra) in [
        (0, "open", "6379", &["--protected-mode", "no"][..]),
        (
            1,
            "auth",
            "6379",
            &["--protected-mode", "no", "--requirepass", "p0rtolan-s3cret"][..],
        ),
        // Protected mode with no password: refuses clients not on loopback.
        (1, "protected", "6380", &["--protected-mode", "yes"][..]),
    ] {
        let addr = lab.addr_at(i).to_string();
        let mut args = vec!["--bind", &addr, "--port", port, "--save", "", "--dir", &dir];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--daemonize", "no", "--pidfile", ""]);
        lab.spawn_at(i, name, "/usr/bin/redis-server", &args);
    }
    lab.wait_tcp_at(0, 6379);
    lab.wait_tcp_at(1, 6379);
    lab.wait_tcp_at(1, 6380);
    let found = lab.scan_at(0, &[(6379, T)], "default", "");
    let r = on(&found, "redis-info", 6379);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(r[0].severity, Severity::High);
    assert!(elem(r[0], "Version").is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())));
    let hardened = lab.scan_at(1, &[(6379, T), (6380, T)], "default", "");
    assert!(findings(&hardened, 6379).is_empty(), "{hardened:#?}");
    assert!(findings(&hardened, 6380).is_empty(), "{hardened:#?}");
    // The risk table names Redis by its -sV name on any port (so -sV
    // named 6380 redis, and the check did apply).
    assert_eq!(on(&hardened, "risk-hint", 6380).len(), 1, "{hardened:#?}");
}

#[test]
fn memcached_stats_and_udp_are_findings_and_an_auth_file_without_udp_is_not() {
    let Some(mut lab) = Lab::new("memcached", &["/usr/bin/memcached"]) else {
        return;
    };
    let open_addr = lab.addr_at(0).to_string();
    let auth_addr = lab.addr_at(1).to_string();
    let auth = lab.write("auth", "portolan:s3cret\n").display().to_string();
    lab.spawn_at(
        0,
        "open",
        "/usr/bin/memcached",
        &["-u", "root", "-l", &open_addr, "-p", "11211", "-U", "11211"],
    );
    lab.spawn_at(
        1,
        "auth",
        "/usr/bin/memcached",
        &[
            "-u", "root", "-l", &auth_addr, "-p", "11211", "-U", "0", "-Y", &auth,
        ],
    );
    lab.wait_tcp_at(0, 11211);
    lab.wait_tcp_at(1, 11211);
    let ports = [(11211, T), (11211, U)];
    let found = lab.scan_at(0, &ports, "default", "");
    let tcp = on(&found, "memcached-info", 11211);
    assert_eq!(tcp.len(), 1, "{found:#?}");
    assert!(elem(tcp[0], "Version").is_some(), "{tcp:?}");
    let udp: Vec<_> = found
        .iter()
        .filter(|r| r.id == "memcached-udp" && r.protocol == Some(U))
        .collect();
    assert_eq!(udp.len(), 1, "{found:#?}");
    let hardened = lab.scan_at(1, &ports, "default", "");
    assert!(findings(&hardened, 11211).is_empty(), "{hardened:#?}");
}
