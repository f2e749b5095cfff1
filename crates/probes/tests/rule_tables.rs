//! Every row of every technique's rule table, tested with the reply a
//! real stack or router sends, for IPv4 and IPv6.
//!
//! The expected rows are written here independently of the tables in
//! `src/tcp/*.rs`, as nmap's documentation states them, and each table
//! must have exactly these rows.

mod common;

use common::*;
use portolan_model::{PortState, PortState::*, Reason};
use portolan_probes::icmp::{V4_CODES, V6_CODES};
use portolan_probes::{tcp_module, Response, TcpScanKind};

/// (technique, reply, state) as nmap documents them.
const EXPECTED: &[(TcpScanKind, Response, PortState)] = &[
    (TcpScanKind::Syn, Response::SynAck, Open),
    (TcpScanKind::Syn, Response::Syn, Open),
    (TcpScanKind::Syn, Response::Rst, Closed),
    (TcpScanKind::Syn, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Syn, Response::NoResponse, Filtered),
    (TcpScanKind::Ack, Response::Rst, Unfiltered),
    (TcpScanKind::Ack, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Ack, Response::NoResponse, Filtered),
    (TcpScanKind::Window, Response::RstNonZeroWindow, Open),
    (TcpScanKind::Window, Response::RstZeroWindow, Closed),
    (TcpScanKind::Window, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Window, Response::NoResponse, Filtered),
    (TcpScanKind::Maimon, Response::Rst, Closed),
    (TcpScanKind::Maimon, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Maimon, Response::NoResponse, OpenFiltered),
    (TcpScanKind::Null, Response::Rst, Closed),
    (TcpScanKind::Null, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Null, Response::NoResponse, OpenFiltered),
    (TcpScanKind::Fin, Response::Rst, Closed),
    (TcpScanKind::Fin, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Fin, Response::NoResponse, OpenFiltered),
    (TcpScanKind::Xmas, Response::Rst, Closed),
    (TcpScanKind::Xmas, Response::IcmpUnreachable, Filtered),
    (TcpScanKind::Xmas, Response::NoResponse, OpenFiltered),
];

/// The replies a real peer sends for a row, each with its expected reason.
fn replies(p: &Sent, response: Response) -> Vec<(Vec<u8>, Reason)> {
    match response {
        Response::SynAck => vec![(syn_ack(p, 61), Reason::SynAck)],
        Response::Syn => vec![(bare_syn(p, 61), Reason::Syn)],
        Response::Rst => vec![
            (rfc_rst(p, 0, 61), Reason::Reset),
            (rfc_rst(p, 512, 61), Reason::Reset),
        ],
        Response::RstNonZeroWindow => vec![(rfc_rst(p, 1024, 61), Reason::Reset)],
        Response::RstZeroWindow => vec![(rfc_rst(p, 0, 61), Reason::Reset)],
        Response::IcmpPortUnreachable | Response::IcmpUnreachable => {
            let v6 = p.dst.is_ipv6();
            let codes: &[u8] = if v6 { &V6_CODES } else { &V4_CODES };
            let mut out = Vec::new();
            for &code in codes {
                let reason = portolan_probes::icmp::unreach_reason(v6, code).unwrap();
                // The RFC 792 minimum quote, and a whole-packet quote.
                out.push((icmp_unreach(p, code, 8, 61), reason));
                out.push((icmp_unreach(p, code, 1000, 61), reason));
            }
            out
        }
        Response::NoResponse => Vec::new(),
        // UDP rows are tested in udp_rules.rs, SCTP rows in sctp_scan.rs.
        Response::Udp | Response::InitAck | Response::Abort => Vec::new(),
    }
}

#[test]
fn every_table_has_exactly_the_documented_rows() {
    for kind in TcpScanKind::ALL {
        let want: Vec<(Response, PortState)> = EXPECTED
            .iter()
            .filter(|r| r.0 == kind)
            .map(|r| (r.1, r.2))
            .collect();
        let have: Vec<(Response, PortState)> =
            kind.rules().iter().map(|r| (r.response, r.state)).collect();
        assert_eq!(have, want, "{kind:?}");
    }
}

#[test]
fn every_row_classifies_a_real_reply_on_v4_and_v6() {
    let ctx = ctx();
    for &(kind, response, state) in EXPECTED {
        let m = tcp_module(kind, None);
        for target in TARGETS {
            for attempt in [0u8, 1, 5] {
                let p = send(m.as_ref(), &ctx, target, 8080, attempt);
                assert_eq!(p.flags, kind.flags());
                assert_eq!(p.ttl, 57);
                if response == Response::NoResponse {
                    assert_eq!(m.no_reply(), (state, Reason::NoResponse), "{kind:?}");
                    continue;
                }
                for (pkt, reason) in replies(&p, response) {
                    let r = m
                        .classify(&ctx, &pkt)
                        .unwrap_or_else(|| panic!("{kind:?} {response:?} {target} rejected"));
                    assert_eq!(
                        (r.dst, r.dport, r.attempt, r.state, r.reason, r.ttl),
                        (target, 8080, Some(attempt), state, reason, 61),
                        "{kind:?} {response:?} {target}"
                    );
                }
            }
        }
    }
}

#[test]
fn replies_no_row_names_are_ignored() {
    // A SYN/ACK means nothing to a FIN scan; a RST's window means nothing to a SYN scan.
    let ctx = ctx();
    for kind in [
        TcpScanKind::Null,
        TcpScanKind::Fin,
        TcpScanKind::Xmas,
        TcpScanKind::Ack,
        TcpScanKind::Maimon,
    ] {
        let m = tcp_module(kind, None);
        for target in TARGETS {
            let p = send(m.as_ref(), &ctx, target, 22, 0);
            assert_eq!(m.classify(&ctx, &syn_ack(&p, 64)), None, "{kind:?}");
            assert_eq!(m.classify(&ctx, &bare_syn(&p, 64)), None, "{kind:?}");
        }
    }
}

#[test]
fn icmp_codes_that_say_nothing_about_the_port_are_ignored() {
    let ctx = ctx();
    let m = tcp_module(TcpScanKind::Syn, None);
    for target in TARGETS {
        let p = send(m.as_ref(), &ctx, target, 22, 0);
        let codes: &[u8] = if target.is_ipv4() {
            &[4, 5, 6, 7, 8, 11, 12, 14, 15]
        } else {
            &[7, 8, 200]
        };
        for &code in codes {
            assert_eq!(
                m.classify(&ctx, &icmp_unreach(&p, code, 8, 64)),
                None,
                "code {code}"
            );
        }
    }
}

#[test]
fn icmp_reasons_follow_each_familys_codes() {
    use portolan_probes::icmp::unreach_reason as r;
    assert_eq!(r(false, 3), Some(Reason::PortUnreach));
    assert_eq!(r(true, 4), Some(Reason::PortUnreach));
    assert_eq!(r(true, 3), Some(Reason::HostUnreach));
    assert_eq!(r(false, 13), Some(Reason::AdminProhibited));
    assert_eq!(r(true, 1), Some(Reason::AdminProhibited));
    assert_eq!(r(false, 4), None);
}

#[test]
fn scan_types_and_no_reply_are_the_techniques() {
    use portolan_model::ScanType;
    assert_eq!(
        tcp_module(TcpScanKind::Syn, None).scan_type(),
        ScanType::Syn
    );
    assert_eq!(
        tcp_module(TcpScanKind::Xmas, None).scan_type(),
        ScanType::Xmas
    );
    assert_eq!(
        tcp_module(TcpScanKind::Syn, Some(0x29)).scan_type(),
        ScanType::Custom
    );
    assert_eq!(
        tcp_module(TcpScanKind::Fin, Some(0x20)).scan_type(),
        ScanType::Fin
    );
    assert_eq!(
        tcp_module(TcpScanKind::Null, None).no_reply(),
        (OpenFiltered, Reason::NoResponse)
    );
}
