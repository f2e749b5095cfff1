//! `vnc-info`: the VNC server offers the "None" security type, so anyone
//! who reaches the port sees and drives the desktop with no password
//! (RFB 3.3–3.8, RFC 6143 sections 7.1.1–7.1.2 and 7.2).
//!
//! The server greets with its `RFB xxx.yyy` version; we answer with the
//! highest version both speak (3.8 at most). From 3.7 on, the server then
//! lists its security types (a count byte and the types, or a count of 0
//! and a reason); a 3.3 server names the one type it chose as a 32-bit
//! number. A server offering VeNCrypt (type 19) is asked for its
//! subtype list, where TLSNone and X509None also mean no password.
//! Nothing is authenticated: the check stops at the lists.
//! Written by hand: the exchange is two short reads and no crate covers it.

use crate::io::{clean, connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;

pub(crate) struct VncInfo;

static INFO: CheckInfo = CheckInfo {
    id: "vnc-info",
    description: "the VNC server offers the None security type (no password)",
    category: Category::Safe,
    severity: Severity::High,
    references: &["RFC 6143 section 7.2.1", "CVE-2006-2369"],
    services: &["vnc"],
    ports: &[5900, 5901, 5902],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// Security type 1 (RFC 6143 section 7.2.1).
const NONE: u8 = 1;
/// Security type 19, VeNCrypt (IANA's RFB registry).
const VENCRYPT: u8 = 19;
/// VeNCrypt subtypes with no password: TLSNone and X509None.
const NO_PASSWORD_SUBTYPES: &[u32] = &[257, 260];

impl Check for VncInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let mut buf = Vec::new();
            read_until(&mut s, &mut buf, 12, |b| b.len() >= 12)
                .await
                .ok()?;
            let (major, minor) = version(&buf)?;
            let (ours, legacy) = reply_version(major, minor);
            s.write_all(ours).await.ok()?;
            let mut rest = Vec::new();
            read_until(&mut s, &mut rest, 4096, |b| complete(b, legacy))
                .await
                .ok()?;
            let types = security_types(&rest, legacy)?;
            // VeNCrypt wraps its own list, which may hold TLSNone or
            // X509None (TLS, but still no password).
            let subtypes = if !legacy && types.contains(&VENCRYPT) && !types.contains(&NONE) {
                vencrypt_subtypes(&mut s).await.unwrap_or_default()
            } else {
                Vec::new()
            };
            let open_sub = subtypes.iter().any(|t| NO_PASSWORD_SUBTYPES.contains(t));
            if !types.contains(&NONE) && !open_sub {
                return None;
            }
            let names = types
                .iter()
                .map(|&t| ScriptItem::value(format!("{} ({t})", type_name(t))))
                .collect();
            let mut items = vec![
                ScriptItem::elem("Protocol version", format!("{major}.{minor}")),
                ScriptItem::table("Security types", names),
            ];
            if !subtypes.is_empty() {
                let subs = subtypes
                    .iter()
                    .map(|&t| ScriptItem::value(format!("{} ({t})", subtype_name(t))))
                    .collect();
                items.push(ScriptItem::table("VeNCrypt subtypes", subs));
            }
            Some(Finding::new(
                format!(
                    "VNC server (RFB {}) allows access with no password",
                    clean(&format!("{major}.{minor}"), 12)
                ),
                items,
            ))
        })
    }
}

/// The server's `RFB xxx.yyy\n` greeting as (major, minor).
fn version(b: &[u8]) -> Option<(u16, u16)> {
    let g = b.get(..12)?;
    if &g[..4] != b"RFB " || g[7] != b'.' || g[11] != b'\n' {
        return None;
    }
    let num = |d: &[u8]| std::str::from_utf8(d).ok()?.parse::<u16>().ok();
    Some((num(&g[4..7])?, num(&g[8..11])?))
}

/// What we answer, and whether it is the 3.3 exchange (one type, no list).
fn reply_version(major: u16, minor: u16) -> (&'static [u8], bool) {
    match (major, minor) {
        (3, m) if m < 7 => (b"RFB 003.003\n", true),
        (3, 7) => (b"RFB 003.007\n", false),
        _ => (b"RFB 003.008\n", false),
    }
}

/// Whether `b` holds the whole security-type message.
fn complete(b: &[u8], legacy: bool) -> bool {
    if legacy {
        return b.len() >= 4;
    }
    match b.first() {
        None => false,
        Some(0) => b.len() >= 5,
        Some(&n) => b.len() > usize::from(n),
    }
}

/// The security types offered; `None` for a refusal or a malformed reply.
fn security_types(b: &[u8], legacy: bool) -> Option<Vec<u8>> {
    if legacy {
        let t = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
        return match t {
            1 | 2 => Some(vec![t as u8]),
            _ => None,
        };
    }
    let n = usize::from(*b.first()?);
    if n == 0 {
        return None;
    }
    Some(b.get(1..=n)?.to_vec())
}

/// Chooses VeNCrypt and reads its subtype list (version 0.2: the
/// server's version, ours, an acknowledgement byte, a count and 32-bit
/// subtypes). We stop there: no subtype is chosen and no TLS starts.
async fn vencrypt_subtypes(s: &mut tokio::net::TcpStream) -> Option<Vec<u32>> {
    s.write_all(&[VENCRYPT]).await.ok()?;
    let mut v = Vec::new();
    read_until(s, &mut v, 2, |b| b.len() >= 2).await.ok()?;
    if v.get(..2)? != [0, 2] {
        return None;
    }
    s.write_all(&[0, 2]).await.ok()?;
    let mut list = Vec::new();
    read_until(s, &mut list, 2 + 4 * 255, vencrypt_complete)
        .await
        .ok()?;
    parse_vencrypt(&list)
}

fn vencrypt_complete(b: &[u8]) -> bool {
    match b {
        [0, n, rest @ ..] => rest.len() >= 4 * usize::from(*n),
        [_, ..] if b[0] != 0 => true,
        _ => false,
    }
}

/// The subtypes after an acknowledgement of 0; `None` otherwise.
fn parse_vencrypt(b: &[u8]) -> Option<Vec<u32>> {
    let [0, n] = *b.get(..2)? else {
        return None;
    };
    let rest = &b[2..];
    let body = rest.get(..4 * usize::from(n))?;
    Some(
        body.chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// VeNCrypt subtype names.
fn subtype_name(t: u32) -> &'static str {
    match t {
        256 => "Plain",
        257 => "TLSNone",
        258 => "TLSVnc",
        259 => "TLSPlain",
        260 => "X509None",
        261 => "X509Vnc",
        262 => "X509Plain",
        263 => "TLSSASL",
        264 => "X509SASL",
        _ => "unknown",
    }
}

/// IANA's RFB security type names.
fn type_name(t: u8) -> &'static str {
    match t {
        1 => "None",
        2 => "VNC Authentication",
        5 => "RA2",
        6 => "RA2ne",
        16 => "Tight",
        17 => "Ultra",
        18 => "TLS",
        19 => "VeNCrypt",
        20 => "GTK-VNC SASL",
        21 => "MD5 hash authentication",
        22 => "Colin Dean xvp",
        30 => "Apple Remote Desktop",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_and_type_lists_parse_and_garbage_does_not() {
        assert_eq!(version(b"RFB 003.008\n"), Some((3, 8)));
        assert_eq!(version(b"RFB 003.889\n"), Some((3, 889)));
        assert_eq!(reply_version(3, 889).0, b"RFB 003.008\n");
        assert_eq!(reply_version(3, 3), (&b"RFB 003.003\n"[..], true));
        for bad in [&b"SSH-2.0-x\r\n"[..], b"RFB 0a3.008\n", b"RFB 003.008", b""] {
            assert_eq!(version(bad), None);
        }
        assert_eq!(security_types(&[2, 1, 2], false), Some(vec![1, 2]));
        assert!(complete(&[2, 1, 2], false) && !complete(&[2, 1], false));
        assert_eq!(security_types(&[2, 1], false), None);
        assert_eq!(security_types(&[0, 0, 0, 0, 3, b'b'], false), None);
        assert_eq!(security_types(&[0, 0, 0, 1], true), Some(vec![1]));
        assert_eq!(security_types(&[0, 0, 0, 9], true), None);
        assert_eq!(security_types(&[], true), None);
        assert_eq!(security_types(&[], false), None);
        assert_eq!(security_types(&[255], false), None);
        let list = [0, 2, 0, 0, 1, 1, 0, 0, 1, 2];
        assert!(vencrypt_complete(&list) && !vencrypt_complete(&list[..9]));
        assert!(vencrypt_complete(&[1]) && !vencrypt_complete(&[]));
        assert_eq!(parse_vencrypt(&list), Some(vec![257, 258]));
        assert_eq!(parse_vencrypt(&list[..9]), None);
        assert_eq!(parse_vencrypt(&[1, 0]), None);
        assert_eq!(parse_vencrypt(&[0, 0]), Some(vec![]));
        assert_eq!(parse_vencrypt(&[0]), None);
    }
}
