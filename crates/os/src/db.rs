//! The stack database's text format and its parser (the format is
//! described in `docs/os-detection.md`, "Database format").
//!
//! A file is a list of entries; each starts with a `match` line and holds
//! keyword lines until the next `match`:
//!
//! ```text
//! match Linux 6.12
//! class Linux | Linux | 6.X | general purpose | cpe:/o:linux:linux_kernel:6
//! source captured by scripts/os-db/capture-linux.sh, kernel 6.12, defaults
//! fp ttl=64 df=1 win=64240,65160 opts=MSTNW mss=1460 ws=7 closed-ttl=64
//! rst present=1 ack=0 win=0 seq=1 nonzero=0
//! rto 3.00 9.00 21.00
//! ```
//!
//! `#` starts a comment line; blank lines are ignored. Every error names
//! the file, the line and the reason; a file is accepted whole or not at
//! all. Written by hand rather than with a parser crate: the format is a
//! dozen keywords, and errors must carry the line.

use crate::features::TimeoutRst;
use crate::DbError;
use portolan_model::OsClass;

/// The most entries one file may hold, and the most `rto` lines one
/// entry may hold: bounds on what a hostile `--os-db` can make us keep.
const MAX_ENTRIES: usize = 100_000;
const MAX_RTO_LINES: usize = 1_000;
const MAX_RTO_VALUES: usize = 256;
const MAX_LIST: usize = 64;

/// One database entry: a label with its classes, where its facts come
/// from, and the features it expects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// The label (`match` line).
    pub name: String,
    /// Its classes (`class` lines), accuracy left 0.
    pub classes: Vec<OsClass>,
    /// Where the facts come from (`source`).
    pub source: String,
    /// The file and line of its `match` line, for messages.
    pub origin: String,
    /// Initial TTL.
    pub ttl: u8,
    /// DF on the SYN/ACK.
    pub df: Option<bool>,
    /// Windows seen.
    pub win: Vec<u16>,
    /// Option layout.
    pub opts: String,
    /// MSS values seen.
    pub mss: Vec<u16>,
    /// Window-scale shift.
    pub ws: Option<u8>,
    /// Closed port's RST+ACK: initial TTL, DF, window.
    pub closed_ttl: Option<u8>,
    /// See [`Entry::closed_ttl`].
    pub closed_df: Option<bool>,
    /// See [`Entry::closed_ttl`].
    pub closed_win: Option<u16>,
    /// Hershel+'s timeout RST.
    pub rst: Option<TimeoutRst>,
    /// Retransmission-time observations, one per `rto` line.
    pub rto: Vec<Vec<f64>>,
}

/// Parses a database file's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Entry>, DbError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut start = 0;
    let err = |line: usize, reason: String| DbError {
        origin: origin.to_string(),
        line,
        reason,
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        if word == "match" {
            if let Some(prev) = entries.last() {
                check(prev).map_err(|r| err(start, r))?;
            }
            if rest.is_empty() {
                return Err(err(n, "match needs a label".into()));
            }
            if entries.len() == MAX_ENTRIES {
                return Err(err(n, format!("more than {MAX_ENTRIES} entries")));
            }
            start = n;
            entries.push(Entry {
                name: rest.to_string(),
                origin: format!("{origin}:{n}"),
                ..Entry::default()
            });
            continue;
        }
        let Some(e) = entries.last_mut() else {
            return Err(err(n, format!("'{word}' before the first match line")));
        };
        match word {
            "class" => e.classes.push(class(rest).map_err(|r| err(n, r))?),
            "source" if rest.is_empty() => return Err(err(n, "source needs a text".into())),
            "source" => e.source = rest.to_string(),
            "fp" => fp(e, rest).map_err(|r| err(n, r))?,
            "rst" => e.rst = Some(rst(rest).map_err(|r| err(n, r))?),
            "rto" => {
                if e.rto.len() == MAX_RTO_LINES {
                    return Err(err(n, format!("more than {MAX_RTO_LINES} rto lines")));
                }
                e.rto.push(rto(rest).map_err(|r| err(n, r))?);
            }
            other => return Err(err(n, format!("unknown keyword '{other}'"))),
        }
    }
    if let Some(last) = entries.last() {
        check(last).map_err(|r| err(start, r))?;
    }
    Ok(entries)
}

/// What every entry must have.
fn check(e: &Entry) -> Result<(), String> {
    if e.classes.is_empty() {
        return Err(format!("entry '{}' has no class line", e.name));
    }
    if e.source.is_empty() {
        return Err(format!("entry '{}' has no source line", e.name));
    }
    if e.ttl == 0 || e.opts.is_empty() {
        return Err(format!(
            "entry '{}' needs an fp line with ttl and opts",
            e.name
        ));
    }
    Ok(())
}

/// `vendor | family | generation | device type | cpe...` (`-` for none).
fn class(text: &str) -> Result<OsClass, String> {
    let parts: Vec<&str> = text.split('|').map(str::trim).collect();
    let [vendor, family, generation, device, cpe] = parts[..] else {
        return Err(format!(
            "class needs 5 fields separated by '|' (vendor | family | generation | device type | cpe), got {}",
            parts.len()
        ));
    };
    if vendor.is_empty() || family.is_empty() || device.is_empty() {
        return Err("class needs a vendor, a family and a device type".into());
    }
    let none = |s: &str| s.is_empty() || s == "-";
    let cpe: Vec<String> = if none(cpe) {
        Vec::new()
    } else {
        cpe.split_whitespace().map(str::to_string).collect()
    };
    if let Some(bad) = cpe.iter().find(|c| !c.starts_with("cpe:/")) {
        return Err(format!("'{bad}' is not a CPE name (cpe:/...)"));
    }
    Ok(OsClass {
        device_type: device.to_string(),
        vendor: vendor.to_string(),
        family: family.to_string(),
        generation: (!none(generation)).then(|| generation.to_string()),
        accuracy: 0,
        cpe,
    })
}

/// `key=value` pairs, each key once.
fn pairs(text: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for word in text.split_whitespace() {
        let Some((k, v)) = word.split_once('=') else {
            return Err(format!("'{word}' is not key=value"));
        };
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(format!("'{k}' given twice"));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn number<T: std::str::FromStr>(k: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{k}={v}: not a number in range"))
}

fn flag(k: &str, v: &str) -> Result<bool, String> {
    match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!("{k}={v}: expected 0 or 1")),
    }
}

fn list<T: std::str::FromStr>(k: &str, v: &str) -> Result<Vec<T>, String> {
    let items: Vec<T> = v
        .split(',')
        .map(|x| number(k, x))
        .collect::<Result<_, _>>()?;
    if items.len() > MAX_LIST {
        return Err(format!("{k}: more than {MAX_LIST} values"));
    }
    Ok(items)
}

fn ttl(k: &str, v: &str) -> Result<u8, String> {
    let t: u8 = number(k, v)?;
    if ![32, 64, 128, 255].contains(&t) {
        return Err(format!("{k}={v}: an initial TTL is 32, 64, 128 or 255"));
    }
    Ok(t)
}

/// The `fp` line: the features' own text form (see `features`).
fn fp(e: &mut Entry, text: &str) -> Result<(), String> {
    for (k, v) in pairs(text)? {
        match k {
            "ttl" => e.ttl = ttl(k, v)?,
            "df" => e.df = Some(flag(k, v)?),
            "win" => e.win = list(k, v)?,
            "opts" => {
                let ok = !v.is_empty()
                    && v.len() <= 40
                    && (v == "X" || v.chars().all(|c| "MSTNWLE[]0123456789+!".contains(c)));
                if !ok {
                    return Err(format!("opts={v}: option letters are M S T N W L (or X)"));
                }
                // Hershel+ writes end-of-list as E; the model writes L.
                e.opts = v.replace('E', "L");
            }
            "mss" => e.mss = list(k, v)?,
            "ws" => e.ws = Some(number(k, v)?),
            "closed-ttl" => e.closed_ttl = Some(ttl(k, v)?),
            "closed-df" => e.closed_df = Some(flag(k, v)?),
            "closed-win" => e.closed_win = Some(number(k, v)?),
            other => return Err(format!("unknown feature '{other}'")),
        }
    }
    Ok(())
}

/// `present=1 ack=0 win=0 seq=1 nonzero=0`.
fn rst(text: &str) -> Result<TimeoutRst, String> {
    let mut r = TimeoutRst::default();
    for (k, v) in pairs(text)? {
        let b = flag(k, v)?;
        match k {
            "present" => r.present = b,
            "ack" => r.ack = b,
            "win" => r.win = b,
            "seq" => r.seq = b,
            "nonzero" => r.nonzero = b,
            other => return Err(format!("unknown rst feature '{other}'")),
        }
    }
    Ok(r)
}

/// Seconds after the SYN, ascending.
fn rto(text: &str) -> Result<Vec<f64>, String> {
    let v: Vec<f64> = text
        .split_whitespace()
        .map(|x| number::<f64>("rto", x))
        .collect::<Result<_, _>>()?;
    if v.is_empty() || v.len() > MAX_RTO_VALUES {
        return Err(format!("rto needs 1 to {MAX_RTO_VALUES} times"));
    }
    if v.iter().any(|t| !t.is_finite() || *t < 0.0 || *t > 3600.0) {
        return Err("rto times are seconds between 0 and 3600".into());
    }
    if v.windows(2).any(|w| w[1] < w[0]) {
        return Err("rto times must ascend".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# a comment\n\
        match Linux 6.12\n\
        class Linux | Linux | 6.X | general purpose | cpe:/o:linux:linux_kernel:6\n\
        source captured\n\
        fp ttl=64 df=1 win=64240,65160 opts=MSTNW mss=1460 ws=7 closed-ttl=64 closed-df=1 closed-win=0\n\
        \n\
        match Windows 7\n\
        class Microsoft | Windows | 7 | general purpose | -\n\
        source Hershel+\n\
        fp ttl=128 df=1 win=8192 opts=MNWST mss=1460\n\
        rst present=1 ack=0 win=0 seq=1 nonzero=0\n\
        rto 3.0 9.0 21.0\n\
        rto 3.1 9.1 21.1\n";

    #[test]
    fn entries_read_whole() {
        let db = parse(GOOD, "t.osdb").unwrap();
        assert_eq!(db.len(), 2);
        let l = &db[0];
        assert_eq!(l.name, "Linux 6.12");
        assert_eq!(l.origin, "t.osdb:2");
        assert_eq!((l.ttl, l.df, l.ws), (64, Some(true), Some(7)));
        assert_eq!(l.win, [64240, 65160]);
        assert_eq!(l.opts, "MSTNW");
        assert_eq!(l.classes[0].generation.as_deref(), Some("6.X"));
        assert_eq!(l.classes[0].cpe, ["cpe:/o:linux:linux_kernel:6"]);
        let w = &db[1];
        assert!(w.classes[0].cpe.is_empty());
        assert_eq!(w.rto.len(), 2);
        assert!(w.rst.unwrap().present && w.rst.unwrap().seq);
    }

    #[test]
    fn errors_name_the_line_and_the_reason() {
        let cases = [
            ("fp ttl=64 opts=M\n", 1, "'fp' before the first match line"),
            ("match A\nclass a | b | c | d\n", 2, "class needs 5 fields"),
            (
                "match A\nclass a | b | - | d | x\n",
                2,
                "'x' is not a CPE name",
            ),
            (
                "match A\nfp ttl=65 opts=M\n",
                2,
                "an initial TTL is 32, 64, 128 or 255",
            ),
            ("match A\nfp ttl=64 ttl=64\n", 2, "'ttl' given twice"),
            (
                "match A\nfp win=70000\n",
                2,
                "win=70000: not a number in range",
            ),
            ("match A\nfp opts=<script>\n", 2, "option letters"),
            ("match A\nrto 3 2\n", 2, "must ascend"),
            ("match A\nrto NaN\n", 2, "rto times are seconds"),
            ("match A\nbogus 1\n", 2, "unknown keyword 'bogus'"),
            (
                "match A\nsource x\nfp ttl=64 opts=M\n",
                1,
                "has no class line",
            ),
            (
                "match A\nclass a | b | - | d | -\nsource x\nfp ttl=64 opts=M\nmatch B\n",
                5,
                "has no class line",
            ),
            (
                "match A\nclass a | b | - | d | -\nfp ttl=64 opts=M\n",
                1,
                "has no source line",
            ),
            (
                "match A\nclass a | b | - | d | -\nsource x\n",
                1,
                "needs an fp line",
            ),
            ("match\n", 1, "match needs a label"),
        ];
        for (text, line, reason) in cases {
            let e = parse(text, "f").unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.reason.contains(reason), "{text:?}: {e}");
            assert_eq!(e.origin, "f");
        }
    }
}
