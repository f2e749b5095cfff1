//! `rdp-security`: the RDP server lets clients connect without Network
//! Level Authentication (NLA, CredSSP), so its login screen and the
//! pre-authentication code behind it (BlueKeep, CVE-2019-0708) are open
//! to anyone; worse, it may accept Standard RDP Security, whose RC4
//! channel an attacker in the path can intercept.
//!
//! Three X.224 Connection Requests, one per connection, each carrying an
//! RDP Negotiation Request ([MS-RDPBCGR] 2.2.1.1.1) for one choice:
//! Standard RDP Security (0), TLS (PROTOCOL_SSL, 1) and CredSSP with TLS
//! (PROTOCOL_HYBRID|PROTOCOL_SSL, 3). The Connection Confirm's RDP
//! Negotiation Response (2.2.1.2.1) names the protocol chosen, or its
//! Negotiation Failure (2.2.1.2.2) says why not. A confirm without
//! negotiation data comes from a server that only knows Standard RDP
//! Security. NLA is required when only the CredSSP request succeeds.
//! Nothing goes past the confirm. Written by hand: three fixed-size
//! messages.

use crate::io::exchange;
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct RdpSecurity;

static INFO: CheckInfo = CheckInfo {
    id: "rdp-security",
    description: "the RDP server does not require Network Level Authentication",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &[
        "CVE-2019-0708",
        "https://learn.microsoft.com/en-us/troubleshoot/windows-server/remote/understanding-remote-desktop-protocol",
        "MS-RDPBCGR section 5.4.5",
    ],
    services: &["ms-wbt-server"],
    ports: &[3389],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// requestedProtocols values.
const RDP: u32 = 0;
const SSL: u32 = 1;
const HYBRID: u32 = 2;

/// What one request got.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// The server chose this protocol.
    Selected(u32),
    /// It refused, with this failureCode.
    Failed(u32),
}

impl Check for RdpSecurity {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut answers = Vec::new();
            for want in [RDP, SSL, SSL | HYBRID] {
                let reply = exchange(ctx, &request(want), 512, |b| tpkt(b).is_some()).await;
                answers.push(reply.and_then(|r| confirm(&r)));
            }
            let [rdp, ssl, hybrid] = answers.as_slice() else {
                return None;
            };
            // Not RDP at all: no confirm to any request.
            if rdp.is_none() && ssl.is_none() && hybrid.is_none() {
                return None;
            }
            let standard = *rdp == Some(Answer::Selected(RDP));
            let tls = *ssl == Some(Answer::Selected(SSL));
            let nla = *hybrid == Some(Answer::Selected(HYBRID));
            let items = vec![
                ScriptItem::elem("Standard RDP Security", describe(rdp, RDP)),
                ScriptItem::elem("TLS", describe(ssl, SSL)),
                ScriptItem::elem("CredSSP (NLA)", describe(hybrid, HYBRID)),
                ScriptItem::elem(
                    "NLA required",
                    if nla && !standard && !tls {
                        "yes"
                    } else {
                        "no"
                    },
                ),
            ];
            let mut f = if standard {
                let mut f =
                    Finding::new("RDP accepts Standard RDP Security (no TLS, no NLA)", items);
                f.severity = Some(Severity::High);
                f
            } else if tls {
                Finding::new(
                    "RDP does not require NLA (TLS without CredSSP accepted)",
                    items,
                )
            } else {
                return None;
            };
            if !nla {
                f.summary.push_str("; CredSSP not offered");
            }
            Some(f)
        })
    }
}

/// An X.224 Connection Request with an RDP Negotiation Request.
fn request(protocols: u32) -> Vec<u8> {
    let mut m = vec![3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[1, 0, 8, 0]);
    m.extend_from_slice(&protocols.to_le_bytes());
    m
}

/// The TPKT (RFC 1006) packet at the start of `b`, once complete.
fn tpkt(b: &[u8]) -> Option<&[u8]> {
    if b.first() != Some(&3) {
        return None;
    }
    let n = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    if n < 4 {
        return None;
    }
    b.get(4..n)
}

/// The answer in an X.224 Connection Confirm, if `b` holds one.
fn confirm(b: &[u8]) -> Option<Answer> {
    let x224 = tpkt(b)?;
    let li = usize::from(*x224.first()?);
    if x224.get(1)? & 0xf0 != 0xd0 || li < 6 {
        return None;
    }
    let tpdu = x224.get(1..=li)?;
    let Some(neg) = tpdu.get(6..) else {
        return Some(Answer::Selected(RDP));
    };
    if neg.is_empty() {
        return Some(Answer::Selected(RDP));
    }
    let value = u32::from_le_bytes(neg.get(4..8)?.try_into().ok()?);
    match neg.first()? {
        2 => Some(Answer::Selected(value)),
        3 => Some(Answer::Failed(value)),
        _ => None,
    }
}

/// What the server did with a request for `wanted`.
fn describe(a: &Option<Answer>, wanted: u32) -> String {
    match a {
        None => "no answer".into(),
        Some(Answer::Selected(p)) if *p == wanted => "accepted".into(),
        Some(Answer::Selected(p)) => format!("not chosen (server selected {})", protocol_name(*p)),
        Some(Answer::Failed(code)) => format!("refused ({})", failure_name(*code)),
    }
}

fn protocol_name(p: u32) -> String {
    match p {
        0 => "PROTOCOL_RDP".into(),
        1 => "PROTOCOL_SSL".into(),
        2 => "PROTOCOL_HYBRID".into(),
        4 => "PROTOCOL_RDSTLS".into(),
        8 => "PROTOCOL_HYBRID_EX".into(),
        _ => format!("0x{p:x}"),
    }
}

/// failureCode names ([MS-RDPBCGR] 2.2.1.2.2).
fn failure_name(code: u32) -> String {
    match code {
        1 => "SSL_REQUIRED_BY_SERVER".into(),
        2 => "SSL_NOT_ALLOWED_BY_SERVER".into(),
        3 => "SSL_CERT_NOT_ON_SERVER".into(),
        4 => "INCONSISTENT_FLAGS".into(),
        5 => "HYBRID_REQUIRED_BY_SERVER".into(),
        6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER".into(),
        _ => format!("0x{code:x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(neg: &[u8]) -> Vec<u8> {
        let mut x = vec![(6 + neg.len()) as u8, 0xd0, 0, 0, 0x12, 0x34, 0];
        x.extend_from_slice(neg);
        let mut t = vec![3, 0, 0, (4 + x.len()) as u8];
        t.extend(x);
        t
    }

    #[test]
    fn confirms_parse_and_hostile_replies_do_not() {
        assert_eq!(request(3).len(), 19);
        assert_eq!(confirm(&cc(&[])), Some(Answer::Selected(RDP)));
        assert_eq!(
            confirm(&cc(&[2, 0, 8, 0, 1, 0, 0, 0])),
            Some(Answer::Selected(SSL))
        );
        assert_eq!(
            confirm(&cc(&[3, 0, 8, 0, 5, 0, 0, 0])),
            Some(Answer::Failed(5))
        );
        let good = cc(&[2, 0, 8, 0, 2, 0, 0, 0]);
        for n in 0..good.len() {
            assert_eq!(confirm(&good[..n]), None, "{n}");
        }
        assert_eq!(confirm(&cc(&[9, 0, 8, 0, 1, 0, 0, 0])), None);
        assert_eq!(confirm(&[3, 0, 0, 2]), None);
        assert_eq!(confirm(&[3, 0, 0, 5, 0xff]), None);
        assert_eq!(confirm(b"HTTP/1.1 400 Bad Request\r\n"), None);
        assert_eq!(
            describe(&Some(Answer::Failed(2)), SSL),
            "refused (SSL_NOT_ALLOWED_BY_SERVER)"
        );
        assert_eq!(describe(&Some(Answer::Selected(SSL)), SSL), "accepted");
        assert_eq!(
            describe(&Some(Answer::Selected(SSL)), HYBRID),
            "not chosen (server selected PROTOCOL_SSL)"
        );
    }
}
