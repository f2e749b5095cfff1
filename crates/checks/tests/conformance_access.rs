//! Hostile servers against the remote-access and file-sharing checks
//! (`vnc-info`, `telnet-info`, `rdp-security`, `smb-protocols`,
//! `smb2-security-mode`, `nfs-showmount`): on 127.0.0.1, each server
//! writes a reply the moment a connection opens (and again on every
//! read), then holds the connection open. Garbage, a flood, and each
//! protocol's own framing with a length it never fills must all end in
//! nothing, within the check timeout.

mod loopback;
use loopback::{probed, run_checks, serve_with};
use portolan_checks::ScriptResult;
use std::io::{Read, Write};
use std::time::Duration;

/// A server that sends `reply` on connect and after each read, and
/// never closes.
fn serve(reply: Vec<u8>) -> u16 {
    serve_with(move |mut c| {
        let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = c.write_all(&reply);
        let mut buf = [0u8; 4096];
        while let Ok(1..) = c.read(&mut buf) {
            let _ = c.write_all(&reply);
        }
        std::thread::sleep(Duration::from_secs(5));
    })
}

/// Runs `script` against `port`, named `service` as -sV would name it,
/// under an 800 ms timeout: its findings, and how long the run took.
fn check(script: &str, service: &str, port: u16) -> (Vec<ScriptResult>, Duration) {
    run_checks(
        script,
        probed(service, None),
        port,
        Duration::from_millis(800),
    )
}

fn garbage() -> Vec<u8> {
    (0..=255u8).cycle().take(70_000).collect()
}

fn flood() -> Vec<u8> {
    vec![b'a'; 4 << 20]
}

#[test]
fn hostile_servers_end_in_nothing_within_the_timeout() {
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        // RFB: a greeting, then a list of 255 types that never comes.
        ("vnc-info", "vnc", b"RFB 003.008\n\xff\x01".to_vec()),
        ("vnc-info", "vnc", b"RFB 003.003\n".to_vec()),
        (
            "vnc-info",
            "vnc",
            b"RFB 003.008\n\x01\x13\x00\x02\x00\xff".to_vec(),
        ),
        // Telnet: text that is neither negotiation nor a prompt.
        ("telnet-info", "telnet", b"220 mail ESMTP\r\n".to_vec()),
        // TPKT announcing 65535 bytes, and a confirm with a short body.
        (
            "rdp-security",
            "ms-wbt-server",
            vec![3, 0, 0xff, 0xff, 0x0e, 0xd0],
        ),
        (
            "rdp-security",
            "ms-wbt-server",
            vec![3, 0, 0, 7, 0xff, 0xd0, 0],
        ),
        // A session frame announcing 16 MiB.
        (
            "smb-protocols",
            "microsoft-ds",
            vec![0, 0xff, 0xff, 0xff, 0xfe, b'S', b'M', b'B'],
        ),
        (
            "smb2-security-mode",
            "microsoft-ds",
            vec![0, 0xff, 0xff, 0xff, 0xfe, b'S'],
        ),
        // A record mark announcing 2 GiB, and a last fragment never sent.
        (
            "nfs-showmount",
            "rpcbind",
            vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1],
        ),
        ("nfs-showmount", "rpcbind", vec![0, 0, 0, 4, 0, 0, 0, 1]),
    ];
    let ids = [
        ("vnc-info", "vnc"),
        ("telnet-info", "telnet"),
        ("rdp-security", "ms-wbt-server"),
        ("smb-protocols", "microsoft-ds"),
        ("smb2-security-mode", "microsoft-ds"),
        ("nfs-showmount", "rpcbind"),
    ];
    let generic = ids.iter().flat_map(|&(id, svc)| {
        [
            (id, svc, garbage()),
            (id, svc, flood()),
            (id, svc, Vec::new()),
        ]
    });
    for (id, service, reply) in cases.into_iter().chain(generic) {
        let head: Vec<u8> = reply.iter().copied().take(8).collect();
        let port = serve(reply);
        let (found, took) = check(id, service, port);
        assert!(took < Duration::from_secs(3), "{id} {head:?} took {took:?}");
        assert!(found.is_empty(), "{id} {head:?}: {found:#?}");
    }
}

/// The same harness finds what a well-formed reply proves, so the
/// silence above is the checks' doing (replies written from RFC 6143,
/// RFC 854 and [MS-RDPBCGR] 2.2.1.2).
#[test]
fn well_formed_replies_through_the_same_harness_are_findings() {
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("vnc-info", "vnc", b"RFB 003.008\n\x02\x01\x02".to_vec()),
        (
            "telnet-info",
            "telnet",
            b"\xff\xfd\x18\r\nhost login: ".to_vec(),
        ),
        (
            "rdp-security",
            "ms-wbt-server",
            vec![
                3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 0, 0, 0, 0,
            ],
        ),
    ];
    for (id, service, reply) in cases {
        let port = serve(reply);
        let (found, _) = check(id, service, port);
        assert_eq!(found.len(), 1, "{id}: {found:#?}");
        assert_eq!(found[0].id, id);
    }
}
