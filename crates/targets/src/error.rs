//! Error types: one enum per kind of input, each message one line that
//! names the offending token, ready to print after `portolan: `.

use std::io;
use thiserror::Error;

/// A target expression, exclusion or target file that cannot be used.
///
/// Every token and path is shown through [`escape_token`], so a message is
/// one line whatever the user typed or a file held.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// The expression is not an address, a name, a prefix or an octet range.
    #[error("invalid target \"{}\": {}", escape_token(token), escape_text(reason))]
    Invalid {
        /// The expression as typed.
        token: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CIDR prefix length is not a number in range for the family.
    #[error(
        "invalid CIDR prefix \"/{}\" in \"{}\"",
        escape_token(prefix),
        escape_token(token)
    )]
    Prefix {
        /// The text after the slash.
        prefix: String,
        /// The whole expression.
        token: String,
    },
    /// An IPv6 prefix shorter than /64: too many addresses to index.
    #[error("invalid target \"{}\": prefix too large (IPv6 prefixes shorter than /64 are not supported)", escape_token(token))]
    PrefixTooLarge {
        /// The whole expression.
        token: String,
    },
    /// IPv4 addresses given as a target of an IPv6 scan (`-6`).
    #[error(
        "invalid target \"{}\": an IPv4 address, but -6 scans IPv6 only (scan it without -6)",
        escape_token(token)
    )]
    Ipv4WithIpv6 {
        /// The whole expression.
        token: String,
    },
    /// A target or exclude file cannot be read.
    #[error(
        "cannot read target file \"{}\": {}",
        escape_path(path),
        escape_text(message)
    )]
    ReadFile {
        /// The path as given (`-` for standard input).
        path: String,
        /// The operating system's description of the failure.
        message: String,
    },
    /// A line of a target or exclude file that cannot be used at all.
    #[error("{}:{line}: {}", escape_path(path), escape_text(reason))]
    Line {
        /// The path as given (`-` for standard input).
        path: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A target or exclude file whose every expression was bad.
    #[error(
        "no valid target in \"{}\" ({bad} bad; the first, line {line}: {first})",
        escape_path(path)
    )]
    NothingValid {
        /// The path as given (`-` for standard input).
        path: String,
        /// How many expressions were bad.
        bad: u64,
        /// The line of the first bad expression.
        line: u64,
        /// Why the first was bad (an escaped, one-line message).
        first: String,
    },
}

impl TargetError {
    pub(crate) fn invalid(token: &str, reason: impl Into<String>) -> Self {
        TargetError::Invalid {
            token: token.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn read_file(path: &str, err: &io::Error) -> Self {
        TargetError::ReadFile {
            path: path.to_string(),
            message: io_message(err),
        }
    }
}

/// Longest part of a token an error message shows, in characters.
pub const MAX_SHOWN_CHARS: usize = 64;

/// `text` made safe to print inside a one-line message: control
/// characters (C0, DEL, C1, line and paragraph separators) become `\n`,
/// `\t`, `\r`, `\\` or `\xHH`/`\u{HHHH}` escapes, so an escape sequence in
/// a file or argument cannot reach the terminal, and anything longer than
/// [`MAX_SHOWN_CHARS`] characters is cut and ends with `…`.
///
/// ```
/// use portolan_targets::escape_token;
/// assert_eq!(escape_token("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
/// assert_eq!(escape_token(&"x".repeat(100)).chars().count(), 65);
/// ```
pub fn escape_token(text: &str) -> String {
    escape_cut(text, MAX_SHOWN_CHARS)
}

/// A path made safe to print (see [`escape_token`]), cut at 256 characters.
pub(crate) fn escape_path(text: &str) -> String {
    escape_cut(text, 256)
}

/// Text of our own that may quote user input (a reason), escaped and cut
/// at 256 characters.
pub fn escape_text(text: &str) -> String {
    escape_cut(text, 256)
}

fn escape_cut(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(1024) + 3);
    for (n, c) in text.chars().enumerate() {
        if n == max_chars {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x100 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The text of an I/O error without Rust's " (os error N)" suffix, so the
/// message reads like the C library's `strerror`.
pub(crate) fn io_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// A port specification (`-p`, `--exclude-ports`) that cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PortError {
    /// A port number above 65535 (or not a number at all where one is due).
    #[error("invalid port \"{}\": out of range 0-65535", escape_token(.0))]
    OutOfRange(String),
    /// A range whose start is after its end.
    #[error("invalid port range \"{}\": start is after end", escape_token(.0))]
    Reversed(String),
    /// A service name or pattern that matches nothing in the port table.
    #[error("no port matches \"{}\"", escape_token(.0))]
    NoMatch(String),
    /// Anything else: empty items, unknown protocol prefixes, stray characters.
    #[error(
        "invalid port specification \"{}\": {}",
        escape_token(token),
        escape_text(reason)
    )]
    Invalid {
        /// The offending item (or the whole specification).
        token: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A line of the port table that cannot be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("port table line {line}: {reason}")]
pub struct TableError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}
