//! `mongodb-databases`: MongoDB lists its databases without
//! authentication. Sends `buildInfo` (answered even by secured servers:
//! the version, shown) and `listDatabases` (which needs authentication
//! when authorization is on) as OP_MSG messages (MongoDB wire protocol,
//! opcode 2013, with BSON bodies per bsonspec.org). `ok: 1` with a
//! database list proves the finding.

use crate::io::{clean, connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub(crate) struct MongoDbDatabases;

static INFO: CheckInfo = CheckInfo {
    id: "mongodb-databases",
    description: "MongoDB lists its databases without authentication",
    category: Category::Safe,
    severity: Severity::High,
    references: &["https://www.mongodb.com/docs/manual/administration/security-checklist/"],
    services: &["mongodb", "mongod"],
    ports: &[27017, 27018],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for MongoDbDatabases {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let info = command(&mut s, 1, b"buildInfo", &[]).await;
            let version = info.as_deref().and_then(|d| string(d, "version"));
            let list = command(&mut s, 2, b"listDatabases", &bool_elem(b"nameOnly", true)).await?;
            if !ok(&list) {
                return None;
            }
            let names = names(&list);
            let mut items = Vec::new();
            if let Some(v) = version {
                items.push(ScriptItem::elem("version", clean(&v, 40)));
            }
            let shown = names
                .iter()
                .take(30)
                .map(|n| ScriptItem::value(clean(n, 100)));
            items.push(ScriptItem::table("databases", shown.collect()));
            Some(Finding::new(
                format!("MongoDB lists {} database(s) to anyone", names.len()),
                items,
            ))
        })
    }
}

/// Sends `{name: 1, extra..., $db: "admin"}` and returns the reply's body.
async fn command(s: &mut TcpStream, id: i32, name: &[u8], extra: &[u8]) -> Option<Vec<u8>> {
    let mut elems = vec![0x10];
    elems.extend_from_slice(name);
    elems.push(0);
    elems.extend(1i32.to_le_bytes());
    elems.extend_from_slice(extra);
    elems.extend(string_elem(b"$db", b"admin"));
    let mut doc = ((elems.len() + 5) as i32).to_le_bytes().to_vec();
    doc.extend(elems);
    doc.push(0);
    let mut msg = ((16 + 4 + 1 + doc.len()) as i32).to_le_bytes().to_vec();
    msg.extend(id.to_le_bytes());
    msg.extend(0i32.to_le_bytes());
    msg.extend(2013i32.to_le_bytes());
    msg.extend(0u32.to_le_bytes());
    msg.push(0);
    msg.extend(doc);
    s.write_all(&msg).await.ok()?;
    let mut buf = Vec::new();
    let whole = |b: &[u8]| b.len() >= 4 && b.len() >= le32(b, 0).unwrap_or(0).max(0) as usize;
    read_until(s, &mut buf, 64 * 1024, whole).await.ok()?;
    let len = le32(&buf, 0)? as usize;
    if len < 21
        || buf.len() < len
        || le32(&buf, 12)? != 2013
        || le32(&buf, 8)? != id
        || buf[20] != 0
    {
        return None;
    }
    Some(buf[21..len].to_vec())
}

fn string_elem(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut e = vec![0x02];
    e.extend_from_slice(name);
    e.push(0);
    e.extend(((value.len() + 1) as i32).to_le_bytes());
    e.extend_from_slice(value);
    e.push(0);
    e
}

fn bool_elem(name: &[u8], v: bool) -> Vec<u8> {
    let mut e = vec![0x08];
    e.extend_from_slice(name);
    e.extend([0, u8::from(v)]);
    e
}

fn le32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The elements of a BSON document: (type, name, value bytes). Stops at
/// the first element of a type it cannot size or that runs past the end.
fn elements(doc: &[u8]) -> Vec<(u8, String, &[u8])> {
    let mut out = Vec::new();
    let Some(len) = le32(doc, 0).and_then(|l| usize::try_from(l).ok()) else {
        return out;
    };
    let doc = &doc[..len.min(doc.len())];
    let mut at = 4;
    while at < doc.len() && doc[at] != 0 {
        let kind = doc[at];
        let Some(end) = doc[at + 1..].iter().position(|&b| b == 0) else {
            break;
        };
        let name = String::from_utf8_lossy(&doc[at + 1..at + 1 + end]).into_owned();
        let v = at + 2 + end;
        let size = match kind {
            0x01 | 0x09 | 0x11 | 0x12 => Some(8),
            0x08 => Some(1),
            0x10 => Some(4),
            0x0a => Some(0),
            0x07 => Some(12),
            0x02 => le32(doc, v)
                .and_then(|n| usize::try_from(n).ok())
                .map(|n| n + 4),
            0x03 | 0x04 => le32(doc, v).and_then(|n| usize::try_from(n).ok()),
            _ => None,
        };
        let Some(size) = size.filter(|s| v + s <= doc.len()) else {
            break;
        };
        out.push((kind, name, &doc[v..v + size]));
        at = v + size;
    }
    out
}

fn string(doc: &[u8], key: &str) -> Option<String> {
    let (_, _, v) = elements(doc)
        .into_iter()
        .find(|(k, n, _)| *k == 0x02 && n == key)?;
    let text = v.get(4..v.len().checked_sub(1)?)?;
    Some(String::from_utf8_lossy(text).into_owned())
}

/// Whether `ok` is 1 (a double, as servers send it, or an integer).
fn ok(doc: &[u8]) -> bool {
    elements(doc).into_iter().any(|(k, n, v)| {
        n == "ok"
            && match k {
                0x01 => v.try_into().map(f64::from_le_bytes).is_ok_and(|x| x == 1.0),
                0x10 => v == 1i32.to_le_bytes(),
                _ => false,
            }
    })
}

/// The `name`s of the `databases` array.
fn names(doc: &[u8]) -> Vec<String> {
    let Some((_, _, arr)) = elements(doc)
        .into_iter()
        .find(|(k, n, _)| *k == 0x04 && n == "databases")
    else {
        return Vec::new();
    };
    elements(arr)
        .into_iter()
        .filter(|(k, _, _)| *k == 0x03)
        .filter_map(|(_, _, d)| string(d, "name"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_lying_documents_are_read_safely() {
        let mut doc = 0i32.to_le_bytes().to_vec();
        doc.extend(string_elem(b"version", b"7.0.2"));
        doc.push(0);
        let n = doc.len() as i32;
        doc[..4].copy_from_slice(&n.to_le_bytes());
        assert_eq!(string(&doc, "version").as_deref(), Some("7.0.2"));
        assert!(string(&doc[..doc.len() - 4], "version").is_none());
        let mut liar = doc.clone();
        liar[4 + 1 + 8..4 + 1 + 8 + 4].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(string(&liar, "version").is_none());
        assert!(elements(&[0xff, 0xff, 0xff, 0xff]).is_empty());
        assert!(!ok(&doc));
    }
}
