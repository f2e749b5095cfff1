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

use portolan_model::ScanDocument;

pub use json::read_json;
pub use xml::{read_xml, read_xml_str};

use std::io::{self, BufRead};

/// Reads a scan output file whatever its format: XML (portolan's `-oX`
/// or nmap's) or portolan's JSON lines, told apart by the first
/// character after a UTF-8 byte-order mark and white space.
///
/// The one entry point for commands that take "a scan" (`diff`,
/// `report`, `local --exposure`, `history import`).
pub fn read_any(mut reader: impl BufRead) -> Result<ScanDocument, ReadError> {
    loop {
        let buf = reader.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Err(ReadError::Unknown);
        };
        // Skip the byte-order mark (EF BB BF) and white space, a byte at
        // a time, so a mark split across reads is skipped too.
        if b.is_ascii_whitespace() || matches!(b, 0xef | 0xbb | 0xbf) {
            reader.consume(1);
            continue;
        }
        return match b {
            b'<' => read_xml(reader),
            b'{' => read_json(reader),
            _ => Err(ReadError::Unknown),
        };
    }
}

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
    /// The input is neither XML nor portolan's JSON lines.
    #[error("neither XML (portolan's or nmap's) nor portolan's JSON output")]
    Unknown,
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

#[cfg(test)]
mod any_tests {
    use super::{read_any, ReadError};

    #[test]
    fn either_format_after_a_byte_order_mark_and_space() {
        let json = concat!(
            "\u{feff} \n",
            r#"{"type":"scan","version":"1","args":"x","start":0,"scaninfo":[]}"#,
            "\n"
        );
        let xml = "\u{feff}\n<?xml version=\"1.0\"?><nmaprun scanner=\"nmap\" args=\"x\" start=\"0\" version=\"7\"></nmaprun>";
        for text in [json, xml] {
            let r = read_any(text.as_bytes());
            assert!(!matches!(r, Err(ReadError::Unknown)), "{text}: {r:?}");
        }
        for text in ["", " \n", "hello", "\u{feff}"] {
            assert!(
                matches!(read_any(text.as_bytes()), Err(ReadError::Unknown)),
                "{text:?}"
            );
        }
    }
}
