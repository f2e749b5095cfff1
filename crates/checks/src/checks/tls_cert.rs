//! `tls-cert`: the TLS certificate the service presented (to `-sV`) is
//! expired, not yet valid, or self-signed.
//!
//! It reads what service detection already fetched (the handshake is
//! `-sV`'s), so it sends nothing itself. Self-signed means the issuer
//! names the subject: no authority vouches for it, so a client that
//! accepts it accepts any impostor's too.

use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::{rfc3339, Certificate, Protocol};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) struct TlsCert;

static INFO: CheckInfo = CheckInfo {
    id: "tls-cert",
    description: "the TLS certificate is expired, not yet valid or self-signed",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &["RFC 5280 section 4.1.2.5", "CWE-295"],
    services: &[],
    ports: &[],
    protocol: Protocol::Tcp,
    plain_only: false,
};

impl Check for TlsCert {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn applies(&self, ctx: &Ctx, _by_port: bool) -> bool {
        ctx.certificate.is_some()
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
            problems(ctx.certificate.as_ref()?, now as i64)
        })
    }
}

fn problems(c: &Certificate, now: i64) -> Option<Finding> {
    let time = |t: i64| rfc3339(u64::try_from(t).unwrap_or(0));
    let mut items = Vec::new();
    let mut what = Vec::new();
    if c.not_after < now {
        what.push("expired");
        items.push(ScriptItem::elem("expired", time(c.not_after)));
    }
    if c.not_before > now {
        what.push("not yet valid");
        items.push(ScriptItem::elem("not valid before", time(c.not_before)));
    }
    if !c.subject.is_empty() && c.subject == c.issuer {
        what.push("self-signed");
        items.push(ScriptItem::elem(
            "self-signed",
            Certificate::name_text(&c.subject),
        ));
    }
    if what.is_empty() {
        return None;
    }
    Some(Finding::new(
        format!("TLS certificate {}", what.join(", ")),
        items,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::NameAttribute;

    fn cert(subject: &str, issuer: &str, nb: i64, na: i64) -> Certificate {
        let n = |v: &str| {
            vec![NameAttribute {
                key: "commonName".into(),
                value: v.into(),
            }]
        };
        Certificate {
            subject: n(subject),
            issuer: n(issuer),
            not_before: nb,
            not_after: na,
            alt_names: vec![],
        }
    }

    #[test]
    fn expired_and_self_signed_are_found_and_a_good_one_is_not() {
        let f = problems(&cert("a", "a", 0, 100), 200).unwrap();
        assert_eq!(f.summary, "TLS certificate expired, self-signed");
        assert!(problems(&cert("a", "ca", 0, 300), 200).is_none());
        assert!(problems(&cert("a", "ca", 250, 300), 200).is_some());
    }
}
