//! Portolan's OS database: a line-based text format (docs/os-detection.md,
//! "Database format") and its parser.
//!
//! The format is portolan's own, so its parser is too: one `key value`
//! line per fact, an `entry` line starting each stack, `#` comments. It is
//! small enough that a hand-written parser gives the best errors (file,
//! line, the offending token) with no dependency. The parser never panics
//! on any input (fuzzed in tests/fuzz.rs and crates/os/fuzz).

use crate::{DbError, SeqClass};

/// One stack in the database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// The label ("Linux 6.x", "Windows 7 / 2008 R2").
    pub name: String,
    /// Vendor, family, generation, device type and CPEs (none for an
    /// unidentified stack).
    pub classes: Vec<EntryClass>,
    /// Where the facts come from and how they were measured.
    pub source: String,
    /// Initial TTL.
    pub ttl: Option<u8>,
    /// IPv4 don't-fragment on the SYN/ACK.
    pub df: Option<bool>,
    /// SYN/ACK window.
    pub window: Option<Vec<Span>>,
    /// SYN/ACK MSS option value.
    pub mss: Option<Vec<Span>>,
    /// SYN/ACK option layouts (OptionLayout's letters, "" for none).
    pub options: Option<Vec<String>>,
    /// SYN/ACK window-scale shift.
    pub wscale: Option<Vec<Span>>,
    /// Whether the SYN/ACK to an ECN-setup SYN sets ECE.
    pub ecn: Option<bool>,
    /// The RST+ACK of a closed port.
    pub closed: Option<ClosedRst>,
    /// The RST sent when the stack gives up on the handshake.
    pub giveup: Option<Giveup>,
    /// Observed SYN/ACK retransmission series: arrival times (seconds
    /// after the first SYN/ACK) of every later SYN/ACK or RST.
    pub rto: Vec<Vec<f32>>,
    /// The timed burst's initial sequence numbers' classes.
    pub isn: Option<Vec<SeqClass>>,
    /// The timed burst's IP IDs' classes.
    pub ipid: Option<Vec<SeqClass>>,
    /// The timed burst's timestamps' classes (`random`: an offset per
    /// connection).
    pub ts: Option<Vec<SeqClass>>,
    /// The timed burst's timestamp clock rates, in Hz.
    pub tsrate: Option<Vec<Span>>,
    /// The reply to an ICMP echo.
    pub echo: Option<IcmpTraits>,
    /// The ICMP port unreachable a UDP datagram to a closed port draws.
    pub unreach: Option<IcmpTraits>,
    /// The SYN/ACKs to the option variants, in [`SYN_VARIANTS`]' order.
    pub variants: [Option<SynVariant>; 3],
    /// Line of the `entry` in its file.
    pub line: usize,
}

/// A class line of an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryClass {
    /// "Microsoft".
    pub vendor: String,
    /// "Windows".
    pub family: String,
    /// "7", or none.
    pub generation: Option<String>,
    /// "general purpose".
    pub device_type: String,
    /// CPE names.
    pub cpe: Vec<String>,
}

/// One allowed value, range or multiple of the MSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// `lo-hi` (a single value has lo == hi).
    Range(u32, u32),
    /// `mss*K`: the window is K times the MSS of the same SYN/ACK.
    MssTimes(u32),
}

impl Span {
    /// Whether `v` (with the reply's MSS) is allowed.
    pub fn contains(&self, v: u32, mss: Option<u16>) -> bool {
        match *self {
            Span::Range(lo, hi) => lo <= v && v <= hi,
            Span::MssTimes(k) => mss.is_some_and(|m| m > 0 && u32::from(m) * k == v),
        }
    }
}

/// What a RST+ACK from a closed port showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosedRst {
    /// Its window.
    pub window: u16,
    /// Its acknowledgment against the probe's sequence number.
    pub ack: portolan_model::traits::Echo,
    /// Its DF bit.
    pub df: bool,
}

/// The RST a stack sends when the handshake's ACK never comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Giveup {
    /// It sends none.
    None,
    /// A RST (with ACK when `ack`) with this window and, `ack_nonzero`,
    /// a non-zero acknowledgment number.
    Rst {
        /// The ACK flag is set.
        ack: bool,
        /// Its window, as Hershel+ recorded it.
        window: u32,
        /// Its acknowledgment number is not zero.
        ack_nonzero: bool,
    },
}

/// What an ICMP reply of the stack's showed (an entry's `echo` or
/// `unreach`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpTraits {
    /// Initial TTL.
    pub ttl: u8,
    /// DF bit.
    pub df: bool,
    /// Bytes of the offending datagram an error quotes (after its IP
    /// header and ICMP header; `None` when not stated or an echo reply).
    pub quote: Option<u16>,
}

/// The SYN option variants OS detection sends with its timed burst, by
/// their database keys: a SYN without timestamps (MSS, NOP, NOP, SACK
/// permitted, NOP, window scale), one without window scale (MSS, SACK
/// permitted, timestamps), one with MSS alone.
pub const SYN_VARIANTS: [&str; 3] = ["syn-nots", "syn-nows", "syn-mss"];

/// The SYN/ACK to one SYN option variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynVariant {
    /// Its option layout (OptionLayout's letters, "" for none).
    pub options: String,
    /// Its window.
    pub window: u16,
    /// Its MSS option.
    pub mss: Option<u16>,
}

struct Parser<'a> {
    origin: &'a str,
    line: usize,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> DbError {
        DbError {
            origin: self.origin.to_string(),
            line: self.line,
            reason: reason.into(),
        }
    }
}

/// Parses a database text. Never panics.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Vec<Entry>, DbError> {
    let mut p = Parser { origin, line: 0 };
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        p.line = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k, v.trim()),
            None => (line, ""),
        };
        if key == "entry" {
            if let Some(prev) = entries.last() {
                finish(&p, prev)?;
            }
            if value.is_empty() {
                return Err(p.err("`entry` needs a name"));
            }
            entries.push(Entry {
                name: value.to_string(),
                line: p.line,
                ..Entry::default()
            });
            seen.clear();
            continue;
        }
        let Some(e) = entries.last_mut() else {
            return Err(p.err(format!("`{key}` before any `entry` line")));
        };
        if key != "class" && key != "rto" {
            if seen.contains(&key) {
                return Err(p.err(format!("`{key}` given twice in one entry")));
            }
            seen.push(key);
        }
        if value.is_empty() {
            return Err(p.err(format!("`{key}` needs a value")));
        }
        match key {
            "class" => e.classes.push(class(&p, value)?),
            "source" => e.source = value.to_string(),
            "ttl" => e.ttl = Some(number(&p, value, 1, 255)? as u8),
            "df" => e.df = Some(yes_no(&p, value)?),
            "ecn" => e.ecn = Some(yes_no(&p, value)?),
            "window" => e.window = Some(spans(&p, value, 65535, true)?),
            "mss" => e.mss = Some(spans(&p, value, 65535, false)?),
            "wscale" => e.wscale = Some(spans(&p, value, 255, false)?),
            "options" => e.options = Some(layouts(&p, value)?),
            "closed" => e.closed = Some(closed(&p, value)?),
            "giveup" => e.giveup = Some(giveup(&p, value)?),
            "rto" => e.rto.push(rto(&p, value)?),
            "isn" => e.isn = Some(classes(&p, value)?),
            "ipid" => e.ipid = Some(classes(&p, value)?),
            "ts" => e.ts = Some(classes(&p, value)?),
            "tsrate" => e.tsrate = Some(spans(&p, value, 100_000, false)?),
            "echo" => e.echo = Some(icmp(&p, value, false)?),
            "unreach" => e.unreach = Some(icmp(&p, value, true)?),
            k if SYN_VARIANTS.contains(&k) => {
                let i = SYN_VARIANTS.iter().position(|v| *v == k).unwrap_or(0);
                e.variants[i] = Some(variant(&p, value)?);
            }
            other => return Err(p.err(format!("unknown key `{other}`"))),
        }
    }
    if let Some(prev) = entries.last() {
        p.line = prev.line;
        finish(&p, prev)?;
    }
    Ok(entries)
}

fn finish(p: &Parser<'_>, e: &Entry) -> Result<(), DbError> {
    let at = Parser {
        origin: p.origin,
        line: e.line,
    };
    if e.source.is_empty() {
        return Err(at.err(format!("entry `{}` has no `source` line", e.name)));
    }
    if e.options.is_none() && e.window.is_none() && e.ttl.is_none() {
        return Err(at.err(format!(
            "entry `{}` states none of `options`, `window`, `ttl`",
            e.name
        )));
    }
    Ok(())
}

fn number(p: &Parser<'_>, s: &str, lo: u32, hi: u32) -> Result<u32, DbError> {
    match s.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(p.err(format!("`{s}` is not a number from {lo} to {hi}"))),
    }
}

fn yes_no(p: &Parser<'_>, s: &str) -> Result<bool, DbError> {
    match s {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(p.err(format!("`{s}`: want `yes` or `no`"))),
    }
}

fn spans(p: &Parser<'_>, s: &str, max: u32, mss_times: bool) -> Result<Vec<Span>, DbError> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim) {
        if let Some(k) = item.strip_prefix("mss*") {
            if !mss_times {
                return Err(p.err(format!("`{item}`: `mss*K` only fits `window`")));
            }
            out.push(Span::MssTimes(number(p, k, 1, 65535)?));
        } else if let Some((lo, hi)) = item.split_once('-') {
            let (lo, hi) = (number(p, lo, 0, max)?, number(p, hi, 0, max)?);
            if lo > hi {
                return Err(p.err(format!("`{item}`: range runs backwards")));
            }
            out.push(Span::Range(lo, hi));
        } else {
            let v = number(p, item, 0, max)?;
            out.push(Span::Range(v, v));
        }
    }
    Ok(out)
}

/// Checks an option layout written in OptionLayout's letters.
fn layouts(p: &Parser<'_>, s: &str) -> Result<Vec<String>, DbError> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim) {
        if item == "-" {
            out.push(String::new());
            continue;
        }
        let mut rest = item;
        while let Some(c) = rest.chars().next() {
            match c {
                'L' | 'N' | 'M' | 'W' | 'S' | 'T' | '+' | '!' => rest = &rest[1..],
                '[' => {
                    let Some(end) = rest.find(']') else {
                        return Err(p.err(format!("`{item}`: `[` without `]`")));
                    };
                    number(p, &rest[1..end], 0, 255)?;
                    rest = &rest[end + 1..];
                }
                _ => {
                    return Err(p.err(format!(
                        "`{item}`: option letters are L N M W S T [kind], or `-` for none"
                    )))
                }
            }
        }
        out.push(item.to_string());
    }
    Ok(out)
}

fn class(p: &Parser<'_>, s: &str) -> Result<EntryClass, DbError> {
    let f: Vec<&str> = s.split('|').map(str::trim).collect();
    if f.len() != 5 {
        return Err(p.err(format!(
            "`class {s}`: want `vendor | family | generation | device type | cpe...`"
        )));
    }
    for (what, v) in [("vendor", f[0]), ("family", f[1]), ("device type", f[3])] {
        if v.is_empty() {
            return Err(p.err(format!("`class {s}`: empty {what}")));
        }
    }
    let cpe: Vec<String> = f[4].split_whitespace().map(str::to_string).collect();
    if let Some(bad) = cpe.iter().find(|c| !c.starts_with("cpe:/")) {
        return Err(p.err(format!("`{bad}` is not a CPE (cpe:/...)")));
    }
    Ok(EntryClass {
        vendor: f[0].to_string(),
        family: f[1].to_string(),
        generation: (f[2] != "-" && !f[2].is_empty()).then(|| f[2].to_string()),
        device_type: f[3].to_string(),
        cpe,
    })
}

fn pairs<'a>(p: &Parser<'_>, s: &'a str) -> Result<Vec<(&'a str, &'a str)>, DbError> {
    s.split_whitespace()
        .map(|kv| {
            kv.split_once('=')
                .ok_or_else(|| p.err(format!("`{kv}`: want key=value")))
        })
        .collect()
}

fn closed(p: &Parser<'_>, s: &str) -> Result<ClosedRst, DbError> {
    use portolan_model::traits::Echo;
    let mut c = ClosedRst {
        window: 0,
        ack: Echo::Plus1,
        df: true,
    };
    for (k, v) in pairs(p, s)? {
        match k {
            "window" => c.window = number(p, v, 0, 65535)? as u16,
            "df" => c.df = yes_no(p, v)?,
            "ack" => {
                c.ack = match v {
                    "zero" => Echo::Zero,
                    "same" => Echo::Same,
                    "plus1" => Echo::Plus1,
                    "other" => Echo::Other,
                    _ => return Err(p.err(format!("`{v}`: want zero, same, plus1 or other"))),
                }
            }
            _ => return Err(p.err(format!("`{k}`: `closed` knows window, df, ack"))),
        }
    }
    Ok(c)
}

fn giveup(p: &Parser<'_>, s: &str) -> Result<Giveup, DbError> {
    let (kind, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    let ack = match kind {
        "none" if rest.trim().is_empty() => return Ok(Giveup::None),
        "rst" => false,
        "rst-ack" => true,
        _ => return Err(p.err(format!("`{s}`: want `none`, `rst ...` or `rst-ack ...`"))),
    };
    let (mut window, mut ack_nonzero) = (0, false);
    for (k, v) in pairs(p, rest)? {
        match k {
            "window" => window = number(p, v, 0, u32::MAX)?,
            "ack-nonzero" => ack_nonzero = yes_no(p, v)?,
            _ => return Err(p.err(format!("`{k}`: `giveup` knows window, ack-nonzero"))),
        }
    }
    Ok(Giveup::Rst {
        ack,
        window,
        ack_nonzero,
    })
}

fn classes(p: &Parser<'_>, s: &str) -> Result<Vec<SeqClass>, DbError> {
    s.split(',')
        .map(str::trim)
        .map(|c| match c {
            "zero" => Ok(SeqClass::Zero),
            "constant" => Ok(SeqClass::Constant),
            "incremental" => Ok(SeqClass::Incremental),
            "random" => Ok(SeqClass::Random),
            _ => Err(p.err(format!("`{c}`: want zero, constant, incremental or random"))),
        })
        .collect()
}

/// `ttl=N df=yes|no` (and for `unreach`, `quote=N`).
fn icmp(p: &Parser<'_>, s: &str, error: bool) -> Result<IcmpTraits, DbError> {
    let (mut ttl, mut df, mut quote) = (None, None, None);
    for (k, v) in pairs(p, s)? {
        match k {
            "ttl" => ttl = Some(number(p, v, 1, 255)? as u8),
            "df" => df = Some(yes_no(p, v)?),
            "quote" if error => quote = Some(number(p, v, 0, 65535)? as u16),
            _ if error => return Err(p.err(format!("`{k}`: `unreach` knows ttl, df, quote"))),
            _ => return Err(p.err(format!("`{k}`: `echo` knows ttl, df"))),
        }
    }
    match (ttl, df) {
        (Some(ttl), Some(df)) => Ok(IcmpTraits { ttl, df, quote }),
        _ => Err(p.err(format!("`{s}`: needs ttl=N and df=yes|no"))),
    }
}

/// `options=LAYOUT window=N [mss=N]`.
fn variant(p: &Parser<'_>, s: &str) -> Result<SynVariant, DbError> {
    let (mut options, mut window, mut mss) = (None, None, None);
    for (k, v) in pairs(p, s)? {
        match k {
            "options" => {
                let mut l = layouts(p, v)?;
                if l.len() != 1 {
                    return Err(p.err(format!("`{v}`: one layout")));
                }
                options = l.pop();
            }
            "window" => window = Some(number(p, v, 0, 65535)? as u16),
            "mss" => mss = Some(number(p, v, 0, 65535)? as u16),
            _ => return Err(p.err(format!("`{k}`: a SYN variant knows options, window, mss"))),
        }
    }
    match (options, window) {
        (Some(options), Some(window)) => Ok(SynVariant {
            options,
            window,
            mss,
        }),
        _ => Err(p.err(format!("`{s}`: needs options=LAYOUT and window=N"))),
    }
}

/// At most this many times in one `rto` line.
pub const MAX_RTO: usize = 512;

fn rto(p: &Parser<'_>, s: &str) -> Result<Vec<f32>, DbError> {
    if s == "-" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for t in s.split_whitespace() {
        match t.parse::<f32>() {
            Ok(v) if v.is_finite() && (0.0..=86400.0).contains(&v) => out.push(v),
            _ => return Err(p.err(format!("`{t}` is not a time in seconds (0 to 86400)"))),
        }
        if out.len() > MAX_RTO {
            return Err(p.err(format!("more than {MAX_RTO} times in one `rto` line")));
        }
    }
    // The classifier pairs times in order.
    out.sort_by(f32::total_cmp);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# comment\n\
        entry Linux 6.x\n\
        class Linux | Linux | 6.X | general purpose | cpe:/o:linux:linux_kernel:6\n\
        source capture, scripts/os-db/capture-linux.sh\n\
        ttl 64\n\
        df yes\n\
        window 65160, mss*44, 1000-2000\n\
        mss 1460\n\
        options MSTNW, MNNSNW, -\n\
        wscale 7\n\
        ecn yes\n\
        closed window=0 ack=plus1 df=yes\n\
        giveup rst-ack window=8192 ack-nonzero=yes\n\
        rto 1.0 3.0 7.0\n\
        rto -\n\
        isn random\n\
        ipid zero, incremental\n\
        ts random\n\
        tsrate 100, 1000\n\
        echo ttl=64 df=no\n\
        unreach ttl=64 df=no quote=28\n\
        syn-nots options=MNNSNW window=64240 mss=1460\n\
        syn-mss options=M window=64240\n";

    #[test]
    fn parses_every_key() {
        let e = parse(GOOD, "t").unwrap();
        assert_eq!(e.len(), 1);
        let e = &e[0];
        assert_eq!(e.name, "Linux 6.x");
        assert_eq!(e.line, 2);
        assert_eq!(e.classes[0].generation.as_deref(), Some("6.X"));
        assert_eq!(e.ttl, Some(64));
        assert_eq!(
            e.window,
            Some(vec![
                Span::Range(65160, 65160),
                Span::MssTimes(44),
                Span::Range(1000, 2000)
            ])
        );
        assert_eq!(
            e.options,
            Some(vec!["MSTNW".into(), "MNNSNW".into(), String::new()])
        );
        assert_eq!(e.rto, vec![vec![1.0, 3.0, 7.0], vec![]]);
        assert_eq!(e.isn, Some(vec![SeqClass::Random]));
        assert_eq!(e.ipid, Some(vec![SeqClass::Zero, SeqClass::Incremental]));
        assert_eq!(e.ts, Some(vec![SeqClass::Random]));
        assert_eq!(
            e.tsrate,
            Some(vec![Span::Range(100, 100), Span::Range(1000, 1000)])
        );
        assert_eq!(
            e.echo,
            Some(IcmpTraits {
                ttl: 64,
                df: false,
                quote: None
            })
        );
        assert_eq!(e.unreach.and_then(|u| u.quote), Some(28));
        assert_eq!(
            e.variants[0],
            Some(SynVariant {
                options: "MNNSNW".into(),
                window: 64240,
                mss: Some(1460)
            })
        );
        assert_eq!(e.variants[1], None);
        assert_eq!(e.variants[2].as_ref().map(|v| v.mss), Some(None));
        assert_eq!(
            e.giveup,
            Some(Giveup::Rst {
                ack: true,
                window: 8192,
                ack_nonzero: true
            })
        );
    }

    fn error(text: &str) -> DbError {
        parse(text, "f.osdb").unwrap_err()
    }

    #[test]
    fn errors_name_line_and_token() {
        let e = error("entry A\nsource s\nttl 300\n");
        assert_eq!(
            e.to_string(),
            "f.osdb:3: `300` is not a number from 1 to 255"
        );
        assert_eq!(error("ttl 64\n").line, 1);
        assert!(error("entry A\nsource s\nfoo 1\n").reason.contains("`foo`"));
        assert!(error("entry A\nsource s\nttl 64\nttl 64\n")
            .reason
            .contains("twice"));
        let e = error("entry A\nttl 64\nentry B\nsource s\nttl 64\n");
        assert_eq!((e.line, e.reason.contains("no `source`")), (1, true));
        assert_eq!(
            error("entry A\nsource s\nttl 64\nentry B\nsource s\n").line,
            4
        );
        assert!(error("entry A\nsource s\noptions MSQ\n")
            .reason
            .contains("MSQ"));
        assert!(error("entry A\nsource s\nwindow 9-1\n")
            .reason
            .contains("backwards"));
        assert!(error("entry A\nsource s\nmss mss*2\n")
            .reason
            .contains("mss*2"));
        assert!(error("entry A\nsource s\nclass a | b\n")
            .reason
            .contains("class"));
        assert!(error("entry A\nsource s\nrto 1 x\n").reason.contains("`x`"));
        assert!(error("entry A\nsource s\nrto NaN\n").reason.contains("NaN"));
        assert!(error("entry A\nsource s\nttl 64\nisn sometimes\n")
            .reason
            .contains("`sometimes`"));
        assert!(error("entry A\nsource s\nttl 64\necho ttl=64\n")
            .reason
            .contains("needs ttl=N and df"));
        assert!(
            error("entry A\nsource s\nttl 64\necho ttl=64 df=no quote=1\n")
                .reason
                .contains("`quote`")
        );
        assert!(error("entry A\nsource s\nttl 64\nsyn-mss options=M\n")
            .reason
            .contains("needs options=LAYOUT and window"));
        assert!(
            error("entry A\nsource s\nttl 64\nsyn-mss options=Q window=1\n")
                .reason
                .contains("`Q`")
        );
        assert!(error("entry A\nsource s\noptions [99\n")
            .reason
            .contains("["));
    }
}
