//! Discovery probes against replies crafted the way real stacks send
//! them: every "up" answer is recognised with nmap's reason, and replies
//! with wrong numbers, keys, directions or senders are dropped.

use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
use portolan_model::{PortState, Reason};
use portolan_packet::{
    parse, AddressMask, IcmpEcho, IcmpError, IcmpErrorKind, IcmpTimestamp, Parsed, TcpFlags,
    TcpProbe, UdpProbe,
};
use portolan_probes::discovery::{ping_module, IcmpPing, PingKind, TcpPing, UdpPing};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const US4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const T4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 4);
const ROUTER4: Ipv4Addr = Ipv4Addr::new(198, 19, 255, 254);

fn us6() -> Ipv6Addr {
    "2001:2::1".parse().unwrap()
}
fn t6() -> Ipv6Addr {
    "2001:2::3:4".parse().unwrap()
}

fn ctx(seed: u64) -> ProbeContext {
    ProbeContext {
        src_v4: Some(US4),
        src_v6: Some(us6()),
        source_port: None,
        key: ValidationKey::from_seed(seed),
        ttl: 61,
    }
}

fn build(m: &dyn ProbeModule, c: &ProbeContext, dst: IpAddr, dport: u16, attempt: u8) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let n = m.build(
        c,
        &ProbeSpec {
            dst,
            dport,
            attempt,
        },
        &mut buf,
    );
    buf[..n].to_vec()
}

fn echo_reply_to(probe: &[u8]) -> Vec<u8> {
    let Ok(Parsed::IcmpEcho {
        src,
        dst,
        reply: false,
        ident,
        seq,
        ..
    }) = parse(probe)
    else {
        panic!("an echo request")
    };
    let mut b = [0u8; 200];
    let n = IcmpEcho {
        src: dst,
        dst: src,
        ttl: 64,
        ip_id: 1,
        reply: true,
        ident,
        seq,
        payload: &[],
    }
    .emit(&mut b)
    .unwrap();
    b[..n].to_vec()
}

#[test]
fn echo_reply_shows_host_up_on_both_families() {
    let c = ctx(1);
    let m = IcmpPing::echo();
    for (dst, ttl) in [(IpAddr::V4(T4), 64), (IpAddr::V6(t6()), 64)] {
        for attempt in [0u8, 1, 5] {
            let probe = build(&m, &c, dst, 0, attempt);
            assert!(!probe.is_empty());
            let r = m.classify(&c, &echo_reply_to(&probe)).expect("accepted");
            assert_eq!(
                (r.dst, r.dport, r.attempt, r.state, r.reason, r.ttl),
                (
                    dst,
                    0,
                    Some(attempt),
                    PortState::Open,
                    Reason::EchoReply,
                    ttl
                )
            );
            // The request itself (seen on loopback), another scan's key
            // and the other ICMP pings do not accept it.
            assert_eq!(m.classify(&c, &probe), None);
            assert_eq!(m.classify(&ctx(2), &echo_reply_to(&probe)), None);
            assert_eq!(
                IcmpPing::timestamp().classify(&c, &echo_reply_to(&probe)),
                None
            );
        }
    }
    assert_eq!(m.no_reply(), (PortState::Filtered, Reason::NoResponse));
}

#[test]
fn echo_reply_with_other_numbers_is_dropped() {
    let c = ctx(1);
    let m = IcmpPing::echo();
    let probe = build(&m, &c, IpAddr::V4(T4), 0, 0);
    let Ok(Parsed::IcmpEcho { ident, seq, .. }) = parse(&probe) else {
        panic!()
    };
    for (i, s, from) in [
        (ident ^ 1, seq, T4),
        (ident, seq.wrapping_add(16), T4),
        (ident, seq.wrapping_sub(1), T4),
        (ident, seq, Ipv4Addr::new(198, 18, 3, 5)),
    ] {
        let mut b = [0u8; 100];
        let n = IcmpEcho {
            src: IpAddr::V4(from),
            dst: IpAddr::V4(US4),
            ttl: 64,
            ip_id: 0,
            reply: true,
            ident: i,
            seq: s,
            payload: &[],
        }
        .emit(&mut b)
        .unwrap();
        assert_eq!(m.classify(&c, &b[..n]), None, "{i} {s} {from}");
    }
}

#[test]
fn timestamp_reply_must_echo_the_originate_timestamp() {
    let c = ctx(3);
    let m = IcmpPing::timestamp();
    assert!(
        build(&m, &c, IpAddr::V6(t6()), 0, 0).is_empty(),
        "no ICMPv6 timestamp"
    );
    let probe = build(&m, &c, IpAddr::V4(T4), 0, 2);
    let Ok(Parsed::IcmpTimestamp {
        reply: false,
        ident,
        seq,
        originate,
        ..
    }) = parse(&probe)
    else {
        panic!("a timestamp request")
    };
    let reply = |originate| {
        let mut b = [0u8; 100];
        let n = IcmpTimestamp {
            src: IpAddr::V4(T4),
            dst: IpAddr::V4(US4),
            ttl: 128,
            ip_id: 0,
            reply: true,
            ident,
            seq,
            originate,
            receive: 1,
            transmit: 2,
        }
        .emit(&mut b)
        .unwrap();
        b[..n].to_vec()
    };
    let r = m.classify(&c, &reply(originate)).expect("accepted");
    assert_eq!(
        (r.dst, r.attempt, r.reason, r.ttl),
        (IpAddr::V4(T4), Some(2), Reason::TimestampReply, 128)
    );
    assert_eq!(m.classify(&c, &reply(originate ^ 1)), None);
}

#[test]
fn address_mask_reply_shows_host_up() {
    let c = ctx(4);
    let m = IcmpPing::address_mask();
    assert!(build(&m, &c, IpAddr::V6(t6()), 0, 0).is_empty());
    let probe = build(&m, &c, IpAddr::V4(T4), 0, 0);
    let req = AddressMask::parse(&probe).unwrap().expect("a mask request");
    assert!(!req.reply);
    let mut b = [0u8; 100];
    let n = AddressMask {
        src: T4,
        dst: US4,
        ttl: 255,
        ip_id: 0,
        reply: true,
        ident: req.ident,
        seq: req.seq,
        mask: Ipv4Addr::new(255, 255, 255, 0),
    }
    .emit(&mut b)
    .unwrap();
    let r = m.classify(&c, &b[..n]).expect("accepted");
    assert_eq!((r.reason, r.state), (Reason::MaskReply, PortState::Open));
    assert_eq!(Reason::MaskReply.as_str(), "addressmask-reply");
    assert_eq!(m.classify(&c, &probe), None, "the request itself");
}

fn tcp_answer(probe: &[u8], flags: TcpFlags) -> Vec<u8> {
    let Ok(Parsed::Tcp {
        src,
        dst,
        sport,
        dport,
        seq,
        ack,
        flags: sent,
        ..
    }) = parse(probe)
    else {
        panic!("a TCP probe")
    };
    // RFC 9293's answers: RST to an ACK carries SEQ=SEG.ACK; to a SYN,
    // ACK=SEG.SEQ+1 (as does a SYN/ACK).
    let (seq, ack) = if sent.contains(TcpFlags::ACK) {
        (ack, 0)
    } else {
        (7, seq.wrapping_add(1))
    };
    let mut b = [0u8; 100];
    let n = TcpProbe {
        src: dst,
        dst: src,
        ttl: 50,
        ip_id: 0,
        sport: dport,
        dport: sport,
        seq,
        ack,
        flags,
        window: 0,
        options: &[],
    }
    .emit(&mut b)
    .unwrap();
    b[..n].to_vec()
}

#[test]
fn tcp_pings_take_syn_ack_and_reset_as_up() {
    let c = ctx(5);
    for dst in [IpAddr::V4(T4), IpAddr::V6(t6())] {
        let syn = TcpPing::syn();
        let p = build(&syn, &c, dst, 443, 1);
        for (flags, reason) in [
            (TcpFlags::SYN | TcpFlags::ACK, Reason::SynAck),
            (TcpFlags::RST | TcpFlags::ACK, Reason::Reset),
        ] {
            let r = syn.classify(&c, &tcp_answer(&p, flags)).expect("accepted");
            assert_eq!(
                (r.dst, r.dport, r.attempt, r.state, r.reason),
                (dst, 443, Some(1), PortState::Open, reason)
            );
        }
        let ack = TcpPing::ack();
        let p = build(&ack, &c, dst, 80, 0);
        let r = ack
            .classify(&c, &tcp_answer(&p, TcpFlags::RST))
            .expect("accepted");
        assert_eq!((r.state, r.reason), (PortState::Open, Reason::Reset));
        assert_eq!(ack.classify(&ctx(6), &tcp_answer(&p, TcpFlags::RST)), None);
    }
}

#[test]
fn tcp_ping_ignores_icmp_errors() {
    let c = ctx(5);
    let m = TcpPing::syn();
    let p = build(&m, &c, IpAddr::V4(T4), 443, 0);
    let mut b = [0u8; 200];
    let n = IcmpError {
        src: IpAddr::V4(ROUTER4),
        dst: IpAddr::V4(US4),
        ttl: 60,
        ip_id: 0,
        kind: IcmpErrorKind::Unreach { code: 1 },
        quoted: &p[..28],
    }
    .emit(&mut b)
    .unwrap();
    assert_eq!(m.classify(&c, &b[..n]), None);
}

fn unreach(from: IpAddr, probe: &[u8], v6: bool) -> Vec<u8> {
    let mut b = [0u8; 300];
    let n = IcmpError {
        src: from,
        dst: if v6 {
            IpAddr::V6(us6())
        } else {
            IpAddr::V4(US4)
        },
        ttl: 63,
        ip_id: 0,
        kind: IcmpErrorKind::Unreach {
            code: if v6 { 4 } else { 3 },
        },
        quoted: probe,
    }
    .emit(&mut b)
    .unwrap();
    b[..n].to_vec()
}

#[test]
fn udp_ping_port_unreach_from_the_target_shows_it_up() {
    let c = ctx(8);
    let m = UdpPing::new();
    for (dst, router, v6) in [
        (IpAddr::V4(T4), IpAddr::V4(ROUTER4), false),
        (
            IpAddr::V6(t6()),
            IpAddr::V6("2001:2::ff:fe".parse().unwrap()),
            true,
        ),
    ] {
        let p = build(&m, &c, dst, 40125, 3);
        let r = m.classify(&c, &unreach(dst, &p, v6)).expect("accepted");
        assert_eq!(
            (r.dst, r.dport, r.attempt, r.state, r.reason),
            (dst, 40125, Some(3), PortState::Open, Reason::PortUnreach)
        );
        assert_eq!(m.classify(&c, &unreach(router, &p, v6)), None, "router");
        assert_eq!(m.classify(&ctx(9), &unreach(dst, &p, v6)), None, "key");
    }
}

#[test]
fn udp_ping_quoted_ip_id_must_match() {
    let c = ctx(8);
    let m = UdpPing::new();
    let mut p = build(&m, &c, IpAddr::V4(T4), 40125, 0);
    p[4] ^= 0x40; // IP ID
    assert_eq!(m.classify(&c, &unreach(IpAddr::V4(T4), &p, false)), None);
}

#[test]
fn udp_ping_any_datagram_back_shows_host_up() {
    let c = ctx(8);
    let m = UdpPing::new();
    let p = build(&m, &c, IpAddr::V4(T4), 53, 0);
    let Ok(Parsed::Udp { sport, dport, .. }) = parse(&p) else {
        panic!("a UDP probe")
    };
    assert_eq!(parse(&p).map(|_| ()), Ok(()));
    let reply = |from_port: u16, to_port: u16| {
        let mut b = [0u8; 100];
        let n = UdpProbe {
            src: IpAddr::V4(T4),
            dst: IpAddr::V4(US4),
            ttl: 64,
            ip_id: 0,
            sport: from_port,
            dport: to_port,
            payload: b"hi",
        }
        .emit(&mut b)
        .unwrap();
        b[..n].to_vec()
    };
    let r = m.classify(&c, &reply(dport, sport)).expect("accepted");
    assert_eq!((r.dport, r.reason), (53, Reason::UdpResponse));
    assert_eq!(m.classify(&c, &reply(dport + 1, sport)), None);
    assert_eq!(m.classify(&c, &reply(dport, sport.wrapping_add(16))), None);
}

#[test]
fn every_kind_builds_and_never_panics_on_junk() {
    let c = ctx(10);
    for kind in PingKind::ALL {
        let m = ping_module(kind);
        for dst in [IpAddr::V4(T4), IpAddr::V6(t6())] {
            let p = build(m.as_ref(), &c, dst, 80, 0);
            assert_eq!(
                p.is_empty(),
                dst.is_ipv6() && !kind.supports_ipv6(),
                "{kind:?}"
            );
            for cut in 0..p.len() {
                let _ = m.classify(&c, &p[..cut]);
            }
        }
        for junk in [&[][..], &[0x45; 40], &[0x60; 60], &[0xff; 3]] {
            assert_eq!(m.classify(&c, junk), None);
        }
    }
}
