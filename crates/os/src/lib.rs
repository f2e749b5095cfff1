//! OS detection (`-O`): portolan's own stack database and classifier.
//!
//! The evidence is what a host's stack writes in the header fields a
//! standard leaves open, read from the SYN/ACKs and RSTs the port scan
//! already received ([`Evidence`], turned into an [`Observation`]). The
//! database ([`Database`]) is text in portolan's own format
//! (docs/os-detection.md, "Database format"): the Hershel+ published
//! stacks (crates/os/data/hershelplus.osdb, converted by
//! scripts/os-db/convert-hershelplus.py) and Linux captures made here
//! (crates/os/data/linux.osdb, scripts/os-db/capture-linux.sh), of
//! libslirp (slirp.osdb, capture-slirp.sh), lwIP (lwip.osdb,
//! capture-lwip.sh) and smoltcp (smoltcp.osdb, capture-smoltcp.sh).
//!
//! # The model (in the spirit of Hershel+)
//! Each feature has a *volatility*: the chance that a user, an
//! administrator or the network changed it (a window set by an
//! application, a TTL set by sysctl, an MSS clamped on the path). A
//! feature that agrees with an entry is evidence worth `ln(1/volatility)`;
//! the option layout (hard to change) weighs most, the MSS least. An
//! entry's accuracy is the share of that weight its features agree with:
//! 100 % when every feature the evidence shows agrees. The TTL is compared
//! as the initial TTL (rounded up to 32, 64, 128 or 255, so hops do not
//! count), the window also as a multiple of the MSS. A core feature
//! (layout, TTL, DF, window) the entry does not state counts half; an
//! extra one (MSS, window scale, ECN, RSTs, RTO series) is compared only
//! when both the evidence and the entry have it, since a source that did
//! not measure it says nothing about it.
//!
//! Matches at [`SURE`] or better are reported; with `--osscan-guess`
//! ([`Options::guess`]) matches down to [`GUESS_FLOOR`]. Anything less is
//! "not enough evidence", said with the reason. A Linux host set to TTL
//! 128 thus comes out below [`SURE`] (as Linux, when guessing), never as
//! a confident Windows.
//!
//! # Uptime
//! An uptime guess needs two TCP timestamps taken at known, different
//! times (the clock rate from their difference, the boot from the value).
//! [`TraitSamples`] holds at most one SYN/ACK and keeps no receive time,
//! and modern Linux offsets its timestamps randomly per address pair, so
//! [`Database::classify`] leaves [`OsReport::uptime`] empty: no guess
//! without evidence. [`uptime_from_timestamps`] makes the guess from
//! timed samples, for OS detection's own probes.

mod db;
mod sequence;

use std::sync::OnceLock;

pub use db::{ClosedRst, Entry, EntryClass, Giveup, IcmpTraits, Span, SynVariant, SYN_VARIANTS};
use portolan_model::traits::{Echo, SampleKind, StackTraits, TraitSamples};
use portolan_model::{OsClass, OsMatch, OsReport, OsUptime};
pub use sequence::{IcmpReply, SeqClass, Sequence};

/// What OS detection knows of one host.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The port scan's own replies (first SYN/ACK, RST+ACK, RST).
    pub samples: TraitSamples,
    /// Replies to OS detection's own extra probes, if it sent any.
    pub more: Vec<StackTraits>,
}

/// How to classify.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--osscan-guess`: list close guesses even when none is sure.
    pub guess: bool,
}

/// Accuracy (percent) from which a match is reported without
/// `--osscan-guess`: the model's [`OsReport::SURE`], which the outputs
/// also use to tell a stated OS from a guess (one definition for both).
pub const SURE: u8 = OsReport::SURE;
/// Lowest accuracy (percent) `--osscan-guess` still lists.
pub const GUESS_FLOOR: u8 = 70;
/// At most this many matches are listed.
pub const MAX_MATCHES: usize = 10;

/// The stack database: the built-in entries plus any `--os-db` files.
#[derive(Clone, Debug, Default)]
pub struct Database {
    entries: Vec<Entry>,
}

/// A malformed database file: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError {
    /// The file (or "built-in").
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.line, self.reason)
    }
}

impl std::error::Error for DbError {}

/// The database files portolan ships, with their names for errors.
pub const BUILTIN_FILES: [(&str, &str); 5] = [
    (
        "crates/os/data/linux.osdb",
        include_str!("../data/linux.osdb"),
    ),
    (
        "crates/os/data/slirp.osdb",
        include_str!("../data/slirp.osdb"),
    ),
    (
        "crates/os/data/lwip.osdb",
        include_str!("../data/lwip.osdb"),
    ),
    (
        "crates/os/data/smoltcp.osdb",
        include_str!("../data/smoltcp.osdb"),
    ),
    (
        "crates/os/data/hershelplus.osdb",
        include_str!("../data/hershelplus.osdb"),
    ),
];

/// The features of one host, as the classifier compares them. Every
/// field is optional: what the evidence did not show is not compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The SYN/ACK's TTL as received.
    pub ttl: Option<u8>,
    /// Its DF bit.
    pub df: Option<bool>,
    /// Its window.
    pub window: Option<u16>,
    /// Its MSS option.
    pub mss: Option<u16>,
    /// Its option layout (OptionLayout's letters, "" for none).
    pub options: Option<String>,
    /// Its window-scale shift.
    pub wscale: Option<u8>,
    /// Whether it set ECE (known only when it did: a SYN without ECN
    /// setup never gets ECE).
    pub ecn: Option<bool>,
    /// A closed port's RST+ACK.
    pub closed: Option<ClosedRst>,
    /// The RST after the stack gave up on the handshake.
    pub giveup: Option<Giveup>,
    /// SYN/ACK retransmission times after the first SYN/ACK.
    pub rto: Option<Vec<f32>>,
    /// The timed burst's ISN class.
    pub isn: Option<SeqClass>,
    /// The timed burst's IP ID class.
    pub ipid: Option<SeqClass>,
    /// The timed burst's timestamp class.
    pub ts: Option<SeqClass>,
    /// The timed burst's timestamp clock rate (Hz).
    pub tsrate: Option<u32>,
    /// The burst's ICMP echo reply.
    pub echo: Option<IcmpReply>,
    /// The burst's ICMP port unreachable.
    pub unreach: Option<IcmpReply>,
    /// The SYN/ACKs to the SYN option variants ([`SYN_VARIANTS`]).
    pub variants: [Option<SynVariant>; 3],
}

impl Observation {
    /// The features the scan's replies show: the first SYN/ACK (from the
    /// scan, else from OS detection's own probes) and a closed port's
    /// RST+ACK. Never panics, whatever the replies held.
    pub fn from_evidence(evidence: &Evidence) -> Observation {
        let of = |kind: SampleKind| {
            evidence
                .samples
                .get(kind)
                .or_else(|| evidence.more.iter().find(|t| t.sample_kind() == kind))
        };
        let mut o = Observation::default();
        if let Some(sa) = of(SampleKind::SynAck) {
            o.ttl = Some(sa.ttl);
            o.df = Some(sa.df);
            o.window = Some(sa.window);
            o.mss = sa.mss;
            o.options = Some(sa.options.to_string());
            o.wscale = sa.wscale;
            o.ecn = sa.ece().then_some(true);
        }
        if let Some(ra) = of(SampleKind::RstAck) {
            o.closed = Some(ClosedRst {
                window: ra.window,
                ack: ra.ack_echo,
                df: ra.df,
            });
            if o.ttl.is_none() {
                o.ttl = Some(ra.ttl);
            }
        }
        o
    }

    /// Adds what the timed burst showed (ISN, IP ID and timestamp
    /// classes, the clock's rate, the ICMP replies), so that entries
    /// recording them are compared on them too.
    pub fn add_sequence(&mut self, s: &Sequence) {
        self.isn = s.isn;
        self.ipid = s.ipid;
        self.ts = s.ts;
        self.tsrate = s.ts_rate;
        self.echo = s.echo;
        self.unreach = s.unreach;
    }

    /// The observation in portolan's compact text form (the keys of the
    /// database format, `key=value`, space-separated).
    pub fn fingerprint(&self) -> String {
        let mut f = Vec::new();
        if let Some(t) = self.ttl {
            f.push(format!("ttl={t}(initial {})", initial_ttl(t)));
        }
        if let Some(d) = self.df {
            f.push(format!("df={}", yes(d)));
        }
        if let Some(w) = self.window {
            f.push(format!("window={w}"));
        }
        if let Some(m) = self.mss {
            f.push(format!("mss={m}"));
        }
        if let Some(o) = &self.options {
            f.push(format!("options={}", if o.is_empty() { "-" } else { o }));
        }
        if let Some(w) = self.wscale {
            f.push(format!("wscale={w}"));
        }
        if let Some(e) = self.ecn {
            f.push(format!("ecn={}", yes(e)));
        }
        if let Some(c) = self.closed {
            f.push(format!(
                "closed=window:{},ack:{},df:{}",
                c.window,
                echo_name(c.ack),
                yes(c.df)
            ));
        }
        let burst = Sequence {
            isn: self.isn,
            ipid: self.ipid,
            ts: self.ts,
            ts_rate: self.tsrate,
            echo: self.echo,
            unreach: self.unreach,
            ..Sequence::default()
        }
        .fingerprint();
        if !burst.is_empty() {
            f.push(burst);
        }
        for (name, v) in SYN_VARIANTS.iter().zip(&self.variants) {
            if let Some(v) = v {
                let mut w = format!(
                    "{name}=options:{},window:{}",
                    if v.options.is_empty() {
                        "-"
                    } else {
                        &v.options
                    },
                    v.window
                );
                if let Some(m) = v.mss {
                    w.push_str(&format!(",mss:{m}"));
                }
                f.push(w);
            }
        }
        if let Some(r) = &self.rto {
            let times: Vec<String> = r.iter().map(|t| format!("{t:.2}")).collect();
            f.push(format!(
                "rto={}",
                if times.is_empty() {
                    "-".to_string()
                } else {
                    times.join(",")
                }
            ));
        }
        match self.giveup {
            Some(Giveup::None) => f.push("giveup=none".into()),
            Some(Giveup::Rst {
                ack,
                window,
                ack_nonzero,
            }) => f.push(format!(
                "giveup={},window:{window},ack-nonzero:{}",
                if ack { "rst-ack" } else { "rst" },
                yes(ack_nonzero)
            )),
            None => {}
        }
        f.join(" ")
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn echo_name(e: Echo) -> &'static str {
    match e {
        Echo::Zero => "zero",
        Echo::Same => "same",
        Echo::Plus1 => "plus1",
        Echo::Other => "other",
    }
}

/// The initial TTL a received TTL most likely started from.
pub fn initial_ttl(ttl: u8) -> u8 {
    match ttl {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

/// Feature weights: `ln(1 / volatility)`, the volatility being the chance
/// the feature was changed from the stack's default (see the module doc
/// and docs/os-detection.md for the figures' reasons).
mod weight {
    pub const OPTIONS: f32 = 3.9; // volatility 0.02: needs a kernel change
    pub const TTL: f32 = 3.0; // 0.05: a sysctl some set
    pub const DF: f32 = 2.3; // 0.1: PMTU discovery off
    pub const RTO: f32 = 2.3; // 0.1: retransmission tuning
    pub const WSCALE: f32 = 1.6; // 0.2: buffer sizes
    pub const ECN: f32 = 1.6; // 0.2: sysctl
    pub const CLOSED: f32 = 1.6; // 0.2
    pub const WINDOW: f32 = 1.2; // 0.3: applications and tuning change it
    pub const GIVEUP: f32 = 1.2; // 0.3: depends on the scanner's own RSTs
    pub const MSS: f32 = 0.7; // 0.5: the path's MTU and clamping
                              // The timed burst's (docs/os-detection.md, "Evidence").
    pub const ISN: f32 = 3.0; // 0.05: the kernel's generator
    pub const CLOCK: f32 = 2.3; // 0.1: the timestamp sysctl
    pub const IPID: f32 = 1.6; // 0.2: follows DF (PMTU discovery)
    pub const ICMP: f32 = 1.6; // 0.2: sysctls, firewalls
    pub const VARIANT: f32 = 2.3; // 0.1: which options a stack echoes is code
}

/// How well one entry explains an observation.
struct Score {
    agreed: f32,
    total: f32,
    /// The host's initial TTL is not the entry's: a host changed from
    /// how the stack ships, or another stack. However well the rest
    /// agrees (and the burst adds much that does), such a match is never
    /// sure: [`Score::percent`] stays below [`SURE`].
    ttl_differs: bool,
}

impl Score {
    fn add(&mut self, w: f32, credit: f32) {
        self.agreed += w * credit;
        self.total += w;
    }

    /// Compares a core feature (option layout, TTL, DF, window): `None`
    /// from the observation is not compared; `None` from the entry (not
    /// stated) counts half, so a sparse entry cannot reach 100 %.
    fn feature<T, E>(
        &mut self,
        w: f32,
        obs: Option<T>,
        entry: Option<E>,
        agree: impl Fn(T, E) -> f32,
    ) {
        if let Some(o) = obs {
            self.add(w, entry.map_or(0.5, |e| agree(o, e)));
        }
    }

    /// Compares an extra feature (MSS, window scale, ECN, RSTs, RTOs):
    /// only when both sides have it. A source that did not measure it
    /// (Hershel+ recorded no window scale, captures no RTO series) says
    /// nothing about it, so it neither helps nor hurts.
    fn extra<T, E>(
        &mut self,
        w: f32,
        obs: Option<T>,
        entry: Option<E>,
        agree: impl Fn(T, E) -> f32,
    ) {
        if let (Some(o), Some(e)) = (obs, entry) {
            self.add(w, agree(o, e));
        }
    }

    fn percent(&self) -> u8 {
        if self.total <= 0.0 {
            return 0;
        }
        let p = (100.0 * self.agreed / self.total).floor().clamp(0.0, 100.0) as u8;
        if self.ttl_differs {
            p.min(SURE - 1)
        } else {
            p
        }
    }
}

fn in_spans(spans: &[Span], v: u32, mss: Option<u16>) -> bool {
    spans.iter().any(|s| s.contains(v, mss))
}

/// The window agrees exactly, or as the same multiple of the MSS (a
/// stack that sizes its window by MSS keeps the multiple on other paths).
/// The segment size is the MSS, or 12 bytes less when timestamps are on
/// (Linux sizes its first window by that).
fn window_credit(o: &Observation, win: u16, e: &Entry, spans: &[Span]) -> f32 {
    if in_spans(spans, u32::from(win), o.mss) {
        return 1.0;
    }
    let (Some(om), Some(em)) = (o.mss, e.mss.as_deref()) else {
        return 0.0;
    };
    let win = u32::from(win);
    let segments = |mss: u32| [mss, mss.saturating_sub(12)];
    for seg in segments(u32::from(om)) {
        if seg == 0 || win % seg != 0 {
            continue;
        }
        let k = win / seg;
        let same_multiple = spans.iter().any(|s| match *s {
            Span::Range(lo, hi) if lo == hi => em.iter().any(|m| match *m {
                Span::Range(m, m2) if m == m2 => {
                    segments(m).iter().any(|&es| es > 0 && lo == k * es)
                }
                _ => false,
            }),
            _ => false,
        });
        if same_multiple {
            return 0.9;
        }
    }
    0.0
}

/// How well an observed retransmission series matches one of the entry's
/// (both ascending): each entry time is paired with the closest unused
/// later observed time within a tolerance (5 ms plus 3 %: timer slack and
/// queueing), closer pairs counting more; unpaired times on either side
/// (a lost retransmission, a different count) count nothing. Linear in
/// the lengths.
fn rto_credit(obs: &[f32], sample: &[f32]) -> f32 {
    let n = obs.len().max(sample.len());
    if n == 0 {
        return 1.0;
    }
    let mut j = 0;
    let mut got = 0.0;
    for &s in sample {
        let tol = 0.005 + 0.03 * s;
        while j < obs.len() && obs[j] < s - tol {
            j += 1;
        }
        let mut best: Option<usize> = None;
        let mut k = j;
        while k < obs.len() && obs[k] <= s + tol {
            if best.is_none_or(|b| (obs[k] - s).abs() < (obs[b] - s).abs()) {
                best = Some(k);
            }
            k += 1;
        }
        if let Some(b) = best {
            got += 1.0 - 0.5 * (obs[b] - s).abs() / tol;
            j = b + 1;
        }
    }
    got / n as f32
}

/// The best [`rto_credit`] over an entry's series, skipping series whose
/// length alone cannot beat the best so far.
fn best_rto_credit(obs: &[f32], samples: &[Vec<f32>]) -> f32 {
    let mut best = 0.0f32;
    for sample in samples {
        let (a, b) = (obs.len(), sample.len());
        let bound = if a.max(b) == 0 {
            1.0
        } else {
            a.min(b) as f32 / a.max(b) as f32
        };
        if bound <= best {
            continue;
        }
        best = best.max(rto_credit(obs, sample));
        if best >= 1.0 {
            break;
        }
    }
    best
}

fn score(o: &Observation, e: &Entry) -> Score {
    let mut s = Score {
        agreed: 0.0,
        total: 0.0,
        ttl_differs: false,
    };
    s.feature(
        weight::OPTIONS,
        o.options.as_deref(),
        e.options.as_deref(),
        |ol, el| f32::from(u8::from(el.iter().any(|l| l == ol))),
    );
    s.feature(weight::TTL, o.ttl, e.ttl, |ot, et| {
        f32::from(u8::from(initial_ttl(ot) == initial_ttl(et)))
    });
    s.ttl_differs =
        matches!((o.ttl, e.ttl), (Some(ot), Some(et)) if initial_ttl(ot) != initial_ttl(et));
    s.feature(weight::DF, o.df, e.df, |a, b| f32::from(u8::from(a == b)));
    s.feature(weight::WINDOW, o.window, e.window.as_deref(), |w, spans| {
        window_credit(o, w, e, spans)
    });
    s.extra(weight::MSS, o.mss, e.mss.as_deref(), |m, spans| {
        f32::from(u8::from(in_spans(spans, u32::from(m), None)))
    });
    s.extra(weight::WSCALE, o.wscale, e.wscale.as_deref(), |w, spans| {
        f32::from(u8::from(in_spans(spans, u32::from(w), None)))
    });
    s.extra(weight::ECN, o.ecn, e.ecn, |a, b| {
        f32::from(u8::from(a == b))
    });
    s.extra(weight::CLOSED, o.closed, e.closed, |a, b| {
        let parts = [a.window == b.window, a.ack == b.ack, a.df == b.df];
        parts.iter().filter(|&&p| p).count() as f32 / 3.0
    });
    s.extra(weight::GIVEUP, o.giveup, e.giveup, |a, b| {
        f32::from(u8::from(a == b))
    });
    if let Some(obs) = &o.rto {
        if !e.rto.is_empty() {
            s.add(weight::RTO, best_rto_credit(obs, &e.rto));
        }
    }
    let class_in = |c: SeqClass, list: &Vec<SeqClass>| f32::from(u8::from(list.contains(&c)));
    s.extra(weight::ISN, o.isn, e.isn.as_ref(), class_in);
    s.extra(weight::IPID, o.ipid, e.ipid.as_ref(), class_in);
    if let Some(credit) = clock_credit(o, e) {
        s.add(weight::CLOCK, credit);
    }
    let icmp = |r: IcmpReply, t: IcmpTraits| icmp_credit(o, r, e, t);
    s.extra(weight::ICMP, o.echo, e.echo, icmp);
    s.extra(weight::ICMP, o.unreach, e.unreach, icmp);
    for (ov, ev) in o.variants.iter().zip(&e.variants) {
        s.extra(weight::VARIANT, ov.as_ref(), ev.as_ref(), variant_credit);
    }
    s
}

/// A SYN variant's SYN/ACK against an entry's: the option layout counts
/// half, the window a quarter, the MSS a quarter (the layout alone when
/// either side lacks an MSS: then the window has that quarter too).
fn variant_credit(o: &SynVariant, e: &SynVariant) -> f32 {
    let layout = f32::from(u8::from(o.options == e.options)) * 0.5;
    let window = f32::from(u8::from(o.window == e.window));
    match (o.mss, e.mss) {
        (Some(a), Some(b)) => layout + 0.25 * window + 0.25 * f32::from(u8::from(a == b)),
        _ => layout + 0.5 * window,
    }
}

/// The timestamp clock: the rates when both sides have one, else the
/// classes (a measured rate is an incremental clock; an entry's rate
/// implies one). `None` when either side says nothing.
fn clock_credit(o: &Observation, e: &Entry) -> Option<f32> {
    if let (Some(r), Some(spans)) = (o.tsrate, e.tsrate.as_deref()) {
        return Some(f32::from(u8::from(in_spans(spans, r, None))));
    }
    let oc = o.ts.or(o.tsrate.map(|_| SeqClass::Incremental))?;
    let steady = [SeqClass::Incremental];
    let ec = e.ts.as_deref().or(e.tsrate.as_ref().map(|_| &steady[..]))?;
    Some(f32::from(u8::from(ec.contains(&oc))))
}

/// An ICMP reply against an entry's: initial TTL, DF and (for an error
/// whose quote both know) the quote's length, in equal parts. The TTL
/// also agrees when the entry's ICMP TTL is its TCP TTL and the host's
/// are equal too: one sysctl sets both, and the SYN/ACK's TTL already
/// counted a changed one.
fn icmp_credit(o: &Observation, r: IcmpReply, e: &Entry, t: IcmpTraits) -> f32 {
    let ttl = initial_ttl(r.ttl) == initial_ttl(t.ttl)
        || (e
            .ttl
            .is_some_and(|et| initial_ttl(et) == initial_ttl(t.ttl))
            && o.ttl
                .is_some_and(|ot| initial_ttl(ot) == initial_ttl(r.ttl)));
    let mut parts = 2u8;
    let mut agree = u8::from(ttl) + u8::from(r.df == t.df);
    if let (Some(a), Some(b)) = (r.quoted, t.quote) {
        parts += 1;
        agree += u8::from(a == b);
    }
    f32::from(agree) / f32::from(parts)
}

/// One ranked entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    /// Index into [`Database::entries`].
    pub index: usize,
    /// Accuracy, 0-100.
    pub accuracy: u8,
}

impl Database {
    /// The entries portolan ships (parsed once per process).
    pub fn builtin() -> Database {
        static BUILTIN: OnceLock<Vec<Entry>> = OnceLock::new();
        let entries = BUILTIN.get_or_init(|| {
            let mut all = Vec::new();
            for (name, text) in BUILTIN_FILES {
                // The shipped files are parsed by a unit test, so this
                // cannot fail in a tested build.
                match db::parse(text, name) {
                    Ok(e) => all.extend(e),
                    Err(e) => panic!("built-in OS database: {e}"),
                }
            }
            all
        });
        Database {
            entries: entries.clone(),
        }
    }

    /// Parses a database file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Database, DbError> {
        Ok(Database {
            entries: db::parse(text, origin)?,
        })
    }

    /// A database of these entries.
    pub fn from_entries(entries: Vec<Entry>) -> Database {
        Database { entries }
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds `other`'s entries (a user's `--os-db` file).
    pub fn merge(&mut self, other: Database) {
        self.entries.extend(other.entries);
    }

    /// Every entry ranked against `o`, best first (ties keep file order).
    pub fn rank(&self, o: &Observation) -> Vec<Ranked> {
        let sorted;
        let o = match &o.rto {
            Some(t) if !t.is_sorted_by(|a, b| a <= b) => {
                let mut t = t.clone();
                t.sort_by(f32::total_cmp);
                sorted = Observation {
                    rto: Some(t),
                    ..o.clone()
                };
                &sorted
            }
            _ => o,
        };
        let mut r: Vec<Ranked> = self
            .entries
            .iter()
            .enumerate()
            .map(|(index, e)| Ranked {
                index,
                accuracy: score(o, e).percent(),
            })
            .collect();
        r.sort_by(|a, b| b.accuracy.cmp(&a.accuracy).then(a.index.cmp(&b.index)));
        r
    }

    /// Ranks the entries against `evidence`.
    pub fn classify(&self, evidence: &Evidence, options: &Options) -> OsReport {
        self.classify_observation(&Observation::from_evidence(evidence), options)
    }

    /// Ranks the entries against an observation (the evidence already
    /// turned into features, or a record held out of the database).
    pub fn classify_observation(&self, o: &Observation, options: &Options) -> OsReport {
        let fingerprint = o.fingerprint();
        let distance_from = |initial: u8| {
            o.ttl
                .filter(|&t| t <= initial)
                .map(|t| (initial - t).saturating_add(1))
        };
        let mut best_entry = None;
        let mut report = if o.options.is_none() {
            OsReport::not_enough(if o.closed.is_some() {
                "not enough evidence: no open port answered (a closed port's RST alone does not tell stacks apart)"
            } else {
                "not enough evidence: no open port answered with a SYN/ACK"
            })
        } else if self.entries.is_empty() {
            OsReport::not_enough("no OS database entries to compare with")
        } else {
            let (report, best) = self.report(o, options);
            best_entry = best;
            report
        };
        let initial = best_entry
            .and_then(|i| self.entries.get(i))
            .and_then(|e| e.ttl)
            .filter(|&i| o.ttl.is_some_and(|t| t <= i && i - t < 64));
        report.distance = match (initial, o.ttl) {
            (Some(i), _) => distance_from(i),
            (None, Some(t)) => distance_from(initial_ttl(t)),
            (None, None) => None,
        };
        report.fingerprint = fingerprint;
        report
    }

    /// The report, and the best reported entry's index (for the distance).
    fn report(&self, o: &Observation, options: &Options) -> (OsReport, Option<usize>) {
        let floor = if options.guess { GUESS_FLOOR } else { SURE };
        let mut matches: Vec<OsMatch> = Vec::new();
        let ranked = self.rank(o);
        for r in &ranked {
            if r.accuracy < floor || matches.len() == MAX_MATCHES {
                break;
            }
            let e = &self.entries[r.index];
            if matches.iter().any(|m| m.name == e.name) {
                continue;
            }
            matches.push(OsMatch {
                name: e.name.clone(),
                accuracy: r.accuracy,
                classes: e
                    .classes
                    .iter()
                    .map(|c| OsClass {
                        device_type: c.device_type.clone(),
                        vendor: c.vendor.clone(),
                        family: c.family.clone(),
                        generation: c.generation.clone(),
                        accuracy: r.accuracy,
                        cpe: c.cpe.clone(),
                    })
                    .collect(),
            });
        }
        if !matches.is_empty() {
            let best = ranked.first().map(|r| r.index);
            let report = OsReport {
                matches,
                ..OsReport::default()
            };
            return (report, best);
        }
        let best = ranked
            .first()
            .map(|r| (&self.entries[r.index].name, r.accuracy));
        let (name, acc) = best.map_or((String::from("none"), 0), |(n, a)| (n.clone(), a));
        let why = if options.guess {
            format!("not enough evidence: no entry agrees closely (best: {name} at {acc}%, below {GUESS_FLOOR}%)")
        } else {
            format!("not enough evidence for a sure match (best: {name} at {acc}%, below {SURE}%); --osscan-guess lists guesses")
        };
        (OsReport::not_enough(why), None)
    }
}

/// Timestamp clock rates stacks use, in ticks per second.
const TS_RATES: [f64; 6] = [2.0, 10.0, 100.0, 200.0, 250.0, 1000.0];

/// An uptime guess from TCP timestamp values taken at known times:
/// `(tsval, received at, seconds since the Unix epoch)`, from one host.
///
/// Assumptions (say them with the answer): the clock started at zero at
/// boot and has not wrapped (true of Windows and the BSDs; Linux since
/// 4.10 adds a random offset per address pair unless
/// `net.ipv4.tcp_timestamps=2`, so its "uptime" is not reported: see
/// [`uptime_meaningful`]); the samples are at least 0.4 s apart (a
/// 100 Hz clock then moves 40 ticks);
/// the rate measured between the first and last sample is within 10 % of
/// a common rate (2, 10, 100, 200, 250 or 1000 Hz). Otherwise `None`: no
/// guess without evidence. [`TraitSamples`] carries no receive times, so
/// the scan's own samples cannot feed this; OS detection's timed burst
/// ([`Sequence`]) does.
pub fn uptime_from_timestamps(samples: &[(u32, f64)]) -> Option<OsUptime> {
    timestamp_clock(samples).map(|(_, up)| up)
}

/// [`uptime_from_timestamps`] with the clock rate it found (Hz).
pub fn timestamp_clock(samples: &[(u32, f64)]) -> Option<(u32, OsUptime)> {
    let mut s: Vec<(u32, f64)> = samples
        .iter()
        .copied()
        .filter(|(_, t)| t.is_finite())
        .collect();
    s.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (&(ts0, t0), &(ts1, t1)) = (s.first()?, s.last()?);
    let dt = t1 - t0;
    if dt < 0.4 || ts1 <= ts0 {
        return None;
    }
    let measured = f64::from(ts1 - ts0) / dt;
    let rate = TS_RATES
        .iter()
        .copied()
        .find(|r| (measured - r).abs() <= 0.1 * r)?;
    let seconds = (f64::from(ts1) / rate).floor();
    let last_boot = (t1 - seconds).floor();
    (last_boot >= 0.0).then_some((
        rate as u32,
        OsUptime {
            seconds: seconds as u64,
            last_boot: last_boot as u64,
        },
    ))
}

/// Whether a timestamp uptime means anything for a host with this
/// report: not when its best match is Linux, whose kernels since 4.10
/// offset their timestamps randomly per address pair by default (the wire
/// cannot tell `tcp_timestamps=1` from `=2`), nor when nothing matched.
pub fn uptime_meaningful(report: &OsReport) -> bool {
    report
        .best()
        .is_some_and(|m| !m.classes.iter().any(|c| c.family == "Linux"))
}

#[cfg(test)]
mod tests;
