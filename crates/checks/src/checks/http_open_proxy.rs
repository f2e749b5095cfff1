//! `http-open-proxy`: the HTTP proxy relays a request from anyone (RFC
//! 9112 section 3.2.2: a request target in absolute form asks a proxy to
//! forward it).
//!
//! Relaying is more than reading, so the check is `intrusive`, and it
//! only ever asks for the URL the user names with `--script-args
//! http-open-proxy.url=http://HOST:PORT/PATH` (an address the user
//! controls): without it the check sends nothing. The proxy must answer
//! 2xx, and when `http-open-proxy.expect=TEXT` is given the body must
//! contain it, so a proxy's own page cannot pass for a relayed one. It
//! applies to `http` services too: -sV names some proxies (tinyproxy) so.

use crate::io::{clean, exchange, find, HttpResponse};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct HttpOpenProxy;

static INFO: CheckInfo = CheckInfo {
    id: "http-open-proxy",
    description: "the HTTP proxy relays requests from anyone (needs http-open-proxy.url)",
    category: Category::Intrusive,
    severity: Severity::High,
    references: &[
        "CWE-441",
        "http://www.squid-cache.org/Doc/config/http_access/",
    ],
    services: &["http-proxy", "squid-http", "polipo", "http"],
    ports: &[3128, 8080, 8118, 8888],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for HttpOpenProxy {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let url = ctx.args.get("http-open-proxy.url")?;
            let host = url.strip_prefix("http://")?.split('/').next()?;
            if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return None;
            }
            let req = format!(
                "GET {url} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: portolan\r\nConnection: close\r\n\r\n"
            );
            let raw = exchange(ctx, req.as_bytes(), 32 * 1024, |_| false).await?;
            let r = HttpResponse::parse(&raw)?;
            if !(200..300).contains(&r.status) {
                return None;
            }
            if let Some(expect) = ctx.args.get("http-open-proxy.expect") {
                find(&r.body, expect.as_bytes())?;
            }
            let items = vec![
                ScriptItem::elem("relayed", clean(url, 200)),
                ScriptItem::elem("status", r.status.to_string()),
            ];
            Some(Finding::new(
                "HTTP proxy relays requests from anyone",
                items,
            ))
        })
    }
}
