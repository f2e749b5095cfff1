//! The XML form: ndiff's `nmapdiff` structure (`scandiff`, `hostdiff`,
//! `portdiff`, each change as an `<a>` and a `<b>` element), so that
//! tools reading ndiff's XML read this. Portolan adds one element,
//! `<notcompared ports="N" flaps="M"/>`, at the end of `scandiff`.

use crate::{HostDiff, HostSide, PortDiff, PortSide, ScanDiff, ScanSide};
use quick_xml::escape::escape;
use std::io::{self, Write};
use std::net::IpAddr;

/// Writes `d` as XML.
pub fn write_xml(w: &mut dyn Write, d: &ScanDiff) -> io::Result<()> {
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(w, "<nmapdiff version=\"1\">")?;
    writeln!(w, "  <scandiff>")?;
    for (tag, s) in [("a", &d.a), ("b", &d.b)] {
        writeln!(w, "    <{tag}>{}</{tag}>", nmaprun(s))?;
    }
    for h in &d.hosts {
        host(w, h)?;
    }
    writeln!(
        w,
        "    <notcompared ports=\"{}\" flaps=\"{}\"/>",
        d.not_compared, d.flaps_suppressed
    )?;
    writeln!(w, "  </scandiff>")?;
    writeln!(w, "</nmapdiff>")
}

fn attr(s: &str) -> String {
    // Control characters are not allowed in XML 1.0, even escaped.
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    escape(clean.as_str()).into_owned()
}

fn nmaprun(s: &ScanSide) -> String {
    let scanner = if s.args.starts_with("nmap") {
        "nmap"
    } else {
        "portolan"
    };
    format!(
        "<nmaprun scanner=\"{scanner}\" args=\"{}\" start=\"{}\" version=\"{}\"/>",
        attr(&s.args),
        s.start_time,
        attr(&s.version)
    )
}

fn address(addr: IpAddr) -> String {
    let kind = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
    format!("<address addr=\"{addr}\" addrtype=\"{kind}\"/>")
}

fn status(s: &HostSide) -> String {
    format!("<status state=\"{}\"/>", s.status.as_str())
}

fn hostnames(s: &HostSide) -> String {
    let mut out = String::from("<hostnames>");
    for n in &s.hostnames {
        out.push_str(&format!("<hostname name=\"{}\"/>", attr(n)));
    }
    out.push_str("</hostnames>");
    out
}

fn port(p: &PortDiff, s: &PortSide) -> String {
    let mut out = format!(
        "<port protocol=\"{}\" portid=\"{}\"><state state=\"{}\"/>",
        p.protocol, p.port, s.state
    );
    if let Some(name) = &s.service {
        out.push_str(&format!("<service name=\"{}\"", attr(name)));
        for (key, v) in [
            ("product", &s.product),
            ("version", &s.version),
            ("extrainfo", &s.extrainfo),
        ] {
            if let Some(v) = v {
                out.push_str(&format!(" {key}=\"{}\"", attr(v)));
            }
        }
        out.push_str("/>");
    }
    out.push_str("</port>");
    out
}

fn host(w: &mut dyn Write, h: &HostDiff) -> io::Result<()> {
    writeln!(w, "    <hostdiff>")?;
    match (&h.a, &h.b) {
        (Some(s), None) | (None, Some(s)) => {
            let tag = if h.a.is_some() { "a" } else { "b" };
            let ports: String = h
                .ports
                .iter()
                .filter_map(|p| p.a.as_ref().or(p.b.as_ref()).map(|s| port(p, s)))
                .collect();
            writeln!(
                w,
                "      <{tag}><host>{}{}{}<ports>{ports}</ports></host></{tag}>",
                status(s),
                address(h.addr),
                hostnames(s)
            )?;
        }
        (Some(a), Some(b)) => {
            writeln!(w, "      <host>")?;
            if a.status != b.status {
                writeln!(w, "        <a>{}</a><b>{}</b>", status(a), status(b))?;
            } else {
                writeln!(w, "        {}", status(a))?;
            }
            writeln!(w, "        {}", address(h.addr))?;
            if a.hostnames != b.hostnames {
                writeln!(w, "        <a>{}</a><b>{}</b>", hostnames(a), hostnames(b))?;
            } else {
                writeln!(w, "        {}", hostnames(a))?;
            }
            if h.os_changed() {
                let os = |s: &HostSide| {
                    format!(
                        "<os><osmatch name=\"{}\"/></os>",
                        escape(s.os.as_deref().unwrap_or(""))
                    )
                };
                writeln!(w, "        <a>{}</a><b>{}</b>", os(a), os(b))?;
            }
            writeln!(w, "        <ports>")?;
            for p in &h.ports {
                let side = |tag: &str, s: &Option<PortSide>| {
                    s.as_ref()
                        .map(|s| format!("<{tag}>{}</{tag}>", port(p, s)))
                        .unwrap_or_default()
                };
                writeln!(
                    w,
                    "          <portdiff>{}{}</portdiff>",
                    side("a", &p.a),
                    side("b", &p.b)
                )?;
            }
            writeln!(w, "        </ports>")?;
            writeln!(w, "      </host>")?;
        }
        (None, None) => {}
    }
    writeln!(w, "    </hostdiff>")
}
