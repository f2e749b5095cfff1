//! Stateless validation: replies must echo the probe's keyed numbers, so
//! spoofed, stale, mangled and foreign packets are dropped.

mod common;

use common::*;
use portolan_engine::{ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_packet::{parse, Parsed, TcpFlags};
use portolan_probes::tcp::{ProbeNumbers, SPORT_END, SPORT_MIN};
use portolan_probes::{tcp_module, TcpScanKind};
use proptest::prelude::*;

#[test]
fn probes_carry_the_hash_in_seq_ack_and_source_port() {
    let ctx = ctx();
    for kind in TcpScanKind::ALL {
        let m = tcp_module(kind, None);
        for target in TARGETS {
            let p = send(m.as_ref(), &ctx, target, 443, 3);
            let n = ProbeNumbers::from_hash(ctx.key.hash(p.src, target, 443));
            assert_eq!(p.seq, n.seq);
            let with_ack = kind.flags().contains(TcpFlags::ACK);
            assert_eq!(p.ack, if with_ack { n.ack } else { 0 }, "{kind:?}");
            assert_eq!(p.sport, n.sport_base + 3);
            assert!((SPORT_MIN..SPORT_END).contains(&p.sport));
        }
    }
}

#[test]
fn source_ports_stay_in_range_for_every_hash_and_attempt() {
    for h in [
        0u64,
        u64::MAX,
        0x0123_4567_89ab_cdef,
        1 << 40,
        (1 << 40) - 1,
    ] {
        let n = ProbeNumbers::from_hash(h);
        for a in 0..=255u8 {
            let s = n.sport(a);
            assert!((SPORT_MIN..SPORT_END).contains(&s));
            assert_eq!(n.attempt_of(s), Some(a % 16));
        }
    }
}

#[test]
fn syn_probes_offer_a_clients_options_and_others_none() {
    let ctx = ctx();
    for (kind, len_v4, len_v6) in [(TcpScanKind::Syn, 60, 80), (TcpScanKind::Fin, 40, 60)] {
        let m = tcp_module(kind, None);
        assert_eq!(send(m.as_ref(), &ctx, TARGET_V4, 1, 0).bytes.len(), len_v4);
        assert_eq!(send(m.as_ref(), &ctx, TARGET_V6, 1, 0).bytes.len(), len_v6);
    }
    let m = tcp_module(TcpScanKind::Syn, None);
    let first = send(m.as_ref(), &ctx, TARGET_V4, 1, 0);
    let o = &first.bytes[40..60];
    // Linux's order: MSS 1460, SACK permitted, timestamps, NOP, WS 7.
    assert_eq!(&o[..8], &[2, 4, 0x05, 0xb4, 4, 2, 8, 10]);
    assert_eq!(&o[12..], &[0, 0, 0, 0, 1, 3, 3, 7]);
    let tsval = u32::from_be_bytes(o[8..12].try_into().unwrap());
    // A retransmission's clock has moved on by a second's milliseconds.
    let again = send(m.as_ref(), &ctx, TARGET_V4, 1, 1);
    let tsval2 = u32::from_be_bytes(again.bytes[48..52].try_into().unwrap());
    assert_eq!(tsval2, tsval.wrapping_add(1000));
    let v6 = send(m.as_ref(), &ctx, TARGET_V6, 1, 0);
    assert_eq!(&v6.bytes[60..64], &[2, 4, 0x05, 0xa0]);
    // --scanflags with SYN offers them too; without SYN, none.
    let custom = tcp_module(TcpScanKind::Syn, Some(0x02 | 0x08));
    assert_eq!(send(custom.as_ref(), &ctx, TARGET_V4, 1, 0).bytes.len(), 60);
    let no_syn = tcp_module(TcpScanKind::Syn, Some(0x08));
    assert_eq!(send(no_syn.as_ref(), &ctx, TARGET_V4, 1, 0).bytes.len(), 40);
}

#[test]
fn wrong_numbers_are_rejected() {
    let ctx = ctx();
    for kind in TcpScanKind::ALL {
        let m = tcp_module(kind, None);
        for target in TARGETS {
            let p = send(m.as_ref(), &ctx, target, 80, 0);
            // A RST whose numbers are off by one.
            let bad_rst = if p.flags.contains(TcpFlags::ACK) {
                tcp_reply(&p, TcpFlags::RST, p.ack.wrapping_add(1), 0, 0, 64)
            } else {
                tcp_reply(
                    &p,
                    TcpFlags::RST | TcpFlags::ACK,
                    0,
                    p.seq.wrapping_add(7),
                    0,
                    64,
                )
            };
            assert_eq!(m.classify(&ctx, &bad_rst), None, "{kind:?} bad rst");
            // A RST without ACK to a probe without ACK cannot be validated.
            if !p.flags.contains(TcpFlags::ACK) {
                let r = tcp_reply(&p, TcpFlags::RST, 0, p.seq.wrapping_add(1), 0, 64);
                assert_eq!(m.classify(&ctx, &r), None, "{kind:?} rst without ack");
            }
        }
    }
    let m = tcp_module(TcpScanKind::Syn, None);
    let p = send(m.as_ref(), &ctx, TARGET_V4, 80, 0);
    let r = tcp_reply(&p, TcpFlags::SYN | TcpFlags::ACK, 1, p.seq, 64240, 64);
    assert_eq!(m.classify(&ctx, &r), None, "syn-ack acking seq, not seq+1");
}

#[test]
fn replies_to_another_key_port_or_address_are_rejected() {
    let ctx = ctx();
    let other = ctx_with(ValidationKey::from_seed(8), None);
    for kind in TcpScanKind::ALL {
        let m = tcp_module(kind, None);
        for target in TARGETS {
            let p = send(m.as_ref(), &ctx, target, 80, 0);
            let good = rfc_rst(&p, 0, 64);
            assert!(m.classify(&ctx, &good).is_some());
            assert_eq!(m.classify(&other, &good), None, "{kind:?} other key");
            // Same numbers, but from another port of the target.
            let mut q = p.clone();
            q.dport = 81;
            assert_eq!(
                m.classify(&ctx, &rfc_rst(&q, 0, 64)),
                None,
                "{kind:?} other port"
            );
            // To a source port outside this probe's slots.
            let mut q = p.clone();
            q.sport = p.sport.wrapping_add(100);
            assert_eq!(
                m.classify(&ctx, &rfc_rst(&q, 0, 64)),
                None,
                "{kind:?} our port"
            );
            // From a third party claiming the answer.
            let mut q = p.clone();
            q.dst = router_for(target);
            assert_eq!(
                m.classify(&ctx, &rfc_rst(&q, 0, 64)),
                None,
                "{kind:?} third party"
            );
            // Replies in another scan's (stateless) key are stale: same as another key.
            let icmp = icmp_unreach(&p, 3, 8, 64);
            assert!(m.classify(&ctx, &icmp).is_some());
            assert_eq!(m.classify(&other, &icmp), None, "{kind:?} icmp other key");
        }
    }
}

#[test]
fn icmp_errors_must_quote_our_probe() {
    let ctx = ctx();
    let m = tcp_module(TcpScanKind::Syn, None);
    for target in TARGETS {
        let p = send(m.as_ref(), &ctx, target, 80, 2);
        // A quote with a different sequence number.
        let mut q = p.clone();
        let hl = if target.is_ipv4() { 20 } else { 40 };
        q.bytes[hl + 4] ^= 0x80;
        assert_eq!(m.classify(&ctx, &icmp_unreach(&q, 1, 8, 64)), None);
        // A quote cut before the ports carries nothing to validate.
        assert_eq!(m.classify(&ctx, &icmp_unreach(&p, 1, 3, 64)), None);
        // Quoting only the ports (4 bytes, below RFC 792's 8) still validates them.
        let r = m.classify(&ctx, &icmp_unreach(&p, 1, 4, 64)).unwrap();
        assert_eq!(
            (r.dst, r.dport, r.attempt, r.state),
            (target, 80, Some(2), PortState::Filtered)
        );
        // Time exceeded says nothing about the port.
        let mut buf = [0u8; 1500];
        let n = portolan_packet::IcmpError {
            src: router_for(target),
            dst: p.src,
            ttl: 64,
            ip_id: 0,
            kind: portolan_packet::IcmpErrorKind::TimeExceeded { code: 0 },
            quoted: &p.bytes,
        }
        .emit(&mut buf)
        .unwrap();
        assert_eq!(m.classify(&ctx, &buf[..n]), None);
    }
}

#[test]
fn fixed_source_port_is_used_and_attempt_is_unknown() {
    let ctx = ctx_with(ValidationKey::from_seed(7), Some(53));
    let m = tcp_module(TcpScanKind::Syn, None);
    for target in TARGETS {
        let p = send(m.as_ref(), &ctx, target, 443, 4);
        assert_eq!(p.sport, 53);
        let r = m.classify(&ctx, &syn_ack(&p, 50)).unwrap();
        assert_eq!(
            (r.state, r.reason, r.attempt),
            (PortState::Open, Reason::SynAck, None)
        );
        let r = m.classify(&ctx, &icmp_unreach(&p, 1, 8, 50)).unwrap();
        assert_eq!((r.state, r.attempt), (PortState::Filtered, None));
        let mut q = p.clone();
        q.sport = 54;
        assert_eq!(m.classify(&ctx, &syn_ack(&q, 50)), None);
    }
}

#[test]
fn custom_flags_are_sent_and_read_with_the_base_rules() {
    let ctx = ctx();
    // --scanflags SYNFIN with no technique: SYN rules; RST acks seq + 2.
    let m = tcp_module(TcpScanKind::Syn, Some(0x03));
    for target in TARGETS {
        let p = send(m.as_ref(), &ctx, target, 25, 1);
        assert_eq!(p.flags, TcpFlags::SYN | TcpFlags::FIN);
        // A SYN offers MSS, SACK, timestamps and window scale (20 bytes).
        assert_eq!(p.bytes.len(), if target.is_ipv4() { 60 } else { 80 });
        let r = m.classify(&ctx, &rfc_rst(&p, 0, 64)).unwrap();
        assert_eq!((r.state, r.reason), (PortState::Closed, Reason::Reset));
        let r = m.classify(&ctx, &syn_ack(&p, 64)).unwrap();
        assert_eq!(r.state, PortState::Open);
    }
    // --scanflags URGACKPSH -sF: FIN rules, ACK-style validation (RST seq = our ack).
    let m = tcp_module(TcpScanKind::Fin, Some(0x38));
    for target in TARGETS {
        let p = send(m.as_ref(), &ctx, target, 25, 0);
        assert_eq!(p.flags, TcpFlags(0x38));
        assert_ne!(p.ack, 0);
        let r = m.classify(&ctx, &rfc_rst(&p, 0, 64)).unwrap();
        assert_eq!(r.state, PortState::Closed);
        assert_eq!(m.no_reply(), (PortState::OpenFiltered, Reason::NoResponse));
    }
    // Every flag byte builds a probe whose RFC reset validates.
    for f in 0..=255u8 {
        if f & 0x04 != 0 {
            continue; // a RST probe draws no reset
        }
        let m = tcp_module(TcpScanKind::Syn, Some(f));
        let p = send(m.as_ref(), &ctx, TARGET_V4, 9, 0);
        assert!(
            m.classify(&ctx, &rfc_rst(&p, 0, 64)).is_some(),
            "flags {f:#04x}"
        );
    }
}

#[test]
fn no_source_address_of_the_family_builds_nothing() {
    let mut ctx = ctx();
    ctx.src_v6 = None;
    let m = tcp_module(TcpScanKind::Syn, None);
    let mut buf = [0u8; 1500];
    assert_eq!(
        m.build(
            &ctx,
            &ProbeSpec {
                dst: TARGET_V6,
                dport: 1,
                attempt: 0
            },
            &mut buf
        ),
        0
    );
    assert!(
        m.build(
            &ctx,
            &ProbeSpec {
                dst: TARGET_V4,
                dport: 1,
                attempt: 0
            },
            &mut buf
        ) > 0
    );
}

#[test]
fn ip_id_varies_between_targets_and_attempts() {
    let ctx = ctx();
    let m = tcp_module(TcpScanKind::Syn, None);
    let id = |port: u16, attempt: u8| {
        let p = send(m.as_ref(), &ctx, TARGET_V4, port, attempt);
        u16::from_be_bytes([p.bytes[4], p.bytes[5]])
    };
    assert_ne!(id(1, 0), id(2, 0));
    assert_ne!(id(1, 0), id(1, 1));
}

#[test]
fn truncated_replies_are_ignored() {
    let ctx = ctx();
    for kind in TcpScanKind::ALL {
        let m = tcp_module(kind, None);
        for target in TARGETS {
            let p = send(m.as_ref(), &ctx, target, 80, 0);
            for good in [rfc_rst(&p, 0, 64), icmp_unreach(&p, 3, 8, 64)] {
                assert!(m.classify(&ctx, &good).is_some());
                for cut in 0..good.len() {
                    let r = m.classify(&ctx, &good[..cut]);
                    assert!(r.is_none(), "{kind:?} cut at {cut} of {}", good.len());
                }
            }
            // Our own probe, seen on the wire, is not a reply.
            assert_eq!(m.classify(&ctx, &p.bytes), None);
        }
    }
}

proptest! {
    #[test]
    fn garbage_never_classifies_or_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let ctx = ctx();
        for kind in TcpScanKind::ALL {
            prop_assert!(tcp_module(kind, None).classify(&ctx, &bytes).is_none());
        }
    }

    #[test]
    fn corrupted_replies_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let ctx = ctx();
        let m = tcp_module(TcpScanKind::Ack, None);
        for target in TARGETS {
            let p = send(m.as_ref(), &ctx, target, 80, 0);
            for mut pkt in [rfc_rst(&p, 0, 64), icmp_unreach(&p, 3, 1000, 64)] {
                for (at, x) in &flips {
                    let i = at % pkt.len();
                    pkt[i] ^= x;
                }
                let _ = m.classify(&ctx, &pkt);
                if let Ok(Parsed::Other) = parse(&pkt) {
                    prop_assert!(m.classify(&ctx, &pkt).is_none());
                }
            }
        }
    }
}
