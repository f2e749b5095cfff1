//! `zebra-vty`: a Quagga or FRRouting daemon's VTY (the telnet-style
//! configuration shell of zebra 2601, ripd 2602, ospfd 2604, bgpd 2605,
//! ...) is reachable.
//!
//! It only reads what the daemon sends first (FRR's `lib/vty.c` and the
//! FRR user guide, "Basic commands"): telnet option negotiation, the
//! banner `Hello, this is FRRouting (version X).` (Quagga: `Hello, this
//! is Quagga (version X).`), then either `User Access Verification` and a
//! `Password:` prompt, or, with `no login`, the command prompt itself:
//! the routing table is then anyone's to read and change (critical). A
//! VTY with no password and login on says so and closes: also nothing
//! to log in to, reported as the banner only. Nothing is sent beyond
//! refusing every telnet option.

use crate::io::{clean, connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;

pub(crate) struct ZebraVty;

static INFO: CheckInfo = CheckInfo {
    id: "zebra-vty",
    description: "a Quagga/FRRouting VTY is reachable (banner, password or none)",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &[
        "https://docs.frrouting.org/en/latest/basic.html",
        "CVE-1999-0502",
    ],
    services: &[
        "zebra", "ripd", "ripngd", "ospfd", "bgpd", "ospf6d", "quagga", "frr",
    ],
    ports: &[2601, 2602, 2603, 2604, 2605, 2606],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for ZebraVty {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, by_port: bool) -> bool {
        // -sV names a VTY `telnet` (it opens with telnet option
        // negotiation and has no rule of its own): on the VTY ports that
        // name counts too. Telnet elsewhere is not asked.
        let named = ctx
            .service
            .as_deref()
            .is_some_and(|s| INFO.services.contains(&s));
        let telnet_on_vty_port =
            ctx.service.as_deref() == Some("telnet") && INFO.ports.contains(&ctx.port);
        ctx.protocol == Protocol::Tcp
            && ctx.tunnel.is_none()
            && (named || telnet_on_vty_port || (by_port && INFO.ports.contains(&ctx.port)))
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let mut buf = Vec::new();
            let mut answered = 0;
            loop {
                let more = read_until(&mut s, &mut buf, 4096, |b| prompt(&text(b)).is_some())
                    .await
                    .ok()?;
                // Refuse each telnet option once (WILL -> DONT, DO -> WONT)
                // so a strict VTY goes on to its banner.
                let refusals = refuse(&buf[answered..]);
                answered = buf.len();
                if more || refusals.is_empty() {
                    break;
                }
                s.write_all(&refusals).await.ok()?;
            }
            parse(&buf)
        })
    }
}

/// The bytes with telnet commands (IAC sequences) removed.
fn text(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0xff {
            match b.get(i + 1) {
                Some(0xfb..=0xfe) => i += 3,
                Some(0xfa) => {
                    // Subnegotiation: up to IAC SE.
                    let end = b[i..].windows(2).position(|w| w == [0xff, 0xf0]);
                    i = end.map_or(b.len(), |e| i + e + 2);
                }
                _ => i += 2,
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The refusals for the options the peer asked about in `b`.
fn refuse(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in b.windows(3) {
        match w {
            [0xff, 0xfb, o] => out.extend_from_slice(&[0xff, 0xfe, *o]),
            [0xff, 0xfd, o] => out.extend_from_slice(&[0xff, 0xfc, *o]),
            _ => {}
        }
    }
    out
}

/// The prompt the text ends with: `Password:` or a `host>`/`host#`.
fn prompt(t: &str) -> Option<&str> {
    let last = t.trim_end_matches(' ').rsplit(['\n', '\r']).next()?;
    let last = last.trim();
    if last == "Password:" || (last.len() > 1 && (last.ends_with('>') || last.ends_with('#'))) {
        Some(last)
    } else {
        None
    }
}

fn parse(b: &[u8]) -> Option<Finding> {
    let t = text(b);
    let banner = t
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Hello, this is "))?;
    let rest = banner.strip_prefix("Hello, this is ")?;
    let (product, version) = match rest.split_once(" (version ") {
        Some((p, v)) => (p, v.trim_end_matches('.').trim_end_matches(')')),
        None => (rest.trim_end_matches('.'), ""),
    };
    if !matches!(product, "FRRouting" | "Quagga" | "Zebra" | "GNU Zebra") {
        return None;
    }
    let product = clean(product, 30);
    let mut items = vec![ScriptItem::elem("Product", product.clone())];
    if !version.is_empty() {
        items.push(ScriptItem::elem("Version", clean(version, 40)));
    }
    let (access, severity, summary) = match prompt(&t) {
        Some("Password:") => ("password", None, "asks for a password"),
        Some(_) => (
            "open (no password)",
            Some(Severity::Critical),
            "gives its shell without a password",
        ),
        None => (
            "closed (no password set)",
            Some(Severity::Info),
            "is reachable",
        ),
    };
    items.push(ScriptItem::elem("Access", access));
    let mut f = Finding::new(format!("{product} VTY {summary}"), items);
    f.severity = severity;
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEG: &[u8] = &[
        0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfe, 0x22, 0xff, 0xfd, 0x1f,
    ];

    fn reply(text: &str) -> Vec<u8> {
        let mut v = NEG.to_vec();
        v.extend_from_slice(text.as_bytes());
        v
    }

    #[test]
    fn banners_and_prompts_are_read() {
        let pw = reply("\r\nHello, this is FRRouting (version 8.4.4).\r\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\r\n\r\n\r\nUser Access Verification\r\n\r\nPassword: ");
        assert!(prompt(&text(&pw)).is_some());
        let f = parse(&pw).unwrap();
        assert_eq!(f.summary, "FRRouting VTY asks for a password");
        assert_eq!(f.items[1], ScriptItem::elem("Version", "8.4.4"));
        assert_eq!(f.severity, None);
        let open = reply("\r\nHello, this is Quagga (version 1.2.4).\r\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\r\n\r\nrouter> ");
        let f = parse(&open).unwrap();
        assert_eq!(f.severity, Some(Severity::Critical));
        assert_eq!(
            refuse(NEG),
            vec![0xff, 0xfe, 1, 0xff, 0xfe, 3, 0xff, 0xfc, 0x1f]
        );
    }

    #[test]
    fn malformed_replies_are_nothing() {
        assert!(parse(b"").is_none());
        assert!(parse(&[0xff]).is_none());
        assert!(parse(&[0xff, 0xfa, 1, 2, 3]).is_none());
        assert!(parse(b"Hello, this is Evil (version 1)\r\nPassword: ").is_none());
        assert!(parse(b"SSH-2.0-OpenSSH\r\n").is_none());
        assert!(parse(&reply("Hello, this is FRRouting (version ")).is_none());
    }
}
