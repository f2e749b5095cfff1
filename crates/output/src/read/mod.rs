//! Reading results back into the model: portolan's JSON output, and XML
//! in nmap's format (portolan's own `-oX` and nmap's).
//!
//! Why: scan history, diffs, resume and reports start from a finished
//! scan. They read a file into a [`ScanDocument`] and work on the model,
//! whichever format the file has. Input is untrusted: every error is a
//! [`ReadError`] naming the line and field (JSON) or element (XML), never
//! a panic, and sizes are bounded.

mod cert;
mod json;
mod xml;

pub use json::read_json;
pub use xml::{read_xml, read_xml_str};

use std::io;

/// Why a file could not be read into the model.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The reader failed.
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
    /// A JSON line is malformed or does not fit the model.
    #[error("line {line}{}: {message}", field_text(.field))]
    Json {
        /// The line, counting from 1.
        line: usize,
        /// The field's path in the line (`ports[2].state`), when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The XML is malformed, hostile (a DTD) or does not fit the model.
    #[error("XML{}: {message}", at_text(.at))]
    Xml {
        /// Where: `line:column` and element, when known.
        at: Option<String>,
        /// What is wrong.
        message: String,
    },
}

fn field_text(field: &Option<String>) -> String {
    field
        .as_deref()
        .map(|f| format!(", field `{f}`"))
        .unwrap_or_default()
}

fn at_text(at: &Option<String>) -> String {
    at.as_deref()
        .map(|a| format!(" at {a}"))
        .unwrap_or_default()
}

/// The most a reader takes in: larger input is refused rather than
/// exhausting memory (a real scan's file is far smaller).
pub const MAX_INPUT: u64 = 1 << 30;
