//! Databases from Debian's packages (mariadb-server, postgresql), each
//! started twice: once listening on the target's address (the finding,
//! with the exact product and version, must be reported) and once bound
//! to the other target's loopback only (hardened: nothing may be).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::Protocol;
use std::time::{Duration, Instant};

const T: Protocol = Protocol::Tcp;

/// Waits up to 30 s for `needle` in the scratch log `name`.
fn wait_log(lab: &Lab, name: &str, needle: &str) {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        let log = std::fs::read_to_string(lab.path(name)).unwrap_or_default();
        if log.contains(needle) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no `{needle}` in {}", lab.path(name).display());
}

#[test]
fn mariadb_reachable_is_reported_with_its_version_and_loopback_only_is_not() {
    let Some(mut lab) = Lab::new(
        "mysql",
        &["/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db"],
    ) else {
        return;
    };
    let version = std::process::Command::new("/usr/sbin/mariadbd")
        .arg("--version")
        .output()
        .unwrap();
    // "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for ...": the version.
    let version = String::from_utf8_lossy(&version.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "Ver")
        .nth(1)
        .unwrap()
        .to_string();
    let open_addr = lab.addr_at(0).to_string();
    for (i, bind) in [(0, open_addr.as_str()), (1, "127.0.0.1")] {
        let data = lab.path(&format!("data{i}")).display().to_string();
        lab.run(
            "mariadb-install-db",
            &[
                "--no-defaults",
                "--user=root",
                &format!("--datadir={data}"),
                "--auth-root-authentication-method=normal",
            ],
        );
        let sock = lab.path(&format!("mysql{i}.sock")).display().to_string();
        lab.spawn_at(
            i,
            &format!("mariadb{i}"),
            "/usr/sbin/mariadbd",
            &[
                "--no-defaults",
                "--user=root",
                &format!("--datadir={data}"),
                &format!("--bind-address={bind}"),
                "--port=3306",
                &format!("--socket={sock}"),
                "--skip-log-bin",
            ],
        );
    }
    lab.wait_tcp_at(0, 3306);
    wait_log(&lab, "mariadb1.log", "ready for connections");
    let found = lab.scan_at(0, &[(3306, T)], "default", "");
    let r = on(&found, "mysql-info", 3306);
    assert_eq!(r.len(), 1, "{found:#?}");
    // Either the greeting or the "Host ... is not allowed" refusal (root
    // is localhost-only here): both name the product.
    assert_eq!(elem(r[0], "Product"), Some("MariaDB"), "{r:?}");
    if let Some(v) = elem(r[0], "Version") {
        assert!(v.ends_with(&version), "{v} vs {version}");
    }
    let hardened = lab.scan_at(1, &[(3306, T)], "default", "");
    assert!(findings(&hardened, 3306).is_empty(), "{hardened:#?}");
}

#[test]
fn postgresql_reachable_is_reported_and_loopback_only_is_not() {
    let Some(pgbin) = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
        d.filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("postgres").exists())
    }) else {
        let _ = portolan_testbed::skip_unless(false, "postgresql is not installed");
        return;
    };
    let Some(mut lab) = Lab::new("pgsql", &["/usr/bin/su"]) else {
        return;
    };
    let d = lab.dir.display().to_string();
    std::process::Command::new("chown")
        .args(["nobody", &d])
        .status()
        .unwrap();
    let open_addr = lab.addr_at(0).to_string();
    let bin = pgbin.display();
    for (i, bind) in [(0, open_addr.as_str()), (1, "127.0.0.1")] {
        lab.run(
            "su",
            &[
                "nobody",
                "-s",
                "/bin/sh",
                "-c",
                &format!("{bin}/initdb -D {d}/pg{i} -A trust -U postgres >{d}/init{i}.log 2>&1"),
            ],
        );
        lab.spawn_at(
            i,
            &format!("pg{i}"),
            "su",
            &[
                "nobody",
                "-s",
                "/bin/sh",
                "-c",
                &format!("exec {bin}/postgres -D {d}/pg{i} -h {bind} -p 5432 -k {d}/pg{i}"),
            ],
        );
    }
    lab.wait_tcp_at(0, 5432);
    wait_log(&lab, "pg1.log", "ready to accept connections");
    let found = lab.scan_at(0, &[(5432, T)], "default", "");
    let r = on(&found, "pgsql-info", 5432);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(elem(r[0], "Product"), Some("PostgreSQL"), "{r:?}");
    // No ssl = on in a fresh initdb: the server answers `N`.
    assert_eq!(elem(r[0], "TLS offered"), Some("no"), "{r:?}");
    assert!(
        elem(r[0], "Protocol versions").is_some_and(|v| v.starts_with("3.0 to 3.")),
        "{r:?}"
    );
    let hardened = lab.scan_at(1, &[(5432, T)], "default", "");
    assert!(findings(&hardened, 5432).is_empty(), "{hardened:#?}");
}
