//! The rule tables against a real stack: probes sent with a raw socket to
//! this machine's own Linux TCP on 127.0.0.1, replies captured and
//! classified. Needs root (raw sockets); skipped, saying so, without it.
//! Every packet goes to loopback only.

mod common;

use common::ctx_with;
use portolan_engine::{
    Echo, ProbeContext, ProbeSpec, Reply, SampleKind, TraitSamples, ValidationKey,
};
use portolan_model::{PortState, PortState::*, Reason};
use portolan_probes::{tcp_module, TcpScanKind};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// IPPROTO_RAW: send whole IP packets (implies IP_HDRINCL).
const IPPROTO_RAW: i32 = 255;

struct Raw {
    send: Socket,
    recv: Socket,
}

fn raw() -> Option<Raw> {
    // IPPROTO_RAW implies IP_HDRINCL: we send whole IP packets.
    let send = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW))).ok()?;
    let recv = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::TCP)).ok()?;
    recv.set_read_timeout(Some(Duration::from_millis(50)))
        .ok()?;
    Some(Raw { send, recv })
}

/// Sends one probe and returns the first reply the module accepts within
/// `wait`.
fn probe(
    raw: &mut Raw,
    ctx: &ProbeContext,
    kind: TcpScanKind,
    port: u16,
    wait: Duration,
) -> Option<(PortState, Reason)> {
    probe_reply(raw, ctx, kind, port, wait).map(|r| (r.state, r.reason))
}

/// [`probe`], returning the whole reply.
fn probe_reply(
    raw: &mut Raw,
    ctx: &ProbeContext,
    kind: TcpScanKind,
    port: u16,
    wait: Duration,
) -> Option<Reply> {
    let m = tcp_module(kind, None);
    let mut buf = [0u8; 1500];
    let n = m.build(
        ctx,
        &ProbeSpec {
            dst: IpAddr::V4(LOOPBACK),
            dport: port,
            attempt: 0,
        },
        &mut buf,
    );
    let to = SocketAddr::new(IpAddr::V4(LOOPBACK), 0);
    raw.send
        .send_to(&buf[..n], &to.into())
        .expect("send on loopback");
    let deadline = Instant::now() + wait;
    let mut rbuf = [0u8; 65536];
    while Instant::now() < deadline {
        let Ok(len) = raw.recv.read(&mut rbuf) else {
            continue;
        };
        if let Some(r) = m.classify(ctx, &rbuf[..len]) {
            assert_eq!(
                (r.dst, r.dport, r.attempt),
                (IpAddr::V4(LOOPBACK), port, Some(0))
            );
            return Some(r);
        }
    }
    None
}

type Answer = Option<(PortState, Reason)>;

/// (technique, open port's answer, closed port's answer) as Linux gives them.
const LINUX: &[(TcpScanKind, Answer, Answer)] = &[
    (
        TcpScanKind::Syn,
        Some((Open, Reason::SynAck)),
        Some((Closed, Reason::Reset)),
    ),
    (
        TcpScanKind::Ack,
        Some((Unfiltered, Reason::Reset)),
        Some((Unfiltered, Reason::Reset)),
    ),
    // Linux resets with a zero window either way: window scan calls both closed.
    (
        TcpScanKind::Window,
        Some((Closed, Reason::Reset)),
        Some((Closed, Reason::Reset)),
    ),
    // Linux (unlike BSD) resets a FIN/ACK to an open port too.
    (
        TcpScanKind::Maimon,
        Some((Closed, Reason::Reset)),
        Some((Closed, Reason::Reset)),
    ),
    (TcpScanKind::Null, None, Some((Closed, Reason::Reset))),
    (TcpScanKind::Fin, None, Some((Closed, Reason::Reset))),
    (TcpScanKind::Xmas, None, Some((Closed, Reason::Reset))),
];

/// A listening port and a closed one on `addr`.
fn ports(addr: IpAddr) -> (TcpListener, u16, u16) {
    let listener = TcpListener::bind((addr, 0)).unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let l = TcpListener::bind((addr, 0)).unwrap();
        l.local_addr().unwrap().port()
    };
    (listener, open, closed)
}

#[test]
fn linux_answers_as_the_tables_expect() {
    let Some(mut raw) = raw() else {
        eprintln!("skipped: raw sockets need root (CAP_NET_RAW)");
        return;
    };
    let (listener, open, closed) = ports(IpAddr::V4(LOOPBACK));
    let mut ctx = ctx_with(ValidationKey::from_seed(0x5eed), None);
    ctx.src_v4 = Some(LOOPBACK);
    let reply = Duration::from_millis(500);
    let silence = Duration::from_millis(300);
    for &(kind, want_open, want_closed) in LINUX {
        let wait = |w: Option<_>| if w.is_some() { reply } else { silence };
        let got_open = probe(&mut raw, &ctx, kind, open, wait(want_open));
        assert_eq!(got_open, want_open, "{kind:?} open port");
        let got_closed = probe(&mut raw, &ctx, kind, closed, wait(want_closed));
        assert_eq!(got_closed, want_closed, "{kind:?} closed port");
    }
    drop(listener);
}

/// Linux's own replies carry its traits: a SYN/ACK answering our
/// client-like SYN (MSS, SACK, timestamps, window scale) echoes all four
/// in Linux's order `MSTNW`, with our TSval echoed, TTL 64 and DF; the RST
/// of a closed port acknowledges our SYN (`ack_echo` +1) with sequence 0,
/// a zero window and no data; an ACK probe's RST takes our acknowledgment
/// number as its sequence number.
#[test]
fn linux_replies_carry_its_traits() {
    let Some(mut raw) = raw() else {
        eprintln!("skipped: raw sockets need root (CAP_NET_RAW)");
        return;
    };
    let (listener, open, closed) = ports(IpAddr::V4(LOOPBACK));
    let mut ctx = ctx_with(ValidationKey::from_seed(0x7a17), None);
    ctx.src_v4 = Some(LOOPBACK);
    let wait = Duration::from_millis(500);
    let get = |raw: &mut Raw, kind, port| {
        probe_reply(raw, &ctx, kind, port, wait)
            .and_then(|r| r.traits)
            .expect("a reply with traits")
    };
    let mut samples = TraitSamples::new();
    let sa = get(&mut raw, TcpScanKind::Syn, open);
    assert_eq!(sa.sample_kind(), SampleKind::SynAck);
    assert_eq!((sa.ttl, sa.df), (64, true));
    assert_eq!(sa.options.to_string(), "MSTNW");
    assert!(sa.mss.is_some_and(|m| m > 0));
    assert!(sa.wscale.is_some() && sa.sack_permitted);
    assert!(sa.timestamps.is_some_and(|t| t.tsval != 0 && t.tsecr != 0));
    assert_eq!(sa.ack_echo, Echo::Plus1);
    assert!(sa.window > 0 && sa.data_len == 0 && !sa.ece());
    let rst = get(&mut raw, TcpScanKind::Syn, closed);
    assert_eq!(rst.sample_kind(), SampleKind::RstAck);
    assert_eq!((rst.seq_echo, rst.ack_echo), (Echo::Zero, Echo::Plus1));
    assert_eq!((rst.window, rst.data_len), (0, 0));
    assert!(rst.options.is_empty() && !rst.rst_has_data());
    let bare = get(&mut raw, TcpScanKind::Ack, closed);
    assert_eq!(bare.sample_kind(), SampleKind::Rst);
    assert_eq!(bare.seq_echo, Echo::Same);
    for t in [sa, rst, bare] {
        assert!(samples.offer(t));
    }
    assert!(!samples.offer(sa));
    assert_eq!(samples.len(), 3);
    drop(listener);
}

/// Sends one IPv6 probe to ::1 and returns the first accepted reply.
/// Raw IPv6 sockets carry no IP header either way, so the probe's TCP part
/// is sent (its checksum already covers ::1 to ::1) and each captured
/// segment gets its IPv6 header rebuilt (on loopback the sender is ::1).
fn probe_v6(
    send: &Socket,
    recv: &Socket,
    ctx: &ProbeContext,
    kind: TcpScanKind,
    port: u16,
    wait: Duration,
) -> Answer {
    let m = tcp_module(kind, None);
    let mut buf = [0u8; 1500];
    let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let n = m.build(
        ctx,
        &ProbeSpec {
            dst: lo,
            dport: port,
            attempt: 0,
        },
        &mut buf,
    );
    send.send_to(&buf[40..n], &SocketAddr::new(lo, 0).into())
        .expect("send on loopback");
    let deadline = Instant::now() + wait;
    let mut rbuf = [0u8; 2048];
    while Instant::now() < deadline {
        let Ok(len) = (&*recv).read(&mut rbuf) else {
            continue;
        };
        let seg = &rbuf[..len];
        let mut pkt = vec![0u8; 40 + seg.len()];
        portolan_packet::ipv6::Ipv6Repr {
            src: Ipv6Addr::LOCALHOST,
            dst: Ipv6Addr::LOCALHOST,
            next_header: 6,
            payload_len: seg.len(),
            hop_limit: 64,
            flow_label: 0,
        }
        .emit(&mut pkt)
        .unwrap();
        pkt[40..].copy_from_slice(seg);
        if let Some(r) = m.classify(ctx, &pkt) {
            assert_eq!((r.dst, r.dport, r.attempt), (lo, port, Some(0)));
            return Some((r.state, r.reason));
        }
    }
    None
}

#[test]
fn linux_answers_as_the_tables_expect_on_ipv6() {
    let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let (Ok(send), Ok(recv)) = (
        Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::TCP)),
        Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::TCP)),
    ) else {
        eprintln!("skipped: raw sockets need root (CAP_NET_RAW)");
        return;
    };
    let Ok((listener, open, closed)) = std::panic::catch_unwind(|| ports(lo)) else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    recv.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut ctx = ctx_with(ValidationKey::from_seed(0x5eed), None);
    ctx.src_v6 = Some(Ipv6Addr::LOCALHOST);
    for &(kind, want_open, want_closed) in LINUX {
        let wait = |w: Answer| Duration::from_millis(if w.is_some() { 500 } else { 300 });
        assert_eq!(
            probe_v6(&send, &recv, &ctx, kind, open, wait(want_open)),
            want_open,
            "{kind:?} open port"
        );
        assert_eq!(
            probe_v6(&send, &recv, &ctx, kind, closed, wait(want_closed)),
            want_closed,
            "{kind:?} closed port"
        );
    }
    drop(listener);
}
