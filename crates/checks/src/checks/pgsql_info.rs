//! `pgsql-info`: a PostgreSQL server is reachable.
//!
//! Two read-only exchanges from the frontend/backend protocol
//! (postgresql.org/docs/current/protocol-message-formats.html), neither
//! of which names a user or tries a login:
//! - an SSLRequest (length 8, code 80877103): PostgreSQL answers one byte,
//!   `S` (TLS offered) or `N`;
//! - a StartupMessage for protocol 0.0 on a second connection: the server
//!   answers an ErrorResponse (`E`, fields `S` severity, `C` SQLSTATE,
//!   `M` message) saying which protocol versions it supports.
//!
//! Either proves a PostgreSQL server; `S`/`N` alone is too short to prove
//! anything, so the finding needs the ErrorResponse or, when the server
//! closes instead, nothing is reported.

use crate::io::{clean, exchange};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct PgsqlInfo;

static INFO: CheckInfo = CheckInfo {
    id: "pgsql-info",
    description: "a PostgreSQL server is reachable (TLS offered, protocol versions)",
    category: Category::Safe,
    severity: Severity::Info,
    references: &["https://www.postgresql.org/docs/current/auth-pg-hba-conf.html"],
    services: &["postgresql"],
    ports: &[5432],
    protocol: Protocol::Tcp,
    plain_only: true,
};

const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// StartupMessage, length 9, protocol 0.0, no parameters (one NUL).
const STARTUP_V0: [u8; 9] = [0, 0, 0, 9, 0, 0, 0, 0, 0];

impl Check for PgsqlInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let ssl = exchange(ctx, &SSL_REQUEST, 1, |b| !b.is_empty()).await;
            let err = exchange(ctx, &STARTUP_V0, 4096, whole_message).await?;
            parse(ssl.as_deref().and_then(|b| b.first().copied()), &err)
        })
    }
}

/// Whether the first backend message (type byte, 4-byte length that
/// counts itself) is all in.
fn whole_message(b: &[u8]) -> bool {
    if b.len() < 5 {
        return false;
    }
    let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
    b.len() > len
}

fn parse(ssl: Option<u8>, b: &[u8]) -> Option<Finding> {
    if b.first() != Some(&b'E') || !whole_message(b) {
        return None;
    }
    let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
    if len < 4 {
        return None;
    }
    let body = &b[5..1 + len];
    let mut sqlstate = None;
    let mut message = None;
    let mut severity = None;
    for field in body.split(|&c| c == 0) {
        let Some((&tag, value)) = field.split_first() else {
            continue;
        };
        let value = clean(&String::from_utf8_lossy(value), 160);
        match tag {
            b'C' => sqlstate = Some(value),
            b'M' => message = Some(value),
            b'S' => severity = Some(value),
            _ => {}
        }
    }
    let (sqlstate, message) = (sqlstate?, message?);
    // SQLSTATE is five characters from [0-9A-Z] (PostgreSQL appendix A).
    let valid = sqlstate.len() == 5
        && sqlstate
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    if !valid || severity.is_none() {
        return None;
    }
    let mut items = vec![ScriptItem::elem("Product", "PostgreSQL")];
    let tls = match ssl {
        Some(b'S') => Some("yes"),
        Some(b'N') => Some("no"),
        _ => None,
    };
    if let Some(t) = tls {
        items.push(ScriptItem::elem("TLS offered", t));
    }
    if let Some(v) = supported(&message) {
        items.push(ScriptItem::elem("Protocol versions", v));
    }
    items.push(ScriptItem::elem("Error", format!("{sqlstate} {message}")));
    Some(Finding::new("PostgreSQL reachable", items))
}

/// "… server supports 3.0 to 3.2": the range.
fn supported(message: &str) -> Option<String> {
    let rest = message.split("supports ").nth(1)?;
    Some(rest.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(k.as_bytes());
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut v = vec![b'E'];
        v.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        v.extend_from_slice(&body);
        v
    }

    #[test]
    fn unsupported_protocol_error_is_a_finding() {
        let e = error(&[
            ("S", "FATAL"),
            ("V", "FATAL"),
            ("C", "0A000"),
            (
                "M",
                "unsupported frontend protocol 0.0: server supports 3.0 to 3.0",
            ),
            ("F", "postmaster.c"),
        ]);
        let f = parse(Some(b'N'), &e).unwrap();
        assert_eq!(f.items[1], ScriptItem::elem("TLS offered", "no"));
        assert_eq!(
            f.items[2],
            ScriptItem::elem("Protocol versions", "3.0 to 3.0")
        );
    }

    #[test]
    fn malformed_replies_are_nothing() {
        assert!(parse(None, b"").is_none());
        assert!(parse(None, b"E\xff\xff\xff\xff").is_none());
        assert!(parse(None, b"E\0\0\0\0").is_none());
        assert!(parse(None, b"E\0\0\0\x02xx").is_none());
        assert!(parse(None, &error(&[("S", "FATAL"), ("M", "x")])).is_none());
        assert!(parse(None, &error(&[("S", "E"), ("C", "bad!!"), ("M", "x")])).is_none());
        assert!(parse(None, b"HTTP/1.1 400 Bad Request\r\n\r\n").is_none());
        assert!(parse(None, b"SSH-2.0-x\r\n").is_none());
    }
}
