//! `-sU -sV` through the binary: a UDP service that ignores the port
//! scan's probe (so the scan leaves it `open|filtered`) but answers a
//! version probe is reported open with reason `udp-response` and named.
//! Needs root (raw sockets for `-sU`); skips with a notice otherwise.

mod common;

use common::{parse_xml, run, stderr, stdout};
use std::net::UdpSocket;

/// A DNS server that answers only `version.bind` CHAOS TXT queries, with
/// "dnsmasq-2.90", and ignores everything else.
fn version_bind_server() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let q = &buf[..n];
            let Some(at) = q.windows(14).position(|w| w == b"\x07version\x04bind\x00") else {
                continue;
            };
            if n < 12 {
                continue;
            }
            let question = &q[12..(at + 14 + 4).min(n)];
            let mut r = Vec::new();
            r.extend_from_slice(&q[..2]);
            r.extend_from_slice(b"\x85\x80\x00\x01\x00\x01\x00\x00\x00\x00");
            r.extend_from_slice(question);
            r.extend_from_slice(b"\xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00");
            let txt = b"dnsmasq-2.90";
            r.extend_from_slice(&[0, txt.len() as u8 + 1, txt.len() as u8]);
            r.extend_from_slice(txt);
            let _ = s.send_to(&r, from);
        }
    });
    port
}

#[test]
fn open_filtered_udp_port_that_answers_a_version_probe_is_open() {
    if !portolan_testbed::require_root_only() {
        return;
    }
    let port = version_bind_server();
    let out = run(&[
        "-sU",
        "-sV",
        "-Pn",
        "-n",
        "-p",
        &port.to_string(),
        "-oX",
        "-",
        "127.0.0.1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = stdout(&out);
    let doc = parse_xml(&xml);
    let p = doc
        .descendants()
        .find(|n| n.has_tag_name("port"))
        .unwrap_or_else(|| panic!("no port in {xml}"));
    let state = p
        .children()
        .find(|n| n.has_tag_name("state"))
        .expect("state");
    assert_eq!(state.attribute("state"), Some("open"), "{xml}");
    assert_eq!(state.attribute("reason"), Some("udp-response"), "{xml}");
    let svc = p
        .children()
        .find(|n| n.has_tag_name("service"))
        .expect("service");
    assert_eq!(svc.attribute("name"), Some("domain"), "{xml}");
    assert_eq!(svc.attribute("product"), Some("dnsmasq"), "{xml}");
    assert_eq!(svc.attribute("version"), Some("2.90"), "{xml}");
}
