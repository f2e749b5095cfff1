//! `memcached-info` and `memcached-udp`: memcached answers `stats`
//! without authentication (its text protocol, memcached's
//! `doc/protocol.txt`).
//!
//! Over TCP, `stats` answers with `STAT name value` lines ending in
//! `END`; a server with an auth file (`-Y`) or SASL answers an error
//! first. Over UDP the same command goes in one datagram behind the
//! 8-byte frame header; any answer makes the port a traffic amplifier
//! (CVE-2018-1000115), and exactly one datagram is sent.

use crate::io::{clean, exchange, find, udp_exchange};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct MemcachedInfo;
pub(crate) struct MemcachedUdp;

static TCP_INFO: CheckInfo = CheckInfo {
    id: "memcached-info",
    description: "memcached answers stats without authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &["https://github.com/memcached/memcached/wiki/SASLHowto"],
    services: &["memcached", "memcache"],
    ports: &[11211],
    protocol: Protocol::Tcp,
    plain_only: true,
};

static UDP_INFO: CheckInfo = CheckInfo {
    id: "memcached-udp",
    description: "memcached answers over UDP: a traffic amplification vector",
    category: Category::Safe,
    severity: Severity::High,
    references: &[
        "CVE-2018-1000115",
        "https://www.cisa.gov/news-events/alerts/2014/01/17/udp-based-amplification-attacks",
    ],
    services: &["memcached", "memcache"],
    ports: &[11211],
    protocol: Protocol::Udp,
    plain_only: true,
};

/// Stats worth showing, in order.
const FIELDS: &[(&str, &str)] = &[
    ("version", "Version"),
    ("pid", "Process ID"),
    ("uptime", "Uptime (s)"),
    ("curr_items", "Items"),
    ("curr_connections", "Connections"),
];

impl Check for MemcachedInfo {
    fn info(&self) -> &'static CheckInfo {
        &TCP_INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let done = |b: &[u8]| b.ends_with(b"END\r\n") || b.ends_with(b"ERROR\r\n");
            let reply = exchange(ctx, b"stats\r\n", 16 * 1024, done).await?;
            let items = stats(&reply)?;
            Some(Finding::new(
                "memcached answers stats without authentication",
                items,
            ))
        })
    }
}

impl Check for MemcachedUdp {
    fn info(&self) -> &'static CheckInfo {
        &UDP_INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            // Frame header: request ID, sequence 0, 1 datagram, reserved.
            let mut req = vec![0x50, 0x4c, 0, 0, 0, 1, 0, 0];
            req.extend_from_slice(b"stats\r\n");
            let reply = udp_exchange(ctx, &req, 2048).await?;
            if reply.len() < 8 || reply[..2] != req[..2] {
                return None;
            }
            let mut items = stats(&reply[8..]).unwrap_or_default();
            items.push(ScriptItem::elem("Request bytes", req.len().to_string()));
            items.push(ScriptItem::elem(
                "First reply bytes",
                reply.len().to_string(),
            ));
            Some(Finding::new(
                "memcached answers over UDP (amplification vector)",
                items,
            ))
        })
    }
}

/// The shown stats of a `STAT` reply; `None` unless it is one.
fn stats(reply: &[u8]) -> Option<Vec<ScriptItem>> {
    find(reply, b"STAT ")?;
    let text = String::from_utf8_lossy(reply);
    let items: Vec<ScriptItem> = FIELDS
        .iter()
        .filter_map(|(key, label)| {
            let v = text.lines().find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next()? == "STAT" && w.next()? == *key).then(|| w.next())?
            })?;
            Some(ScriptItem::elem(*label, clean(v, 60)))
        })
        .collect();
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_lines_are_a_finding_and_errors_are_not() {
        let s = stats(b"STAT pid 12\r\nSTAT version 1.6.18\r\nEND\r\n").unwrap();
        assert_eq!(s[0], ScriptItem::elem("Version", "1.6.18"));
        assert!(stats(b"CLIENT_ERROR unauthenticated\r\n").is_none());
        assert!(stats(b"STAT \r\n").is_none());
    }
}
