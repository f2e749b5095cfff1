//! The outputs: a terminal table, plain columns for grep/awk, one JSON
//! document (`docs/local-json.md`) and a small `<portolanlocal>` XML.
//!
//! Every format streams row by row (100,000 sockets must not become
//! 100,000 JSON trees in memory), and every text a process controls
//! (name, command line) goes through [`escape`] first, so a hostile
//! `comm` cannot move the cursor or forge a line in any format.

use crate::exposure::{self, Exposure};
use crate::model::{Process, Snapshot, SocketEntry};
use crate::summary::Summary;
use crate::text::{push_addr, push_escaped, push_u32};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns with a header.
    Table,
    /// Columns separated by one space, no header, `-` for empty, spaces
    /// in names escaped: one socket per line for grep/awk.
    Plain,
    /// One JSON document.
    Json,
    /// One XML document.
    Xml,
}

/// Escapes control characters as `\xNN` (`\u{NNNN}` above ASCII) and
/// `\` as `\\`; everything else is kept.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Renders into a string (see [`write_to`]).
pub fn render(snap: &Snapshot, format: Format) -> String {
    let mut v = Vec::new();
    let _ = write_to(&mut v, snap, None, format);
    String::from_utf8_lossy(&v).into_owned()
}

fn push_peer(out: &mut String, e: &SocketEntry) {
    let r = e.raw.remote;
    if r.port() == 0 && r.ip().is_unspecified() {
        out.push_str(match r {
            std::net::SocketAddr::V4(_) => "0.0.0.0:*",
            std::net::SocketAddr::V6(_) => "[::]:*",
        });
    } else {
        push_addr(out, r);
    }
}

const COLS: usize = 11;
const HEADER: [&str; COLS] = [
    "NETNS", "PROTO", "STATE", "RECV-Q", "SEND-Q", "LOCAL", "PEER", "SCOPE", "SERVICE", "USER",
    "PROCESS",
];

fn fields(e: &SocketEntry, f: &mut [String; COLS], plain: bool) {
    for s in f.iter_mut() {
        s.clear();
    }
    match e.netns.as_deref() {
        Some(ns) => push_escaped(&mut f[0], ns, plain),
        None => f[0].push('-'),
    }
    f[1].push_str(e.raw.proto.name());
    f[2].push_str(e.state_name());
    push_u32(&mut f[3], e.raw.recv_q);
    push_u32(&mut f[4], e.raw.send_q);
    push_addr(&mut f[5], e.raw.local);
    push_peer(&mut f[6], e);
    f[7].push_str(e.scope().name());
    f[8].push_str(e.service.unwrap_or("-"));
    match e.owners.first() {
        Some(p) => push_escaped(&mut f[9], &p.user, plain),
        None => f[9].push('-'),
    }
    for (i, p) in e.owners.iter().enumerate() {
        if i > 0 {
            f[10].push(',');
        }
        push_u32(&mut f[10], p.pid);
        f[10].push('/');
        push_escaped(&mut f[10], &p.name, plain);
    }
    if f[10].is_empty() {
        f[10].push('-');
    }
}

/// Writes `snap` (and `summary`, if given) to `w` in `format`.
pub fn write_to(
    w: &mut dyn Write,
    snap: &Snapshot,
    summary: Option<&Summary>,
    format: Format,
) -> io::Result<()> {
    write_report(w, snap, summary, None, format)
}

/// [`write_to`] with an `--exposure` report: in the table and plain
/// columns it takes the sockets' place (its rows name the listeners), in
/// JSON and XML it follows them.
pub fn write_report(
    w: &mut dyn Write,
    snap: &Snapshot,
    summary: Option<&Summary>,
    exposure: Option<&Exposure>,
    format: Format,
) -> io::Result<()> {
    let plain = format == Format::Plain;
    match (format, exposure) {
        (Format::Table | Format::Plain, Some(e)) => {
            exposure::write_text(w, e, plain)?;
            match summary {
                Some(s) => {
                    if !plain {
                        writeln!(w)?;
                    }
                    write_summary_text(w, s)
                }
                None => Ok(()),
            }
        }
        (Format::Table | Format::Plain, None) => write_text(w, snap, summary, plain),
        (Format::Json, _) => write_json(w, snap, summary, exposure),
        (Format::Xml, _) => write_xml(w, snap, summary, exposure),
    }
}

fn write_text(
    w: &mut dyn Write,
    snap: &Snapshot,
    summary: Option<&Summary>,
    plain: bool,
) -> io::Result<()> {
    let mut f: [String; COLS] = Default::default();
    let first = usize::from(!snap.sockets.iter().any(|e| e.netns.is_some()));
    let mut width = [0usize; COLS];
    // The table formats every row once into one arena (column widths
    // need all rows first); plain output streams.
    let mut arena = String::new();
    let mut bounds: Vec<u32> = Vec::new();
    if !plain {
        for (i, h) in HEADER.iter().enumerate() {
            width[i] = h.len();
        }
        bounds.reserve(snap.sockets.len() * COLS + 1);
        bounds.push(0);
        for e in &snap.sockets {
            fields(e, &mut f, false);
            for i in 0..COLS {
                width[i] = width[i].max(f[i].chars().count());
                arena.push_str(&f[i]);
                bounds.push(u32::try_from(arena.len()).unwrap_or(u32::MAX));
            }
        }
    }
    let mut line = String::new();
    let mut emit = |w: &mut dyn Write, cells: &[&str]| -> io::Result<()> {
        line.clear();
        for (i, c) in cells.iter().enumerate().skip(first) {
            if i > first {
                line.push(' ');
            }
            line.push_str(c);
            if !plain && i + 1 < COLS {
                let pad = width[i].saturating_sub(c.chars().count());
                pad_spaces(&mut line, pad);
            }
        }
        let end = line.trim_end().len();
        line.truncate(end);
        line.push('\n');
        w.write_all(line.as_bytes())
    };
    if plain {
        for e in &snap.sockets {
            fields(e, &mut f, true);
            let cells: [&str; COLS] = std::array::from_fn(|i| f[i].as_str());
            emit(w, &cells)?;
        }
    } else {
        emit(w, &HEADER)?;
        for r in 0..snap.sockets.len() {
            let cells: [&str; COLS] = std::array::from_fn(|i| {
                let at = r * COLS + i;
                &arena[bounds[at] as usize..bounds[at + 1] as usize]
            });
            emit(w, &cells)?;
        }
    }
    if let Some(s) = summary {
        if !plain {
            writeln!(w)?;
        }
        write_summary_text(w, s)?;
    }
    Ok(())
}

/// Appends `n` spaces, a slice at a time.
fn pad_spaces(line: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        n -= k;
    }
}

fn write_summary_text(w: &mut dyn Write, s: &Summary) -> io::Result<()> {
    writeln!(w, "Total: {} sockets", s.total)?;
    for ((proto, state), n) in &s.per_state {
        writeln!(w, "  {} {}: {n}", proto.name(), state.name(*proto))?;
    }
    if !s.per_process.is_empty() || s.unowned > 0 {
        writeln!(w, "Per process:")?;
        for (pid, name, n) in &s.per_process {
            writeln!(w, "  {pid}/{}: {n}", escape(name))?;
        }
        if s.unowned > 0 {
            writeln!(w, "  (no owner): {}", s.unowned)?;
        }
    }
    for warn in &s.warnings {
        writeln!(w, "warning: {warn}")?;
    }
    Ok(())
}

#[derive(Serialize)]
pub(crate) struct JsonOwner {
    pid: u32,
    name: String,
    cmdline: String,
    user: String,
}

#[derive(Serialize)]
struct JsonSocket<'a> {
    netns: Option<&'a str>,
    protocol: &'static str,
    family: &'static str,
    state: String,
    local_address: String,
    local_port: u16,
    remote_address: String,
    remote_port: u16,
    recv_q: u32,
    send_q: u32,
    scope: &'static str,
    service: Option<&'static str>,
    uid: u32,
    inode: u64,
    owners: Vec<JsonOwner>,
}

/// The owners as JSON objects, their texts escaped.
pub(crate) fn json_owners(owners: &[Arc<Process>]) -> Vec<JsonOwner> {
    owners
        .iter()
        .map(|p| JsonOwner {
            pid: p.pid,
            name: escape(&p.name),
            cmdline: escape(&p.cmdline),
            user: escape(&p.user),
        })
        .collect()
}

fn json_socket(e: &SocketEntry) -> JsonSocket<'_> {
    JsonSocket {
        netns: e.netns.as_deref(),
        protocol: e.raw.proto.name(),
        family: match e.family() {
            crate::model::Family::V4 => "ipv4",
            crate::model::Family::V6 => "ipv6",
        },
        state: e.raw.state.key(e.raw.proto),
        local_address: e.raw.local.ip().to_string(),
        local_port: e.raw.local.port(),
        remote_address: e.raw.remote.ip().to_string(),
        remote_port: e.raw.remote.port(),
        recv_q: e.raw.recv_q,
        send_q: e.raw.send_q,
        scope: e.scope().name(),
        service: e.service,
        uid: e.raw.uid,
        inode: e.raw.inode,
        owners: json_owners(&e.owners),
    }
}

fn json_summary(s: &Summary) -> serde_json::Value {
    use serde_json::json;
    let states: Vec<_> = s
        .per_state
        .iter()
        .map(|((p, st), n)| json!({"protocol": p.name(), "state": st.key(*p), "count": n}))
        .collect();
    let procs: Vec<_> = s
        .per_process
        .iter()
        .map(|(pid, name, n)| json!({"pid": pid, "name": escape(name), "count": n}))
        .collect();
    let warns: Vec<_> = s.warnings.iter().map(|w| w.to_string()).collect();
    json!({"total": s.total, "states": states, "processes": procs,
           "unowned": s.unowned, "warnings": warns})
}

fn write_json(
    w: &mut dyn Write,
    snap: &Snapshot,
    summary: Option<&Summary>,
    exposure: Option<&Exposure>,
) -> io::Result<()> {
    write!(
        w,
        "{{\"portolanlocal\":{{\"version\":1,\"source\":\"{}\",\"owners_hidden\":{}}},\"sockets\":[",
        snap.source, snap.owners_hidden
    )?;
    for (i, e) in snap.sockets.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &json_socket(e))?;
    }
    w.write_all(b"\n]")?;
    if let Some(s) = summary {
        w.write_all(b",\"summary\":")?;
        serde_json::to_writer(&mut *w, &json_summary(s))?;
    }
    if let Some(e) = exposure {
        w.write_all(b",\"exposure\":")?;
        exposure::write_json(w, e)?;
    }
    w.write_all(b"}\n")
}

/// One `<owner .../>` line per owning process, indented by `indent`
/// (the socket listing and `--exposure`'s report both nest them).
pub(crate) fn xml_owners(
    w: &mut dyn Write,
    owners: &[Arc<Process>],
    indent: &str,
) -> io::Result<()> {
    for p in owners {
        writeln!(
            w,
            "{indent}<owner pid=\"{}\" name=\"{}\" user=\"{}\" cmdline=\"{}\"/>",
            p.pid,
            xml_text(&p.name),
            xml_text(&p.user),
            xml_text(&p.cmdline)
        )?;
    }
    Ok(())
}

/// Escapes for XML text and attributes (after [`escape`], so no control
/// characters remain).
pub(crate) fn xml_text(s: &str) -> String {
    escape(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn write_xml(
    w: &mut dyn Write,
    snap: &Snapshot,
    summary: Option<&Summary>,
    exposure: Option<&Exposure>,
) -> io::Result<()> {
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        w,
        "<portolanlocal version=\"1\" source=\"{}\" owners_hidden=\"{}\">",
        snap.source, snap.owners_hidden
    )?;
    for e in &snap.sockets {
        let j = json_socket(e);
        write!(
            w,
            "<socket protocol=\"{}\" family=\"{}\" state=\"{}\" local_address=\"{}\" local_port=\"{}\" remote_address=\"{}\" remote_port=\"{}\" recv_q=\"{}\" send_q=\"{}\" scope=\"{}\" uid=\"{}\" inode=\"{}\"",
            j.protocol, j.family, j.state, j.local_address, j.local_port, j.remote_address,
            j.remote_port, j.recv_q, j.send_q, j.scope, j.uid, j.inode
        )?;
        if let Some(ns) = j.netns {
            write!(w, " netns=\"{}\"", xml_text(ns))?;
        }
        if let Some(svc) = j.service {
            write!(w, " service=\"{}\"", xml_text(svc))?;
        }
        if e.owners.is_empty() {
            writeln!(w, "/>")?;
            continue;
        }
        writeln!(w, ">")?;
        xml_owners(w, &e.owners, "  ")?;
        writeln!(w, "</socket>")?;
    }
    if let Some(s) = summary {
        writeln!(
            w,
            "<summary total=\"{}\" unowned=\"{}\">",
            s.total, s.unowned
        )?;
        for ((p, st), n) in &s.per_state {
            writeln!(
                w,
                "  <state protocol=\"{}\" state=\"{}\" count=\"{n}\"/>",
                p.name(),
                st.key(*p)
            )?;
        }
        for (pid, name, n) in &s.per_process {
            writeln!(
                w,
                "  <process pid=\"{pid}\" name=\"{}\" count=\"{n}\"/>",
                xml_text(name)
            )?;
        }
        for warn in &s.warnings {
            writeln!(w, "  <warning>{}</warning>", xml_text(&warn.to_string()))?;
        }
        writeln!(w, "</summary>")?;
    }
    if let Some(e) = exposure {
        exposure::write_xml(w, e)?;
    }
    writeln!(w, "</portolanlocal>")
}
