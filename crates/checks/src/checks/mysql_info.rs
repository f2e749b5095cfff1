//! `mysql-info`: a MySQL or MariaDB server is reachable.
//!
//! It only reads what the server sends first (MySQL client/server
//! protocol, "Initial Handshake Packet", dev.mysql.com/doc/dev/mysql-server
//! /latest/page_protocol_connection_phase_packets_protocol_handshake_v10
//! .html): a version-10 greeting names the version (MariaDB's carries
//! "MariaDB"), and a server that refuses the client's host sends an ERR
//! packet (0xff, error 1130 "Host ... is not allowed to connect") whose
//! text still names the product. Nothing is sent: no login is tried.

use crate::io::{clean, connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct MysqlInfo;

static INFO: CheckInfo = CheckInfo {
    id: "mysql-info",
    description: "a MySQL or MariaDB server is reachable (greeting: product, version)",
    category: Category::Safe,
    severity: Severity::Info,
    references: &["https://dev.mysql.com/doc/refman/8.0/en/security-guidelines.html"],
    services: &["mysql", "mariadb"],
    ports: &[3306],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for MysqlInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let mut buf = Vec::new();
            read_until(&mut s, &mut buf, 4096, whole_packet)
                .await
                .ok()?;
            parse(&buf)
        })
    }
}

/// Whether the first packet (3-byte little-endian length, sequence byte)
/// is all in.
fn whole_packet(b: &[u8]) -> bool {
    b.len() >= 4 && b.len() >= 4 + (b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16)
}

fn parse(b: &[u8]) -> Option<Finding> {
    if !whole_packet(b) || b[3] != 0 {
        return None;
    }
    let len = b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16;
    let p = &b[4..4 + len];
    match p.first()? {
        0x0a => {
            let end = p[1..].iter().position(|&c| c == 0)? + 1;
            let version = std::str::from_utf8(&p[1..end]).ok()?;
            if version.is_empty() || !version.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            let id = p.get(end + 1..end + 5)?;
            let thread = u32::from_le_bytes([id[0], id[1], id[2], id[3]]);
            let product = product_of(version);
            let items = vec![
                ScriptItem::elem("Product", product),
                ScriptItem::elem("Version", clean(version, 80)),
                ScriptItem::elem("Protocol", "10"),
                ScriptItem::elem("Thread ID", thread.to_string()),
            ];
            Some(Finding::new(
                format!("{product} {} reachable", clean(version, 80)),
                items,
            ))
        }
        0xff => {
            let code = u16::from_le_bytes([*p.get(1)?, *p.get(2)?]);
            let mut msg = p.get(3..)?;
            if msg.first() == Some(&b'#') {
                msg = msg.get(6..)?;
            }
            let msg = clean(&String::from_utf8_lossy(msg), 120);
            let lower = msg.to_ascii_lowercase();
            let product = if lower.contains("mariadb") {
                "MariaDB"
            } else if lower.contains("mysql") {
                "MySQL"
            } else {
                return None;
            };
            Some(Finding::new(
                format!("{product} reachable (refuses this host: error {code})"),
                vec![
                    ScriptItem::elem("Product", product),
                    ScriptItem::elem("Error", format!("{code} {msg}")),
                ],
            ))
        }
        _ => None,
    }
}

fn product_of(version: &str) -> &'static str {
    if version.to_ascii_lowercase().contains("mariadb") {
        "MariaDB"
    } else {
        "MySQL"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(payload: &[u8]) -> Vec<u8> {
        let n = payload.len();
        let mut v = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, 0];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn greeting_and_host_refusal_are_findings() {
        let mut g = vec![0x0a];
        g.extend_from_slice(b"5.5.5-10.11.6-MariaDB-0+deb12u1\0");
        g.extend_from_slice(&7u32.to_le_bytes());
        g.extend_from_slice(b"abcdefgh\0");
        let f = parse(&packet(&g)).unwrap();
        assert_eq!(
            f.summary,
            "MariaDB 5.5.5-10.11.6-MariaDB-0+deb12u1 reachable"
        );
        assert_eq!(f.items[3], ScriptItem::elem("Thread ID", "7"));
        let mut e = vec![0xff, 0x6a, 0x04];
        e.extend_from_slice(b"Host '198.18.0.1' is not allowed to connect to this MySQL server");
        let f = parse(&packet(&e)).unwrap();
        assert_eq!(f.items[0], ScriptItem::elem("Product", "MySQL"));
        assert!(f.summary.contains("error 1130"));
    }

    #[test]
    fn malformed_greetings_are_nothing() {
        assert!(parse(b"").is_none());
        assert!(parse(&[0xff, 0xff, 0xff, 0]).is_none());
        assert!(parse(&packet(&[0x0a])).is_none());
        assert!(parse(&packet(b"\x0a5.7.0")).is_none());
        assert!(parse(&packet(b"\x0a5.7.0\0\x01")).is_none());
        assert!(parse(&packet(&[0xff])).is_none());
        assert!(parse(&packet(b"\xff\x01\x02some other error")).is_none());
        assert!(parse(&packet(b"SSH-2.0-OpenSSH")).is_none());
        assert!(parse(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_none());
    }
}
