//! ICMP pings: echo (`-PE`, and ICMPv6 echo for IPv6 targets), timestamp
//! (`-PP`) and address mask (`-PM`).
//!
//! Echo is what `ping` sends and what most hosts answer; firewalls that
//! drop echo requests often forget the other two, which is why nmap
//! offers them. Timestamp and address mask exist only in ICMPv4: for an
//! IPv6 target their modules build nothing (length 0), as a module does
//! for a family the scan has no source address of.
//!
//! Numbers (see the [module docs](super)): with `h` the hash of (source,
//! target, request type), identifier = `h & 0xffff`, sequence =
//! `(h >> 16) & 0xffff` plus the attempt, IP ID (IPv6: flow label) =
//! `(h >> 48)` plus the attempt, and a timestamp request's originate
//! field = `h >> 32`.

use super::{host_up, SILENT};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply};
use portolan_model::{PortState, Reason, ScanType};
use portolan_packet::icmp::{v4, v6};
use portolan_packet::{parse, AddressMask, IcmpEcho, IcmpTimestamp, Parsed};
use std::net::IpAddr;

/// Attempts told apart by the sequence number (modulo this).
pub const ATTEMPT_SLOTS: u16 = 16;

/// Which ICMP request a ping sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IcmpPingKind {
    /// Echo request (ICMPv4 type 8, ICMPv6 type 128).
    Echo,
    /// Timestamp request (ICMPv4 type 13).
    Timestamp,
    /// Address mask request (ICMPv4 type 17).
    AddressMask,
}

/// The numbers of an ICMP ping to one (source, target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpNumbers {
    /// Identifier.
    pub ident: u16,
    /// Sequence number of attempt 0.
    pub seq_base: u16,
    /// Originate timestamp of a timestamp request.
    pub originate: u32,
    /// IP ID (IPv6 flow label) of attempt 0.
    pub ip_id: u16,
}

impl IcmpNumbers {
    /// The numbers for hash `h`.
    pub fn from_hash(h: u64) -> Self {
        IcmpNumbers {
            ident: h as u16,
            seq_base: (h >> 16) as u16,
            originate: (h >> 32) as u32,
            ip_id: (h >> 48) as u16,
        }
    }

    /// The attempt a reply's sequence number answers, if it is ours.
    pub fn attempt_of(&self, seq: u16) -> Option<u8> {
        let off = seq.wrapping_sub(self.seq_base);
        (off < ATTEMPT_SLOTS).then_some(off as u8)
    }
}

/// An ICMP ping module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpPing {
    kind: IcmpPingKind,
}

impl IcmpPing {
    /// `-PE`: echo requests (ICMPv6 echo for IPv6 targets).
    pub fn echo() -> Self {
        IcmpPing {
            kind: IcmpPingKind::Echo,
        }
    }

    /// `-PP`: timestamp requests (IPv4 targets only).
    pub fn timestamp() -> Self {
        IcmpPing {
            kind: IcmpPingKind::Timestamp,
        }
    }

    /// `-PM`: address mask requests (IPv4 targets only).
    pub fn address_mask() -> Self {
        IcmpPing {
            kind: IcmpPingKind::AddressMask,
        }
    }

    /// Which request it sends.
    pub fn kind(&self) -> IcmpPingKind {
        self.kind
    }

    /// The request's ICMP type for a target of this family, which also
    /// salts the validation hash; `None` where the request does not exist.
    fn request_type(&self, v6: bool) -> Option<u8> {
        match (self.kind, v6) {
            (IcmpPingKind::Echo, false) => Some(v4::ECHO_REQUEST),
            (IcmpPingKind::Echo, true) => Some(v6::ECHO_REQUEST),
            (IcmpPingKind::Timestamp, false) => Some(v4::TIMESTAMP_REQUEST),
            (IcmpPingKind::AddressMask, false) => Some(portolan_packet::addrmask::REQUEST),
            _ => None,
        }
    }

    /// The numbers of a probe from `src` to `dst`, if this kind exists for
    /// their family.
    fn numbers(&self, ctx: &ProbeContext, src: IpAddr, dst: IpAddr) -> Option<IcmpNumbers> {
        let t = self.request_type(dst.is_ipv6())?;
        Some(IcmpNumbers::from_hash(ctx.key.hash(src, dst, u16::from(t))))
    }

    /// Checks a reply from `from` to `to` with `ident`/`seq`; returns the
    /// attempt it answers.
    fn check(
        &self,
        ctx: &ProbeContext,
        from: IpAddr,
        to: IpAddr,
        ident: u16,
        seq: u16,
    ) -> Option<(IcmpNumbers, u8)> {
        if ctx.src_for(from) != Some(to) {
            return None;
        }
        let n = self.numbers(ctx, to, from)?;
        if ident != n.ident {
            return None;
        }
        Some((n, n.attempt_of(seq)?))
    }
}

impl ProbeModule for IcmpPing {
    fn scan_type(&self) -> ScanType {
        // No discovery variant in the model yet: see the module docs.
        ScanType::Syn
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        let Some(src) = ctx.src_for(probe.dst) else {
            return 0;
        };
        let Some(n) = self.numbers(ctx, src, probe.dst) else {
            return 0;
        };
        let attempt = u16::from(probe.attempt);
        let seq = n.seq_base.wrapping_add(attempt % ATTEMPT_SLOTS);
        let ip_id = n.ip_id.wrapping_add(attempt);
        let r = match (self.kind, src, probe.dst) {
            (IcmpPingKind::Echo, _, _) => IcmpEcho {
                src,
                dst: probe.dst,
                ttl: ctx.ttl,
                ip_id,
                reply: false,
                ident: n.ident,
                seq,
                payload: &[],
            }
            .emit(buf),
            (IcmpPingKind::Timestamp, _, _) => IcmpTimestamp {
                src,
                dst: probe.dst,
                ttl: ctx.ttl,
                ip_id,
                reply: false,
                ident: n.ident,
                seq,
                originate: n.originate,
                receive: 0,
                transmit: 0,
            }
            .emit(buf),
            (IcmpPingKind::AddressMask, IpAddr::V4(s), IpAddr::V4(d)) => AddressMask {
                src: s,
                dst: d,
                ttl: ctx.ttl,
                ip_id,
                reply: false,
                ident: n.ident,
                seq,
                mask: std::net::Ipv4Addr::UNSPECIFIED,
            }
            .emit(buf),
            (IcmpPingKind::AddressMask, _, _) => return 0,
        };
        r.unwrap_or(0)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        match self.kind {
            IcmpPingKind::Echo => match parse(packet).ok()? {
                Parsed::IcmpEcho {
                    src,
                    dst,
                    ttl,
                    reply: true,
                    ident,
                    seq,
                } => {
                    let (_, attempt) = self.check(ctx, src, dst, ident, seq)?;
                    Some(host_up(src, 0, Some(attempt), Reason::EchoReply, ttl))
                }
                _ => None,
            },
            IcmpPingKind::Timestamp => match parse(packet).ok()? {
                Parsed::IcmpTimestamp {
                    src,
                    dst,
                    ttl,
                    reply: true,
                    ident,
                    seq,
                    originate,
                    ..
                } => {
                    let (n, attempt) = self.check(ctx, src, dst, ident, seq)?;
                    (originate == n.originate)
                        .then(|| host_up(src, 0, Some(attempt), Reason::TimestampReply, ttl))
                }
                _ => None,
            },
            IcmpPingKind::AddressMask => {
                let m = AddressMask::parse(packet).ok()??;
                if !m.reply {
                    return None;
                }
                let (src, dst) = (IpAddr::V4(m.src), IpAddr::V4(m.dst));
                let (_, attempt) = self.check(ctx, src, dst, m.ident, m.seq)?;
                Some(host_up(src, 0, Some(attempt), Reason::MaskReply, m.ttl))
            }
        }
    }

    fn no_reply(&self) -> (PortState, Reason) {
        SILENT
    }
}
