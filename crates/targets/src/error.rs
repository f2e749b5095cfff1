//! Error types: one enum per kind of input, each message one line that
//! names the offending token, ready to print after `portolan: `.

use std::io;
use thiserror::Error;

/// A target expression, exclusion or target file that cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// The expression is not an address, a name, a prefix or an octet range.
    #[error("invalid target \"{token}\": {reason}")]
    Invalid {
        /// The expression as typed.
        token: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CIDR prefix length is not a number in range for the family.
    #[error("invalid CIDR prefix \"/{prefix}\" in \"{token}\"")]
    Prefix {
        /// The text after the slash.
        prefix: String,
        /// The whole expression.
        token: String,
    },
    /// An IPv6 prefix shorter than /64: too many addresses to index.
    #[error("invalid target \"{token}\": prefix too large (IPv6 prefixes shorter than /64 are not supported)")]
    PrefixTooLarge {
        /// The whole expression.
        token: String,
    },
    /// A target or exclude file cannot be read.
    #[error("cannot read target file \"{path}\": {message}")]
    ReadFile {
        /// The path as given (`-` for standard input).
        path: String,
        /// The operating system's description of the failure.
        message: String,
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
    #[error("invalid port \"{0}\": out of range 0-65535")]
    OutOfRange(String),
    /// A range whose start is after its end.
    #[error("invalid port range \"{0}\": start is after end")]
    Reversed(String),
    /// A service name or pattern that matches nothing in the port table.
    #[error("no port matches \"{0}\"")]
    NoMatch(String),
    /// Anything else: empty items, unknown protocol prefixes, stray characters.
    #[error("invalid port specification \"{token}\": {reason}")]
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
