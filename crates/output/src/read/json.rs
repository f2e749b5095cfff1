//! Reading portolan's JSON output (NDJSON) back into a [`ScanDocument`].
//!
//! Each line is parsed on its own, so an error names its line; a line is
//! first read as a JSON value (syntax errors give the column), then into
//! the model type its `type` names with the field path tracked
//! (`ports[2].state`). Unknown line types are skipped, as the schema's
//! compatibility rule asks of readers.

use super::{ReadError, MAX_INPUT};
use portolan_model::{HostResult, RunStats, ScanDocument, ScanInfo};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::io::{BufRead, Read};

/// The longest line accepted (a host listing all 65535 ports of three
/// protocols one by one stays well below it).
const MAX_LINE: u64 = 256 << 20;

/// Reads a whole JSON output file (as written by `-oJ`) into the model.
///
/// The first line must be `scan`; `host` and `warning` lines follow; an
/// `end` line, when present, must be the last. A file without `end` (a
/// killed scan) reads with `stats` `None`.
pub fn read_json(reader: impl BufRead) -> Result<ScanDocument, ReadError> {
    let mut reader = reader.take(MAX_INPUT);
    let mut doc: Option<ScanDocument> = None;
    let mut ended = false;
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line += 1;
        let err = |field: Option<String>, message: String| ReadError::Json {
            line,
            field,
            message,
        };
        if n as u64 > MAX_LINE {
            return Err(err(None, format!("line longer than {MAX_LINE} bytes")));
        }
        let text = std::str::from_utf8(&buf).map_err(|e| err(None, e.to_string()))?;
        if text.trim().is_empty() {
            continue;
        }
        if ended {
            return Err(err(None, "a line after the `end` line".into()));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| err(None, e.to_string()))?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| err(Some("type".into()), "missing or not a string".into()))?
            .to_string();
        match (kind.as_str(), doc.as_mut()) {
            ("scan", None) => doc = Some(ScanDocument::new(typed::<ScanInfo>(value, line)?)),
            ("scan", Some(_)) => return Err(err(None, "a second `scan` line".into())),
            (_, None) => return Err(err(None, format!("`{kind}` line before the `scan` line"))),
            ("host", Some(d)) => d.hosts.push(typed::<HostResult>(value, line)?),
            ("warning", Some(d)) => {
                let msg = value
                    .get("message")
                    .and_then(Value::as_str)
                    .ok_or_else(|| err(Some("message".into()), "missing or not a string".into()))?;
                d.warnings.push(msg.to_string());
            }
            ("end", Some(d)) => {
                d.stats = Some(typed::<RunStats>(value, line)?);
                ended = true;
            }
            // New line types may appear: readers skip what they do not know.
            (_, Some(_)) => {}
        }
    }
    doc.ok_or(ReadError::Json {
        line: line.max(1),
        field: None,
        message: "no `scan` line: not portolan JSON output".into(),
    })
}

/// One line's value as the model type `T`, errors naming the field.
fn typed<T: DeserializeOwned>(value: Value, line: usize) -> Result<T, ReadError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ReadError::Json {
            line,
            field: (path != ".").then_some(path),
            message: e.into_inner().to_string(),
        }
    })
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
