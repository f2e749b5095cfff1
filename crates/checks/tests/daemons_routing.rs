//! FRRouting from Debian's `frr` package, its daemons started by the
//! test in the target namespaces (as user frr, in group frrvty as the
//! package sets up): zebra's VTY with `no login` (open: critical), zebra
//! with a password (reachable, asks for it: medium), and ripd's VTY
//! behind `access-class` permitting only 127.0.0.1 (hardened: FRR
//! closes the connection unread, nothing may be reported).

mod common;

use common::{elem, on, Lab};
use portolan_model::{Protocol, Severity};

const T: Protocol = Protocol::Tcp;

#[test]
fn frr_vty_open_is_critical_password_is_medium_and_acl_is_nothing() {
    let Some(mut lab) = Lab::new("frr", &["/usr/lib/frr/zebra", "/usr/lib/frr/ripd"]) else {
        return;
    };
    // "zebra 8.4.4" style: the version FRR's banner names.
    let out = std::process::Command::new("/usr/lib/frr/zebra")
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(2).map(String::from))
        .unwrap();
    lab.write("open.conf", "hostname open\nline vty\n no login\n");
    lab.write("pw.conf", "hostname pw\npassword s3cret\nline vty\n");
    lab.write(
        "acl.conf",
        "hostname acl\naccess-list vtyonly seq 5 permit 127.0.0.1/32\nline vty\n no login\n access-class vtyonly\n",
    );
    // The daemons drop to user frr: the scratch directory is theirs.
    let frr = |name: &str| {
        std::process::Command::new("id")
            .args(["-u", name])
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            })
    };
    let uid = frr("frr").expect("user frr");
    std::os::unix::fs::chown(&lab.dir, Some(uid), None).unwrap();
    for f in ["open.conf", "pw.conf", "acl.conf"] {
        std::os::unix::fs::chown(lab.path(f), Some(uid), None).unwrap();
    }
    let daemon = |lab: &mut Lab, i: usize, name: &str, program: &str, conf: &str, port: u16| {
        let args = {
            let addr = lab.addr_at(i).to_string();
            let arg = |s: &str| lab.path(s).display().to_string();
            [
                "-f".to_string(),
                arg(conf),
                "-i".into(),
                arg(&format!("{name}.pid")),
                "-z".into(),
                arg(&format!("zserv{i}.api")),
                "--vty_socket".into(),
                lab.dir.display().to_string(),
                "-u".into(),
                "frr".into(),
                "-g".into(),
                "frr".into(),
                "-A".into(),
                addr,
                "-P".into(),
                port.to_string(),
            ]
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.spawn_at(i, name, program, &args);
        lab.wait_tcp_at(i, port);
    };
    daemon(
        &mut lab,
        0,
        "zebra-open",
        "/usr/lib/frr/zebra",
        "open.conf",
        2601,
    );
    daemon(
        &mut lab,
        0,
        "ripd-acl",
        "/usr/lib/frr/ripd",
        "acl.conf",
        2602,
    );
    daemon(
        &mut lab,
        1,
        "zebra-pw",
        "/usr/lib/frr/zebra",
        "pw.conf",
        2601,
    );

    let found = lab.scan(&[(2601, T), (2602, T)], "zebra-vty", "");
    let open = on(&found, "zebra-vty", 2601);
    assert_eq!(open.len(), 1, "{found:#?}");
    assert_eq!(open[0].severity, Severity::Critical);
    assert_eq!(
        open[0].summary,
        "FRRouting VTY gives its shell without a password"
    );
    assert_eq!(elem(open[0], "Version"), Some(version.as_str()));
    assert!(on(&found, "zebra-vty", 2602).is_empty(), "{found:#?}");

    let found = lab.scan_at(1, &[(2601, T)], "zebra-vty", "");
    let pw = on(&found, "zebra-vty", 2601);
    assert_eq!(pw.len(), 1, "{found:#?}");
    assert_eq!(pw[0].severity, Severity::Medium);
    assert_eq!(pw[0].summary, "FRRouting VTY asks for a password");
    assert_eq!(elem(pw[0], "Access"), Some("password"));
}
