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
    let addr = lab.addr().to_string();
    let dir = lab.dir.display().to_string();
    for (name, port, extra) in [
        ("open", "6379", &["--protected-mode", "no"][..]),
        (
            "auth",
            "6380",
            &["--protected-mode", "no", "--requirepass", "p0rtolan-s3cret"][..],
        ),
        // Protected mode with no password: refuses clients not on loopback.
        ("protected", "6381", &["--protected-mode", "yes"][..]),
    ] {
        let mut args = vec!["--bind", &addr, "--port", port, "--save", "", "--dir", &dir];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--daemonize", "no", "--pidfile", ""]);
        lab.spawn(name, "/usr/bin/redis-server", &args);
    }
    for p in [6379, 6380, 6381] {
        lab.wait_tcp(p);
    }
    let found = lab.scan(&[(6379, T), (6380, T), (6381, T)], "default", "");
    let r = on(&found, "redis-info", 6379);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(r[0].severity, Severity::High);
    assert!(elem(r[0], "Version").is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())));
    assert!(findings(&found, 6380).is_empty(), "{found:#?}");
    assert!(findings(&found, 6381).is_empty(), "{found:#?}");
    // The risk table names Redis by its -sV name on every port.
    assert_eq!(on(&found, "risk-hint", 6380).len(), 1, "{found:#?}");
}

#[test]
fn memcached_stats_and_udp_are_findings_and_an_auth_file_without_udp_is_not() {
    let Some(mut lab) = Lab::new("memcached", &["/usr/bin/memcached"]) else {
        return;
    };
    let addr = lab.addr().to_string();
    let auth = lab.write("auth", "portolan:s3cret\n").display().to_string();
    lab.spawn(
        "open",
        "/usr/bin/memcached",
        &["-u", "root", "-l", &addr, "-p", "11211", "-U", "11211"],
    );
    lab.spawn(
        "auth",
        "/usr/bin/memcached",
        &[
            "-u", "root", "-l", &addr, "-p", "11212", "-U", "0", "-Y", &auth,
        ],
    );
    lab.wait_tcp(11211);
    lab.wait_tcp(11212);
    let ports = [(11211, T), (11211, U), (11212, T), (11212, U)];
    let found = lab.scan(&ports, "default", "");
    let tcp = on(&found, "memcached-info", 11211);
    assert_eq!(tcp.len(), 1, "{found:#?}");
    assert!(elem(tcp[0], "Version").is_some(), "{tcp:?}");
    let udp: Vec<_> = found
        .iter()
        .filter(|r| r.id == "memcached-udp" && r.protocol == Some(U))
        .collect();
    assert_eq!(udp.len(), 1, "{found:#?}");
    assert_eq!(udp[0].port, Some(11211));
    assert!(findings(&found, 11212).is_empty(), "{found:#?}");
}
