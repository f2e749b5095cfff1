//! A TCP reply's stack traits, read while it is classified.
//!
//! The packet is parsed once ([`portolan_packet::parse()`]); this turns the
//! parsed header fields into a [`StackTraits`] with one pass over the
//! options ([`TcpOptions`]), no allocation, and no way to panic: hostile
//! options end the walk and are recorded as malformed. Only replies that
//! already passed validation get here, so the cost is paid per real
//! answer, not per packet seen.

use portolan_engine::{Echo, StackTraits, Timestamps};
use portolan_packet::{IpFields, TcpFlags, TcpOption, TcpOptions};

/// A TCP reply's header fields, as [`portolan_packet::Parsed::Tcp`] has
/// them.
#[derive(Clone, Copy, Debug)]
pub struct TcpHeader<'a> {
    /// TTL / hop limit.
    pub ttl: u8,
    /// IP identification, DF, ECN.
    pub ip: IpFields,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Reserved bits and NS.
    pub reserved: u8,
    /// Window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Raw options.
    pub options: &'a [u8],
    /// Data length.
    pub data_len: u16,
}

/// The traits of reply `h` to a probe that carried sequence number
/// `probe_seq` and acknowledgment number `probe_ack`.
pub fn stack_traits(h: &TcpHeader<'_>, probe_seq: u32, probe_ack: u32) -> StackTraits {
    let mut t = StackTraits {
        ttl: h.ttl,
        ip_id: h.ip.ident,
        df: h.ip.dont_frag,
        ip_ecn: h.ip.ecn,
        flags: h.flags.0,
        reserved: h.reserved,
        window: h.window,
        urgent: h.urgent,
        seq: h.seq,
        ack: h.ack,
        seq_echo: Echo::of(h.seq, probe_ack),
        ack_echo: Echo::of(h.ack, probe_seq),
        data_len: h.data_len,
        ..StackTraits::default()
    };
    for o in TcpOptions::new(h.options) {
        match o {
            TcpOption::End => t.options.push(0),
            TcpOption::Nop => t.options.push(1),
            TcpOption::Mss(v) => {
                t.options.push(2);
                t.mss = Some(v);
            }
            TcpOption::WindowScale(s) => {
                t.options.push(3);
                t.wscale = Some(s);
            }
            TcpOption::SackPermitted => {
                t.options.push(4);
                t.sack_permitted = true;
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                t.options.push(8);
                t.timestamps = Some(Timestamps { tsval, tsecr });
            }
            TcpOption::Other { kind, .. } => t.options.push(kind),
            TcpOption::Malformed { kind } => {
                t.options.push(kind);
                t.options.malformed = true;
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(flags: TcpFlags, options: &[u8]) -> TcpHeader<'_> {
        TcpHeader {
            ttl: 64,
            ip: IpFields {
                ident: 0x1234,
                dont_frag: true,
                ecn: 0,
            },
            seq: 1000,
            ack: 501,
            flags,
            reserved: 0,
            window: 65160,
            urgent: 0,
            options,
            data_len: 0,
        }
    }

    #[test]
    fn linux_syn_ack() {
        let o = [
            2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let t = stack_traits(&header(TcpFlags::SYN | TcpFlags::ACK, &o), 500, 0);
        assert_eq!(t.options.to_string(), "MSTNW");
        assert_eq!(t.mss, Some(1460));
        assert_eq!(t.wscale, Some(7));
        assert!(t.sack_permitted);
        assert_eq!(t.timestamps, Some(Timestamps { tsval: 9, tsecr: 0 }));
        assert_eq!((t.ttl, t.ip_id, t.df, t.window), (64, 0x1234, true, 65160));
        assert_eq!(t.ack_echo, Echo::Plus1);
        assert_eq!(t.seq_echo, Echo::Other);
    }

    #[test]
    fn rst_numbers_and_data() {
        let h = TcpHeader {
            seq: 0,
            data_len: 12,
            ..header(TcpFlags::RST | TcpFlags::ACK, &[])
        };
        let t = stack_traits(&h, 500, 0);
        assert!(t.options.is_empty() && t.rst_has_data());
        assert_eq!((t.seq_echo, t.ack_echo), (Echo::Zero, Echo::Plus1));
        // A bare RST to an ACK probe: seq echoes our acknowledgment.
        let h = TcpHeader {
            seq: 777,
            ack: 0,
            ..header(TcpFlags::RST, &[])
        };
        let t = stack_traits(&h, 500, 777);
        assert_eq!((t.seq_echo, t.ack_echo), (Echo::Same, Echo::Zero));
    }

    #[test]
    fn ecn_bits_are_kept() {
        let h = TcpHeader {
            ip: IpFields {
                ecn: 2,
                ..header(TcpFlags::NONE, &[]).ip
            },
            ..header(TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE, &[])
        };
        let t = stack_traits(&h, 0, 0);
        assert_eq!(t.ip_ecn, 2);
        assert!(t.ece() && !t.cwr());
    }

    #[test]
    fn malformed_options_are_flagged() {
        let t = stack_traits(&header(TcpFlags::RST, &[1, 2, 9]), 0, 0);
        assert_eq!(t.options.kinds(), [1, 2]);
        assert!(t.options.malformed);
        assert_eq!(t.mss, None);
    }

    proptest! {
        /// Any option bytes: no panic, at most 8 kinds kept, and the values
        /// read agree with the kinds recorded.
        #[test]
        fn any_options_extract_safely(o in proptest::collection::vec(any::<u8>(), 0..=40)) {
            let t = stack_traits(&header(TcpFlags::SYN | TcpFlags::ACK, &o), 1, 2);
            let kinds = t.options.kinds();
            prop_assert!(kinds.len() <= 8);
            let seen = |k: u8| kinds.contains(&k) || t.options.overflow;
            prop_assert!(t.mss.is_none() || seen(2));
            prop_assert!(t.wscale.is_none() || seen(3));
            prop_assert!(!t.sack_permitted || seen(4));
            prop_assert!(t.timestamps.is_none() || seen(8));
            prop_assert!(!(t.options.malformed && o.is_empty()));
        }
    }
}
