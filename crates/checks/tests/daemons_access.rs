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
    // No password on target 0 (type None on 5900, VeNCrypt's TLSNone on
    // 5901), VncAuth on target 1; displays chosen per process.
    let pid = std::process::id() % 200;
    for (i, port, security) in [
        (0, 5900, "None"),
        (0, 5901, "TLSNone"),
        (1, 5900, "VncAuth"),
    ] {
        let display = format!(":{}", 300 + pid * 3 + (port - 5900 + 2 * i as u16) as u32);
        let iface = lab.addr_at(i).to_string();
        let sec = format!("-SecurityTypes={security}");
        let pf = format!("-PasswordFile={pwfile}");
        let rfbport = port.to_string();
        lab.spawn_at(
            i,
            &format!("xvnc{i}-{port}"),
            "/usr/bin/Xvnc",
            &[
                &display,
                "-rfbport",
                &rfbport,
                "-interface",
                &iface,
                "-nolisten",
                "tcp",
                &sec,
                &pf,
            ],
        );
        lab.wait_tcp_at(i, port);
    }
    let ports = [(5900, T)];
    let found = lab.scan_at(0, &[(5900, T), (5901, T)], "default", "");
    let r = on(&found, "vnc-info", 5900);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(r[0].severity, Severity::High);
    assert_eq!(elem(r[0], "Protocol version"), Some("3.8"));
    let none = ScriptItem::table("Security types", vec![ScriptItem::value("None (1)")]);
    assert!(r[0].items.contains(&none), "{:?}", r[0]);
    let r = on(&found, "vnc-info", 5901);
    assert_eq!(r.len(), 1, "{found:#?}");
    let vencrypt = ScriptItem::table("Security types", vec![ScriptItem::value("VeNCrypt (19)")]);
    let tls_none = ScriptItem::table(
        "VeNCrypt subtypes",
        vec![ScriptItem::value("TLSNone (257)")],
    );
    assert_eq!(r[0].items[1..], [vencrypt, tls_none], "{:?}", r[0]);
    let hardened = lab.scan_at(1, &ports, "default", "");
    assert!(findings(&hardened, 5900).is_empty(), "{hardened:#?}");
}

#[test]
fn telnet_is_a_finding_and_another_service_on_port_23_is_not() {
    let Some(mut lab) = Lab::new(
        "telnetd",
        &[
            "/usr/sbin/inetutils-inetd",
            "/usr/sbin/telnetd",
            "/usr/sbin/sshd",
            "/usr/bin/ssh-keygen",
        ],
    ) else {
        return;
    };
    // Target 0: inetutils' telnetd under its inetd on port 23. Target 1
    // (telnet switched off, the port reused): OpenSSH on port 23, which
    // the check must not take for Telnet by its port.
    let inetd = lab.write(
        "inetd.conf",
        &format!(
            "{}:telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n",
            lab.addr_at(0)
        ),
    );
    let pid = lab.path("inetd.pid").display().to_string();
    lab.spawn_at(
        0,
        "inetd",
        "/usr/sbin/inetutils-inetd",
        &["-d", &format!("--pidfile={pid}"), inetd.to_str().unwrap()],
    );
    lab.wait_tcp_at(0, 23);
    let key = lab.path("host_key").display().to_string();
    lab.run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", &key]);
    let listen = format!("ListenAddress={}:23", lab.addr_at(1));
    let sshd_pid = format!("PidFile={}", lab.path("sshd.pid").display());
    lab.spawn_at(
        1,
        "sshd",
        "/usr/sbin/sshd",
        &[
            "-D",
            "-e",
            "-f",
            "/dev/null",
            "-h",
            &key,
            "-o",
            &listen,
            "-o",
            &sshd_pid,
        ],
    );
    lab.wait_tcp_at(1, 23);
    let ports = [(23, T)];
    let found = lab.scan_at(0, &ports, "default", "");
    let r = on(&found, "telnet-info", 23);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(r[0].severity, Severity::High);
    assert_eq!(elem(r[0], "login prompt"), Some("yes"), "{:?}", r[0]);
    assert!(r[0].output.contains("DO TERMINAL-TYPE"), "{}", r[0].output);
    let hardened = lab.scan_at(1, &ports, "default", "");
    assert!(findings(&hardened, 23).is_empty(), "{hardened:#?}");
}

/// The xrdp.ini of Debian's package with our address, port, security
/// layer and certificate.
fn xrdp_ini(lab: &Lab, i: usize, port: u16, layer: &str) -> std::path::PathBuf {
    let d = lab.dir.display();
    let base = std::fs::read_to_string("/etc/xrdp/xrdp.ini").unwrap();
    let ini: String = base
        .lines()
        .map(|l| match l.split_once('=').map(|(k, _)| k) {
            Some("port") => format!("port=tcp://{}:{port}", lab.addr_at(i)),
            Some("security_layer") => format!("security_layer={layer}"),
            Some("certificate") => format!("certificate={d}/rdp.crt"),
            Some("key_file") => format!("key_file={d}/rdp.key"),
            Some("EnableSyslog") => "EnableSyslog=false".to_string(),
            Some("LogFile") => format!("LogFile={d}/xrdp-{i}-{port}.log"),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    lab.write(&format!("xrdp-{i}-{port}.ini"), &ini)
}

#[test]
fn rdp_without_nla_is_a_finding_whose_severity_follows_the_security_layer() {
    let Some(mut lab) = Lab::new("xrdp", &["/usr/sbin/xrdp", "/usr/bin/openssl"]) else {
        return;
    };
    lab.run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rdp.key",
            "-out",
            "rdp.crt",
            "-days",
            "30",
            "-subj",
            "/CN=rdp.portolan.test",
        ],
    );
    // xrdp 0.9 has no CredSSP, so NLA cannot be required: the hardened
    // server (TLS only) still gets the milder finding. Exposed: Standard
    // RDP Security (security_layer=rdp, target 0); hardened: TLS only
    // (security_layer=tls, target 1); Debian's default (negotiate) on
    // target 0's port 3390.
    for (i, port, layer) in [(0, 3389, "rdp"), (1, 3389, "tls"), (0, 3390, "negotiate")] {
        let ini = xrdp_ini(&lab, i, port, layer);
        lab.spawn_at(
            i,
            &format!("xrdp-{i}-{port}"),
            "/usr/sbin/xrdp",
            &["--nodaemon", "--config", ini.to_str().unwrap()],
        );
        lab.wait_tcp_at(i, port);
    }
    let found = lab.scan_at(0, &[(3389, T), (3390, T)], "default", "");
    for port in [3389, 3390] {
        let r = on(&found, "rdp-security", port);
        assert_eq!(r.len(), 1, "{found:#?}");
        assert_eq!(r[0].severity, Severity::High);
        assert_eq!(
            r[0].summary,
            "RDP accepts Standard RDP Security (no TLS, no NLA); CredSSP not offered"
        );
        assert_eq!(elem(r[0], "NLA required"), Some("no"));
        assert_eq!(elem(r[0], "Standard RDP Security"), Some("accepted"));
    }
    // xrdp answers a TLS or CredSSP request with Standard RDP Security
    // rather than the Negotiation Failure the specification describes.
    let r = on(&found, "rdp-security", 3389);
    let rdp_only = Some("not chosen (server selected PROTOCOL_RDP)");
    assert_eq!(elem(r[0], "TLS"), rdp_only);
    assert_eq!(elem(r[0], "CredSSP (NLA)"), rdp_only);
    let r = on(&found, "rdp-security", 3390);
    assert_eq!(elem(r[0], "TLS"), Some("accepted"));
    let no_credssp = Some("not chosen (server selected PROTOCOL_SSL)");
    assert_eq!(elem(r[0], "CredSSP (NLA)"), no_credssp);
    let tls = lab.scan_at(1, &[(3389, T)], "default", "");
    let r = on(&tls, "rdp-security", 3389);
    assert_eq!(r.len(), 1, "{tls:#?}");
    assert_eq!(r[0].severity, Severity::Medium);
    assert_eq!(
        r[0].summary,
        "RDP does not require NLA (TLS without CredSSP accepted); CredSSP not offered"
    );
    assert_eq!(
        elem(r[0], "Standard RDP Security"),
        Some("refused (SSL_REQUIRED_BY_SERVER)")
    );
    assert_eq!(elem(r[0], "TLS"), Some("accepted"));
    assert_eq!(elem(r[0], "CredSSP (NLA)"), no_credssp);
    assert_eq!(elem(r[0], "NLA required"), Some("no"));
}
