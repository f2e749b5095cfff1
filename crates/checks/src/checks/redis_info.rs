//! `redis-info`: Redis answers `INFO` without authentication.
//!
//! Sends `INFO server` as a RESP array (the Redis serialization protocol,
//! redis.io/docs/reference/protocol-spec). A server with `requirepass`
//! answers `-NOAUTH`, one in protected mode `-DENIED`: both prove nothing.
//! A bulk-string reply with `redis_version:` proves anyone can run
//! commands, which on Redis means reading and writing every key.

use crate::io::{clean, exchange};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct RedisInfo;

static INFO: CheckInfo = CheckInfo {
    id: "redis-info",
    description: "Redis answers INFO without authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &[
        "https://redis.io/docs/latest/operate/oss_and_stack/management/security/",
        "CVE-2022-0543",
    ],
    services: &["redis"],
    ports: &[6379],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// Fields of the INFO reply worth showing, in order.
const FIELDS: &[(&str, &str)] = &[
    ("redis_version", "Version"),
    ("redis_mode", "Mode"),
    ("os", "Operating system"),
    ("arch_bits", "Architecture"),
    ("process_id", "Process ID"),
    ("uptime_in_seconds", "Uptime (s)"),
];

impl Check for RedisInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let req = b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n";
            let reply = exchange(ctx, req, 16 * 1024, complete).await?;
            parse(&reply)
        })
    }
}

/// Whether a whole RESP reply is in: an error or status line, or a bulk
/// string as long as its header says (capped by the read).
fn complete(b: &[u8]) -> bool {
    let Some(eol) = b.iter().position(|&c| c == b'\n') else {
        return false;
    };
    match b.first() {
        Some(b'$') => {
            let len: usize = std::str::from_utf8(&b[1..eol])
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            b.len() >= eol + 1 + len
        }
        _ => true,
    }
}

fn parse(reply: &[u8]) -> Option<Finding> {
    if reply.first() != Some(&b'$') {
        return None;
    }
    let text = String::from_utf8_lossy(reply);
    let mut items = Vec::new();
    for (key, label) in FIELDS {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'));
        if let Some(v) = value {
            items.push(ScriptItem::elem(*label, clean(v.trim(), 80)));
        }
    }
    if items.is_empty() {
        return None;
    }
    Some(Finding::new(
        "Redis answers commands without authentication",
        items,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_reply_is_a_finding_and_errors_are_not() {
        let body = "# Server\r\nredis_version:7.0.15\r\nos:Linux 6.1 x86_64\r\n";
        let reply = format!("${}\r\n{body}\r\n", body.len());
        assert!(complete(reply.as_bytes()));
        let f = parse(reply.as_bytes()).unwrap();
        assert_eq!(f.items[0], ScriptItem::elem("Version", "7.0.15"));
        assert!(parse(b"-NOAUTH Authentication required.\r\n").is_none());
        assert!(parse(b"-DENIED Redis is running in protected mode\r\n").is_none());
        assert!(parse(b"$99999999999999999999\r\n").is_none());
    }
}
