//! `smb-protocols`: the SMB server still accepts SMBv1 (the dialect
//! "NT LM 0.12"), the protocol of the MS17-010 worms (EternalBlue,
//! WannaCry) that Microsoft and Samba have deprecated.
//!
//! One connection per dialect, each offering only that dialect, so the
//! list is what the server accepts and not only what it prefers: an SMB1
//! NEGOTIATE ([MS-CIFS] 2.2.4.52) listing "NT LM 0.12", then an SMB2
//! NEGOTIATE ([MS-SMB2] 2.2.3) for each of 2.0.2, 2.1, 3.0, 3.0.2 and
//! 3.1.1 (the last with the negotiate contexts 3.1.1 requires). Nothing
//! logs in. On port 139 (`netbios-ssn`) a NetBIOS session request to
//! `*SMBSERVER` comes first (RFC 1002 section 4.3.2).
//!
//! The SMB wire code here is shared with `smb2-security-mode`. It is
//! written by hand: the few fixed-layout messages need no crate, and the
//! Rust SMB crates are clients that would log in.

use crate::io::{connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub(crate) struct SmbProtocols;

static INFO: CheckInfo = CheckInfo {
    id: "smb-protocols",
    description: "the SMB server accepts the deprecated SMBv1 dialect",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &[
        "CVE-2017-0144",
        "https://learn.microsoft.com/en-us/security-updates/securitybulletins/2017/ms17-010",
        "https://learn.microsoft.com/en-us/windows-server/storage/file-server/troubleshoot/detect-enable-and-disable-smbv1-v2-v3",
    ],
    services: SMB_SERVICES,
    ports: SMB_PORTS,
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// The `-sV` names of SMB ports.
pub(super) const SMB_SERVICES: &[&str] = &["microsoft-ds", "netbios-ssn"];
/// SMB's ports.
pub(super) const SMB_PORTS: &[u16] = &[445, 139];

/// SMB2 dialects, oldest first, with their names.
pub(super) const DIALECTS: &[(u16, &str)] = &[
    (0x0202, "2.0.2"),
    (0x0210, "2.1"),
    (0x0300, "3.0"),
    (0x0302, "3.0.2"),
    (0x0311, "3.1.1"),
];

/// The most one reply may hold.
const CAP: usize = 16 * 1024;

impl Check for SmbProtocols {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let smb1 = exchange(ctx, &smb1_negotiate())
                .await
                .is_some_and(|r| smb1_accepted(&r));
            if !smb1 {
                return None;
            }
            let mut names = vec![ScriptItem::value("NT LM 0.12 (SMBv1)")];
            for &(d, name) in DIALECTS {
                let accepted = exchange(ctx, &smb2_negotiate(&[d]))
                    .await
                    .and_then(|r| smb2_negotiated(&r))
                    .is_some_and(|n| n.dialect == d);
                if accepted {
                    names.push(ScriptItem::value(name));
                }
            }
            let items = vec![ScriptItem::table("dialects", names)];
            Some(Finding::new("SMB server accepts SMBv1 (NT LM 0.12)", items))
        })
    }
}

/// One SMB message over a fresh connection: its reply, without the
/// 4-byte session header.
pub(super) async fn exchange(ctx: &Ctx, msg: &[u8]) -> Option<Vec<u8>> {
    let mut s = connect(ctx).await.ok()?;
    if ctx.port != 445 && ctx.service.as_deref() != Some("microsoft-ds") {
        session_request(&mut s).await?;
    }
    s.write_all(&frame(msg)).await.ok()?;
    let mut buf = Vec::new();
    read_until(&mut s, &mut buf, CAP, framed).await.ok()?;
    unframe(&buf).map(<[u8]>::to_vec)
}

/// RFC 1002's session request to `*SMBSERVER`; `None` unless accepted.
async fn session_request(s: &mut TcpStream) -> Option<()> {
    let mut body = netbios_name("*SMBSERVER", 0x20);
    body.extend(netbios_name("PORTOLAN", 0x00));
    let mut req = vec![0x81, 0, 0, body.len() as u8];
    req.extend(body);
    s.write_all(&req).await.ok()?;
    let mut buf = Vec::new();
    read_until(s, &mut buf, 64, |b| b.len() >= 4).await.ok()?;
    (buf.first() == Some(&0x82)).then_some(())
}

/// A NetBIOS name in RFC 1001's first-level encoding (section 14.1).
fn netbios_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    for (d, s) in raw.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    raw[15] = suffix;
    let mut out = vec![32];
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

/// Wraps a message in the direct-TCP session header (type 0, 24-bit length).
fn frame(msg: &[u8]) -> Vec<u8> {
    let n = msg.len() as u32;
    let mut out = vec![0, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    out.extend_from_slice(msg);
    out
}

fn framed(b: &[u8]) -> bool {
    unframe(b).is_some()
}

/// The message in a session-service frame, once all of it is in.
fn unframe(b: &[u8]) -> Option<&[u8]> {
    let h = b.get(..4)?;
    if h[0] != 0 {
        return None;
    }
    let n = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
    b.get(4..4 + n)
}

/// An SMB1 NEGOTIATE offering only "NT LM 0.12".
fn smb1_negotiate() -> Vec<u8> {
    let mut m = vec![0xff, b'S', b'M', b'B', 0x72, 0, 0, 0, 0, 0x18];
    m.extend_from_slice(&0xc801u16.to_le_bytes()); // Flags2: unicode, NT status, long names
    m.extend_from_slice(&[0; 12]); // PIDHigh, SecuritySignature, Reserved
    m.extend_from_slice(&[0, 0, 0xff, 0xfe, 0, 0, 0, 0]); // TID, PIDLow, UID, MID
    let dialect = b"\x02NT LM 0.12\x00";
    m.push(0); // WordCount
    m.extend_from_slice(&(dialect.len() as u16).to_le_bytes());
    m.extend_from_slice(dialect);
    m
}

/// Whether an SMB1 NEGOTIATE reply chose our one dialect.
fn smb1_accepted(r: &[u8]) -> bool {
    let ok_header = r.get(..5) == Some(&[0xff, b'S', b'M', b'B', 0x72][..]);
    let status = r
        .get(5..9)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let words = r.get(32).copied().unwrap_or(0);
    let index = r.get(33..35).map(|d| u16::from_le_bytes([d[0], d[1]]));
    ok_header && status == Some(0) && words >= 1 && index == Some(0)
}

/// An SMB2 NEGOTIATE offering `dialects` (signing enabled, not required).
pub(super) fn smb2_negotiate(dialects: &[u16]) -> Vec<u8> {
    let mut m = vec![0xfe, b'S', b'M', b'B', 64, 0, 0, 0];
    m.extend_from_slice(&[0; 4]); // Status
    m.extend_from_slice(&[0, 0, 1, 0]); // Command NEGOTIATE, CreditRequest 1
    m.extend_from_slice(&[0; 48]); // Flags .. Signature
    let with_contexts = dialects.contains(&0x0311);
    m.extend_from_slice(&36u16.to_le_bytes());
    m.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // SecurityMode: signing enabled
    m.extend_from_slice(&[0; 2]);
    m.extend_from_slice(&0u32.to_le_bytes()); // Capabilities
    m.extend_from_slice(b"portolan-smb-chk"); // ClientGuid
    let ctx_at = (100 + 2 * dialects.len()).next_multiple_of(8);
    if with_contexts {
        m.extend_from_slice(&(ctx_at as u32).to_le_bytes());
        m.extend_from_slice(&2u16.to_le_bytes());
        m.extend_from_slice(&[0; 2]);
    } else {
        m.extend_from_slice(&[0; 8]); // ClientStartTime
    }
    for d in dialects {
        m.extend_from_slice(&d.to_le_bytes());
    }
    if with_contexts {
        m.resize(ctx_at, 0);
        // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: SHA-512 and a 32-byte salt.
        m.extend_from_slice(&[1, 0, 38, 0, 0, 0, 0, 0, 1, 0, 32, 0, 1, 0]);
        m.extend_from_slice(&[0x5a; 32]);
        m.resize(m.len().next_multiple_of(8), 0);
        // SMB2_ENCRYPTION_CAPABILITIES: AES-128-GCM and AES-128-CCM.
        m.extend_from_slice(&[2, 0, 6, 0, 0, 0, 0, 0, 2, 0, 2, 0, 1, 0]);
    }
    m
}

/// What an SMB2 NEGOTIATE reply says.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Negotiated {
    /// The chosen dialect.
    pub dialect: u16,
    /// SecurityMode: 1 = signing enabled, 2 = signing required.
    pub security_mode: u16,
}

/// A successful SMB2 NEGOTIATE reply, if `r` is one.
pub(super) fn smb2_negotiated(r: &[u8]) -> Option<Negotiated> {
    if r.get(..4)? != b"\xfeSMB" || r.get(12..14)? != [0, 0] || r.get(8..12)? != [0; 4] {
        return None;
    }
    let u16_at = |i: usize| r.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    if u16_at(64)? != 65 {
        return None;
    }
    Some(Negotiated {
        security_mode: u16_at(66)?,
        dialect: u16_at(68)?,
    })
}

/// The name of an SMB2 dialect.
pub(super) fn dialect_name(d: u16) -> String {
    DIALECTS
        .iter()
        .find(|(x, _)| *x == d)
        .map_or_else(|| format!("0x{d:04x}"), |(_, n)| (*n).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smb2_reply(status: u32, mode: u16, dialect: u16) -> Vec<u8> {
        let mut r = vec![0xfe, b'S', b'M', b'B', 64, 0, 0, 0];
        r.extend_from_slice(&status.to_le_bytes());
        r.extend_from_slice(&[0, 0, 1, 0]);
        r.resize(64, 0);
        r.extend_from_slice(&65u16.to_le_bytes());
        r.extend_from_slice(&mode.to_le_bytes());
        r.extend_from_slice(&dialect.to_le_bytes());
        r.resize(128, 0);
        r
    }

    #[test]
    fn requests_have_the_layout_the_spec_gives() {
        let m = smb2_negotiate(&[0x0202, 0x0311]);
        assert_eq!(&m[64..68], &[36, 0, 2, 0]);
        assert_eq!(u32::from_le_bytes(m[92..96].try_into().unwrap()), 104);
        assert_eq!(&m[100..104], &[2, 2, 0x11, 3]);
        assert_eq!(&m[104..106], &[1, 0]);
        assert_eq!(&m[152..154], &[2, 0]);
        let m = smb1_negotiate();
        assert_eq!(m.len(), 35 + 12);
        assert_eq!(frame(&m)[..4], [0, 0, 0, 47]);
        assert_eq!(
            netbios_name("*SMBSERVER", 0x20)[1..5],
            [b'C', b'K', b'F', b'D']
        );
    }

    #[test]
    fn replies_parse_and_hostile_ones_do_not() {
        let r = smb2_reply(0, 1, 0x0311);
        assert_eq!(
            smb2_negotiated(&r),
            Some(Negotiated {
                security_mode: 1,
                dialect: 0x0311
            })
        );
        assert_eq!(smb2_negotiated(&smb2_reply(0xc000_000d, 1, 0x0311)), None);
        for n in 0..r.len().min(70) {
            assert_eq!(smb2_negotiated(&r[..n]), None);
        }
        let mut one = vec![0xff, b'S', b'M', b'B', 0x72, 0, 0, 0, 0];
        one.resize(32, 0);
        one.extend_from_slice(&[17, 0, 0]);
        assert!(smb1_accepted(&one));
        one[33] = 0xff;
        one[34] = 0xff;
        assert!(!smb1_accepted(&one));
        for n in 0..35 {
            assert!(!smb1_accepted(&one[..n]));
        }
        assert!(unframe(&[0, 0, 0, 9, 1, 2]).is_none());
        assert_eq!(unframe(&[0, 0, 0, 1, 7, 8]), Some(&[7][..]));
        assert!(unframe(&[0x85, 0, 0, 0]).is_none());
        assert_eq!(dialect_name(0x0210), "2.1");
        assert_eq!(dialect_name(0x02ff), "0x02ff");
    }
}
