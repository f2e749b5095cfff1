//! `weblogic-t3`: Oracle WebLogic answers its T3 protocol, which carries
//! Java serialized objects and has been the way in for a series of
//! unauthenticated remote-code-execution flaws.
//!
//! Sends the T3 client greeting `t3 12.2.1\nAS:255\nHL:19\n\n` and reads
//! the server's `HELO:<version>.<bool>` line (the T3 handshake as Oracle's
//! advisories and the WebLogic connection-filter docs describe it). A
//! server whose connection filter blocks T3 closes or answers without
//! `HELO:`: nothing. Only the greeting is sent; no object is.

use crate::io::{clean, exchange};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct WeblogicT3;

static INFO: CheckInfo = CheckInfo {
    id: "weblogic-t3",
    description: "Oracle WebLogic answers the T3 protocol (version)",
    category: Category::Safe,
    severity: Severity::High,
    references: &[
        "CVE-2015-4852",
        "CVE-2018-2628",
        "CVE-2020-2555",
        "https://docs.oracle.com/en/middleware/standalone/weblogic-server/14.1.1.0/lockd/secure.html",
    ],
    services: &["t3", "weblogic", "oracle-weblogic"],
    ports: &[7001, 7002],
    protocol: Protocol::Tcp,
    plain_only: true,
};

const HELLO: &[u8] = b"t3 12.2.1\nAS:255\nHL:19\n\n";

impl Check for WeblogicT3 {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let reply = exchange(ctx, HELLO, 1024, |b| b.windows(2).any(|w| w == b"\n\n")).await?;
            parse(&reply)
        })
    }
}

fn parse(reply: &[u8]) -> Option<Finding> {
    let text = String::from_utf8_lossy(reply);
    let helo = text.lines().next()?.strip_prefix("HELO:")?;
    // "12.2.1.3.0.false": the version, then whether the peer is a client.
    let version = helo
        .trim()
        .trim_end_matches(".false")
        .trim_end_matches(".true");
    let valid = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !valid {
        return None;
    }
    let version = clean(version, 40);
    let mut items = vec![ScriptItem::elem("T3 version", version.clone())];
    for l in text.lines().skip(1) {
        if let Some(v) = l.strip_prefix("AS:") {
            items.push(ScriptItem::elem("Abbreviation table size", clean(v, 20)));
        }
    }
    Some(Finding::new(
        format!("WebLogic {version} answers T3"),
        items,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helo_is_a_finding_and_garbage_is_not() {
        let f = parse(b"HELO:12.2.1.3.0.false\nAS:2048\nHL:19\nMS:10000000\n\n").unwrap();
        assert_eq!(f.summary, "WebLogic 12.2.1.3.0 answers T3");
        assert!(parse(b"HELO:\n\n").is_none());
        assert!(parse(b"HELO:abc\n\n").is_none());
        assert!(parse(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_none());
        assert!(parse(b"").is_none());
        assert!(parse(&[0xff; 100]).is_none());
    }
}
