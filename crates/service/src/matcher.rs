//! Matching replies against rules: regular expressions over *bytes* with a
//! bound on work, and templates filled from capture groups.
//!
//! Why `fancy-regex` over a Latin-1 view rather than PCRE2: match rules
//! need look-ahead and back-references, which the `regex` crate lacks.
//! The `pcre2` crate has them, but its bytes API exposes no match or depth
//! limit, so a hostile banner could only be bounded by cutting the input,
//! and it builds C code. `fancy-regex` is pure Rust, hands every part of a
//! pattern that needs no backtracking to the linear-time `regex` engine,
//! and has a backtrack limit for the rest, so the worst case is bounded.
//! It works on `&str`, so a reply is mapped losslessly byte → char
//! (byte `b` becomes `U+00bb`, i.e. Latin-1): `\x00`, `\xff` and
//! `[\x80-\xff]` in a pattern then match exactly those bytes, and a
//! capture is mapped back to the same bytes. Replies are also cut to
//! [`MAX_SUBJECT`] bytes before matching.

use crate::db::{Rule, Templates};
use thiserror::Error;

/// Bytes of a reply that rules look at; the rest is ignored.
pub const MAX_SUBJECT: usize = 64 * 1024;
/// Backtracking steps allowed per match attempt.
const BACKTRACK_LIMIT: usize = 200_000;
/// Compiled-program size allowed per pattern (bytes).
const SIZE_LIMIT: usize = 4 << 20;

/// A pattern that could not be used.
#[derive(Debug, Error)]
pub enum PatternError {
    /// The pattern does not compile.
    #[error("{0}")]
    Compile(String),
    /// A match ran past the backtrack limit (the reply is treated as not
    /// matching).
    #[error("match gave up: {0}")]
    Limit(String),
}

/// A compiled rule pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    re: fancy_regex::Regex,
    source: String,
    groups: usize,
}

impl Pattern {
    /// Compiles `source` with the case-insensitive (`i`) and dot-all (`s`)
    /// flags as asked.
    pub fn new(source: &str, caseless: bool, dotall: bool) -> Result<Self, PatternError> {
        let mut full = String::new();
        if caseless || dotall {
            full.push_str("(?");
            if caseless {
                full.push('i');
            }
            if dotall {
                full.push('s');
            }
            full.push(')');
        }
        full.push_str(&bytes_classes(source)?);
        let re = fancy_regex::RegexBuilder::new(&full)
            .backtrack_limit(BACKTRACK_LIMIT)
            .delegate_size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| PatternError::Compile(e.to_string()))?;
        let groups = re.captures_len().saturating_sub(1);
        Ok(Pattern {
            re,
            source: source.to_string(),
            groups,
        })
    }

    /// The pattern as written in the database.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of capture groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Matches a reply; on success returns every group's bytes (index 0 is
    /// the whole match; `None` for a group that did not take part).
    pub fn captures(
        &self,
        subject: &Subject,
    ) -> Result<Option<Vec<Option<Vec<u8>>>>, PatternError> {
        let caps = self
            .re
            .captures(&subject.text)
            .map_err(|e| PatternError::Limit(e.to_string()))?;
        Ok(caps.map(|c| {
            (0..=self.groups)
                .map(|i| c.get(i).map(|m| latin1_bytes(m.as_str())))
                .collect()
        }))
    }
}

/// A reply prepared for matching (cut and mapped once, matched by many
/// rules).
#[derive(Clone, Debug)]
pub struct Subject {
    text: String,
}

impl Subject {
    /// Prepares `reply` (only its first [`MAX_SUBJECT`] bytes).
    pub fn new(reply: &[u8]) -> Self {
        let cut = &reply[..reply.len().min(MAX_SUBJECT)];
        Subject {
            text: cut.iter().map(|&b| char::from(b)).collect(),
        }
    }
}

/// Rewrites `\\d \\w \\s` (and negations) to their ASCII classes and `\\0` to
/// `\\x00`: over the Latin-1 view, Unicode classes would also match bytes
/// such as 0xA0 or 0xE9, which in a banner are not spaces or letters.
fn bytes_classes(source: &str) -> Result<String, PatternError> {
    const D: &str = "0-9";
    const W: &str = "0-9A-Za-z_";
    const S: &str = "\\t\\n\\x0B\\x0C\\r ";
    let mut out = String::with_capacity(source.len() + 16);
    let mut chars = source.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_start = std::mem::replace(&mut class_start, false);
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    return Err(PatternError::Compile("pattern ends in a backslash".into()));
                };
                let set = match n {
                    'd' | 'D' => Some(D),
                    'w' | 'W' => Some(W),
                    's' | 'S' => Some(S),
                    _ => None,
                };
                match (set, in_class) {
                    (Some(set), false) if n.is_ascii_lowercase() => {
                        out.push('[');
                        out.push_str(set);
                        out.push(']');
                    }
                    (Some(set), false) => {
                        out.push_str("[^");
                        out.push_str(set);
                        out.push(']');
                    }
                    (Some(set), true) if n.is_ascii_lowercase() => out.push_str(set),
                    (Some(_), true) => {
                        return Err(PatternError::Compile(format!(
                            "`\\{n}` inside [ ] is not supported; write the class out"
                        )))
                    }
                    (None, _) if n == '0' && !chars.peek().is_some_and(char::is_ascii_digit) => {
                        out.push_str("\\x00")
                    }
                    (None, _) => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            ']' if in_class && !at_start => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn latin1_bytes(s: &str) -> Vec<u8> {
    // Every char came from one byte, so the cast is lossless.
    s.chars().map(|c| u32::from(c) as u8).collect()
}

/// What a rule found in a reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Service name.
    pub service: String,
    /// Whether the rule was a soft match.
    pub soft: bool,
    /// Product.
    pub product: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Extra information.
    pub info: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Device type.
    pub device: Option<String>,
    /// CPE names.
    pub cpe: Vec<String>,
    /// Where the rule was written (`file:line`).
    pub origin: String,
}

impl Rule {
    /// Applies the rule to a reply: `Ok(None)` when it does not match,
    /// `Err` when the match gave up at the backtrack limit.
    pub fn apply(&self, subject: &Subject) -> Result<Option<Identity>, PatternError> {
        let Some(groups) = self.pattern.captures(subject)? else {
            return Ok(None);
        };
        let t: &Templates = &self.templates;
        let fill = |s: &Option<String>| {
            s.as_deref()
                .map(|s| expand(s, &groups))
                .filter(|s| !s.is_empty())
        };
        Ok(Some(Identity {
            service: self.service.clone(),
            soft: self.soft,
            product: fill(&t.product),
            version: fill(&t.version),
            info: fill(&t.info),
            hostname: fill(&t.hostname),
            os: fill(&t.os),
            device: fill(&t.device),
            cpe: t
                .cpe
                .iter()
                .map(|c| expand(c, &groups))
                .filter(|c| !c.is_empty())
                .collect(),
            origin: self.origin.clone(),
        }))
    }
}

/// Fills `$1`…`$9` (and `$$`) from groups; captured bytes outside printable
/// ASCII are written `\xHH` so no output format ever sees control bytes.
/// A template naming a group that took no part in the match yields an
/// empty string (the field is then left out), so optional groups work.
pub fn expand(template: &str, groups: &[Option<Vec<u8>>]) -> String {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some(d @ '1'..='9') => {
                chars.next();
                let n = (u32::from(d) - u32::from('0')) as usize;
                match groups.get(n) {
                    Some(Some(bytes)) => push_printable(&mut out, bytes),
                    _ => return String::new(),
                }
            }
            _ => out.push('$'),
        }
    }
    out.trim().to_string()
}

/// Appends bytes as text, escaping anything but printable ASCII.
pub fn push_printable(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
}
