//! The scoring model: how well one database entry explains a host's
//! features, as an accuracy from 0 to 100.
//!
//! In the spirit of Hershel+ (Shamsi and Loguinov), every feature may
//! have been changed on its way or by the host's owner, each with its own
//! likelihood: a feature that matches keeps the score, one that differs
//! multiplies it by the credit below, which is high for the fields users
//! and networks often change (the window, the MSS) and low for what a
//! stack rarely changes (its option layout, its initial TTL). A perfect
//! match is 100 %; one changed window is 90 %; a different option layout
//! and TTL together leave under 25 %.
//!
//! Retransmission times (RTOs), when the evidence carries them, are
//! compared with the entry's observations of the same count: each time
//! by its distance from their mean in units of their spread (with a floor
//! for timer granularity), combined as a geometric mean, so a long RTO
//! list weighs no more than a short one.
//!
//! Features the evidence lacks are not counted either way. Among equal
//! accuracies, the entry that was compared on more features ranks first
//! (a capture that records the window scale and the closed port's reply
//! is more specific than a record without them).

use crate::db::Entry;
use crate::features::Features;

/// Credit when a feature differs (see the module docs).
const TTL: f64 = 0.5;
const DF: f64 = 0.8;
const WIN: f64 = 0.9;
const OPTS_NOP: f64 = 0.75;
const OPTS: f64 = 0.45;
const MSS: f64 = 0.95;
const WS: f64 = 0.85;
const CLOSED_TTL: f64 = 0.8;
const CLOSED_DF: f64 = 0.9;
const CLOSED_WIN: f64 = 0.9;
const RST: f64 = 0.7;
/// An RTO count no observation of the entry has (a lost retransmission
/// shortens the list, so not lower).
const RTO_COUNT: f64 = 0.6;

/// Per-count RTO statistics of an entry: mean and spread per position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RtoStats {
    groups: Vec<(usize, Vec<f64>, Vec<f64>)>,
}

impl RtoStats {
    /// The statistics of `observations`.
    pub fn of(observations: &[Vec<f64>]) -> RtoStats {
        let mut lens: Vec<usize> = observations.iter().map(Vec::len).collect();
        lens.sort_unstable();
        lens.dedup();
        let groups = lens
            .into_iter()
            .map(|len| {
                let same: Vec<&Vec<f64>> = observations.iter().filter(|o| o.len() == len).collect();
                let n = same.len() as f64;
                let mean: Vec<f64> = (0..len)
                    .map(|i| same.iter().map(|o| o[i]).sum::<f64>() / n)
                    .collect();
                let sd: Vec<f64> = (0..len)
                    .map(|i| {
                        let var = same.iter().map(|o| (o[i] - mean[i]).powi(2)).sum::<f64>() / n;
                        var.sqrt()
                    })
                    .collect();
                (len, mean, sd)
            })
            .collect();
        RtoStats { groups }
    }

    /// Whether there is nothing to compare with.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// How well `rto` fits, from 0 to 1.
    fn fit(&self, rto: &[f64]) -> f64 {
        let Some((_, mean, sd)) = self.groups.iter().find(|(l, _, _)| *l == rto.len()) else {
            return RTO_COUNT;
        };
        let mut log = 0.0;
        for ((&t, &m), &s) in rto.iter().zip(mean).zip(sd) {
            // Timers tick in milliseconds to tens of them; long waits
            // drift by a fraction of themselves.
            let spread = s.max(0.02 + 0.01 * m);
            let z = (t - m) / spread;
            log += (-(z * z) / 2.0).max(-6.0);
        }
        (log / rto.len().max(1) as f64).exp()
    }
}

/// The accuracy (0-100) of `entry` for `f`, and how many features were
/// compared.
pub fn score(entry: &Entry, rto: &RtoStats, f: &Features) -> (f64, u32) {
    let mut p = 1.0;
    let mut compared = 0;
    let mut feature = |same: bool, credit: f64| {
        compared += 1;
        if !same {
            p *= credit;
        }
    };
    if let Some(t) = f.ttl {
        feature(t == entry.ttl, TTL);
    }
    if let (Some(a), Some(b)) = (f.df, entry.df) {
        feature(a == b, DF);
    }
    if let (Some(w), false) = (f.win, entry.win.is_empty()) {
        feature(entry.win.contains(&w), WIN);
    }
    if let Some(o) = &f.opts {
        if *o == entry.opts {
            feature(true, OPTS);
        } else {
            let bare = |s: &str| s.replace(['N', 'L'], "");
            feature(
                false,
                if bare(o) == bare(&entry.opts) {
                    OPTS_NOP
                } else {
                    OPTS
                },
            );
        }
    }
    if let (Some(m), false) = (f.mss, entry.mss.is_empty()) {
        feature(entry.mss.contains(&m), MSS);
    }
    if let (Some(a), Some(b)) = (f.ws, entry.ws) {
        feature(a == b, WS);
    }
    if let (Some(a), Some(b)) = (f.closed_ttl, entry.closed_ttl) {
        feature(a == b, CLOSED_TTL);
    }
    if let (Some(a), Some(b)) = (f.closed_df, entry.closed_df) {
        feature(a == b, CLOSED_DF);
    }
    if let (Some(a), Some(b)) = (f.closed_win, entry.closed_win) {
        feature(a == b, CLOSED_WIN);
    }
    if let (Some(a), Some(b)) = (f.rst, entry.rst) {
        feature(a == b, RST);
    }
    if !f.rto.is_empty() && !rto.is_empty() {
        compared += 1;
        p *= 0.6 + 0.4 * rto.fit(&f.rto);
    }
    (100.0 * p, compared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> Entry {
        Entry {
            name: "Linux".into(),
            ttl: 64,
            df: Some(true),
            win: vec![64240],
            opts: "MSTNW".into(),
            mss: vec![1460],
            ws: Some(7),
            ..Entry::default()
        }
    }

    fn host() -> Features {
        Features {
            ttl: Some(64),
            df: Some(true),
            win: Some(64240),
            opts: Some("MSTNW".into()),
            mss: Some(1460),
            ws: Some(7),
            ..Features::default()
        }
    }

    #[test]
    fn a_perfect_match_is_100_and_volatile_fields_cost_little() {
        let e = linux();
        let none = RtoStats::default();
        assert_eq!(score(&e, &none, &host()), (100.0, 6));
        let mut f = host();
        f.win = Some(29200);
        assert!((score(&e, &none, &f).0 - 90.0).abs() < 1e-9);
        f.ttl = Some(128);
        f.opts = Some("MNWST".into());
        assert!(score(&e, &none, &f).0 < 25.0);
        // NOPs moved: a smaller cost than other options.
        let mut g = host();
        g.opts = Some("MSTW".into());
        assert!((score(&e, &none, &g).0 - 75.0).abs() < 1e-9);
    }

    #[test]
    fn rtos_near_the_mean_fit_and_others_do_not() {
        let obs = vec![
            vec![3.0, 9.0, 21.0],
            vec![3.01, 9.01, 21.01],
            vec![1.0, 3.0],
        ];
        let s = RtoStats::of(&obs);
        assert!(s.fit(&[3.005, 9.005, 21.005]) > 0.9);
        assert!(s.fit(&[1.0, 3.0]) > 0.9);
        assert!(s.fit(&[1.0, 3.0, 7.0]) < 0.1);
        assert_eq!(s.fit(&[1.0]), RTO_COUNT);
    }
}
