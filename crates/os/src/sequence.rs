//! What a short burst of SYNs to one open port shows beyond one SYN/ACK:
//! how the stack picks its initial sequence numbers and IP IDs, the rate
//! of its timestamp clock, and from that clock an uptime guess.
//!
//! OS detection's prober sends the burst (crates/session/src/os_probe.rs)
//! and hands the SYN/ACKs here with their receive times. Pure: sends
//! nothing. The classes are coarse on purpose (nmap's SEQ tests split
//! finer, over six probes; with four to six samples only these are
//! sound).

use crate::timestamp_clock;
use portolan_model::traits::StackTraits;
use portolan_model::OsUptime;

/// How a field moves across the burst's replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqClass {
    /// Always zero.
    Zero,
    /// The same non-zero value every time.
    Constant,
    /// Grows by small steps (a global or per-host counter).
    Incremental,
    /// No pattern a small step explains.
    Random,
}

impl SeqClass {
    /// The name used in fingerprints.
    pub fn name(self) -> &'static str {
        match self {
            SeqClass::Zero => "zero",
            SeqClass::Constant => "constant",
            SeqClass::Incremental => "incremental",
            SeqClass::Random => "random",
        }
    }
}

/// An ICMP message the host sent back: an echo reply, or the port
/// unreachable a UDP datagram to a closed port drew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpReply {
    /// Its TTL as received.
    pub ttl: u8,
    /// Its DF bit.
    pub df: bool,
    /// Bytes of our datagram an error quotes (`None` for an echo reply).
    pub quoted: Option<u16>,
}

impl IcmpReply {
    fn words(&self) -> String {
        let mut w = format!(
            "ttl:{},df:{}",
            crate::initial_ttl(self.ttl),
            if self.df { "yes" } else { "no" }
        );
        if let Some(q) = self.quoted {
            w.push_str(&format!(",quote:{q}"));
        }
        w
    }
}

/// The burst's evidence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sequence {
    /// The ICMP echo reply, if one came.
    pub echo: Option<IcmpReply>,
    /// The port unreachable of the UDP probe, if one came.
    pub unreach: Option<IcmpReply>,
    /// SYN/ACKs that came back.
    pub replies: usize,
    /// The initial sequence numbers' class.
    pub isn: Option<SeqClass>,
    /// The IP IDs' class.
    pub ipid: Option<SeqClass>,
    /// The timestamp values' class: incremental for one clock; random
    /// when each connection has an offset of its own (Linux 6.x).
    pub ts: Option<SeqClass>,
    /// The timestamp clock's rate in Hz, when it is one stacks use.
    pub ts_rate: Option<u32>,
    /// The uptime the clock implies (see [`crate::uptime_from_timestamps`]).
    pub uptime: Option<OsUptime>,
}

/// The largest step (modulo 2^bits) still counted as incremental: a
/// counter others also advance between two probes 100 ms apart.
const ISN_STEP: u32 = 1 << 24;
const IPID_STEP: u32 = 2048;
/// A 1000 Hz clock moves 100 ticks in 100 ms; allow for delays.
const TS_STEP: u32 = 1 << 16;

/// Classifies values read in order (wrapping at `modulus`).
fn classify(values: &[u32], modulus: u64, step: u32) -> Option<SeqClass> {
    if values.len() < 3 {
        return None;
    }
    if values.iter().all(|&v| v == 0) {
        return Some(SeqClass::Zero);
    }
    if values.windows(2).all(|w| w[0] == w[1]) {
        return Some(SeqClass::Constant);
    }
    let small = values.windows(2).all(|w| {
        // Reduced first: a hostile or IPv6 value (a flow label) may exceed
        // the field's modulus.
        let (a, b) = (u64::from(w[0]) % modulus, u64::from(w[1]) % modulus);
        let d = (b + modulus - a) % modulus;
        d > 0 && d <= u64::from(step)
    });
    Some(if small {
        SeqClass::Incremental
    } else {
        SeqClass::Random
    })
}

impl Sequence {
    /// The evidence in `replies`: SYN/ACKs of one host's open port, each
    /// with its receive time in seconds since the Unix epoch, in the
    /// order they came. Never panics, whatever the replies held.
    pub fn from_replies(replies: &[(StackTraits, f64)]) -> Sequence {
        let isns: Vec<u32> = replies.iter().map(|(t, _)| t.seq).collect();
        let ipids: Vec<u32> = replies.iter().map(|(t, _)| t.ip_id).collect();
        let stamps: Vec<(u32, f64)> = replies
            .iter()
            .filter_map(|(t, at)| t.timestamps.map(|ts| (ts.tsval, *at)))
            .collect();
        let (ts_rate, uptime) =
            timestamp_clock(&stamps).map_or((None, None), |(r, u)| (Some(r), Some(u)));
        Sequence {
            echo: None,
            unreach: None,
            replies: replies.len(),
            isn: classify(&isns, 1 << 32, ISN_STEP),
            ipid: classify(&ipids, 1 << 16, IPID_STEP),
            ts: classify(
                &stamps.iter().map(|s| s.0).collect::<Vec<_>>(),
                1 << 32,
                TS_STEP,
            ),
            ts_rate,
            uptime,
        }
    }

    /// The fingerprint words (`isn=random ipid=zero tsrate=1000`, or
    /// `ts=random` when the timestamps give no clock).
    pub fn fingerprint(&self) -> String {
        let mut f = Vec::new();
        if let Some(c) = self.isn {
            f.push(format!("isn={}", c.name()));
        }
        if let Some(c) = self.ipid {
            f.push(format!("ipid={}", c.name()));
        }
        match (self.ts_rate, self.ts) {
            (Some(r), _) => f.push(format!("tsrate={r}")),
            (None, Some(c)) => f.push(format!("ts={}", c.name())),
            (None, None) => {}
        }
        if let Some(e) = self.echo {
            f.push(format!("echo={}", e.words()));
        }
        if let Some(u) = self.unreach {
            f.push(format!("unreach={}", u.words()));
        }
        f.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::traits::Timestamps;

    fn reply(seq: u32, ip_id: u32, tsval: Option<u32>, at: f64) -> (StackTraits, f64) {
        (
            StackTraits {
                flags: 0x12,
                seq,
                ip_id,
                timestamps: tsval.map(|tsval| Timestamps { tsval, tsecr: 0 }),
                ..StackTraits::default()
            },
            at,
        )
    }

    #[test]
    fn classes_and_rate_from_a_burst() {
        let t = 1_800_000_000.0;
        // Random ISNs, zero IP IDs, a 1000 Hz clock 10 days up.
        let r: Vec<_> = [0x1234_5678u32, 0x9abc_def0, 0x0fed_cba9, 0x7777_0001]
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let at = t + 0.2 * i as f64;
                reply(s, 0, Some(864_000_000 + 200 * i as u32), at)
            })
            .collect();
        let s = Sequence::from_replies(&r);
        assert_eq!(s.isn, Some(SeqClass::Random));
        assert_eq!(s.ipid, Some(SeqClass::Zero));
        assert_eq!(s.ts_rate, Some(1000));
        assert_eq!(s.uptime.map(|u| u.seconds), Some(864_000));
        assert_eq!(s.fingerprint(), "isn=random ipid=zero tsrate=1000");
        let s = Sequence {
            echo: Some(IcmpReply {
                ttl: 63,
                df: false,
                quoted: None,
            }),
            unreach: Some(IcmpReply {
                ttl: 255,
                df: true,
                quoted: Some(28),
            }),
            ..s
        };
        assert_eq!(
            s.fingerprint(),
            "isn=random ipid=zero tsrate=1000 echo=ttl:64,df:no unreach=ttl:255,df:yes,quote:28"
        );
        // Counters that step, wrapping included.
        let r = [
            reply(u32::MAX - 10, 65_530, None, t),
            reply(5, 65_535, None, t + 0.1),
            reply(40, 3, None, t + 0.2),
        ];
        let s = Sequence::from_replies(&r);
        assert_eq!(s.isn, Some(SeqClass::Incremental));
        assert_eq!(s.ipid, Some(SeqClass::Incremental));
        assert_eq!((s.ts, s.ts_rate, s.uptime), (None, None, None));
        // Timestamps with an offset per connection: no clock, no uptime.
        let r = [
            reply(1, 0, Some(4_027_071_437), t),
            reply(2, 0, Some(3_387_940_386), t + 0.1),
            reply(3, 0, Some(2_030_251_663), t + 0.2),
        ];
        let s = Sequence::from_replies(&r);
        assert_eq!(
            (s.ts, s.ts_rate, s.uptime),
            (Some(SeqClass::Random), None, None)
        );
        assert_eq!(s.fingerprint(), "isn=incremental ipid=zero ts=random");
        // Too few replies say nothing.
        assert_eq!(Sequence::from_replies(&r[..2]).isn, None);
        assert_eq!(Sequence::from_replies(&[]), Sequence::default());
    }
}
