//! nmap's `ssl-cert` script element read back into a [`Certificate`]:
//! the subject, issuer and validity tables, and the subject alternative
//! names among the extensions.

use super::xml::at;
use super::ReadError;
use portolan_model::{Certificate, NameAttribute};
use roxmltree::Node;

/// nmap's `ssl-cert` tables: subject, issuer, validity, and the subject
/// alternative names among the extensions.
pub(super) fn certificate(script: Node) -> Result<Certificate, ReadError> {
    let table = |key: &str| {
        script
            .children()
            .find(|c| c.has_tag_name("table") && c.attribute("key") == Some(key))
    };
    let names = |key: &str| -> Vec<NameAttribute> {
        table(key)
            .map(|t| {
                t.children()
                    .filter(|c| c.has_tag_name("elem"))
                    .map(|e| NameAttribute {
                        key: e.attribute("key").unwrap_or_default().into(),
                        value: e.text().unwrap_or_default().into(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let elem = |t: Node, key: &str| -> Option<String> {
        t.children()
            .find(|c| c.has_tag_name("elem") && c.attribute("key") == Some(key))
            .map(|e| e.text().unwrap_or_default().to_string())
    };
    let validity = table("validity").ok_or_else(|| at(script, "no validity table".into()))?;
    let time = |key: &str| -> Result<i64, ReadError> {
        let v = elem(validity, key).unwrap_or_default();
        cert_time(&v).ok_or_else(|| at(validity, format!("bad {key} `{v}`")))
    };
    let alt_names = table("extensions")
        .and_then(|ext| {
            ext.children()
                .find(|t| elem(*t, "name").as_deref() == Some("X509v3 Subject Alternative Name"))
        })
        .and_then(|t| elem(t, "value"))
        .map(|v| v.split(", ").map(String::from).collect())
        .unwrap_or_default();
    Ok(Certificate {
        subject: names("subject"),
        issuer: names("issuer"),
        not_before: time("notBefore")?,
        not_after: time("notAfter")?,
        alt_names,
    })
}

/// `2026-11-22T10:15:00` (UTC, as `ssl-cert` writes it) to Unix seconds.
fn cert_time(v: &str) -> Option<i64> {
    let (date, time) = v.get(..19)?.split_once('T')?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (d[..].try_into().ok()?, t[..].try_into().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days-from-civil after Howard Hinnant's public-domain algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}
