//! The probe database: portolan's own text format and its parser.
//!
//! The format is line-based so that a parse error can always name one line,
//! and so that a user file (`--service-db FILE`) can be written with any
//! editor and merged with the built-in one. Every regular expression is
//! compiled while parsing: a bad pattern is reported with its line at load
//! time, never at scan time. The full grammar, with examples, is in
//! `docs/service-db.md`.

use crate::matcher::{Pattern, PatternError};
use std::fmt;
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

/// Name of the probe that sends nothing and only listens for a banner.
pub const NULL_PROBE: &str = "NULL";

/// Wait for a reply when a probe gives none.
const DEFAULT_WAIT: Duration = Duration::from_millis(3000);
/// Longest wait a probe may ask for.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Longest payload a probe may send.
const MAX_PAYLOAD: usize = 64 * 1024;

/// Largest database file [`Database::from_file`] reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// A database that failed to load.
#[derive(Debug, Error)]
pub enum DbError {
    /// A line could not be understood.
    #[error("{file}:{line}: {reason}")]
    Syntax {
        /// File name as given (`<builtin>` for the built-in database).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the offending token.
        reason: String,
    },
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// File name as given.
        file: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Transport a probe is sent over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A TCP connection (possibly inside TLS).
    Tcp,
    /// One UDP datagram.
    Udp,
}

impl Transport {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// A set of ports written as `80,443,8000-8100`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortList(Vec<RangeInclusive<u16>>);

impl PortList {
    /// Whether `port` is in the list.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|r| r.contains(&port))
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (a, b) = item.split_once('-').unwrap_or((item, item));
            let lo: u16 = a.trim().parse().map_err(|_| format!("bad port `{item}`"))?;
            let hi: u16 = b.trim().parse().map_err(|_| format!("bad port `{item}`"))?;
            if lo > hi {
                return Err(format!("reversed port range `{item}`"));
            }
            out.push(lo..=hi);
        }
        Ok(PortList(out))
    }

    pub(crate) fn extend(&mut self, other: &PortList) {
        self.0.extend(other.0.iter().cloned());
    }
}

/// Templates that fill a [`portolan_model::ServiceInfo`] from a match's
/// capture groups (`$1` … `$9`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates {
    /// Product name (`product`).
    pub product: Option<String>,
    /// Version (`version`).
    pub version: Option<String>,
    /// Extra information (`info`).
    pub info: Option<String>,
    /// Host name (`hostname`).
    pub hostname: Option<String>,
    /// Operating system (`os`).
    pub os: Option<String>,
    /// Device type (`device`).
    pub device: Option<String>,
    /// CPE names (`cpe`, repeatable).
    pub cpe: Vec<String>,
}

/// One match rule of a probe.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Service name the rule identifies (`ssh`, `http`).
    pub service: String,
    /// A soft match names the service only; probing goes on for a version.
    pub soft: bool,
    /// The compiled regular expression over the reply bytes.
    pub pattern: Pattern,
    /// Field templates.
    pub templates: Templates,
    /// Where the rule was written (`file:line`), for traces.
    pub origin: String,
    /// Replies this rule was written from (`example` lines): the tests
    /// check that each is identified by this very rule.
    pub examples: Vec<Example>,
}

/// A reply a rule must identify (`example "REPLY" ["VERSION"]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The reply bytes.
    pub reply: Vec<u8>,
    /// The version the rule must read from it, when it reads one.
    pub version: Option<String>,
}

/// One probe: what to send and which rules read the reply.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Unique name (`NULL`, `HttpGet`).
    pub name: String,
    /// Transport.
    pub transport: Transport,
    /// Bytes sent (empty for the NULL probe).
    pub payload: Vec<u8>,
    /// How long to wait for the reply.
    pub wait: Duration,
    /// 1 (always worth sending) … 9 (rarely useful).
    pub rarity: u8,
    /// Ports whose services usually answer this probe.
    pub ports: PortList,
    /// Ports whose services usually answer this probe inside TLS.
    pub tls_ports: PortList,
    /// Probes whose rules are also tried on this probe's reply.
    pub fallback: Vec<String>,
    /// A word of the payload (`unique "WORD"`) that each connection
    /// replaces with another of the same length, its own: a name the
    /// server keeps (an IRC nick) then never clashes with a probe still in
    /// flight, an earlier scan's, or a user's of that name.
    pub unique: Option<Vec<u8>>,
    /// Match rules, tried in order.
    pub rules: Vec<Rule>,
    pub(crate) src_file: String,
    pub(crate) src_line: usize,
    /// Written as `probe NAME` alone: adds port hints and rules to a probe
    /// defined in an earlier file.
    pub(crate) reopened: bool,
}

impl Probe {
    /// The bytes to send on one connection: the payload, with every
    /// occurrence of its `unique` word replaced by a fresh word of the same
    /// length (lower-case letters and digits, a letter first if the word
    /// starts with one).
    pub fn payload_for_connection(&self) -> std::borrow::Cow<'_, [u8]> {
        let Some(word) = self.unique.as_deref().filter(|w| !w.is_empty()) else {
            return std::borrow::Cow::Borrowed(&self.payload);
        };
        let fresh = fresh_word(word);
        let mut out = Vec::with_capacity(self.payload.len());
        let mut rest = &self.payload[..];
        while let Some(at) = rest.windows(word.len()).position(|w| w == word) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(&fresh);
            rest = &rest[at + word.len()..];
        }
        out.extend_from_slice(rest);
        std::borrow::Cow::Owned(out)
    }

    /// The error for a `probe NAME` alone whose probe is defined nowhere.
    pub(crate) fn unknown_reopened(&self) -> DbError {
        DbError::Syntax {
            file: self.src_file.clone(),
            line: self.src_line,
            reason: format!(
                "`probe {}` alone adds to a probe defined earlier, and there is none",
                self.name
            ),
        }
    }
}

/// A parsed, compiled probe database.
#[derive(Clone, Debug, Default)]
pub struct Database {
    pub(crate) probes: Vec<Probe>,
}

impl Database {
    /// The database shipped with portolan (the files of
    /// [`crate::builtin::FILES`], in order).
    pub fn builtin() -> Result<Self, DbError> {
        crate::builtin::load()
    }

    /// Checks that every `fallback` names a probe of this database, and
    /// that no `probe NAME` alone is left without its definition.
    pub fn check_fallbacks(&self) -> Result<(), DbError> {
        for p in &self.probes {
            if p.reopened {
                return Err(p.unknown_reopened());
            }
            for f in &p.fallback {
                if self.probe(f).is_none() {
                    return Err(DbError::Syntax {
                        file: p.src_file.clone(),
                        line: p.src_line,
                        reason: format!("probe `{}` falls back to unknown probe `{f}`", p.name),
                    });
                }
            }
        }
        Ok(())
    }

    /// Parses database text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, DbError> {
        Parser::new(file).run(text)
    }

    /// Parses one file of the built-in database, where `probe NAME` alone
    /// adds to a probe of an earlier file (see [`crate::builtin`]).
    pub(crate) fn parse_part(text: &str, file: &str) -> Result<Self, DbError> {
        Parser {
            reopen: true,
            ..Parser::new(file)
        }
        .run(text)
    }

    /// Reads and parses a database file.
    pub fn from_file(path: &Path) -> Result<Self, DbError> {
        let file = path.display().to_string();
        // Bounded: `/dev/zero` or a huge file fails instead of filling memory.
        let mut text = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut text))
            .map_err(|source| DbError::Io {
                file: file.clone(),
                source,
            })?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(DbError::Io {
                file,
                source: std::io::Error::other(format!(
                    "file larger than {} MiB",
                    MAX_FILE_BYTES >> 20
                )),
            });
        }
        let text = String::from_utf8(text).map_err(|e| DbError::Syntax {
            file: file.clone(),
            line: 1 + text_line_of(e.as_bytes(), e.utf8_error().valid_up_to()),
            reason: "file is not UTF-8 (write bytes as \\xHH escapes)".into(),
        })?;
        Self::parse(&text, &file)
    }

    /// Merges a user database into this one (`--service-db FILE`).
    ///
    /// A probe with a new name is appended. A probe whose name exists
    /// replaces the old one's transport, payload, wait, rarity and fallback,
    /// adds its port hints, and puts its rules *before* the old rules, so a
    /// user rule wins over a built-in one.
    ///
    /// Fails, changing nothing, if a `fallback` then names no probe.
    pub fn merge(&mut self, other: Database) -> Result<(), DbError> {
        let before = self.probes.clone();
        for mut p in other.probes {
            if let Some(old) = self.probes.iter_mut().find(|o| o.name == p.name) {
                p.ports.extend(&old.ports);
                p.tls_ports.extend(&old.tls_ports);
                p.rules.append(&mut old.rules);
                *old = p;
            } else {
                self.probes.push(p);
            }
        }
        if let Err(e) = self.check_fallbacks() {
            self.probes = before;
            return Err(e);
        }
        Ok(())
    }

    /// All probes in file order.
    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }

    /// The probe called `name`.
    pub fn probe(&self, name: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.name == name)
    }

    /// Number of match rules.
    pub fn rule_count(&self) -> usize {
        self.probes.iter().map(|p| p.rules.len()).sum()
    }

    /// Distinct service names that hard or soft rules identify.
    pub fn services(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .probes
            .iter()
            .flat_map(|p| p.rules.iter().map(|r| r.service.as_str()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// A word as long as `word`: a letter first when `word` starts with one
/// (an IRC nick must), then base-36 digits, all from a per-process random
/// seed mixed with a counter, so that two calls (in this process, or in
/// two scans) give the same word only by chance, 1 in 26 × 36^(len-1).
fn fresh_word(word: &[u8]) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(t.as_nanos());
        }
        h.finish()
    });
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    // splitmix64 of seed + counter: consecutive calls differ in every digit.
    let mut x = seed.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let first = if word[0].is_ascii_alphabetic() {
        DIGITS[10 + (x % 26) as usize]
    } else {
        DIGITS[(x % 36) as usize]
    };
    x /= 36;
    let mut out = vec![first];
    for _ in 1..word.len() {
        out.push(DIGITS[(x % 36) as usize]);
        // Past 12 digits (36^12 > 2^62) the mix is spent: mix again.
        x = if x < 36 {
            x.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n
        } else {
            x / 36
        };
    }
    out
}

fn text_line_of(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

struct Parser<'f> {
    file: &'f str,
    line: usize,
    probes: Vec<Probe>,
    /// The probe that directives apply to.
    cur: Option<usize>,
    /// Whether `probe NAME` alone may reopen a probe (built-in files only).
    reopen: bool,
}

impl<'f> Parser<'f> {
    fn new(file: &'f str) -> Self {
        Parser {
            file,
            line: 0,
            probes: Vec::new(),
            cur: None,
            reopen: false,
        }
    }

    fn err(&self, reason: impl fmt::Display) -> DbError {
        DbError::Syntax {
            file: self.file.to_string(),
            line: self.line,
            reason: reason.to_string(),
        }
    }

    fn run(mut self, text: &str) -> Result<Database, DbError> {
        for (i, raw) in text.lines().enumerate() {
            self.line = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = match line.find(char::is_whitespace) {
                Some(at) => (&line[..at], line[at..].trim_start()),
                None => (line, ""),
            };
            self.directive(key, rest).map_err(|r| self.err(r))?;
        }
        // Fallbacks may name probes of another file (a user file falling
        // back to a built-in probe): they are checked by `merge`/`builtin`.
        Ok(Database {
            probes: self.probes,
        })
    }

    fn current_probe(&mut self, key: &str) -> Result<&mut Probe, String> {
        self.cur
            .and_then(|i| self.probes.get_mut(i))
            .ok_or_else(|| format!("`{key}` before any `probe` line"))
    }

    /// The current probe, for a setting only its definition may carry.
    fn defined_probe(&mut self, key: &str) -> Result<&mut Probe, String> {
        let p = self.current_probe(key)?;
        if p.reopened {
            return Err(format!(
                "`{key}` belongs to the definition of probe `{}`, not to `probe {}` alone",
                p.name, p.name
            ));
        }
        Ok(p)
    }

    fn current_rule(&mut self, key: &str) -> Result<&mut Rule, String> {
        self.cur
            .and_then(|i| self.probes.get_mut(i))
            .and_then(|p| p.rules.last_mut())
            .ok_or_else(|| format!("`{key}` before any `match` or `soft` line"))
    }

    fn directive(&mut self, key: &str, rest: &str) -> Result<(), String> {
        match key {
            "probe" => self.probe(rest),
            "wait" => {
                let w = parse_wait(rest)?;
                self.defined_probe(key)?.wait = w;
                Ok(())
            }
            "rarity" => {
                let r: u8 = rest
                    .parse()
                    .ok()
                    .filter(|r| (1..=9).contains(r))
                    .ok_or_else(|| format!("rarity must be 1-9, not `{rest}`"))?;
                self.defined_probe(key)?.rarity = r;
                Ok(())
            }
            "ports" | "tls-ports" => {
                let list = PortList::parse(rest)?;
                if list.is_empty() {
                    return Err(format!("`{key}` needs a port list"));
                }
                let p = self.current_probe(key)?;
                if key == "ports" {
                    &mut p.ports
                } else {
                    &mut p.tls_ports
                }
                .extend(&list);
                Ok(())
            }
            "fallback" => {
                let names: Vec<String> = rest
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                if names.is_empty() {
                    return Err("`fallback` needs probe names".into());
                }
                self.defined_probe(key)?.fallback.extend(names);
                Ok(())
            }
            "unique" => {
                let word = parse_quoted(rest)?;
                if word.len() < 2 || !word.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(format!(
                        "`unique` needs a word of 2 or more letters and digits, not `{word}`"
                    ));
                }
                let p = self.defined_probe(key)?;
                if !p.payload.windows(word.len()).any(|w| w == word.as_bytes()) {
                    return Err(format!(
                        "`unique` word `{word}` is not in the payload of `{}`",
                        p.name
                    ));
                }
                p.unique = Some(word.into_bytes());
                Ok(())
            }
            "match" | "soft" => self.rule(key, rest),
            "example" => {
                let (reply, tail) = split_quoted(rest)?;
                let reply = unescape(&reply)?;
                let version = if tail.is_empty() {
                    None
                } else {
                    Some(parse_quoted(tail)?)
                };
                self.current_rule(key)?
                    .examples
                    .push(Example { reply, version });
                Ok(())
            }
            "product" | "version" | "info" | "hostname" | "os" | "device" | "cpe" => {
                let value = parse_quoted(rest)?;
                let rule = self.current_rule(key)?;
                check_groups(&value, rule.pattern.groups())?;
                let t = &mut rule.templates;
                let slot = match key {
                    "product" => &mut t.product,
                    "version" => &mut t.version,
                    "info" => &mut t.info,
                    "hostname" => &mut t.hostname,
                    "os" => &mut t.os,
                    "device" => &mut t.device,
                    _ => {
                        t.cpe.push(value);
                        return Ok(());
                    }
                };
                if slot.is_some() {
                    return Err(format!("`{key}` given twice for one rule"));
                }
                *slot = Some(value);
                Ok(())
            }
            other => Err(format!("unknown keyword `{other}`")),
        }
    }

    fn probe(&mut self, rest: &str) -> Result<(), String> {
        let mut it = rest.splitn(3, char::is_whitespace);
        let name = it
            .next()
            .filter(|s| !s.is_empty())
            .ok_or("`probe` needs a name")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "bad probe name `{name}` (letters, digits, - and _)"
            ));
        }
        let known = self.probes.iter().position(|p| p.name == name);
        let transport = match it.next().map(str::trim) {
            Some("tcp") => Transport::Tcp,
            Some("udp") => Transport::Udp,
            Some(t) => return Err(format!("transport must be tcp or udp, not `{t}`")),
            None if !self.reopen => {
                return Err(format!("probe `{name}` needs a transport (tcp or udp)"))
            }
            // `probe NAME` alone reopens a probe defined earlier.
            None => {
                self.cur = Some(known.unwrap_or_else(|| {
                    self.probes
                        .push(self.new_probe(name, Transport::Tcp, Vec::new(), true));
                    self.probes.len() - 1
                }));
                return Ok(());
            }
        };
        if known.is_some() {
            return Err(format!("probe `{name}` defined twice"));
        }
        let payload_text = it.next().map(str::trim).unwrap_or("");
        if payload_text.is_empty() {
            return Err(format!(
                "probe `{name}` needs a quoted payload (\"\" for none)"
            ));
        }
        let payload = unescape(&parse_quoted(payload_text)?)?;
        if payload.len() > MAX_PAYLOAD {
            return Err(format!(
                "payload of `{name}` is longer than {MAX_PAYLOAD} bytes"
            ));
        }
        if transport == Transport::Udp && payload.is_empty() {
            return Err(format!("UDP probe `{name}` needs a payload"));
        }
        self.probes
            .push(self.new_probe(name, transport, payload, false));
        self.cur = Some(self.probes.len() - 1);
        Ok(())
    }

    fn new_probe(
        &self,
        name: &str,
        transport: Transport,
        payload: Vec<u8>,
        reopened: bool,
    ) -> Probe {
        Probe {
            name: name.to_string(),
            transport,
            payload,
            wait: DEFAULT_WAIT,
            rarity: 5,
            ports: PortList::default(),
            tls_ports: PortList::default(),
            fallback: Vec::new(),
            unique: None,
            rules: Vec::new(),
            src_file: self.file.to_string(),
            src_line: self.line,
            reopened,
        }
    }

    fn rule(&mut self, key: &str, rest: &str) -> Result<(), String> {
        let (service, pat) = match rest.find(char::is_whitespace) {
            Some(at) => (&rest[..at], rest[at..].trim_start()),
            None => return Err(format!("`{key}` needs a service name and a pattern")),
        };
        if !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            return Err(format!("bad service name `{service}`"));
        }
        let (source, caseless, dotall) = split_pattern(pat)?;
        let pattern = Pattern::new(source, caseless, dotall).map_err(|e| match e {
            PatternError::Compile(m) => format!("bad pattern `{source}`: {m}"),
            other => other.to_string(),
        })?;
        let origin = format!("{}:{}", self.file, self.line);
        self.current_probe(key)?.rules.push(Rule {
            service: service.to_string(),
            soft: key == "soft",
            pattern,
            templates: Templates::default(),
            origin,
            examples: Vec::new(),
        });
        Ok(())
    }
}

/// Splits `/regex/is` (any punctuation delimiter, which may appear inside
/// escaped as `\/`) into source and flags.
fn split_pattern(text: &str) -> Result<(&str, bool, bool), String> {
    let delim = text.chars().next().ok_or("missing pattern")?;
    if delim.is_alphanumeric() || delim.is_whitespace() || delim == '\\' {
        return Err(format!(
            "pattern must start with a delimiter such as / or |, not `{delim}`"
        ));
    }
    let body = &text[delim.len_utf8()..];
    // The delimiter may appear in the pattern escaped (`\/`).
    let mut end = None;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == delim {
            end = Some(i);
            break;
        }
    }
    let end = end.ok_or_else(|| format!("pattern has no closing `{delim}`"))?;
    let source = &body[..end];
    let (mut caseless, mut dotall) = (false, false);
    for f in body[end + delim.len_utf8()..].chars() {
        match f {
            'i' => caseless = true,
            's' => dotall = true,
            c if c.is_whitespace() => {
                return Err(
                    "text after the pattern's flags (templates go on their own lines)".into(),
                )
            }
            c => return Err(format!("unknown pattern flag `{c}` (i or s)")),
        }
    }
    if source.is_empty() {
        return Err("empty pattern".into());
    }
    Ok((source, caseless, dotall))
}

/// Reads a `"…"` string; backslash escapes are kept for [`unescape`] or
/// for templates, except `\"`, which is how a quote is written.
fn parse_quoted(text: &str) -> Result<String, String> {
    let (out, tail) = split_quoted(text)?;
    if !tail.is_empty() {
        return Err(format!("unexpected `{tail}` after the string"));
    }
    Ok(out)
}

/// Reads a leading `"…"` string as [`parse_quoted`] does; also returns
/// the trimmed text after it.
fn split_quoted(text: &str) -> Result<(String, &str), String> {
    let inner = text
        .strip_prefix('"')
        .ok_or_else(|| format!("expected a quoted string, found `{text}`"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => return Err("string ends in a backslash".into()),
            },
            '"' => return Ok((out, chars.as_str().trim())),
            c => out.push(c),
        }
    }
    Err("string has no closing quote".into())
}

/// Turns payload escapes (`\r \n \t \0 \\ \xHH`) into bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let h: String = chars.by_ref().take(2).collect();
                let b = (h.len() == 2)
                    .then(|| u8::from_str_radix(&h, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("bad escape `\\x{h}` (two hex digits)"))?;
                out.push(b);
            }
            Some(o) => return Err(format!("unknown escape `\\{o}`")),
            None => return Err("payload ends in a backslash".into()),
        }
    }
    Ok(out)
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    let d = if let Some(ms) = text.strip_suffix("ms") {
        ms.trim().parse().ok().map(Duration::from_millis)
    } else if let Some(s) = text.strip_suffix('s') {
        s.trim().parse().ok().map(Duration::from_secs)
    } else {
        None
    };
    d.filter(|d| *d > Duration::ZERO && *d <= MAX_WAIT)
        .ok_or_else(|| format!("wait must be like `500ms` or `5s` (at most 60 s), not `{text}`"))
}

/// Checks that a template's `$N` references name existing groups.
fn check_groups(template: &str, groups: usize) -> Result<(), String> {
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            match b.get(i + 1) {
                Some(b'$') => i += 1,
                Some(d @ b'1'..=b'9') => {
                    let n = usize::from(d - b'0');
                    if n > groups {
                        return Err(format!(
                            "template `{template}` uses ${n} but the pattern has {groups} group(s)"
                        ));
                    }
                    i += 1;
                }
                _ => {
                    return Err(format!(
                        "template `{template}`: `$` must be followed by 1-9 or $"
                    ))
                }
            }
        }
        i += 1;
    }
    Ok(())
}
