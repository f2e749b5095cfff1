//! The traits of a TCP/IP stack that one reply shows.
//!
//! OS detection (nmap's `-O`) tells stacks apart by how they fill the
//! header fields a standard leaves open: initial TTL, DF, how the IP ID
//! grows, the window, which TCP options a SYN/ACK carries and in which
//! order, what a RST acknowledges, ECN handling. A scan's replies already
//! carry all of that, so the TCP probe modules copy it into a
//! [`StackTraits`] while they classify (the reply is parsed once; the
//! extraction is one pass over at most 40 option bytes), and an OS
//! classifier can later work from the scan's own replies without sending
//! anything more for the fields they show.
//!
//! They live in the model, beside the results, because they travel with a
//! host: the engine keeps a [`TraitSamples`] per host while it scans and
//! hands it out in [`crate::HostResult::stack`], so host stages (OS
//! detection) read it with the rest of the host. They are evidence, not
//! results: no output format writes them.
//!
//! [`StackTraits`] is a fixed-size `Copy` value: no heap, so carrying it in
//! every engine `Reply` costs a few dozen bytes of copying and nothing
//! else. [`TraitSamples`] keeps a bounded handful of them per host (see its
//! docs for the intended use).

use std::fmt;

/// How a number in a reply relates to one of the probe's (nmap's `S` and
/// `A` tests): the RST's sequence number against the probe's
/// acknowledgment number, the reply's acknowledgment number against the
/// probe's sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Echo {
    /// Zero (checked first).
    Zero,
    /// Equal to the probe's number.
    Same,
    /// The probe's number plus one.
    Plus1,
    /// Anything else.
    #[default]
    Other,
}

impl Echo {
    /// How `got` relates to the probe's `sent`.
    #[inline]
    pub fn of(got: u32, sent: u32) -> Echo {
        if got == 0 {
            Echo::Zero
        } else if got == sent {
            Echo::Same
        } else if got == sent.wrapping_add(1) {
            Echo::Plus1
        } else {
            Echo::Other
        }
    }
}

/// The order of a segment's TCP option kinds: the first
/// [`OptionLayout::CAPACITY`] kinds, End and NOP included (stacks differ
/// in where they pad).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OptionLayout {
    kinds: [u8; OptionLayout::CAPACITY],
    len: u8,
    /// More options followed than fit.
    pub overflow: bool,
    /// The options ended in a malformed one (bad or overlong length).
    pub malformed: bool,
}

impl OptionLayout {
    /// How many kinds are kept.
    pub const CAPACITY: usize = 8;

    /// Appends a kind (beyond the capacity only [`Self::overflow`] is set).
    #[inline]
    pub fn push(&mut self, kind: u8) {
        match self.kinds.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = kind;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    /// The kinds, in wire order.
    pub fn kinds(&self) -> &[u8] {
        &self.kinds[..usize::from(self.len)]
    }

    /// Whether the segment had no options.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && !self.malformed
    }
}

impl fmt::Display for OptionLayout {
    /// One letter per kind, as nmap's `O` test writes them: `L` end of
    /// list, `N` NOP, `M` MSS, `W` window scale, `S` SACK permitted, `T`
    /// timestamps; other kinds as `[kind]`; `+` after an overflow, `!`
    /// after a malformed option.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &k in self.kinds() {
            match k {
                0 => f.write_str("L")?,
                1 => f.write_str("N")?,
                2 => f.write_str("M")?,
                3 => f.write_str("W")?,
                4 => f.write_str("S")?,
                8 => f.write_str("T")?,
                k => write!(f, "[{k}]")?,
            }
        }
        if self.overflow {
            f.write_str("+")?;
        }
        if self.malformed {
            f.write_str("!")?;
        }
        Ok(())
    }
}

/// The TCP timestamps option's two values (RFC 7323).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timestamps {
    /// The sender's clock.
    pub tsval: u32,
    /// The echoed peer clock (0 in answers to probes without timestamps).
    pub tsecr: u32,
}

/// TCP flag bits used by the accessors (the packet crate's values).
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;
const ECE: u8 = 0x40;
const CWR: u8 = 0x80;

/// The header fields of one TCP reply that an OS classifier reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StackTraits {
    /// IPv4 TTL / IPv6 hop limit as received.
    pub ttl: u8,
    /// IPv4 identification; for IPv6 the flow label (20 bits).
    pub ip_id: u32,
    /// IPv4 don't-fragment bit (false for IPv6, which has none).
    pub df: bool,
    /// The IP header's ECN codepoint (2 bits: 0 not-ECT, 1/2 ECT, 3 CE).
    pub ip_ecn: u8,
    /// The TCP flag byte (CWR, ECE, URG, ACK, PSH, RST, SYN, FIN).
    pub flags: u8,
    /// The 4 bits between data offset and flags (3 reserved bits and NS):
    /// non-zero is a quirk (nmap's `Q=R`).
    pub reserved: u8,
    /// Window.
    pub window: u16,
    /// Urgent pointer: non-zero without URG is a quirk (nmap's `Q=U`).
    pub urgent: u16,
    /// Sequence number (a SYN/ACK's is the stack's ISN).
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// The sequence number against the probe's acknowledgment number.
    pub seq_echo: Echo,
    /// The acknowledgment number against the probe's sequence number.
    pub ack_echo: Echo,
    /// Bytes of data after the header (a RST with data is a quirk some
    /// stacks have: nmap's `RD`).
    pub data_len: u16,
    /// Option kinds in order.
    pub options: OptionLayout,
    /// MSS option value.
    pub mss: Option<u16>,
    /// Window-scale shift.
    pub wscale: Option<u8>,
    /// SACK-permitted option present.
    pub sack_permitted: bool,
    /// Timestamps option.
    pub timestamps: Option<Timestamps>,
}

impl StackTraits {
    /// Whether the TCP ECE flag is set.
    pub fn ece(&self) -> bool {
        self.flags & ECE != 0
    }

    /// Whether the TCP CWR flag is set.
    pub fn cwr(&self) -> bool {
        self.flags & CWR != 0
    }

    /// Whether the reply is a RST.
    pub fn is_rst(&self) -> bool {
        self.flags & RST != 0
    }

    /// Whether the reply is a RST that carries data.
    pub fn rst_has_data(&self) -> bool {
        self.is_rst() && self.data_len > 0
    }

    /// The kind of sample it is, for [`TraitSamples`].
    pub fn sample_kind(&self) -> SampleKind {
        match (self.flags & (SYN | RST), self.flags & ACK != 0) {
            (SYN, true) => SampleKind::SynAck,
            (RST, true) => SampleKind::RstAck,
            (RST, false) => SampleKind::Rst,
            _ => SampleKind::Other,
        }
    }
}

/// What a sample answers, which decides what a classifier reads in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleKind {
    /// SYN/ACK from an open port: ISN, window, options, timestamps.
    SynAck,
    /// RST+ACK, the answer of a closed port to a probe without ACK (SYN,
    /// FIN, NULL, Xmas): what the stack acknowledges, RST data.
    RstAck,
    /// Bare RST, the answer to a probe with ACK (ACK, window, Maimon):
    /// its window and sequence number.
    Rst,
    /// Anything else (a split-handshake SYN, odd flag sets).
    Other,
}

impl SampleKind {
    /// Every kind, in slot order.
    pub const ALL: [SampleKind; 4] = [
        SampleKind::SynAck,
        SampleKind::RstAck,
        SampleKind::Rst,
        SampleKind::Other,
    ];

    fn slot(self) -> usize {
        self as usize
    }
}

/// A host's stack samples: the first reply of each [`SampleKind`], so at
/// most four, in a fixed-size value.
///
/// # Intended use (OS detection)
/// The scan's host state holds one of these per host (only when OS
/// detection is asked for: it is 224 bytes) and offers it the
/// [`StackTraits`] of every TCP reply ([`TraitSamples::offer`]). When the
/// host is done, the classifier reads, without sending a probe of its own:
/// - from the SYN/ACK: initial TTL (rounded up to 32/64/128/255), DF,
///   window, option layout, MSS, window scale, SACK, timestamps (and
///   their presence), ECN echo, the ISN;
/// - from a RST+ACK (closed port): the TTL and DF of closed-port answers,
///   what is acknowledged (`ack_echo`), the window, RST data;
/// - from a bare RST (ACK probe): its sequence number against our
///   acknowledgment (`seq_echo`), its window;
/// - across samples: the IP IDs (zero, constant, incremental), which with
///   the scan's timing gives a first reading of the ID sequence.
///
/// What the scan's probes cannot show (nmap's T2-T7 oddities, ECN
/// negotiation, ICMP echo handling, the U1 closed-UDP answer) needs OS
/// detection's own probes; these samples narrow the candidates first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraitSamples {
    slots: [Option<StackTraits>; 4],
}

impl TraitSamples {
    /// At most this many samples are kept.
    pub const CAPACITY: usize = 4;

    /// No samples.
    pub fn new() -> Self {
        TraitSamples::default()
    }

    /// Keeps `t` if no sample of its kind is held yet; returns whether it
    /// was kept.
    pub fn offer(&mut self, t: StackTraits) -> bool {
        let slot = &mut self.slots[t.sample_kind().slot()];
        if slot.is_some() {
            return false;
        }
        *slot = Some(t);
        true
    }

    /// The sample of `kind`, if one came.
    pub fn get(&self, kind: SampleKind) -> Option<&StackTraits> {
        self.slots[kind.slot()].as_ref()
    }

    /// The samples held, in [`SampleKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &StackTraits> {
        self.slots.iter().flatten()
    }

    /// How many samples are held.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(flags: u8, ip_id: u32) -> StackTraits {
        StackTraits {
            flags,
            ip_id,
            ..StackTraits::default()
        }
    }

    #[test]
    fn echo_checks_zero_first() {
        assert_eq!(Echo::of(0, 0), Echo::Zero);
        assert_eq!(Echo::of(0, 5), Echo::Zero);
        assert_eq!(Echo::of(5, 5), Echo::Same);
        assert_eq!(Echo::of(6, 5), Echo::Plus1);
        assert_eq!(Echo::of(0, u32::MAX), Echo::Zero);
        assert_eq!(Echo::of(1, u32::MAX), Echo::Other);
        assert_eq!(Echo::of(7, 5), Echo::Other);
    }

    #[test]
    fn layout_keeps_eight_kinds_then_overflows() {
        let mut l = OptionLayout::default();
        assert!(l.is_empty());
        for k in [2, 4, 8, 1, 3] {
            l.push(k);
        }
        assert_eq!(l.kinds(), [2, 4, 8, 1, 3]);
        assert_eq!(l.to_string(), "MSTNW");
        for _ in 0..4 {
            l.push(1);
        }
        assert_eq!(l.kinds().len(), OptionLayout::CAPACITY);
        assert!(l.overflow);
        l.malformed = true;
        assert_eq!(l.to_string(), "MSTNWNNN+!");
        let mut odd = OptionLayout::default();
        odd.push(30);
        odd.push(0);
        assert_eq!(odd.to_string(), "[30]L");
    }

    #[test]
    fn flag_accessors() {
        let t = reply(RST | ACK | ECE, 0);
        assert!(t.is_rst() && t.ece() && !t.cwr() && !t.rst_has_data());
        let t = StackTraits {
            data_len: 3,
            ..reply(RST | CWR, 0)
        };
        assert!(t.rst_has_data() && t.cwr());
        assert!(!StackTraits {
            data_len: 3,
            ..reply(SYN | ACK, 0)
        }
        .rst_has_data());
    }

    #[test]
    fn sample_kinds_by_flags() {
        assert_eq!(reply(SYN | ACK, 0).sample_kind(), SampleKind::SynAck);
        assert_eq!(reply(SYN | ACK | ECE, 0).sample_kind(), SampleKind::SynAck);
        assert_eq!(reply(RST | ACK, 0).sample_kind(), SampleKind::RstAck);
        assert_eq!(reply(RST, 0).sample_kind(), SampleKind::Rst);
        assert_eq!(reply(SYN, 0).sample_kind(), SampleKind::Other);
        assert_eq!(reply(SYN | RST | ACK, 0).sample_kind(), SampleKind::Other);
    }

    #[test]
    fn samples_keep_the_first_of_each_kind_and_at_most_four() {
        let mut s = TraitSamples::new();
        assert!(s.is_empty());
        assert!(s.offer(reply(SYN | ACK, 1)));
        assert!(!s.offer(reply(SYN | ACK, 2)));
        assert!(s.offer(reply(RST | ACK, 3)));
        assert!(s.offer(reply(RST, 4)));
        assert!(s.offer(reply(SYN, 5)));
        assert!(!s.offer(reply(0, 6)));
        assert!(!s.offer(reply(RST, 7)));
        assert_eq!(s.len(), TraitSamples::CAPACITY);
        assert_eq!(s.get(SampleKind::SynAck).map(|t| t.ip_id), Some(1));
        assert_eq!(s.get(SampleKind::RstAck).map(|t| t.ip_id), Some(3));
        assert_eq!(s.get(SampleKind::Rst).map(|t| t.ip_id), Some(4));
        assert_eq!(s.get(SampleKind::Other).map(|t| t.ip_id), Some(5));
        let ids: Vec<u32> = s.iter().map(|t| t.ip_id).collect();
        assert_eq!(ids, [1, 3, 4, 5]);
    }

    #[test]
    fn values_stay_small() {
        // Carried by value in every reply and kept per host: no heap, and
        // a bounded size (the figures are asserted so growth is a choice).
        assert!(std::mem::size_of::<StackTraits>() <= 56);
        assert!(std::mem::size_of::<TraitSamples>() <= 4 * 56);
    }
}
