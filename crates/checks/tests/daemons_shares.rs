//! File-sharing services from Debian's packages (Samba's smbd; rpcbind
//! and nfs-kernel-server's rpc.mountd), each started twice in a
//! namespace: exposed (the finding must be reported) and hardened
//! (nothing may be).

mod common;

use common::{elem, findings, on, Lab};
use portolan_model::{Protocol, ScriptItem};

const T: Protocol = Protocol::Tcp;

/// An smb.conf for a standalone smbd on `addr`, with everything it
/// writes under `dir`.
fn smb_conf(dir: &str, addr: &str, hardening: &str) -> String {
    format!(
        "[global]\nserver role = standalone server\ninterfaces = {addr}\n\
         bind interfaces only = yes\nsmb ports = 445 139\ndisable netbios = yes\n\
         private dir = {dir}/private\nlock directory = {dir}/lock\n\
         state directory = {dir}/state\ncache directory = {dir}/cache\n\
         pid directory = {dir}/pid\nncalrpc dir = {dir}/ncalrpc\n\
         log file = {dir}/log.smbd\nload printers = no\nprinting = bsd\n\
         printcap name = /dev/null\ndisable spoolss = yes\n{hardening}\n\
         [share]\npath = {dir}\nread only = yes\n"
    )
}

#[test]
fn smb1_and_unrequired_signing_are_findings_and_a_hardened_samba_has_none() {
    let Some(mut lab) = Lab::new("smbd", &["/usr/sbin/smbd"]) else {
        return;
    };
    // SMB1 on and signing optional on target 0; SMB2 and newer only and
    // signing mandatory on target 1.
    for (i, name, hardening) in [
        (
            0,
            "exposed",
            "server min protocol = NT1\nserver signing = auto",
        ),
        (
            1,
            "hardened",
            "server min protocol = SMB2_02\nserver signing = mandatory",
        ),
    ] {
        let dir = lab.path(name);
        for sub in ["private", "lock", "state", "cache", "pid", "ncalrpc"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let d = dir.display().to_string();
        let conf = lab.write(
            &format!("{name}.conf"),
            &smb_conf(&d, &lab.addr_at(i).to_string(), hardening),
        );
        let conf = conf.display().to_string();
        lab.spawn_at(
            i,
            name,
            "/usr/sbin/smbd",
            &[
                "--foreground",
                "--no-process-group",
                "--debug-stdout",
                "-s",
                &conf,
            ],
        );
        lab.wait_tcp_at(i, 445);
        lab.wait_tcp_at(i, 139);
    }
    let ports = [(445, T), (139, T)];
    let found = lab.scan_at(0, &ports, "default", "");
    for port in [445, 139] {
        let v1 = on(&found, "smb-protocols", port);
        assert_eq!(v1.len(), 1, "{found:#?}");
        let dialects: Vec<ScriptItem> = [
            "NT LM 0.12 (SMBv1)",
            "2.0.2",
            "2.1",
            "3.0",
            "3.0.2",
            "3.1.1",
        ]
        .into_iter()
        .map(ScriptItem::value)
        .collect();
        assert_eq!(v1[0].items, vec![ScriptItem::table("dialects", dialects)]);
        let sign = on(&found, "smb2-security-mode", port);
        assert_eq!(sign.len(), 1, "{found:#?}");
        assert_eq!(elem(sign[0], "dialect"), Some("3.1.1"));
        assert_eq!(
            elem(sign[0], "security mode"),
            Some("Message signing enabled but not required")
        );
    }
    let hardened = lab.scan_at(1, &ports, "default", "");
    assert!(findings(&hardened, 445).is_empty(), "{hardened:#?}");
    assert!(findings(&hardened, 139).is_empty(), "{hardened:#?}");
}
