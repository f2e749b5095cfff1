//! `ldap-rootdse`: the directory answers an anonymous search of its root
//! DSE (RFC 4512 section 5.1; the search is RFC 4511's SearchRequest,
//! base "", scope base, filter `(objectClass=*)`), naming its directory
//! trees, its versions and its SASL mechanisms: the map for the next
//! queries. No bind is sent (LDAPv3 allows operations without one).
//!
//! A server whose access rules hide the root DSE returns no entry, and
//! the check reports nothing.

use crate::ber::{cons, int, items, read, tlv};
use crate::io::{clean, connect, read_until};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;

pub(crate) struct LdapRootDse;

static INFO: CheckInfo = CheckInfo {
    id: "ldap-rootdse",
    description: "the LDAP server answers an anonymous root DSE search",
    category: Category::Safe,
    severity: Severity::Low,
    references: &["RFC 4512 section 5.1", "RFC 4513 section 5.1.1"],
    services: &["ldap"],
    ports: &[389],
    protocol: Protocol::Tcp,
    plain_only: true,
};

const ATTRS: &[&str] = &[
    "namingContexts",
    "supportedLDAPVersion",
    "supportedSASLMechanisms",
    "vendorName",
    "vendorVersion",
    "subschemaSubentry",
];

impl Check for LdapRootDse {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            s.write_all(&request()).await.ok()?;
            let mut buf = Vec::new();
            read_until(&mut s, &mut buf, 32 * 1024, has_done)
                .await
                .ok()?;
            let attrs = entry(&buf)?;
            let items = attrs
                .into_iter()
                .map(|(k, vals)| {
                    let vals = vals
                        .iter()
                        .take(20)
                        .map(|v| ScriptItem::value(clean(v, 100)));
                    ScriptItem::table(clean(&k, 64), vals.collect())
                })
                .collect();
            Some(Finding::new("LDAP root DSE readable anonymously", items))
        })
    }
}

fn request() -> Vec<u8> {
    let attrs: Vec<Vec<u8>> = ATTRS.iter().map(|a| tlv(0x04, a.as_bytes())).collect();
    let search = cons(
        0x63,
        &[
            tlv(0x04, b""),
            tlv(0x0a, &[0]),
            tlv(0x0a, &[0]),
            int(0),
            int(0),
            tlv(0x01, &[0]),
            tlv(0x87, b"objectClass"),
            cons(0x30, &attrs),
        ],
    );
    cons(0x30, &[int(1), search])
}

/// The LDAP messages in `b`, as (operation tag, operation contents).
fn ops(b: &[u8]) -> Vec<(u8, &[u8])> {
    items(b)
        .into_iter()
        .filter(|(t, _)| *t == 0x30)
        .filter_map(|(_, m)| items(m).get(1).copied())
        .collect()
}

fn has_done(b: &[u8]) -> bool {
    ops(b).iter().any(|(t, _)| *t == 0x65)
}

/// The attributes of the root DSE entry, if the reply holds one with any.
fn entry(b: &[u8]) -> Option<Vec<(String, Vec<String>)>> {
    let (_, e) = ops(b).into_iter().find(|(t, _)| *t == 0x64)?;
    let (0x04, _dn, rest) = read(e)? else {
        return None;
    };
    let (0x30, list, _) = read(rest)? else {
        return None;
    };
    let attrs: Vec<(String, Vec<String>)> = items(list)
        .into_iter()
        .filter_map(|(_, a)| {
            let parts = items(a);
            let name = String::from_utf8_lossy(parts.first()?.1).into_owned();
            let vals = items(parts.get(1)?.1)
                .into_iter()
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .collect();
            Some((name, vals))
        })
        .collect();
    (!attrs.is_empty()).then_some(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_read_and_a_bare_done_is_not() {
        let attr = cons(
            0x30,
            &[
                tlv(0x04, b"namingContexts"),
                cons(0x31, &[tlv(0x04, b"dc=test")]),
            ],
        );
        let entry_msg = cons(
            0x30,
            &[int(1), cons(0x64, &[tlv(0x04, b""), cons(0x30, &[attr])])],
        );
        let done = cons(
            0x30,
            &[
                int(1),
                cons(0x65, &[tlv(0x0a, &[0]), tlv(0x04, b""), tlv(0x04, b"")]),
            ],
        );
        let both = [entry_msg.clone(), done.clone()].concat();
        assert!(has_done(&both) && !has_done(&entry_msg));
        let e = entry(&both).unwrap();
        assert_eq!(
            e,
            vec![("namingContexts".to_string(), vec!["dc=test".to_string()])]
        );
        assert!(entry(&done).is_none());
        assert!(entry(&both[..both.len() / 2]).is_none());
    }
}
