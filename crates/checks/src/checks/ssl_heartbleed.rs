//! `ssl-heartbleed` (CVE-2014-0160): the TLS server answers a heartbeat
//! request whose `payload_length` exceeds the payload actually sent, so
//! it copies that many bytes of its own memory into the reply.
//!
//! `intrusive`: a vulnerable server discloses process memory (keys,
//! passwords, other users' data), so the check is never in `default`
//! (`-sC`) and runs only when named (`--script ssl-heartbleed`,
//! `intrusive` or `all`). The disclosed bytes are counted, never kept or
//! shown.
//!
//! The exchange (RFC 5246 section 7.4 and RFC 6520): a ClientHello that
//! offers the heartbeat extension (`peer_allowed_to_send`); the server's
//! flight up to ServerHelloDone; if its ServerHello does not echo the
//! extension the server has no heartbeat (Debian's OpenSSL 3 and every
//! OpenSSL since 1.1.0) and nothing more is sent. Otherwise one
//! `heartbeat_request` record of 3 bytes: type 1 and a `payload_length`
//! of 16384 with no payload and no padding. RFC 6520 section 4 says such
//! a message MUST be discarded silently; a `heartbeat_response` carrying
//! payload is proof. A fixed TLS version each try (1.2, then 1.0 for
//! servers without 1.2); hand-written because no TLS library sends a
//! heartbeat with a lying length, on purpose.

use crate::io::{connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;

pub(crate) struct SslHeartbleed;

static INFO: CheckInfo = CheckInfo {
    id: "ssl-heartbleed",
    description: "the TLS heartbeat discloses server memory (Heartbleed); intrusive",
    category: Category::Intrusive,
    // CVSS 3.x 7.5.
    severity: Severity::High,
    references: &[
        "CVE-2014-0160",
        "RFC 6520",
        "https://www.openssl.org/news/secadv/20140407.txt",
    ],
    services: &[],
    ports: &[],
    protocol: Protocol::Tcp,
    plain_only: false,
};

/// The payload length the request claims (and does not carry).
const CLAIMED: u16 = 0x4000;

/// ECDHE and RSA key exchange with AES-GCM/CBC and 3DES (what 2014's
/// OpenSSL 1.0.1 servers took), then the renegotiation SCSV.
const SUITES: &[u16] = &[
    0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014, 0xc009, 0xc00a, 0x009c, 0x009d, 0x002f, 0x0035,
    0x000a, 0x00ff,
];

impl Check for SslHeartbleed {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, _by_port: bool) -> bool {
        ctx.speaks_tls()
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            for version in [0x0303u16, 0x0301] {
                match attempt(ctx, version).await {
                    Outcome::NoHandshake => continue,
                    Outcome::NoHeartbeat | Outcome::Refused => return None,
                    Outcome::Leaked(n) => return Some(finding(version, n)),
                }
            }
            None
        })
    }
}

fn finding(version: u16, leaked: usize) -> Finding {
    let name = if version == 0x0303 {
        "TLSv1.2"
    } else {
        "TLSv1.0"
    };
    Finding::new(
        format!(
            "TLS heartbeat returned {leaked} bytes of server memory (Heartbleed, CVE-2014-0160)"
        ),
        vec![
            ScriptItem::elem("State", "VULNERABLE"),
            ScriptItem::elem("Version", name),
            ScriptItem::elem("Requested payload", CLAIMED.to_string()),
            ScriptItem::elem("Bytes returned", leaked.to_string()),
        ],
    )
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// No ServerHello for this version.
    NoHandshake,
    /// The ServerHello did not accept the heartbeat extension.
    NoHeartbeat,
    /// The request was discarded (silence, an alert, a hang-up).
    Refused,
    /// A heartbeat response with this many payload bytes.
    Leaked(usize),
}

async fn attempt(ctx: &Ctx, version: u16) -> Outcome {
    let Ok(mut s) = connect(ctx).await else {
        return Outcome::NoHandshake;
    };
    if s.write_all(&client_hello(version)).await.is_err() {
        return Outcome::NoHandshake;
    }
    let mut buf = Vec::new();
    let _ = read_until(&mut s, &mut buf, 48 * 1024, |b| {
        flight(b).is_some_and(|f| f.done) || ends_in_alert(b)
    })
    .await;
    let Some(f) = flight(&buf).filter(|f| f.done) else {
        return Outcome::NoHandshake;
    };
    if !f.heartbeat {
        return Outcome::NoHeartbeat;
    }
    let used = f.consumed;
    let req = heartbeat_request(f.version);
    if s.write_all(&req).await.is_err() {
        return Outcome::Refused;
    }
    // A server that discards the request says nothing: wait at most half
    // the check's time for a reply, so a safe server costs no more.
    let mut rest = buf.split_off(used);
    let _ = tokio::time::timeout(
        ctx.timeout / 2,
        read_until(&mut s, &mut rest, 64 * 1024, |b| reply(b).is_some()),
    )
    .await;
    match reply(&rest) {
        Some(Some(n)) => Outcome::Leaked(n),
        _ => Outcome::Refused,
    }
}

/// A ClientHello for `version` offering the heartbeat extension.
fn client_hello(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend((0u8..32).map(|i| i.wrapping_mul(29).wrapping_add(7)));
    body.push(0); // no session ID
    body.extend(((SUITES.len() * 2) as u16).to_be_bytes());
    for s in SUITES {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // null compression only
    let mut ext = Vec::new();
    // supported_groups: x25519, secp256r1, secp384r1.
    ext.extend([
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
    ]);
    // ec_point_formats: uncompressed.
    ext.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    if version >= 0x0303 {
        // signature_algorithms: rsa_pkcs1_sha256/384, ecdsa_secp256r1_sha256,
        // rsa_pss_rsae_sha256, rsa_pkcs1_sha1.
        ext.extend([
            0x00, 0x0d, 0x00, 0x0c, 0x00, 0x0a, 0x04, 0x01, 0x05, 0x01, 0x04, 0x03, 0x08, 0x04,
            0x02, 0x01,
        ]);
    }
    // heartbeat (RFC 6520 section 2): mode peer_allowed_to_send (1).
    ext.extend([0x00, 0x0f, 0x00, 0x01, 0x01]);
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1, 0];
    hs.extend((body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![0x16];
    rec.extend(0x0301u16.to_be_bytes());
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

/// RFC 6520 section 4: a heartbeat_request (type 1) claiming
/// [`CLAIMED`] bytes of payload and carrying none.
fn heartbeat_request(version: u16) -> Vec<u8> {
    let mut rec = vec![24];
    rec.extend(version.to_be_bytes());
    rec.extend([0, 3, 1]);
    rec.extend(CLAIMED.to_be_bytes());
    rec
}

/// The TLS records complete at the start of `b`: (content type, body),
/// and the bytes they take.
fn records(b: &[u8]) -> (Vec<(u8, &[u8])>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while b.len() >= at + 5 {
        let len = usize::from(u16::from_be_bytes([b[at + 3], b[at + 4]]));
        if b.len() < at + 5 + len {
            break;
        }
        out.push((b[at], &b[at + 5..at + 5 + len]));
        at += 5 + len;
    }
    (out, at)
}

fn ends_in_alert(b: &[u8]) -> bool {
    records(b).0.iter().any(|(t, _)| *t == 21)
}

/// What the server's first flight says so far.
#[derive(Debug, PartialEq)]
struct Flight {
    /// The ServerHello's version.
    version: u16,
    /// Whether the ServerHello carries the heartbeat extension.
    heartbeat: bool,
    /// Whether ServerHelloDone came.
    done: bool,
    /// The bytes of the records read up to ServerHelloDone.
    consumed: usize,
}

/// Reads the handshake messages of the leading handshake records (a
/// message may span records); `None` before a ServerHello is whole or if
/// the first message is not one.
fn flight(b: &[u8]) -> Option<Flight> {
    let (recs, _) = records(b);
    let mut hs = Vec::new();
    let mut consumed = 0;
    let mut hello: Option<(u16, bool)> = None;
    for (t, body) in recs {
        if t != 22 {
            break;
        }
        hs.extend_from_slice(body);
        consumed += 5 + body.len();
        let mut at = 0;
        while hs.len() >= at + 4 {
            let len = usize::from(hs[at + 1]) << 16
                | usize::from(hs[at + 2]) << 8
                | usize::from(hs[at + 3]);
            let Some(msg) = hs.get(at + 4..at + 4 + len) else {
                break;
            };
            match (hs[at], hello) {
                (2, None) => hello = Some(server_hello(msg)?),
                (_, None) => return None,
                (14, Some((version, heartbeat))) => {
                    return Some(Flight {
                        version,
                        heartbeat,
                        done: true,
                        consumed,
                    })
                }
                _ => {}
            }
            at += 4 + len;
        }
        hs.drain(..at);
    }
    let (version, heartbeat) = hello?;
    Some(Flight {
        version,
        heartbeat,
        done: false,
        consumed,
    })
}

/// A ServerHello body: its version, and whether it carries extension 15.
fn server_hello(m: &[u8]) -> Option<(u16, bool)> {
    let version = u16::from_be_bytes([*m.first()?, *m.get(1)?]);
    let sid = usize::from(*m.get(34)?);
    // version, random, session ID, suite, compression.
    let mut at = 35 + sid + 3;
    let mut heartbeat = false;
    if m.len() >= at + 2 {
        let total = usize::from(u16::from_be_bytes([m[at], m[at + 1]]));
        at += 2;
        let end = (at + total).min(m.len());
        while at + 4 <= end {
            let t = u16::from_be_bytes([m[at], m[at + 1]]);
            let l = usize::from(u16::from_be_bytes([m[at + 2], m[at + 3]]));
            heartbeat |= t == 15;
            at += 4 + l;
        }
    } else if m.len() < at {
        return None;
    }
    Some((version, heartbeat))
}

/// After the request: `Some(Some(n))` for a heartbeat_response (type 2)
/// carrying `n` > 0 payload bytes; `Some(None)` for an alert, a response
/// with no payload or another record; `None` while nothing whole is in.
fn reply(b: &[u8]) -> Option<Option<usize>> {
    let (recs, _) = records(b);
    let (t, body) = recs.first()?;
    if *t != 24 || body.len() < 3 || body[0] != 2 {
        return Some(None);
    }
    let claimed = usize::from(u16::from_be_bytes([body[1], body[2]]));
    let carried = claimed.min(body.len() - 3);
    Some((carried > 0).then_some(carried))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(t: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![t, 3, 3];
        r.extend((body.len() as u16).to_be_bytes());
        r.extend(body);
        r
    }

    fn hello(ext: &[u8]) -> Vec<u8> {
        let mut m = vec![3, 3];
        m.extend([0u8; 32]);
        m.extend([0, 0xc0, 0x2f, 0]);
        if !ext.is_empty() {
            m.extend((ext.len() as u16).to_be_bytes());
            m.extend(ext);
        }
        let mut hs = vec![2, 0];
        hs.extend((m.len() as u16).to_be_bytes());
        hs.extend(m);
        hs
    }

    #[test]
    fn hello_lengths_add_up_and_offer_heartbeat() {
        let h = client_hello(0x0303);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(usize::from(u16::from_be_bytes([h[7], h[8]])), h.len() - 9);
        assert!(h.ends_with(&[0x00, 0x0f, 0x00, 0x01, 0x01]));
        assert_eq!(heartbeat_request(0x0303), [24, 3, 3, 0, 3, 1, 0x40, 0]);
    }

    #[test]
    fn flights_are_read_across_records_and_garbage_is_not() {
        let mut hs = hello(&[0x00, 0x0f, 0x00, 0x01, 0x01]);
        hs.extend([14, 0, 0, 0]);
        // Split the handshake over two records.
        let mut b = record(22, &hs[..10]);
        b.extend(record(22, &hs[10..]));
        let f = flight(&b).unwrap();
        assert_eq!(
            f,
            Flight {
                version: 0x0303,
                heartbeat: true,
                done: true,
                consumed: b.len()
            }
        );
        let mut plain = hello(&[0xff, 0x01, 0x00, 0x01, 0x00]);
        plain.extend([14, 0, 0, 0]);
        assert!(!flight(&record(22, &plain)).unwrap().heartbeat);
        assert!(!flight(&record(22, &hello(&[]))).unwrap().done);
        assert!(flight(&record(22, &[11, 0, 0, 0])).is_none());
        assert!(flight(&record(21, &[2, 40])).is_none());
        assert!(flight(&record(22, &[2, 0, 0, 3, 3, 3, 0])).is_none());
        assert!(flight(&[0x16, 3, 3, 0xff, 0xff, 2]).is_none());
    }

    #[test]
    fn only_a_response_with_payload_is_a_leak() {
        let mut leak = vec![2, 0x40, 0];
        leak.extend([0xaa; 100]);
        assert_eq!(reply(&record(24, &leak)), Some(Some(100)));
        assert_eq!(reply(&record(24, &[2, 0, 0])), Some(None));
        assert_eq!(reply(&record(21, &[2, 10])), Some(None));
        assert_eq!(reply(&record(24, &[1, 0x40, 0])), Some(None));
        assert_eq!(reply(&[24, 3, 3, 0x40]), None);
    }
}
