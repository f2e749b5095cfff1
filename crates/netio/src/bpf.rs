//! The classic BPF program that keeps everything but replies out of the
//! receive ring.
//!
//! A busy interface carries far more traffic than a scan's replies. Copying
//! all of it into user space would cost more than the scan itself, so the
//! kernel runs this filter on every packet and queues only those that can be
//! replies: incoming IPv4 or IPv6 packets addressed to one of the scan's
//! source addresses, carrying TCP, UDP, SCTP, ICMP or ICMPv6. The engine still
//! validates every packet it gets; the filter only saves work.
//!
//! The packet socket is `SOCK_DGRAM`, so offset 0 is the first byte of the
//! IP header. Loads past the end of the packet make classic BPF return 0,
//! which drops truncated packets for free. The program, in `tcpdump -d`
//! style (`#OUT` = `PACKET_OUTGOING`, `#k` are ancillary loads):
//!
//! ```text
//!       ld  #pkttype          ; skb->pkt_type
//!       jeq #OUT      drop    ; our own probes, seen leaving (loopback!)
//!       ld  #proto            ; skb->protocol, host order
//!       jeq #0x0800   v4
//!       jeq #0x86dd   v6      else drop
//! v4:   ldb [0] ; and #0xf0 ; jeq #0x40 else drop
//!       ld  [16]              ; destination address
//!       jeq #src_1  v4p ...   ; one test per IPv4 source, else drop
//! v4p:  ldb [9]               ; protocol
//!       jeq #6 / #17 / #1  accept   else drop
//! v6:   ldb [0] ; and #0xf0 ; jeq #0x60 else drop
//!       ld [24] ; jeq w0 ; ld [28] ; jeq w1 ; ld [32] ; jeq w2 ; ld [36] ; jeq w3 -> v6p
//!       ...                   ; one such block per IPv6 source, else drop
//! v6p:  ldb [6]               ; next header (replies carry no extension headers)
//!       jeq #6 / #17 / #58  accept   else drop
//! accept: ret #snaplen
//! drop:   ret #0
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::NetError;

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// Opcode pieces from linux/filter.h (classic BPF).
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_AND: u16 = 0x50;
const BPF_JEQ: u16 = 0x10;
const BPF_JA: u16 = 0x00;
const BPF_K: u16 = 0x00;

/// Base of the ancillary-data "addresses" (`SKF_AD_OFF`).
const SKF_AD_OFF: u32 = 0xffff_f000;
/// `skb->protocol` (`SKF_AD_PROTOCOL`).
const SKF_AD_PROTOCOL: u32 = 0;
/// `skb->pkt_type` (`SKF_AD_PKTTYPE`).
const SKF_AD_PKTTYPE: u32 = 4;
/// `PACKET_OUTGOING` from linux/if_packet.h.
pub(crate) const PACKET_OUTGOING: u32 = 4;

/// At most this many source addresses per family: keeps every conditional
/// jump within classic BPF's 8-bit offsets.
pub(crate) const MAX_SOURCES: usize = 16;

/// A jump target while the program is being assembled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Label {
    Next,
    V4,
    V4Proto,
    V6,
    V6Proto,
    Accept,
    Drop,
    /// The instruction after the current IPv6 address block.
    NextV6Addr(usize),
}

/// An instruction whose jump targets are still labels.
enum Asm {
    Stmt(u16, u32),
    Jeq(u32, Label, Label),
    Ja(Label),
    Mark(Label),
}

/// Builds the reply filter for the given source addresses; accepted packets
/// are cut to `snaplen` bytes.
pub(crate) fn reply_filter(
    v4: &[Ipv4Addr],
    v6: &[Ipv6Addr],
    snaplen: u32,
) -> Result<Vec<SockFilter>, NetError> {
    if v4.is_empty() && v6.is_empty() {
        return Err(NetError::Config(
            "no source address to filter replies for".into(),
        ));
    }
    if v4.len() > MAX_SOURCES || v6.len() > MAX_SOURCES {
        return Err(NetError::Config(format!(
            "at most {MAX_SOURCES} source addresses per IP version"
        )));
    }
    use Asm::*;
    use Label::*;
    let ld_w = BPF_LD | BPF_W | BPF_ABS;
    let ld_b = BPF_LD | BPF_B | BPF_ABS;
    let mut p = vec![
        Stmt(ld_w, SKF_AD_OFF + SKF_AD_PKTTYPE),
        Jeq(PACKET_OUTGOING, Drop, Next),
        Stmt(ld_w, SKF_AD_OFF + SKF_AD_PROTOCOL),
        Jeq(0x0800, V4, Next),
        Jeq(0x86dd, V6, Drop),
        Mark(V4),
    ];
    if !v4.is_empty() {
        p.extend([
            Stmt(ld_b, 0),
            Stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0),
            Jeq(0x40, Next, Drop),
            Stmt(ld_w, 16),
        ]);
        for a in v4 {
            p.push(Jeq(u32::from_be_bytes(a.octets()), V4Proto, Next));
        }
    }
    p.extend([
        Ja(Drop),
        Mark(V4Proto),
        Stmt(ld_b, 9),
        Jeq(6, Accept, Next),
        Jeq(17, Accept, Next),
        Jeq(132, Accept, Next),
        Jeq(1, Accept, Drop),
        Mark(V6),
    ]);
    if !v6.is_empty() {
        p.extend([
            Stmt(ld_b, 0),
            Stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0),
            Jeq(0x60, Next, Drop),
        ]);
        for (i, a) in v6.iter().enumerate() {
            let o = a.octets();
            for w in 0..4 {
                let word = u32::from_be_bytes([o[4 * w], o[4 * w + 1], o[4 * w + 2], o[4 * w + 3]]);
                p.push(Stmt(ld_w, 24 + 4 * w as u32));
                let hit = if w == 3 { V6Proto } else { Next };
                p.push(Jeq(word, hit, NextV6Addr(i)));
            }
            p.push(Mark(NextV6Addr(i)));
        }
    }
    p.extend([
        Ja(Drop),
        Mark(V6Proto),
        Stmt(ld_b, 6),
        Jeq(6, Accept, Next),
        Jeq(17, Accept, Next),
        Jeq(132, Accept, Next),
        Jeq(58, Accept, Drop),
        Mark(Accept),
        Stmt(BPF_RET | BPF_K, snaplen),
        Mark(Drop),
        Stmt(BPF_RET | BPF_K, 0),
    ]);
    assemble(&p)
}

/// Resolves labels into relative jump offsets.
fn assemble(p: &[Asm]) -> Result<Vec<SockFilter>, NetError> {
    // Index of the instruction each mark points at.
    let mut marks: Vec<(Label, usize)> = Vec::new();
    let mut n = 0usize;
    for a in p {
        match a {
            Asm::Mark(l) => marks.push((*l, n)),
            _ => n += 1,
        }
    }
    let target = |l: Label, pc: usize| -> Result<usize, NetError> {
        let to = if l == Label::Next {
            pc + 1
        } else {
            marks
                .iter()
                .find(|(m, _)| *m == l)
                .map(|(_, i)| *i)
                .ok_or_else(|| NetError::Config(format!("BPF label {l:?} missing")))?
        };
        // Classic BPF jumps are relative to the next instruction and only
        // go forward.
        to.checked_sub(pc + 1)
            .ok_or_else(|| NetError::Config(format!("BPF jump backwards to {l:?}")))
    };
    let mut out = Vec::with_capacity(n);
    for a in p {
        let pc = out.len();
        let ins = match *a {
            Asm::Mark(_) => continue,
            Asm::Stmt(code, k) => SockFilter {
                code,
                jt: 0,
                jf: 0,
                k,
            },
            Asm::Ja(l) => SockFilter {
                code: BPF_JMP | BPF_JA,
                jt: 0,
                jf: 0,
                k: target(l, pc)? as u32,
            },
            Asm::Jeq(k, t, f) => {
                let short = |d: usize| {
                    u8::try_from(d).map_err(|_| NetError::Config("BPF filter too long".into()))
                };
                SockFilter {
                    code: BPF_JMP | BPF_JEQ | BPF_K,
                    jt: short(target(t, pc)?)?,
                    jf: short(target(f, pc)?)?,
                    k,
                }
            }
        };
        out.push(ins);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic BPF interpreter for the opcodes the filter uses, so the
    /// program can be tested without root.
    fn run(prog: &[SockFilter], pkt: &[u8], proto: u16, pkttype: u32) -> u32 {
        let mut a: u32 = 0;
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            pc += 1;
            match i.code {
                c if c == BPF_LD | BPF_W | BPF_ABS => {
                    a = match i.k {
                        k if k == SKF_AD_OFF + SKF_AD_PROTOCOL => u32::from(proto),
                        k if k == SKF_AD_OFF + SKF_AD_PKTTYPE => pkttype,
                        k => match pkt.get(k as usize..k as usize + 4) {
                            Some(b) => u32::from_be_bytes(b.try_into().unwrap()),
                            None => return 0,
                        },
                    }
                }
                c if c == BPF_LD | BPF_B | BPF_ABS => match pkt.get(i.k as usize) {
                    Some(b) => a = u32::from(*b),
                    None => return 0,
                },
                c if c == BPF_ALU | BPF_AND | BPF_K => a &= i.k,
                c if c == BPF_JMP | BPF_JA => pc += i.k as usize,
                c if c == BPF_JMP | BPF_JEQ | BPF_K => {
                    pc += usize::from(if a == i.k { i.jt } else { i.jf })
                }
                c if c == BPF_RET | BPF_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn v4(dst: [u8; 4], proto: u8) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[9] = proto;
        p[16..20].copy_from_slice(&dst);
        p
    }

    fn v6(dst: Ipv6Addr, nh: u8) -> Vec<u8> {
        let mut p = vec![0u8; 60];
        p[0] = 0x60;
        p[6] = nh;
        p[24..40].copy_from_slice(&dst.octets());
        p
    }

    const HOST: u32 = 0;

    #[test]
    fn accepts_replies_to_our_sources_only() {
        let s4 = Ipv4Addr::new(198, 18, 0, 1);
        let s6: Ipv6Addr = "2001:2::1".parse().unwrap();
        let prog = reply_filter(&[s4], &[s6], 1500).unwrap();
        for proto in [6, 17, 132, 1] {
            assert_eq!(run(&prog, &v4(s4.octets(), proto), 0x0800, HOST), 1500);
        }
        assert_eq!(run(&prog, &v4(s4.octets(), 47), 0x0800, HOST), 0, "GRE");
        assert_eq!(run(&prog, &v4([198, 18, 0, 3], 6), 0x0800, HOST), 0);
        assert_eq!(run(&prog, &v4(s4.octets(), 6), 0x0806, HOST), 0, "ARP");
        assert_eq!(
            run(&prog, &v4(s4.octets(), 6), 0x0800, PACKET_OUTGOING),
            0,
            "our own probe leaving"
        );
        assert_eq!(
            run(&prog, &v4(s4.octets(), 6)[..19], 0x0800, HOST),
            0,
            "truncated"
        );
        for nh in [6, 17, 132, 58] {
            assert_eq!(run(&prog, &v6(s6, nh), 0x86dd, HOST), 1500);
        }
        assert_eq!(run(&prog, &v6(s6, 0), 0x86dd, HOST), 0, "hop-by-hop");
        let other: Ipv6Addr = "2001:2::3".parse().unwrap();
        assert_eq!(run(&prog, &v6(other, 6), 0x86dd, HOST), 0);
        // An IPv6 packet claiming to be IPv4 at the link layer.
        assert_eq!(run(&prog, &v6(s6, 6), 0x0800, HOST), 0);
    }

    #[test]
    fn single_family_filters_drop_the_other_family() {
        let s4 = Ipv4Addr::LOCALHOST;
        let prog = reply_filter(&[s4], &[], 256).unwrap();
        assert_eq!(run(&prog, &v4(s4.octets(), 6), 0x0800, HOST), 256);
        assert_eq!(run(&prog, &v6(Ipv6Addr::LOCALHOST, 6), 0x86dd, HOST), 0);
        let prog = reply_filter(&[], &[Ipv6Addr::LOCALHOST], 256).unwrap();
        assert_eq!(run(&prog, &v6(Ipv6Addr::LOCALHOST, 6), 0x86dd, HOST), 256);
        assert_eq!(run(&prog, &v4(s4.octets(), 6), 0x0800, HOST), 0);
    }

    #[test]
    fn many_sources_fit_and_too_many_are_refused() {
        let v4s: Vec<Ipv4Addr> = (0..MAX_SOURCES as u8)
            .map(|i| Ipv4Addr::new(198, 18, 1, i))
            .collect();
        let v6s: Vec<Ipv6Addr> = (0..MAX_SOURCES as u16)
            .map(|i| Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, i))
            .collect();
        let prog = reply_filter(&v4s, &v6s, 100).unwrap();
        assert_eq!(run(&prog, &v4([198, 18, 1, 15], 6), 0x0800, HOST), 100);
        assert_eq!(run(&prog, &v6(v6s[15], 17), 0x86dd, HOST), 100);
        assert_eq!(
            run(
                &prog,
                &v6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 1, 15), 17),
                0x86dd,
                HOST
            ),
            0
        );
        let too_many: Vec<Ipv4Addr> = (0..=MAX_SOURCES as u8)
            .map(|i| Ipv4Addr::new(198, 18, 1, i))
            .collect();
        assert!(reply_filter(&too_many, &[], 100).is_err());
        assert!(reply_filter(&[], &[], 100).is_err());
    }
}
