//! `nfs-showmount`: the NFS server lists its exports to anyone, naming
//! the directories and the hosts allowed to mount them; an export open
//! to every host is worse.
//!
//! Over TCP, ONC RPC (RFC 5531, record marking in section 11): the
//! portmapper's PMAPPROC_GETPORT (RFC 1833 section 3.2) finds MOUNT
//! (program 100005, version 3, then 1), and MOUNTPROC3_EXPORT (RFC 1813
//! appendix I, procedure 5, the same in version 1) returns the export
//! list. Both calls use AUTH_NULL; nothing is mounted. An NFSv4-only
//! server has no MOUNT service, so the check has nothing to read there
//! (its exports are seen only by mounting its pseudo-root). A server with no
//! exports returns an empty list and the check reports nothing.
//! Written by hand: the two calls and their XDR replies are a few
//! dozen lines, and the Rust ONC RPC crates are client or server
//! frameworks far larger than that.

use crate::io::{clean, connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub(crate) struct NfsShowmount;

static INFO: CheckInfo = CheckInfo {
    id: "nfs-showmount",
    description: "the NFS server's MOUNT service lists its exports to anyone",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &["RFC 1813 appendix I", "RFC 1833", "CVE-1999-0554"],
    services: &["rpcbind"],
    ports: &[111],
    protocol: Protocol::Tcp,
    plain_only: true,
};

const PMAP: u32 = 100_000;
const MOUNT: u32 = 100_005;
/// The most bytes one RPC reply may take.
const CAP: usize = 64 * 1024;
/// The most exports and groups per export read.
const MAX_EXPORTS: usize = 100;
const MAX_GROUPS: usize = 20;

/// One export: its path and the hosts or groups allowed.
#[derive(Debug, PartialEq, Eq)]
struct Export {
    dir: String,
    groups: Vec<String>,
}

impl Check for NfsShowmount {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut pm = connect(ctx).await.ok()?;
            let mut found = None;
            for (xid, vers) in [(1, 3u32), (2, 1)] {
                let args = [MOUNT, vers, 6, 0];
                let r = call(&mut pm, xid, (PMAP, 2, 3), &args).await?;
                let port = xdr_u32(&r, &mut 0)?;
                if let Ok(port @ 1..=65535) = u16::try_from(port) {
                    found = Some((vers, port));
                    break;
                }
            }
            let (vers, port) = found?;
            ctx.paced().await;
            let mut m = TcpStream::connect(SocketAddr::new(ctx.addr, port))
                .await
                .ok()?;
            let r = call(&mut m, 3, (MOUNT, vers, 5), &[]).await?;
            let exports = exports(&r)?;
            if exports.is_empty() {
                return None;
            }
            let open = exports
                .iter()
                .any(|e| e.groups.is_empty() || e.groups.iter().any(|g| g == "*"));
            let rows = exports
                .iter()
                .map(|e| {
                    let who = if e.groups.is_empty() {
                        "(everyone)".to_string()
                    } else {
                        e.groups.join(",")
                    };
                    ScriptItem::value(format!("{} {}", e.dir, who))
                })
                .collect();
            let items = vec![
                ScriptItem::elem("mountd", format!("{port}/tcp (MOUNT v{vers})")),
                ScriptItem::table("exports", rows),
            ];
            let mut f = Finding::new(format!("NFS lists {} export(s)", exports.len()), items);
            if open {
                f.summary.push_str(", at least one open to every host");
                f.severity = Some(Severity::High);
            }
            Some(f)
        })
    }
}

/// One RPC call with AUTH_NULL: the results of a successful reply.
async fn call(
    s: &mut TcpStream,
    xid: u32,
    (prog, vers, proc): (u32, u32, u32),
    args: &[u32],
) -> Option<Vec<u8>> {
    let mut body: Vec<u32> = vec![xid, 0, 2, prog, vers, proc, 0, 0, 0, 0];
    body.extend_from_slice(args);
    let bytes: Vec<u8> = body.iter().flat_map(|w| w.to_be_bytes()).collect();
    let mut msg = (0x8000_0000 | bytes.len() as u32).to_be_bytes().to_vec();
    msg.extend(bytes);
    s.write_all(&msg).await.ok()?;
    let mut buf = Vec::new();
    read_until(s, &mut buf, CAP, |b| record(b).is_some())
        .await
        .ok()?;
    results(&record(&buf)?, xid)
}

/// The whole record (all fragments joined) at the start of `b`, once
/// its last fragment is in.
fn record(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let mark = u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?);
        let len = (mark & 0x7fff_ffff) as usize;
        out.extend_from_slice(b.get(at + 4..at.checked_add(4 + len)?)?);
        at += 4 + len;
        if mark & 0x8000_0000 != 0 {
            return Some(out);
        }
    }
}

/// The results of an accepted, successful reply to `xid`.
fn results(r: &[u8], xid: u32) -> Option<Vec<u8>> {
    let mut at = 0;
    let head = [
        xdr_u32(r, &mut at)?,
        xdr_u32(r, &mut at)?,
        xdr_u32(r, &mut at)?,
    ];
    if head != [xid, 1, 0] {
        return None;
    }
    let _flavor = xdr_u32(r, &mut at)?;
    xdr_opaque(r, &mut at)?;
    if xdr_u32(r, &mut at)? != 0 {
        return None;
    }
    Some(r[at..].to_vec())
}

fn xdr_u32(b: &[u8], at: &mut usize) -> Option<u32> {
    let v = u32::from_be_bytes(b.get(*at..*at + 4)?.try_into().ok()?);
    *at += 4;
    Some(v)
}

/// Variable-length opaque data (and strings): length, bytes, padding.
fn xdr_opaque<'a>(b: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let n = xdr_u32(b, at)? as usize;
    let data = b.get(*at..at.checked_add(n)?)?;
    *at += n.checked_add(3)? & !3;
    Some(data)
}

fn xdr_string(b: &[u8], at: &mut usize, max: usize) -> Option<String> {
    Some(clean(&String::from_utf8_lossy(xdr_opaque(b, at)?), max))
}

/// The export list (`exports`, RFC 1813 appendix I): a linked list of
/// paths, each with a linked list of groups.
fn exports(r: &[u8]) -> Option<Vec<Export>> {
    let mut at = 0;
    let mut out = Vec::new();
    while xdr_u32(r, &mut at)? == 1 {
        let dir = xdr_string(r, &mut at, 200)?;
        let mut groups = Vec::new();
        while xdr_u32(r, &mut at)? == 1 {
            let g = xdr_string(r, &mut at, 100)?;
            if groups.len() < MAX_GROUPS {
                groups.push(g);
            }
        }
        out.push(Export { dir, groups });
        if out.len() >= MAX_EXPORTS {
            break;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xdr_str(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    fn words(w: &[u32]) -> Vec<u8> {
        w.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    #[test]
    fn replies_and_export_lists_parse() {
        // An accepted reply to xid 9 with a 4-byte verifier, then a list
        // of /srv (one group) and /pub (none).
        let mut reply = words(&[9, 1, 0, 1, 4, 0xdead_beef, 0]);
        let mut list = words(&[1]);
        list.extend(xdr_str("/srv"));
        list.extend(words(&[1]));
        list.extend(xdr_str("198.18.0.0/15"));
        list.extend(words(&[0, 1]));
        list.extend(xdr_str("/pub"));
        list.extend(words(&[0, 0]));
        reply.extend(&list);
        let res = results(&reply, 9).unwrap();
        assert_eq!(res, list);
        let e = exports(&res).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].groups, vec!["198.18.0.0/15".to_string()]);
        assert!(e[1].groups.is_empty());
        assert_eq!(exports(&words(&[0])).unwrap(), vec![]);
        assert!(results(&reply, 8).is_none());
        for n in 0..list.len() {
            assert!(exports(&list[..n]).is_none(), "{n}");
        }
    }

    #[test]
    fn records_join_fragments_and_hostile_lengths_fail_safely() {
        let b = [&[0, 0, 0, 2, 1, 2][..], &[0x80, 0, 0, 1, 3]].concat();
        assert_eq!(record(&b).unwrap(), vec![1, 2, 3]);
        assert!(record(&b[..5]).is_none());
        assert!(record(&[0xff, 0xff, 0xff, 0xff, 1]).is_none());
        assert!(xdr_opaque(&words(&[u32::MAX]), &mut 0).is_none());
        assert!(exports(&words(&[1, u32::MAX - 2])).is_none());
        assert!(results(&words(&[9, 1, 0, 1, u32::MAX]), 9).is_none());
    }
}
