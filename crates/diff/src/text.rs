//! The text form, laid out as ndiff's: ` ` for context, `-` for what
//! scan A said, `+` for what scan B says.

use crate::{HostDiff, HostSide, PortSide, ScanDiff, ScanSide};
use portolan_model::rfc3339;
use std::io::{self, Write};

/// Writes `d` as text.
pub fn write_text(w: &mut dyn Write, d: &ScanDiff) -> io::Result<()> {
    writeln!(w, "-{}", header(&d.a))?;
    writeln!(w, "+{}", header(&d.b))?;
    for h in &d.hosts {
        writeln!(w)?;
        host(w, h)?;
    }
    if d.not_compared > 0 || d.flaps_suppressed > 0 {
        writeln!(w)?;
    }
    if d.not_compared > 0 {
        writeln!(
            w,
            " Not compared: {} {} scanned in one scan only (or of a host down in one)",
            d.not_compared,
            plural(d.not_compared, "port", "ports")
        )?;
    }
    if d.flaps_suppressed > 0 {
        writeln!(
            w,
            " Not shown: {} open|filtered {} (--all shows them)",
            d.flaps_suppressed,
            plural(d.flaps_suppressed, "flap", "flaps")
        )?;
    }
    Ok(())
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `Nmap 7.93 scan initiated 2026-12-04T16:48:42Z as: nmap ...`.
fn header(s: &ScanSide) -> String {
    let scanner = if s.args.starts_with("nmap") {
        "Nmap"
    } else {
        "Portolan"
    };
    format!(
        "{scanner} {} scan initiated {} as: {}",
        s.version,
        rfc3339(s.start_time),
        s.args
    )
}

fn host(w: &mut dyn Write, h: &HostDiff) -> io::Result<()> {
    let sign = match (&h.a, &h.b) {
        (Some(_), None) => '-',
        (None, Some(_)) => '+',
        _ => ' ',
    };
    match h.name() {
        Some(name) => writeln!(w, "{sign}{name} ({}):", h.addr)?,
        None => writeln!(w, "{sign}{}:", h.addr)?,
    }
    let status = |s: &HostSide| format!("Host is {}.", s.status.as_str());
    match (&h.a, &h.b) {
        (Some(a), Some(b)) if a.status != b.status => {
            writeln!(w, "-{}", status(a))?;
            writeln!(w, "+{}", status(b))?;
        }
        (Some(a), Some(_)) => writeln!(w, " {}", status(a))?,
        (Some(s), None) | (None, Some(s)) => writeln!(w, "{sign}{}", status(s))?,
        (None, None) => {}
    }
    if h.names_changed() {
        if let (Some(a), Some(b)) = (&h.a, &h.b) {
            let names = |s: &HostSide| format!("Host names: {}", s.hostnames.join(" "));
            writeln!(w, "-{}", names(a).trim_end())?;
            writeln!(w, "+{}", names(b).trim_end())?;
        }
    }
    if h.os_changed() {
        // ndiff's layout: the heading, then the match indented.
        if let (Some(Some(a)), Some(Some(b))) =
            (h.a.as_ref().map(|s| &s.os), h.b.as_ref().map(|s| &s.os))
        {
            writeln!(w, "-OS details:\n-  {a}\n+OS details:\n+  {b}")?;
        }
    }
    if h.ports.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<(char, [String; 4])> = Vec::new();
    for p in &h.ports {
        let port = format!("{}/{}", p.port, p.protocol);
        let row = |s: &PortSide| {
            [
                port.clone(),
                s.state.as_str().to_owned(),
                s.service.clone().unwrap_or_default(),
                s.version_text(),
            ]
        };
        if let Some(a) = &p.a {
            rows.push(('-', row(a)));
        }
        if let Some(b) = &p.b {
            rows.push(('+', row(b)));
        }
    }
    let head = ["PORT", "STATE", "SERVICE", "VERSION"].map(String::from);
    let mut width = [0usize; 3];
    for r in rows.iter().map(|(_, r)| r).chain(std::iter::once(&head)) {
        for (i, wd) in width.iter_mut().enumerate() {
            *wd = (*wd).max(r[i].len());
        }
    }
    let line = |sign: char, r: &[String; 4]| {
        format!(
            "{sign}{:w0$} {:w1$} {:w2$} {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2]
        )
        .trim_end()
        .to_owned()
    };
    writeln!(w, "{}", line(' ', &head))?;
    for (sign, r) in &rows {
        writeln!(w, "{}", line(*sign, r))?;
    }
    Ok(())
}
