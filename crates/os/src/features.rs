//! What a host's replies show, reduced to the features the database
//! holds, and their one-line text form (the `fp` line of a database
//! entry, and the "OS fingerprint:" users see).
//!
//! From the SYN/ACK of an open port: the initial TTL (the observed TTL
//! rounded up to 32, 64, 128 or 255, as stacks start from one of those),
//! DF, the window, the option layout (the model's letters: `M` MSS, `S`
//! SACK permitted, `T` timestamps, `N` NOP, `W` window scale, `L` end of
//! list, `X` no options), the MSS and the window-scale shift. From a
//! closed port's RST+ACK: its initial TTL, DF and window. Hershel+'s
//! timeout RST and retransmission times (RTOs) are features too, read
//! only from evidence that carries them (published records, or a future
//! opt-in probe).

use portolan_model::traits::{SampleKind, StackTraits, TraitSamples};
use std::fmt::{self, Write};

/// The initial TTLs stacks use.
const INITIAL_TTLS: [u8; 4] = [32, 64, 128, 255];

/// The smallest initial TTL at or above `observed`.
pub fn initial_ttl(observed: u8) -> u8 {
    INITIAL_TTLS
        .into_iter()
        .find(|&t| t >= observed)
        .unwrap_or(255)
}

/// Hershel+'s RST features: the RST a stack sends after giving up on a
/// half-open connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeoutRst {
    /// A RST came.
    pub present: bool,
    /// It had ACK set.
    pub ack: bool,
    /// Its window was non-zero.
    pub win: bool,
    /// Its sequence number moved on from the ISN.
    pub seq: bool,
    /// Its acknowledgment number was non-zero.
    pub nonzero: bool,
}

/// One host's features (see the module docs); `None` where the
/// evidence did not show the feature.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    /// Initial TTL of the SYN/ACK.
    pub ttl: Option<u8>,
    /// TTL as received (for the distance).
    pub observed_ttl: Option<u8>,
    /// DF on the SYN/ACK.
    pub df: Option<bool>,
    /// SYN/ACK window.
    pub win: Option<u16>,
    /// SYN/ACK option layout.
    pub opts: Option<String>,
    /// SYN/ACK MSS.
    pub mss: Option<u16>,
    /// SYN/ACK window-scale shift.
    pub ws: Option<u8>,
    /// Initial TTL of a closed port's RST+ACK.
    pub closed_ttl: Option<u8>,
    /// DF on it.
    pub closed_df: Option<bool>,
    /// Its window.
    pub closed_win: Option<u16>,
    /// Hershel+'s timeout RST.
    pub rst: Option<TimeoutRst>,
    /// SYN/ACK (re)transmission times in seconds after the SYN.
    pub rto: Vec<f64>,
}

impl Features {
    /// The features of a host's samples: the SYN/ACK (the scan's, or one
    /// of OS detection's own from `more`) and a RST+ACK.
    pub fn from_samples(samples: &TraitSamples, more: &[StackTraits]) -> Features {
        let find = |kind: SampleKind| {
            samples
                .get(kind)
                .copied()
                .or_else(|| more.iter().copied().find(|t| t.sample_kind() == kind))
        };
        let mut f = Features::default();
        if let Some(sa) = find(SampleKind::SynAck) {
            f.observed_ttl = Some(sa.ttl);
            f.ttl = Some(initial_ttl(sa.ttl));
            f.df = Some(sa.df);
            f.win = Some(sa.window);
            f.opts = Some(layout(&sa));
            f.mss = sa.mss;
            f.ws = sa.wscale;
        }
        if let Some(r) = find(SampleKind::RstAck) {
            f.closed_ttl = Some(initial_ttl(r.ttl));
            f.closed_df = Some(r.df);
            f.closed_win = Some(r.window);
        }
        f
    }

    /// Whether a SYN/ACK was seen: without one there is nothing to match.
    pub fn has_syn_ack(&self) -> bool {
        self.opts.is_some()
    }
}

/// The option layout in the database's letters (`X` for none).
fn layout(t: &StackTraits) -> String {
    let s = t.options.to_string();
    if s.is_empty() {
        "X".to_string()
    } else {
        s
    }
}

impl fmt::Display for Features {
    /// `ttl=64 df=1 win=64240 opts=MSTNW mss=1460 ws=7 closed-ttl=64
    /// closed-df=1 closed-win=0`: the `fp` line's syntax, shown features
    /// only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let mut put = |k: &str, v: String| {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "{k}={v}");
        };
        let b = |v: bool| if v { "1" } else { "0" }.to_string();
        if let Some(v) = self.ttl {
            put("ttl", v.to_string());
        }
        if let Some(v) = self.df {
            put("df", b(v));
        }
        if let Some(v) = self.win {
            put("win", v.to_string());
        }
        if let Some(v) = &self.opts {
            put("opts", v.clone());
        }
        if let Some(v) = self.mss {
            put("mss", v.to_string());
        }
        if let Some(v) = self.ws {
            put("ws", v.to_string());
        }
        if let Some(v) = self.closed_ttl {
            put("closed-ttl", v.to_string());
        }
        if let Some(v) = self.closed_df {
            put("closed-df", b(v));
        }
        if let Some(v) = self.closed_win {
            put("closed-win", v.to_string());
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::traits::OptionLayout;

    #[test]
    fn initial_ttls_round_up() {
        assert_eq!(initial_ttl(1), 32);
        assert_eq!(initial_ttl(63), 64);
        assert_eq!(initial_ttl(64), 64);
        assert_eq!(initial_ttl(65), 128);
        assert_eq!(initial_ttl(250), 255);
        assert_eq!(initial_ttl(255), 255);
    }

    #[test]
    fn a_linux_syn_ack_and_rst() {
        let mut opts = OptionLayout::default();
        for k in [2, 4, 8, 1, 3] {
            opts.push(k);
        }
        let mut s = TraitSamples::new();
        s.offer(StackTraits {
            ttl: 63,
            df: true,
            flags: 0x12,
            window: 64240,
            options: opts,
            mss: Some(1460),
            wscale: Some(7),
            sack_permitted: true,
            ..StackTraits::default()
        });
        s.offer(StackTraits {
            ttl: 63,
            df: true,
            flags: 0x14,
            ..StackTraits::default()
        });
        let f = Features::from_samples(&s, &[]);
        assert_eq!(
            f.to_string(),
            "ttl=64 df=1 win=64240 opts=MSTNW mss=1460 ws=7 closed-ttl=64 closed-df=1 closed-win=0"
        );
        assert_eq!(f.observed_ttl, Some(63));
        // No options at all is `X`, as Hershel+ writes it.
        let mut bare = TraitSamples::new();
        bare.offer(StackTraits {
            ttl: 255,
            flags: 0x12,
            ..StackTraits::default()
        });
        let f = Features::from_samples(&bare, &[]);
        assert_eq!(f.to_string(), "ttl=255 df=0 win=0 opts=X");
        assert!(Features::from_samples(&TraitSamples::new(), &[])
            .to_string()
            .is_empty());
    }
}
