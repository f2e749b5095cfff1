//! Remote-access services from Debian's packages (TigerVNC's Xvnc, xrdp,
//! inetutils' telnetd), each started twice in a namespace: exposed (the
//! finding must be reported) and hardened (nothing, or exactly the milder
//! finding the daemon cannot avoid, as said per test).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::{Protocol, ScriptItem, Severity};

const T: Protocol = Protocol::Tcp;

#[test]
fn vnc_without_a_password_is_a_finding_and_vnc_auth_is_not() {
    let Some(mut lab) = Lab::new("xvnc", &["/usr/bin/Xvnc", "/usr/bin/openssl"]) else {
        return;
    };
    // A VNC password file is the password DES-encrypted with RFB's fixed
    // key (TigerVNC's vncpasswd is not packaged here; openssl does it).
    let pw = lab.write("pw.txt", "secret12");
    let pwfile = lab.path("passwd").display().to_string();
    lab.run(
        "openssl",
        &[
            "enc",
            "-des-ecb",
            "-K",
            "e84ad660c4721ae0",
            "-nopad",
            "-provider",
            "legacy",
            "-provider",
            "default",
            "-in",
            pw.to_str().unwrap(),
            "-out",
            &pwfile,
        ],
    );
    // No password on target 0 (displays chosen per process), VncAuth on target 1 .
    let pid = std::process::id() % 200;
    for (i, security) in [(0, "None"), (1, "VncAuth")] {
        let display = format!(":{}", 300 + pid * 2 + i as u32);
        let iface = lab.addr_at(i).to_string();
        let sec = format!("-SecurityTypes={security}");
        let pf = format!("-PasswordFile={pwfile}");
        lab.spawn_at(
            i,
            &format!("xvnc{i}"),
            "/usr/bin/Xvnc",
            &[
                &display,
                "-rfbport",
                "5900",
                "-interface",
                &iface,
                "-nolisten",
                "tcp",
                &sec,
                &pf,
            ],
        );
        lab.wait_tcp_at(i, 5900);
    }
    let ports = [(5900, T)];
    let found = lab.scan_at(0, &ports, "default", "");
    let r = on(&found, "vnc-info", 5900);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(r[0].severity, Severity::High);
    assert_eq!(elem(r[0], "Protocol version"), Some("3.8"));
    let listed = r[0].items.iter().any(|i| {
        matches!(i, ScriptItem::Table { items, .. }
            if items == &vec![ScriptItem::value("None (1)")])
    });
    assert!(listed, "{:?}", r[0]);
    let hardened = lab.scan_at(1, &ports, "default", "");
    assert!(findings(&hardened, 5900).is_empty(), "{hardened:#?}");
}
