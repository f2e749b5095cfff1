//! `ms-sql-info`: a Microsoft SQL Server is reachable.
//!
//! Sends one TDS PRELOGIN packet ([MS-TDS] 2.2.6.5: packet type 0x12, an
//! option table of token/offset/length entries ended by 0xFF) and reads
//! the server's PRELOGIN response (packet type 0x04, the same option
//! table): its VERSION option (major, minor, build big-endian, sub-build)
//! names the release, and ENCRYPTION says whether TLS is off, on or
//! required. PRELOGIN comes before any login, so no credential is sent.

use crate::io::exchange;
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct MsSqlInfo;

static INFO: CheckInfo = CheckInfo {
    id: "ms-sql-info",
    description: "a Microsoft SQL Server is reachable (TDS PRELOGIN: version, encryption)",
    category: Category::Safe,
    severity: Severity::Info,
    references: &[
        "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tds/60f56408-0188-4cd5-8b90-25c6f2423868",
    ],
    services: &["ms-sql-s", "mssql"],
    ports: &[1433],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// PRELOGIN: VERSION (6 bytes, ours 0), ENCRYPTION (1: ENCRYPT_OFF),
/// THREADID (4), terminator; then the option data.
const PRELOGIN: &[u8] = &[
    0x12, 0x01, 0x00, 0x23, 0x00, 0x00, 0x01, 0x00, // TDS header, length 35
    0x00, 0x00, 0x10, 0x00, 0x06, // VERSION at 16, 6 bytes
    0x01, 0x00, 0x16, 0x00, 0x01, // ENCRYPTION at 22, 1 byte
    0x03, 0x00, 0x17, 0x00, 0x04, // THREADID at 23, 4 bytes
    0xff, // terminator
    0, 0, 0, 0, 0, 0,    // version
    0x00, // ENCRYPT_OFF
    0, 0, 0, 0, // thread id
];

impl Check for MsSqlInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let reply = exchange(ctx, PRELOGIN, 4096, whole_packet).await?;
            parse(&reply)
        })
    }
}

/// Whether the first TDS packet (8-byte header, big-endian length that
/// counts the header) is all in.
fn whole_packet(b: &[u8]) -> bool {
    b.len() >= 8 && b.len() >= u16::from_be_bytes([b[2], b[3]]) as usize
}

fn parse(b: &[u8]) -> Option<Finding> {
    if !whole_packet(b) || b[0] != 0x04 {
        return None;
    }
    let len = u16::from_be_bytes([b[2], b[3]]) as usize;
    if len < 8 {
        return None;
    }
    let data = &b[8..len];
    let mut version = None;
    let mut encryption = None;
    let mut i = 0;
    loop {
        let token = *data.get(i)?;
        if token == 0xff {
            break;
        }
        let entry = data.get(i + 1..i + 5)?;
        let off = u16::from_be_bytes([entry[0], entry[1]]) as usize;
        let n = u16::from_be_bytes([entry[2], entry[3]]) as usize;
        let value = data.get(off..off.checked_add(n)?)?;
        match token {
            0x00 if n >= 6 => version = Some(value),
            0x01 if n >= 1 => encryption = Some(value[0]),
            _ => {}
        }
        i += 5;
    }
    let v = version?;
    let (major, minor) = (v[0], v[1]);
    let build = u16::from_be_bytes([v[2], v[3]]);
    if major == 0 {
        return None;
    }
    let number = format!("{major}.{minor}.{build}");
    let mut items = vec![ScriptItem::elem("Version number", number.clone())];
    if let Some(r) = release(major) {
        items.insert(0, ScriptItem::elem("Product", r));
    }
    if let Some(e) = encryption {
        let e = match e {
            0 => "off (login packet only)",
            1 => "on",
            2 => "not supported",
            3 => "required",
            _ => "unknown",
        };
        items.push(ScriptItem::elem("Encryption", e));
    }
    let name = release(major).unwrap_or("Microsoft SQL Server");
    Some(Finding::new(format!("{name} {number} reachable"), items))
}

/// The release a major version number names (Microsoft's SQL Server
/// version list, learn.microsoft.com/troubleshoot/sql/releases).
fn release(major: u8) -> Option<&'static str> {
    Some(match major {
        8 => "Microsoft SQL Server 2000",
        9 => "Microsoft SQL Server 2005",
        10 => "Microsoft SQL Server 2008",
        11 => "Microsoft SQL Server 2012",
        12 => "Microsoft SQL Server 2014",
        13 => "Microsoft SQL Server 2016",
        14 => "Microsoft SQL Server 2017",
        15 => "Microsoft SQL Server 2019",
        16 => "Microsoft SQL Server 2022",
        _ => return None,
    })
}

/// A PRELOGIN response as [MS-TDS] 2.2.6.5 lays it out: VERSION
/// `major.minor.build`, ENCRYPTION `enc`. For tests.
#[cfg(test)]
pub(crate) fn response(major: u8, minor: u8, build: u16, enc: u8) -> Vec<u8> {
    let mut opts = vec![
        0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff,
    ];
    opts.extend_from_slice(&[major, minor]);
    opts.extend_from_slice(&build.to_be_bytes());
    opts.extend_from_slice(&[0, 0, enc]);
    let len = (8 + opts.len()) as u16;
    let mut v = vec![0x04, 0x01];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&[0, 0, 1, 0]);
    v.extend_from_slice(&opts);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelogin_response_names_the_release() {
        let f = parse(&response(15, 0, 2000, 0)).unwrap();
        assert_eq!(f.summary, "Microsoft SQL Server 2019 15.0.2000 reachable");
        assert!(f
            .items
            .contains(&ScriptItem::elem("Encryption", "off (login packet only)")));
        assert_eq!(PRELOGIN.len(), 0x23);
    }

    #[test]
    fn malformed_responses_are_nothing() {
        assert!(parse(b"").is_none());
        assert!(parse(&[0x04, 1, 0xff, 0xff, 0, 0, 1, 0]).is_none());
        assert!(parse(&[0x04, 1, 0, 2, 0, 0, 1, 0]).is_none());
        assert!(parse(&[0x04, 1, 0, 8, 0, 0, 1, 0]).is_none());
        // An option pointing past the packet, and one with no terminator.
        assert!(parse(&[0x04, 1, 0, 13, 0, 0, 1, 0, 0, 0xff, 0xff, 0, 6]).is_none());
        assert!(parse(&[0x04, 1, 0, 10, 0, 0, 1, 0, 1, 0]).is_none());
        let mut r = response(15, 0, 2000, 0);
        r[0] = 0x12;
        assert!(parse(&r).is_none());
        assert!(parse(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_none());
    }
}
