//! The UDP payload table: which request each well-known port gets.
//!
//! A UDP service ignores what it cannot parse, so the only way to tell an
//! open port from a dropped one is to send a request the service answers.
//! The requests live in a text file (`data/udp-payloads.txt`, compiled in)
//! rather than in code so each one sits next to the RFC section it was
//! written from, and so a user could one day bring their own file. The
//! file's header documents the format; [`PayloadTable::parse`] reads it and
//! names the line and token of any mistake.

use std::collections::HashSet;
use std::sync::LazyLock;
use thiserror::Error;

/// The built-in payload file's text.
pub const BUILTIN_TEXT: &str = include_str!("../../data/udp-payloads.txt");

/// The longest payload accepted: fits one IPv6 packet on an Ethernet path
/// (1500 - 40 IPv6 - 8 UDP, with room to spare).
pub const MAX_PAYLOAD: usize = 1400;

/// A mistake in a payload file, with its 1-based line number.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PayloadError {
    /// A line starts with a word that is not a keyword.
    #[error("line {line}: unknown keyword `{token}`")]
    UnknownKeyword {
        /// Line number.
        line: usize,
        /// The word.
        token: String,
    },
    /// A keyword other than `payload` before the first entry.
    #[error("line {line}: `{token}` before the first `payload` line")]
    OutsideEntry {
        /// Line number.
        line: usize,
        /// The keyword.
        token: String,
    },
    /// A keyword is missing its argument, or has a malformed one.
    #[error("line {line}: bad argument `{token}`: {why}")]
    BadArgument {
        /// Line number.
        line: usize,
        /// The offending token.
        token: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Two entries have the same name.
    #[error("line {line}: payload name `{name}` is already used")]
    DuplicateName {
        /// Line number.
        line: usize,
        /// The name.
        name: String,
    },
    /// An entry lacks ports, a source or bytes.
    #[error("line {line}: payload `{name}` has no {what}")]
    Incomplete {
        /// Line of the entry's `payload` keyword.
        line: usize,
        /// The entry's name.
        name: String,
        /// What it lacks: "ports", "source" or "bytes".
        what: &'static str,
    },
    /// An entry's bytes exceed [`MAX_PAYLOAD`].
    #[error("line {line}: payload `{name}` is longer than {MAX_PAYLOAD} bytes")]
    TooLong {
        /// Line where it grew too long.
        line: usize,
        /// The entry's name.
        name: String,
    },
}

/// One request and the ports it is sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// Unique name (`dns-root-ns`).
    pub name: String,
    /// The UDP ports it goes to, in file order.
    pub ports: Vec<u16>,
    /// Where the bytes come from (RFC and section).
    pub source: String,
    /// The datagram's data.
    pub bytes: Vec<u8>,
    /// The service answers from a port other than the probed one.
    pub reply_from_any_port: bool,
}

/// Every payload of a file, indexed by port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayloadTable {
    payloads: Vec<Payload>,
    /// (port, indexes into `payloads` in file order), sorted by port.
    by_port: Vec<(u16, Vec<usize>)>,
    /// Ports whose service may answer from another port, sorted.
    any_port: Vec<u16>,
}

static BUILTIN: LazyLock<PayloadTable> =
    LazyLock::new(|| PayloadTable::parse(BUILTIN_TEXT).unwrap_or_default());

impl PayloadTable {
    /// The compiled-in table (`data/udp-payloads.txt`). Its tests make sure
    /// it parses; were it ever not to, every port would get an empty
    /// datagram rather than a panic.
    pub fn builtin() -> &'static PayloadTable {
        &BUILTIN
    }

    /// Parses a payload file (format in the built-in file's header).
    pub fn parse(text: &str) -> Result<PayloadTable, PayloadError> {
        let mut payloads: Vec<Payload> = Vec::new();
        let mut open: Option<(usize, Payload)> = None;
        let mut names = HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (keyword, arg) = match trimmed.split_once(char::is_whitespace) {
                Some((k, a)) => (k, a.trim()),
                None => (trimmed, ""),
            };
            if keyword == "payload" {
                if let Some((start, p)) = open.take() {
                    payloads.push(finish(start, p)?);
                }
                let name = parse_name(line, arg)?;
                if !names.insert(name.clone()) {
                    return Err(PayloadError::DuplicateName { line, name });
                }
                open = Some((
                    line,
                    Payload {
                        name,
                        ports: Vec::new(),
                        source: String::new(),
                        bytes: Vec::new(),
                        reply_from_any_port: false,
                    },
                ));
                continue;
            }
            let Some((_, p)) = open.as_mut() else {
                return Err(if is_keyword(keyword) {
                    PayloadError::OutsideEntry {
                        line,
                        token: keyword.to_string(),
                    }
                } else {
                    PayloadError::UnknownKeyword {
                        line,
                        token: keyword.to_string(),
                    }
                });
            };
            match keyword {
                "ports" => p.ports.extend(parse_ports(line, strip_comment(arg))?),
                "source" => {
                    if arg.is_empty() {
                        return Err(bad(line, keyword, "the source text is missing"));
                    }
                    if !p.source.is_empty() {
                        p.source.push(' ');
                    }
                    p.source.push_str(arg);
                }
                "hex" => parse_hex(line, strip_comment(arg), &mut p.bytes)?,
                "text" => parse_text(line, arg, &mut p.bytes)?,
                "zeros" => {
                    let arg = strip_comment(arg);
                    let n: usize = arg
                        .parse()
                        .map_err(|_| bad(line, arg, "expected a byte count"))?;
                    if n > MAX_PAYLOAD {
                        return Err(PayloadError::TooLong {
                            line,
                            name: p.name.clone(),
                        });
                    }
                    p.bytes.resize(p.bytes.len() + n, 0);
                }
                "reply-from" => {
                    if strip_comment(arg) != "any-port" {
                        return Err(bad(line, arg, "the only value is `any-port`"));
                    }
                    p.reply_from_any_port = true;
                }
                _ => {
                    return Err(PayloadError::UnknownKeyword {
                        line,
                        token: keyword.to_string(),
                    })
                }
            }
            if p.bytes.len() > MAX_PAYLOAD {
                return Err(PayloadError::TooLong {
                    line,
                    name: p.name.clone(),
                });
            }
        }
        if let Some((start, p)) = open.take() {
            payloads.push(finish(start, p)?);
        }
        Ok(PayloadTable::from_payloads(payloads))
    }

    fn from_payloads(payloads: Vec<Payload>) -> PayloadTable {
        let mut by_port: Vec<(u16, Vec<usize>)> = Vec::new();
        let mut any_port = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            for &port in &p.ports {
                match by_port.iter_mut().find(|(q, _)| *q == port) {
                    Some((_, v)) => {
                        if !v.contains(&i) {
                            v.push(i);
                        }
                    }
                    None => by_port.push((port, vec![i])),
                }
                if p.reply_from_any_port {
                    any_port.push(port);
                }
            }
        }
        by_port.sort_by_key(|(port, _)| *port);
        any_port.sort_unstable();
        any_port.dedup();
        PayloadTable {
            payloads,
            by_port,
            any_port,
        }
    }

    /// Every payload, in file order.
    pub fn payloads(&self) -> &[Payload] {
        &self.payloads
    }

    /// The payloads for `port`, in the order transmissions use them.
    pub fn for_port(&self, port: u16) -> impl Iterator<Item = &Payload> {
        let idx = self
            .by_port
            .binary_search_by_key(&port, |(p, _)| *p)
            .ok()
            .map(|i| self.by_port[i].1.as_slice())
            .unwrap_or(&[]);
        idx.iter().filter_map(|&i| self.payloads.get(i))
    }

    /// The data of transmission `attempt` to `port`: its payloads in turn,
    /// cycling; empty for a port without one.
    pub fn bytes_for(&self, port: u16, attempt: u8) -> &[u8] {
        let Ok(i) = self.by_port.binary_search_by_key(&port, |(p, _)| *p) else {
            return &[];
        };
        let list = &self.by_port[i].1;
        list.get(usize::from(attempt) % list.len().max(1))
            .and_then(|&j| self.payloads.get(j))
            .map_or(&[], |p| p.bytes.as_slice())
    }

    /// Ports whose service may answer from another port of the target
    /// (`reply-from any-port`), sorted.
    pub fn any_port_services(&self) -> &[u16] {
        &self.any_port
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "payload" | "ports" | "source" | "hex" | "text" | "zeros" | "reply-from"
    )
}

fn bad(line: usize, token: &str, why: &'static str) -> PayloadError {
    PayloadError::BadArgument {
        line,
        token: token.to_string(),
        why,
    }
}

fn strip_comment(arg: &str) -> &str {
    arg.split_once('#').map_or(arg, |(a, _)| a).trim()
}

fn finish(line: usize, p: Payload) -> Result<Payload, PayloadError> {
    let what = if p.ports.is_empty() {
        "ports"
    } else if p.source.is_empty() {
        "source"
    } else if p.bytes.is_empty() {
        "bytes"
    } else {
        return Ok(p);
    };
    Err(PayloadError::Incomplete {
        line,
        name: p.name,
        what,
    })
}

fn parse_name(line: usize, arg: &str) -> Result<String, PayloadError> {
    let ok = !arg.is_empty()
        && arg.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(arg.to_string())
    } else {
        Err(bad(line, arg, "a name is one or more of [a-z0-9._-]"))
    }
}

fn parse_port(line: usize, s: &str) -> Result<u16, PayloadError> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(bad(line, s, "a port is 1-65535")),
    }
}

fn parse_ports(line: usize, arg: &str) -> Result<Vec<u16>, PayloadError> {
    if arg.is_empty() {
        return Err(bad(line, arg, "the port list is missing"));
    }
    let mut out = Vec::new();
    for item in arg.split(',') {
        let item = item.trim();
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_port(line, a.trim())?, parse_port(line, b.trim())?);
                if a > b {
                    return Err(bad(line, item, "a range runs from low to high"));
                }
                out.extend(a..=b);
            }
            None => out.push(parse_port(line, item)?),
        }
    }
    Ok(out)
}

fn parse_hex(line: usize, arg: &str, out: &mut Vec<u8>) -> Result<(), PayloadError> {
    if arg.is_empty() {
        return Err(bad(line, arg, "no hex bytes"));
    }
    for token in arg.split_whitespace() {
        if token.len() % 2 != 0 {
            return Err(bad(line, token, "an odd number of hex digits"));
        }
        for pair in token.as_bytes().chunks(2) {
            match (hex_digit(pair[0]), hex_digit(pair[1])) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(bad(line, token, "not hex digits")),
            }
        }
    }
    Ok(())
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Reads `"..."` with escapes, then an optional `# comment`.
fn parse_text(line: usize, arg: &str, out: &mut Vec<u8>) -> Result<(), PayloadError> {
    let Some(body) = arg.strip_prefix('"') else {
        return Err(bad(line, arg, "a string starts with `\"`"));
    };
    let mut chars = body.char_indices();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                let rest = chars.as_str().trim();
                if rest.is_empty() || rest.starts_with('#') {
                    return Ok(());
                }
                return Err(bad(line, rest, "text after the closing `\"`"));
            }
            '\\' => {
                let Some((at, e)) = chars.next() else { break };
                match e {
                    'r' => out.push(b'\r'),
                    'n' => out.push(b'\n'),
                    't' => out.push(b'\t'),
                    '0' => out.push(0),
                    '\\' => out.push(b'\\'),
                    '"' => out.push(b'"'),
                    'x' => {
                        let digits = body.get(at + 1..at + 3).unwrap_or("");
                        let v = u8::from_str_radix(digits, 16)
                            .ok()
                            .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
                            .ok_or_else(|| bad(line, digits, "`\\x` needs two hex digits"))?;
                        out.push(v);
                        chars.next();
                        chars.next();
                    }
                    _ => {
                        let token = body.get(at - 1..at + e.len_utf8()).unwrap_or("\\");
                        return Err(bad(line, token, "unknown escape"));
                    }
                }
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    Err(bad(line, arg, "the string has no closing `\"`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses() {
        let t = PayloadTable::parse(BUILTIN_TEXT).expect("built-in payload file parses");
        assert!(t.payloads().len() >= 18);
        assert_eq!(PayloadTable::builtin(), &t);
    }

    #[test]
    fn lookup_cycles_through_a_ports_payloads() {
        let t = PayloadTable::parse(
            "payload a\nports 53, 60-61\nsource x\nhex 01\n\
             payload b\nports 53\nsource y\ntext \"\\x02\"\nreply-from any-port\n",
        )
        .unwrap();
        assert_eq!(t.bytes_for(53, 0), [1]);
        assert_eq!(t.bytes_for(53, 1), [2]);
        assert_eq!(t.bytes_for(53, 2), [1]);
        assert_eq!(t.bytes_for(61, 1), [1]);
        assert_eq!(t.bytes_for(62, 0), [0u8; 0]);
        assert_eq!(t.any_port_services(), [53]);
        assert_eq!(t.for_port(53).count(), 2);
    }

    #[test]
    fn text_escapes() {
        let mut out = Vec::new();
        parse_text(1, r#""a\r\n\t\0\\\"\x41\x7f" # c"#, &mut out).unwrap();
        assert_eq!(out, b"a\r\n\t\0\\\"A\x7f");
    }

    #[test]
    fn errors_name_line_and_token() {
        let cases: &[(&str, PayloadError)] = &[
            (
                "hex 00",
                PayloadError::OutsideEntry {
                    line: 1,
                    token: "hex".into(),
                },
            ),
            (
                "# c\nbogus 1",
                PayloadError::UnknownKeyword {
                    line: 2,
                    token: "bogus".into(),
                },
            ),
            (
                "payload a\nports 53\nsource s\nhex 0g",
                bad(4, "0g", "not hex digits"),
            ),
            (
                "payload a\nports 53\nsource s\nhex 012",
                bad(4, "012", "an odd number of hex digits"),
            ),
            (
                "payload a\nports 70000\n",
                bad(2, "70000", "a port is 1-65535"),
            ),
            (
                "payload a\nports 9-3\n",
                bad(2, "9-3", "a range runs from low to high"),
            ),
            (
                "payload a\nports 1\nsource s\ntext \"abc",
                bad(4, "\"abc", "the string has no closing `\"`"),
            ),
            (
                "payload a\nports 1\nsource s\ntext \"a\\q\"",
                bad(4, "\\q", "unknown escape"),
            ),
            (
                "payload a\nports 1\nsource s\ntext \"\\x4\"",
                bad(4, "4\"", "`\\x` needs two hex digits"),
            ),
            (
                "payload a\nports 1\nsource s\nhex 00\npayload a",
                PayloadError::DuplicateName {
                    line: 5,
                    name: "a".into(),
                },
            ),
            (
                "payload a\nports 1\nhex 00\n",
                PayloadError::Incomplete {
                    line: 1,
                    name: "a".into(),
                    what: "source",
                },
            ),
            (
                "payload a\nsource s\nports 1\n",
                PayloadError::Incomplete {
                    line: 1,
                    name: "a".into(),
                    what: "bytes",
                },
            ),
            (
                "payload a\nports 1\nsource s\nzeros 1401",
                PayloadError::TooLong {
                    line: 4,
                    name: "a".into(),
                },
            ),
            (
                "payload A\n",
                bad(1, "A", "a name is one or more of [a-z0-9._-]"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(PayloadTable::parse(text).as_ref(), Err(want), "{text:?}");
        }
        let e = PayloadTable::parse("x").unwrap_err();
        assert_eq!(e.to_string(), "line 1: unknown keyword `x`");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "(payload a\n|ports [0-9,-]{0,8}\n|source s\n|hex [0-9a-f ]{0,8}\n|text \"[\\\\a-z\"0x]{0,6}\n|zeros [0-9]{0,5}\n|reply-from [a-z-]{0,8}\n|[ -~]{0,10}\n){0,12}") {
            let _ = PayloadTable::parse(&s);
        }
        #[test]
        fn parse_never_panics_on_any_text(s in "\\PC{0,200}") {
            let _ = PayloadTable::parse(&s);
        }
    }
}
