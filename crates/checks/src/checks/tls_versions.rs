//! `tls-versions`: the TLS service still accepts SSL 3.0 (RFC 7568
//! deprecates it), TLS 1.0 or TLS 1.1 (RFC 8996 deprecates both).
//!
//! For each old version one ClientHello (RFC 5246 section 7.4.1.2 layout,
//! which SSL 3.0 and TLS 1.0/1.1 share) offering only that version and
//! the CBC suites those versions used; a ServerHello that names the same
//! version proves the server accepts it. An alert or a hang-up is a
//! refusal. Nothing beyond the ServerHello is read.

use crate::io::{connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;

pub(crate) struct TlsVersions;

static INFO: CheckInfo = CheckInfo {
    id: "tls-versions",
    description: "the TLS service accepts SSL 3.0, TLS 1.0 or TLS 1.1",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &["RFC 8996", "RFC 7568", "CVE-2014-3566"],
    services: &[],
    ports: &[],
    protocol: Protocol::Tcp,
    plain_only: false,
};

/// The versions tried, oldest first.
const OLD: &[(u16, &str)] = &[(0x0300, "SSLv3"), (0x0301, "TLSv1.0"), (0x0302, "TLSv1.1")];

/// ECDHE-ECDSA, ECDHE-RSA, DHE-RSA and RSA with AES-CBC/3DES and SHA-1,
/// then the renegotiation SCSV.
const SUITES: &[u16] = &[
    0xc00a, 0xc009, 0xc014, 0xc013, 0x0039, 0x0033, 0x0035, 0x002f, 0x000a, 0x00ff,
];

impl Check for TlsVersions {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, _by_port: bool) -> bool {
        ctx.speaks_tls()
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut accepted = Vec::new();
            for &(version, name) in OLD {
                if accepts(ctx, version).await {
                    accepted.push(name);
                }
            }
            if accepted.is_empty() {
                return None;
            }
            let severity = if accepted.contains(&"SSLv3") {
                Severity::High
            } else {
                Severity::Medium
            };
            let items = vec![ScriptItem::table(
                "deprecated versions accepted",
                accepted.iter().map(|v| ScriptItem::value(*v)).collect(),
            )];
            let mut f = Finding::new(
                format!("TLS service accepts {}", accepted.join(", ")),
                items,
            );
            f.severity = Some(severity);
            Some(f)
        })
    }
}

/// Whether the server answers a ClientHello for `version` with a
/// ServerHello of that version.
async fn accepts(ctx: &Ctx, version: u16) -> bool {
    let Ok(mut s) = connect(ctx).await else {
        return false;
    };
    if s.write_all(&client_hello(version)).await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = read_until(&mut s, &mut buf, 16 * 1024, |b| b.len() >= 11).await;
    server_hello_version(&buf) == Some(version)
}

/// A ClientHello offering only `version`.
fn client_hello(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    // Random: fixed bytes serve as well as random ones for a probe.
    body.extend((0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    body.push(0); // no session ID
    body.extend(((SUITES.len() * 2) as u16).to_be_bytes());
    for s in SUITES {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // null compression only
    if version > 0x0300 {
        let mut ext = Vec::new();
        // supported_groups: x25519, secp256r1, secp384r1.
        ext.extend([
            0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
        ]);
        // ec_point_formats: uncompressed.
        ext.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
    }
    let mut hs = vec![1, 0];
    hs.extend((body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![0x16];
    rec.extend(version.min(0x0301).to_be_bytes());
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

/// The version of a ServerHello at the start of `b`: a handshake record
/// whose first message is a ServerHello.
fn server_hello_version(b: &[u8]) -> Option<u16> {
    if b.len() < 11 || b[0] != 0x16 || b[5] != 2 {
        return None;
    }
    Some(u16::from_be_bytes([b[9], b[10]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_lengths_add_up_and_server_hellos_are_read() {
        let h = client_hello(0x0301);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(u16::from_be_bytes([h[7], h[8]]) as usize, h.len() - 9);
        let hello = [0x16, 3, 1, 0, 0x4a, 2, 0, 0, 0x46, 3, 1];
        assert_eq!(server_hello_version(&hello), Some(0x0301));
        let alert = [0x15, 3, 1, 0, 2, 2, 70, 0, 0, 0, 0];
        assert_eq!(server_hello_version(&alert), None);
        assert_eq!(server_hello_version(&[0x16]), None);
    }
}
