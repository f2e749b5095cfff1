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

#[test]
fn nfs_exports_are_a_finding_and_a_server_with_none_is_not() {
    let Some(mut lab) = Lab::new(
        "nfs",
        &[
            "/usr/sbin/rpcbind",
            "/usr/sbin/rpc.mountd",
            "/usr/sbin/exportfs",
            "/usr/bin/unshare",
            "/usr/sbin/rpcinfo",
        ],
    ) else {
        return;
    };
    // The kernel's nfsd is not needed to answer MOUNT's EXPORT: rpcbind
    // and nfs-kernel-server's rpc.mountd serve it from the export table
    // exportfs writes. Each target gets its own mount namespace (its own
    // /run for rpcbind's socket and lock, /var/lib/nfs for the table and
    // /etc/exports) and pid namespace, so that killing `unshare` ends both
    // daemons. Target 0 exports one directory to the test network and one
    // to every host; target 1 exports nothing.
    let share = lab.path("share").display().to_string();
    std::fs::create_dir_all(&share).unwrap();
    for (i, exports) in [
        (0, format!("{share} 198.18.0.0/15(ro,insecure,no_subtree_check)\n{share}/pub *(ro,no_subtree_check)\n")),
        (1, String::new()),
    ] {
        std::fs::create_dir_all(lab.path("share/pub")).unwrap();
        let file = lab.write(&format!("exports{i}"), &exports);
        let script = format!(
            "set -e; mount --make-rprivate /; mount -t tmpfs tmpfs /run; \
             mount -t tmpfs tmpfs /var/lib/nfs; mount --bind {} /etc/exports; \
             rpcbind -f & sleep 0.3; exportfs -ra; exec rpc.mountd -F",
            file.display()
        );
        lab.spawn_at(
            i,
            &format!("nfs{i}"),
            "/usr/bin/unshare",
            &["--mount", "--pid", "--fork", "--kill-child", "sh", "-c", &script],
        );
        lab.wait_tcp_at(i, 111);
    }
    // rpc.mountd registers with rpcbind a moment after rpcbind listens:
    // ask rpcbind (its rpcinfo) until MOUNT is listed on both.
    for i in [0, 1] {
        let addr = lab.addr_at(i).to_string();
        let up = (0..50).any(|_| {
            let listed = lab
                .run_in_scanner("rpcinfo", &["-p", &addr])
                .contains("mountd");
            if !listed {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            listed
        });
        assert!(up, "rpc.mountd did not register on {addr}");
    }
    let ports = [(111, T)];
    let found = lab.scan_at(0, &ports, "default", "");
    let r = on(&found, "nfs-showmount", 111);
    assert_eq!(r.len(), 1, "{found:#?}");
    assert_eq!(r[0].severity, portolan_model::Severity::High);
    assert_eq!(
        r[0].summary,
        "NFS lists 2 export(s), at least one open to every host"
    );
    let rows = vec![
        ScriptItem::value(format!("{share}/pub *")),
        ScriptItem::value(format!("{share} 198.18.0.0/15")),
    ];
    assert!(
        r[0].items.contains(&ScriptItem::table("exports", rows)),
        "{:?}",
        r[0]
    );
    assert!(elem(r[0], "mountd").is_some_and(|m| m.ends_with("/tcp (MOUNT v3)")));
    let hardened = lab.scan_at(1, &ports, "default", "");
    assert!(findings(&hardened, 111).is_empty(), "{hardened:#?}");
}
