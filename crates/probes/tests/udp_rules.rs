//! Every row of the UDP rule table, tested with the reply a real stack or
//! router sends, for IPv4 and IPv6, on a port with a payload and one
//! without.
//!
//! The expected rows are written here independently of `src/udp/mod.rs`,
//! as nmap's documentation states them.

mod common;
mod udp_support;

use common::*;
use portolan_model::{PortState, PortState::*, Protocol, Reason, ScanType};
use portolan_probes::icmp::{unreach_reason, V4_CODES, V6_CODES};
use portolan_probes::{udp_module, PayloadTable, Response, UdpScan};
use std::net::IpAddr;
use udp_support::*;

/// (reply, state) as nmap documents them for `-sU`.
const EXPECTED: &[(Response, PortState)] = &[
    (Response::Udp, Open),
    (Response::IcmpPortUnreachable, Closed),
    (Response::IcmpUnreachable, Filtered),
    (Response::NoResponse, OpenFiltered),
];

/// The replies a real peer sends for a row, each with its expected reason.
fn replies(p: &SentUdp, response: Response) -> Vec<(Vec<u8>, Reason)> {
    let v6 = p.dst.is_ipv6();
    let port_code = if v6 { 4 } else { 3 };
    match response {
        Response::Udp => vec![
            (
                udp_reply(p, b"\x70\x6f\x81\x80 an answer", 61),
                Reason::UdpResponse,
            ),
            (udp_reply(p, b"", 61), Reason::UdpResponse),
        ],
        Response::IcmpPortUnreachable => vec![
            (port_unreach(p, 61), Reason::PortUnreach),
            (
                unreach_from(p, p.dst, port_code, 8, 61),
                Reason::PortUnreach,
            ),
        ],
        Response::IcmpUnreachable => {
            let codes: &[u8] = if v6 { &V6_CODES } else { &V4_CODES };
            let mut out = Vec::new();
            for &code in codes {
                let reason = unreach_reason(v6, code).unwrap();
                // From a router on the way: even a port unreachable is
                // only a filter's word, not the target's.
                out.push((unreach_from(p, router_for(p.dst), code, 8, 61), reason));
                out.push((unreach_from(p, router_for(p.dst), code, 1000, 61), reason));
                if code != port_code {
                    // From the target itself (a host firewall).
                    out.push((unreach_from(p, p.dst, code, 8, 61), reason));
                }
            }
            out
        }
        Response::NoResponse => Vec::new(),
        other => panic!("{other:?} is not a UDP row"),
    }
}

#[test]
fn the_table_has_exactly_the_documented_rows() {
    let have: Vec<(Response, PortState)> = UdpScan::default()
        .rules()
        .iter()
        .map(|r| (r.response, r.state))
        .collect();
    assert_eq!(have, EXPECTED);
}

#[test]
fn every_row_classifies_a_real_reply_on_v4_and_v6() {
    let ctx = ctx();
    let m = udp_module();
    for &(response, state) in EXPECTED {
        for target in TARGETS {
            // 53 has payloads, 40125 has none.
            for port in [53u16, 40125] {
                for attempt in [0u8, 1, 5] {
                    let p = send_udp(m.as_ref(), &ctx, target, port, attempt);
                    assert_eq!((p.dport, p.ttl), (port, 57));
                    if response == Response::NoResponse {
                        assert_eq!(m.no_reply(), (state, Reason::NoResponse));
                        continue;
                    }
                    for (pkt, reason) in replies(&p, response) {
                        let r = m.classify(&ctx, &pkt).unwrap_or_else(|| {
                            panic!("{response:?} {target} port {port} rejected")
                        });
                        assert_eq!(
                            (r.dst, r.dport, r.attempt, r.state, r.reason, r.ttl),
                            (target, port, Some(attempt), state, reason, 61),
                            "{response:?} {target} port {port}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn icmp_codes_that_say_nothing_about_the_port_are_ignored() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 161, 0);
        let codes: &[u8] = if target.is_ipv4() {
            &[4, 5, 6, 7, 8, 11, 12, 14, 15]
        } else {
            &[7, 8, 200]
        };
        for &code in codes {
            for from in [target, router_for(target)] {
                let pkt = unreach_from(&p, from, code, 8, 64);
                assert_eq!(m.classify(&ctx, &pkt), None, "code {code}");
            }
        }
    }
}

#[test]
fn scan_type_protocol_and_silence() {
    let m = udp_module();
    assert_eq!(m.scan_type(), ScanType::Udp);
    assert_eq!(m.protocol(), Protocol::Udp);
    assert_eq!(m.no_reply(), (OpenFiltered, Reason::NoResponse));
}

#[test]
fn probes_carry_each_ports_payloads_in_turn() {
    let ctx = ctx();
    let m = udp_module();
    let table = PayloadTable::builtin();
    let dns: Vec<&[u8]> = table.for_port(53).map(|p| p.bytes.as_slice()).collect();
    assert_eq!(dns.len(), 2);
    for target in TARGETS {
        for attempt in 0..4u8 {
            let p = send_udp(m.as_ref(), &ctx, target, 53, attempt);
            assert_eq!(
                p.payload,
                dns[usize::from(attempt) % 2],
                "attempt {attempt}"
            );
            let q = send_udp(m.as_ref(), &ctx, target, 40125, attempt);
            assert!(q.payload.is_empty());
        }
        let snmp = send_udp(m.as_ref(), &ctx, target, 161, 0);
        assert_eq!(
            snmp.payload[..5],
            [0x30, 0x29, 0x02, 0x01, 0x01],
            "v2c first"
        );
    }
    // An empty table sends empty datagrams everywhere.
    let bare = UdpScan::new(std::sync::Arc::new(PayloadTable::default()));
    assert!(send_udp(&bare, &ctx, TARGET_V4, 53, 0).payload.is_empty());
}

#[test]
fn tftp_answers_from_a_fresh_port_count_for_port_69() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 69, 2);
        // RFC 1350 ERROR "file not found", from the server's new TID.
        let err = b"\x00\x05\x00\x01File not found\x00";
        let r = m
            .classify(&ctx, &udp_reply_from(&p, 49_321, err, 60))
            .expect("TFTP reply from a fresh port");
        assert_eq!(
            (r.dst, r.dport, r.attempt, r.state, r.reason),
            (target, 69, Some(2), Open, Reason::UdpResponse)
        );
        // Other services must answer from the probed port.
        let q = send_udp(m.as_ref(), &ctx, target, 53, 0);
        assert_eq!(
            m.classify(&ctx, &udp_reply_from(&q, 49_321, b"x", 60)),
            None
        );
        // With -g nothing tells probes apart: a reply speaks only for the
        // port it comes from.
        let g = ctx_with(ctx.key, Some(53));
        let p = send_udp(m.as_ref(), &g, target, 69, 0);
        let r = m
            .classify(&g, &udp_reply_from(&p, 49_321, err, 60))
            .unwrap();
        assert_eq!((r.dport, r.attempt), (49_321, None));
    }
}

#[test]
fn a_port_unreachable_about_the_target_from_elsewhere_is_filtered() {
    let ctx = ctx();
    let m = udp_module();
    for target in TARGETS {
        let p = send_udp(m.as_ref(), &ctx, target, 514, 0);
        let code = if target.is_ipv4() { 3 } else { 4 };
        let other: IpAddr = router_for(target);
        let r = m
            .classify(&ctx, &unreach_from(&p, other, code, 8, 50))
            .unwrap();
        assert_eq!((r.state, r.reason), (Filtered, Reason::PortUnreach));
        let r = m
            .classify(&ctx, &unreach_from(&p, target, code, 8, 50))
            .unwrap();
        assert_eq!((r.state, r.reason), (Closed, Reason::PortUnreach));
    }
}
