//! `mongodb-databases` against servers on 127.0.0.1 that answer with
//! OP_MSG replies written for this test from MongoDB's wire-protocol and
//! command documentation and the BSON specification (not captured from a
//! real server; MongoDB has no Debian package): once with authorization
//! off, once with it on (`listDatabases` refused with code 13).

mod loopback;
use loopback::{run_checks, serve_with};
use portolan_model::ServiceInfo;
use std::io::{Read, Write};
use std::time::Duration;

/// BSON values this test writes.
enum B<'a> {
    Str(&'a str),
    Double(f64),
    Int(i32),
    Doc(Vec<(&'a str, B<'a>)>),
    Array(Vec<B<'a>>),
}

fn doc(elems: &[(&str, B<'_>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, v) in elems {
        let (kind, bytes) = match v {
            B::Str(s) => {
                let mut b = ((s.len() + 1) as i32).to_le_bytes().to_vec();
                b.extend(s.as_bytes());
                b.push(0);
                (0x02, b)
            }
            B::Double(d) => (0x01, d.to_le_bytes().to_vec()),
            B::Int(i) => (0x10, i.to_le_bytes().to_vec()),
            B::Doc(d) => (0x03, doc(d)),
            B::Array(a) => {
                let keys: Vec<String> = (0..a.len()).map(|i| i.to_string()).collect();
                let pairs: Vec<(&str, B<'_>)> = keys
                    .iter()
                    .map(String::as_str)
                    .zip(a.iter().map(copy))
                    .collect();
                (0x04, doc(&pairs))
            }
        };
        body.push(kind);
        body.extend(name.as_bytes());
        body.push(0);
        body.extend(bytes);
    }
    let mut out = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    out.extend(body);
    out.push(0);
    out
}

fn copy<'a>(b: &B<'a>) -> B<'a> {
    match b {
        B::Str(s) => B::Str(s),
        B::Double(d) => B::Double(*d),
        B::Int(i) => B::Int(*i),
        B::Doc(d) => B::Doc(d.iter().map(|(k, v)| (*k, copy(v))).collect()),
        B::Array(a) => B::Array(a.iter().map(copy).collect()),
    }
}

/// An OP_MSG reply to request `to` carrying `body`.
fn op_msg(to: i32, body: Vec<u8>) -> Vec<u8> {
    let mut m = ((16 + 5 + body.len()) as i32).to_le_bytes().to_vec();
    m.extend(99i32.to_le_bytes());
    m.extend(to.to_le_bytes());
    m.extend(2013i32.to_le_bytes());
    m.extend(0u32.to_le_bytes());
    m.push(0);
    m.extend(body);
    m
}

/// A server answering each OP_MSG: buildInfo always; listDatabases as
/// `secured` says.
fn serve(secured: bool) -> u16 {
    serve_with(move |mut c| {
        let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
        loop {
            let mut head = [0u8; 16];
            if c.read_exact(&mut head).is_err() {
                break;
            }
            let len = i32::from_le_bytes(head[..4].try_into().unwrap()) as usize;
            let mut rest = vec![0u8; len.saturating_sub(16).min(1 << 20)];
            if c.read_exact(&mut rest).is_err() {
                break;
            }
            let id = i32::from_le_bytes(head[4..8].try_into().unwrap());
            let text = String::from_utf8_lossy(&rest);
            let body = if text.contains("buildInfo") {
                doc(&[("version", B::Str("7.0.2")), ("ok", B::Double(1.0))])
            } else if secured {
                doc(&[
                    ("ok", B::Double(0.0)),
                    (
                        "errmsg",
                        B::Str("command listDatabases requires authentication"),
                    ),
                    ("code", B::Int(13)),
                    ("codeName", B::Str("Unauthorized")),
                ])
            } else {
                let db = |n| B::Doc(vec![("name", B::Str(n))]);
                doc(&[
                    ("databases", B::Array(vec![db("admin"), db("shop")])),
                    ("ok", B::Double(1.0)),
                ])
            };
            if c.write_all(&op_msg(id, body)).is_err() {
                break;
            }
        }
    })
}

fn scan(port: u16) -> Vec<portolan_model::ScriptResult> {
    let service = ServiceInfo::from_table("mongodb");
    let (found, _) = run_checks("default", service, port, Duration::from_secs(2));
    found
        .into_iter()
        .filter(|r| r.id == "mongodb-databases")
        .collect()
}

#[test]
fn mongodb_without_authorization_is_a_finding_and_with_it_is_not() {
    let found = scan(serve(false));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].summary, "MongoDB lists 2 database(s) to anyone");
    assert_eq!(
        found[0].output,
        "version: 7.0.2\ndatabases: \n  admin\n  shop"
    );
    assert!(scan(serve(true)).is_empty());
}
