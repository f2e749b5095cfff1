//! The exposure report in each format: a table whose EXPOSURE column
//! says it in words and RISK gives the risk table's rating (before the
//! owners, which can be long), plain columns with the verdict's key, a JSON object and an
//! XML element (`docs/local-json.md`). A report has one row per listener
//! and scanned address, so it is small and built in memory.

use super::{Exposure, ExposureRow, Verdict};
use crate::format::{escape, json_owners, xml_owners, xml_text};
use serde_json::json;
use std::io::{self, Write};

/// The verdict in words, for the table.
pub fn phrase(v: Verdict) -> &'static str {
    match v {
        Verdict::Reachable => "listening, reachable from outside",
        Verdict::Filtered => "listening, filtered from outside",
        Verdict::LocalOnly => "listening on all addresses, only reachable locally",
        Verdict::Forwarded => "reachable, nothing listens here (forwarded, DNAT or proxy)",
        Verdict::Loopback => "listening on loopback only",
        Verdict::Inconclusive => "listening, the scan could not tell",
        Verdict::NotScanned => "listening, not scanned",
    }
}

const HEADER: [&str; 11] = [
    "NETNS", "PROTO", "PORT", "LISTEN", "SCANNED", "OUTSIDE", "EXPOSURE", "RISK", "SERVICE",
    "USER", "PROCESS",
];

fn cells(r: &ExposureRow, plain: bool) -> [String; 11] {
    let name = |s: &str| {
        let t = escape(s);
        if plain {
            t.replace(' ', "\\x20")
        } else {
            t
        }
    };
    let dash = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    let procs: Vec<String> = r
        .owners
        .iter()
        .map(|p| format!("{}/{}", p.pid, name(&p.name)))
        .collect();
    [
        dash(r.netns.as_deref().map(name)),
        r.proto.name().into(),
        r.port.to_string(),
        dash(r.listen.map(|a| a.to_string())),
        dash(r.scanned.map(|a| a.to_string())),
        dash(r.outside.map(|s| s.as_str().into())),
        if plain {
            r.verdict.key().into()
        } else {
            phrase(r.verdict).into()
        },
        dash(r.risk.as_ref().map(|k| name(&k.rating))),
        r.service.unwrap_or("-").into(),
        dash(r.owners.first().map(|p| name(&p.user))),
        if procs.is_empty() {
            "-".into()
        } else {
            procs.join(",")
        },
    ]
}

/// Writes the rows as an aligned table (`plain`: one space between
/// columns, no header, the verdict's key instead of its words). The NETNS column is left
/// out when every row is in the current namespace.
pub fn write_text(w: &mut dyn Write, e: &Exposure, plain: bool) -> io::Result<()> {
    let first = usize::from(!e.rows.iter().any(|r| r.netns.is_some()));
    let mut rows: Vec<[String; 11]> = Vec::with_capacity(e.rows.len() + 1);
    if !plain {
        rows.push(HEADER.map(String::from));
    }
    rows.extend(e.rows.iter().map(|r| cells(r, plain)));
    let mut width = [0usize; 11];
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate().skip(first) {
            if i > first {
                line.push(' ');
            }
            line.push_str(c);
            if !plain && i + 1 < row.len() {
                line.extend(std::iter::repeat_n(' ', width[i] - c.chars().count()));
            }
        }
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

fn json_row(r: &ExposureRow) -> serde_json::Value {
    json!({
        "netns": r.netns.as_deref(),
        "protocol": r.proto.name(),
        "port": r.port,
        "listen_address": r.listen.map(|a| a.to_string()),
        "scope": r.scope().map(|s| s.name()),
        "scanned_address": r.scanned.map(|a| a.to_string()),
        "outside_state": r.outside.map(|s| s.as_str()),
        "exposure": r.verdict.key(),
        "service": r.service,
        "risk": r.risk.as_ref().map(|k| json!({"rating": k.rating, "why": k.why})),
        "owners": json_owners(&r.owners),
    })
}

/// Writes the `exposure` object of the JSON document.
pub fn write_json(w: &mut dyn Write, e: &Exposure) -> io::Result<()> {
    let hosts: Vec<_> = e
        .hosts
        .iter()
        .map(|h| json!({"address": h.addr.to_string(), "netns": h.netns.as_deref(), "assumed": h.assumed}))
        .collect();
    let foreign: Vec<String> = e.foreign.iter().map(|a| a.to_string()).collect();
    write!(w, "{{\"hosts\":")?;
    serde_json::to_writer(&mut *w, &hosts)?;
    write!(w, ",\"foreign\":")?;
    serde_json::to_writer(&mut *w, &foreign)?;
    write!(w, ",\"ports\":[")?;
    for (i, r) in e.rows.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &json_row(r))?;
    }
    w.write_all(b"\n]}")
}

/// Writes the `<exposure>` element of the XML document.
pub fn write_xml(w: &mut dyn Write, e: &Exposure) -> io::Result<()> {
    writeln!(w, "<exposure>")?;
    for h in &e.hosts {
        write!(
            w,
            "  <host address=\"{}\" assumed=\"{}\"",
            h.addr, h.assumed
        )?;
        if let Some(ns) = &h.netns {
            write!(w, " netns=\"{}\"", xml_text(ns))?;
        }
        writeln!(w, "/>")?;
    }
    for a in &e.foreign {
        writeln!(w, "  <foreign address=\"{a}\"/>")?;
    }
    for r in &e.rows {
        write!(
            w,
            "  <port protocol=\"{}\" port=\"{}\" exposure=\"{}\"",
            r.proto.name(),
            r.port,
            r.verdict.key()
        )?;
        let opt = [
            ("netns", r.netns.as_deref().map(xml_text)),
            ("listen_address", r.listen.map(|a| a.to_string())),
            ("scope", r.scope().map(|s| s.name().to_string())),
            ("scanned_address", r.scanned.map(|a| a.to_string())),
            ("outside_state", r.outside.map(|s| s.as_str().to_string())),
            ("service", r.service.map(xml_text)),
            ("risk", r.risk.as_ref().map(|k| xml_text(&k.rating))),
            ("risk_why", r.risk.as_ref().map(|k| xml_text(&k.why))),
        ];
        for (k, v) in opt {
            if let Some(v) = v {
                write!(w, " {k}=\"{v}\"")?;
            }
        }
        if r.owners.is_empty() {
            writeln!(w, "/>")?;
            continue;
        }
        writeln!(w, ">")?;
        xml_owners(w, &r.owners, "    ")?;
        writeln!(w, "  </port>")?;
    }
    writeln!(w, "</exposure>")
}
