//! The TCP techniques: one flag byte and one rule table each, one module
//! for all.
//!
//! SYN, ACK, window, Maimon, NULL, FIN and Xmas scans differ only in the
//! flags they send and in how they read the answer, so each technique is
//! a file holding its `FLAGS` and `RULES`, and [`TcpFlagScan`] builds,
//! validates and classifies for all of them.
//!
//! # Custom flags (`--scanflags`)
//! With custom flags the probe carries exactly the user's flag byte and
//! replies are read with the base technique's table, as nmap does: the
//! base is the technique the user also chose (`--scanflags URG -sF`
//! reads replies as a FIN scan) and SYN when none was chosen. Validation
//! adapts to the flags actually sent (see below), so any flag byte works.
//!
//! # Stateless validation
//! Nothing is remembered per probe. With `h = key.hash(src, dst, dport)`:
//! - **sequence number** = low 32 bits of `h`;
//! - **acknowledgment number** = high 32 bits of `h` when the probe has
//!   ACK, else 0 (as real stacks send it);
//! - **source port** = `-g`'s port if given; else
//!   `base(h) + attempt % 16`, with `base(h)` in 32768..60984, so every
//!   port stays within 32768..61000 and the reply's destination port tells
//!   which attempt it answers (attempts 16 and up share slots modulo 16;
//!   with `-g` the attempt cannot be told and is `None`);
//! - **IP ID** (IPv6: flow label) = bits 16-31 of `h`, plus the attempt.
//! - **TSval** of a SYN's timestamps option = bits 24-55 of `h`, plus a
//!   second's worth of milliseconds per attempt (not checked in replies:
//!   RSTs carry no timestamps).
//!
//! # What a SYN offers
//! Every SYN probe (`-sS`, and `--scanflags` with SYN) carries the four
//! options a real client's SYN carries, in Linux's order: MSS, SACK
//! permitted, timestamps, NOP, window scale
//! ([`portolan_packet::client_syn_options`]). nmap's `-sS` sends MSS alone;
//! the fuller set costs 16 bytes per probe and buys two things: the
//! SYN/ACK shows which options the stack echoes and in what order (the
//! single-packet evidence `-O` classifies, taken from the scan itself),
//! and the probe looks like a client rather than like a scanner's bare-MSS
//! SYN. It is on for every SYN scan, not only with `-O`, so a scan's
//! packets do not change with a flag that only reads their replies.
//!
//! A reply is accepted only if it comes from the probed address and port
//! to our address and a source port of that probe, and echoes the numbers
//! RFC 9293 makes a stack echo:
//! - SYN/ACK: `ack == seq + 1` (only if we sent SYN);
//! - RST to a probe **with ACK** (ACK, window, Maimon): the RST's `seq`
//!   equals our acknowledgment number;
//! - RST to a probe **without ACK** (SYN, NULL, FIN, Xmas): the RST must
//!   carry ACK with `ack == seq + SEG.LEN`, where SYN and FIN count one
//!   each (SYN: +1, NULL: +0, FIN and Xmas: +1);
//! - bare SYN (split handshake, only if we sent SYN): carries no
//!   acknowledgment, so only addresses and ports are checked;
//! - ICMP unreachable: the quoted probe must have our source port, the
//!   probed port, and (when quoted, as it must be per RFC 792) our
//!   sequence number, and our acknowledgment number if quoted.
//!
//! Anything else (stale replies of an earlier scan, other keys, wrong
//! numbers, third parties) is dropped.

pub mod ack;
pub mod fin;
pub mod maimon;
pub mod null;
pub mod syn;
pub mod traits;
pub mod window;
pub mod xmas;

use crate::icmp::unreach_reason;
use crate::rules::{self, Observed, Rule};
use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, Reply, StackTraits};
use portolan_model::{PortState, Reason, ScanType};
use portolan_packet::{
    client_syn_options, parse, IcmpErrorKind, Parsed, QuotedTransport, TcpFlags, TcpProbe,
    PROTO_TCP,
};
use std::net::IpAddr;
use traits::{stack_traits, TcpHeader};

/// First source port of the derived range.
pub const SPORT_MIN: u16 = 32768;
/// One past the last source port of the derived range.
pub const SPORT_END: u16 = 61000;
/// Source ports per probe: attempts are told apart modulo this.
pub const ATTEMPT_SLOTS: u16 = 16;
/// The window every probe advertises.
pub const PROBE_WINDOW: u16 = 1024;
/// MSS option value of IPv4 SYN probes (Ethernet MTU less 40 bytes).
pub const MSS_V4: u16 = 1460;
/// MSS option value of IPv6 SYN probes (Ethernet MTU less 60 bytes).
pub const MSS_V6: u16 = 1440;
/// Window-scale shift SYN probes offer (Linux's with its default buffers).
pub const WSCALE: u8 = 7;
/// How far a retransmitted SYN's timestamp advances per attempt, as a
/// millisecond clock would over a one-second retransmission timeout.
pub const TSVAL_STEP: u32 = 1000;

/// A TCP scan technique.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpScanKind {
    /// `-sS`.
    Syn,
    /// `-sA`.
    Ack,
    /// `-sW`.
    Window,
    /// `-sM`.
    Maimon,
    /// `-sN`.
    Null,
    /// `-sF`.
    Fin,
    /// `-sX`.
    Xmas,
}

impl TcpScanKind {
    /// Every TCP technique.
    pub const ALL: [TcpScanKind; 7] = [
        TcpScanKind::Syn,
        TcpScanKind::Ack,
        TcpScanKind::Window,
        TcpScanKind::Maimon,
        TcpScanKind::Null,
        TcpScanKind::Fin,
        TcpScanKind::Xmas,
    ];

    /// The flags its probes carry.
    pub fn flags(self) -> TcpFlags {
        match self {
            TcpScanKind::Syn => syn::FLAGS,
            TcpScanKind::Ack => ack::FLAGS,
            TcpScanKind::Window => window::FLAGS,
            TcpScanKind::Maimon => maimon::FLAGS,
            TcpScanKind::Null => null::FLAGS,
            TcpScanKind::Fin => fin::FLAGS,
            TcpScanKind::Xmas => xmas::FLAGS,
        }
    }

    /// Its port-state rule table.
    pub fn rules(self) -> &'static [Rule] {
        match self {
            TcpScanKind::Syn => syn::RULES,
            TcpScanKind::Ack => ack::RULES,
            TcpScanKind::Window => window::RULES,
            TcpScanKind::Maimon => maimon::RULES,
            TcpScanKind::Null => null::RULES,
            TcpScanKind::Fin => fin::RULES,
            TcpScanKind::Xmas => xmas::RULES,
        }
    }

    /// The technique as reported in output.
    pub fn scan_type(self) -> ScanType {
        match self {
            TcpScanKind::Syn => ScanType::Syn,
            TcpScanKind::Ack => ScanType::Ack,
            TcpScanKind::Window => ScanType::Window,
            TcpScanKind::Maimon => ScanType::Maimon,
            TcpScanKind::Null => ScanType::Null,
            TcpScanKind::Fin => ScanType::Fin,
            TcpScanKind::Xmas => ScanType::Xmas,
        }
    }
}

/// The numbers a probe to one (source, target, port) carries, all derived
/// from the validation hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeNumbers {
    /// Our sequence number.
    pub seq: u32,
    /// Our acknowledgment number (used only when the probe has ACK).
    pub ack: u32,
    /// First source port of this probe's slots.
    pub sport_base: u16,
    /// IP ID of the first attempt.
    pub ip_id: u16,
    /// Timestamp value (TSval) of the first attempt's SYN: a per-connection
    /// random offset, as Linux clients since 4.10 send.
    pub tsval: u32,
}

impl ProbeNumbers {
    /// The numbers for hash `h`.
    pub fn from_hash(h: u64) -> Self {
        let span = u32::from(SPORT_END - SPORT_MIN - ATTEMPT_SLOTS);
        ProbeNumbers {
            seq: h as u32,
            ack: (h >> 32) as u32,
            sport_base: SPORT_MIN + ((h >> 40) as u32 % span) as u16,
            ip_id: (h >> 16) as u16,
            tsval: (h >> 24) as u32,
        }
    }

    /// The numbers of the probe from `src` to `dst:dport` in this scan
    /// (replies are checked by recomputing them).
    pub fn of(ctx: &ProbeContext, src: IpAddr, dst: IpAddr, dport: u16) -> Self {
        ProbeNumbers::from_hash(ctx.key.hash(src, dst, dport))
    }

    /// The source port of `attempt` (without `-g`).
    pub fn sport(&self, attempt: u8) -> u16 {
        self.sport_base + u16::from(attempt) % ATTEMPT_SLOTS
    }

    /// The SYN timestamp of `attempt`.
    pub fn tsval_of(&self, attempt: u8) -> u32 {
        self.tsval
            .wrapping_add(u32::from(attempt).wrapping_mul(TSVAL_STEP))
    }

    /// The attempt a reply to source port `port` answers, if `port` is one
    /// of this probe's.
    pub fn attempt_of(&self, port: u16) -> Option<u8> {
        let off = port.wrapping_sub(self.sport_base);
        (off < ATTEMPT_SLOTS).then_some(off as u8)
    }

    /// The source port a probe's `attempt` goes out from: the user's `-g`
    /// port, else this probe's slot for the attempt.
    pub fn source_port(&self, ctx: &ProbeContext, attempt: u8) -> u16 {
        ctx.source_port.unwrap_or_else(|| self.sport(attempt))
    }

    /// The IP ID of a probe's `attempt`.
    pub fn ip_id_of(&self, attempt: u8) -> u16 {
        self.ip_id.wrapping_add(u16::from(attempt))
    }

    /// The attempt a reply addressed to our port `port` answers: `Some(None)`
    /// when valid but untellable (`-g`), `None` when not ours.
    pub fn reply_attempt(&self, ctx: &ProbeContext, port: u16) -> Option<Option<u8>> {
        match ctx.source_port {
            Some(p) => (port == p).then_some(None),
            None => self.attempt_of(port).map(Some),
        }
    }
}

/// Any TCP flag scan: a technique's flags (or custom ones) and its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFlagScan {
    kind: TcpScanKind,
    flags: TcpFlags,
    custom: bool,
}

impl TcpFlagScan {
    /// The technique `kind`, sending `scanflags` instead of its own flags
    /// when given (replies are still read with `kind`'s rules).
    pub fn new(kind: TcpScanKind, scanflags: Option<u8>) -> Self {
        TcpFlagScan {
            kind,
            flags: scanflags.map_or(kind.flags(), TcpFlags),
            custom: scanflags.is_some(),
        }
    }

    /// The technique whose rules read replies.
    pub fn kind(&self) -> TcpScanKind {
        self.kind
    }

    /// The flags probes carry.
    pub fn flags(&self) -> TcpFlags {
        self.flags
    }

    /// The rule table in force.
    pub fn rules(&self) -> &'static [Rule] {
        self.kind.rules()
    }

    /// The acknowledgment number a probe carries.
    fn probe_ack(&self, n: &ProbeNumbers) -> u32 {
        if self.flags.contains(TcpFlags::ACK) {
            n.ack
        } else {
            0
        }
    }

    /// What a TCP reply shows, if its numbers echo ours.
    fn tcp_observed(
        &self,
        n: &ProbeNumbers,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
    ) -> Option<Observed> {
        let sent = self.flags;
        if flags.contains(TcpFlags::RST) {
            let valid = if sent.contains(TcpFlags::ACK) {
                seq == n.ack
            } else {
                flags.contains(TcpFlags::ACK) && ack == n.seq.wrapping_add(sent.seq_len())
            };
            return valid.then_some(Observed::Rst { window });
        }
        if flags.contains(TcpFlags::SYN) && sent.contains(TcpFlags::SYN) {
            if flags.contains(TcpFlags::ACK) {
                return (ack == n.seq.wrapping_add(1)).then_some(Observed::SynAck);
            }
            return Some(Observed::Syn);
        }
        None
    }

    fn reply(
        &self,
        dst: IpAddr,
        dport: u16,
        attempt: Option<u8>,
        observed: Observed,
        ttl: u8,
        traits: Option<StackTraits>,
    ) -> Option<Reply> {
        let (state, reason) = rules::lookup(self.rules(), observed)?;
        Some(Reply {
            dst,
            dport,
            attempt,
            state,
            reason,
            ttl,
            traits,
            mac: None,
        })
    }
}

impl ProbeModule for TcpFlagScan {
    fn scan_type(&self) -> ScanType {
        if self.custom && self.kind == TcpScanKind::Syn {
            ScanType::Custom
        } else {
            self.kind.scan_type()
        }
    }

    fn build(&self, ctx: &ProbeContext, probe: &ProbeSpec, buf: &mut [u8]) -> usize {
        let Some(src) = ctx.src_for(probe.dst) else {
            return 0;
        };
        let n = ProbeNumbers::of(ctx, src, probe.dst, probe.dport);
        // A SYN offers what a real client's does (see the module docs).
        let syn_options;
        let options: &[u8] = if self.flags.contains(TcpFlags::SYN) {
            let mss = if src.is_ipv4() { MSS_V4 } else { MSS_V6 };
            syn_options = client_syn_options(mss, n.tsval_of(probe.attempt), WSCALE);
            &syn_options
        } else {
            &[]
        };
        TcpProbe {
            src,
            dst: probe.dst,
            ttl: ctx.ttl,
            ip_id: n.ip_id_of(probe.attempt),
            sport: n.source_port(ctx, probe.attempt),
            dport: probe.dport,
            seq: n.seq,
            ack: self.probe_ack(&n),
            flags: self.flags,
            window: PROBE_WINDOW,
            options,
        }
        .emit(buf)
        .unwrap_or(0)
    }

    fn classify(&self, ctx: &ProbeContext, packet: &[u8]) -> Option<Reply> {
        match parse(packet).ok()? {
            Parsed::Tcp {
                src,
                dst,
                ttl,
                sport,
                dport,
                seq,
                ack,
                flags,
                window,
                ip,
                reserved,
                urgent,
                options,
                data_len,
            } => {
                if ctx.src_for(src) != Some(dst) {
                    return None;
                }
                let n = ProbeNumbers::of(ctx, dst, src, sport);
                let attempt = n.reply_attempt(ctx, dport)?;
                let observed = self.tcp_observed(&n, seq, ack, flags, window)?;
                let header = TcpHeader {
                    ttl,
                    ip,
                    seq,
                    ack,
                    flags,
                    reserved,
                    window,
                    urgent,
                    options,
                    data_len,
                };
                let traits = stack_traits(&header, n.seq, self.probe_ack(&n));
                self.reply(src, sport, attempt, observed, ttl, Some(traits))
            }
            Parsed::IcmpError {
                src: router,
                dst,
                ttl,
                kind,
                quoted,
            } => {
                let IcmpErrorKind::Unreach { code } = kind else {
                    return None;
                };
                let reason = unreach_reason(router.is_ipv6(), code)?;
                let QuotedTransport::Tcp {
                    sport,
                    dport,
                    seq,
                    ack,
                    ..
                } = quoted.transport
                else {
                    return None;
                };
                if quoted.proto != PROTO_TCP
                    || quoted.src != dst
                    || ctx.src_for(quoted.dst) != Some(dst)
                {
                    return None;
                }
                let n = ProbeNumbers::of(ctx, quoted.src, quoted.dst, dport);
                let attempt = n.reply_attempt(ctx, sport)?;
                if seq.is_some_and(|s| s != n.seq) || ack.is_some_and(|a| a != self.probe_ack(&n)) {
                    return None;
                }
                self.reply(
                    quoted.dst,
                    dport,
                    attempt,
                    Observed::IcmpUnreachable(reason),
                    ttl,
                    None,
                )
            }
            _ => None,
        }
    }

    fn no_reply(&self) -> (PortState, Reason) {
        rules::no_reply(self.rules())
    }
}
