//! Reading XML in nmap's format (nmap's own `-oX`, and portolan's, which
//! writes the same elements) into a [`ScanDocument`].
//!
//! Why roxmltree: the files are small enough to hold whole, and a tree
//! makes the reader a direct walk over nmap's elements. Hostile input is
//! bounded: the input size is capped, DTDs with content are refused (so no
//! entity can expand), and roxmltree's node limit caps the tree.
//!
//! What XML does not carry, so reads back differently from the model
//! written: summarised ports (`extraports`) have no reply TTL (0) and no
//! service; latency is whole microseconds (`srtt`); `elapsed` and a rate
//! limit's per-second figure have two decimals; warnings are not there;
//! `--scanflags` scans read as `syn`; an interrupted scan that also had an
//! error reads as that error only; certificate times before 1970 read as
//! 1970 and alternative names are split at `, `; control characters in
//! text were replaced when written. nmap's reason names that portolan does
//! not know read as `unknown-response`. Check results (`<script>`) come
//! back port by port, then the host's (`<hostscript>`): in the model's
//! order per port, not across ports.

use super::{ReadError, MAX_INPUT};
use portolan_model::{
    parse_ranges, HostResult, HostStatus, Hostname, HostnameKind, IcmpRateLimit, MacAddress,
    OsClass, OsMatch, OsReport, OsUptime, PortResult, PortState, Protocol, Reason, RunStats,
    ScanDocument, ScanInfo, ScanType, ScanTypeInfo, ScriptItem, ScriptResult, ServiceInfo,
    ServiceMethod, Severity,
};
use roxmltree::{Document, Node, ParsingOptions};
use serde::de::{value::StrDeserializer, DeserializeOwned, IntoDeserializer};
use std::io::Read;
use std::time::Duration;

/// The most XML nodes accepted (a scan of 65535 ports of thousands of
/// hosts listed one by one stays below it).
const MAX_NODES: u32 = 20_000_000;

/// Reads a whole XML document from `reader` (at most [`MAX_INPUT`] bytes).
pub fn read_xml(reader: impl Read) -> Result<ScanDocument, ReadError> {
    read_xml_bounded(reader, MAX_INPUT)
}

/// [`read_xml`] refusing input over `limit` bytes.
fn read_xml_bounded(reader: impl Read, limit: u64) -> Result<ScanDocument, ReadError> {
    let mut text = String::new();
    reader.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(xml_err(None, format!("input larger than {limit} bytes")));
    }
    read_xml_str(&text)
}

/// Reads a whole XML document held in memory.
pub fn read_xml_str(text: &str) -> Result<ScanDocument, ReadError> {
    if text.contains("<!ENTITY") || doctype_has_subset(text) {
        return Err(xml_err(None, "DTD declarations are not accepted".into()));
    }
    check_depth(text)?;
    // nmap and portolan write `<!DOCTYPE nmaprun>`, which roxmltree counts
    // as a DTD; one with declarations was refused above.
    let opts = ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| {
        let p = e.pos();
        xml_err(Some(format!("{}:{}", p.row, p.col)), e.to_string())
    })?;
    let run = doc.root_element();
    if !run.has_tag_name("nmaprun") {
        return Err(at(run, "root element is not <nmaprun>".into()));
    }
    let mut info = ScanInfo {
        version: run.attribute("version").unwrap_or_default().into(),
        args: run.attribute("args").unwrap_or_default().into(),
        start_time: num(run, "start", 0)?,
        scans: Vec::new(),
        verbose: 0,
        debugging: 0,
    };
    let mut doc = ScanDocument::new(info.clone());
    for n in run.children().filter(Node::is_element) {
        match n.tag_name().name() {
            "scaninfo" => info.scans.push(ScanTypeInfo {
                scan_type: scan_type(n)?,
                protocol: name(n, "protocol")?,
                num_services: num(n, "numservices", 0)?,
                services: n.attribute("services").unwrap_or_default().into(),
            }),
            "verbose" => info.verbose = num(n, "level", 0)?,
            "debugging" => info.debugging = num(n, "level", 0)?,
            "host" => doc.hosts.push(host(n)?),
            "runstats" => doc.stats = Some(runstats(n)?),
            _ => {}
        }
    }
    doc.info = info;
    if let Some(stats) = &mut doc.stats {
        stats.hosts_incomplete = doc.hosts.iter().filter(|h| h.incomplete).count() as u64;
    }
    Ok(doc)
}

/// The deepest nesting accepted: nmap's documents nest about 8 deep, and
/// the tree parser recurses per level, so a deeper document could
/// overflow the stack.
const MAX_DEPTH: usize = 64;

/// Refuses documents nested deeper than [`MAX_DEPTH`], with quick-xml's
/// streaming reader, before the tree is built.
fn check_depth(text: &str) -> Result<(), ReadError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(xml_err(
                        Some(format!("byte {}", reader.buffer_position())),
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) => return Ok(()),
            // The tree parser reports syntax errors with a line and column.
            Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// Whether the document's DOCTYPE has an internal subset (`[ ... ]`),
/// where entities would be declared.
fn doctype_has_subset(text: &str) -> bool {
    text.find("<!DOCTYPE").is_some_and(|i| {
        let rest = &text[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        rest[..end].contains('[')
    })
}

pub(super) fn xml_err(at: Option<String>, message: String) -> ReadError {
    ReadError::Xml { at, message }
}

/// An error at `n`: its position and element name.
pub(super) fn at(n: Node, message: String) -> ReadError {
    let p = n.document().text_pos_at(n.range().start);
    xml_err(
        Some(format!("{}:{} <{}>", p.row, p.col, n.tag_name().name())),
        message,
    )
}

/// Attribute `key` parsed as a number; `default` when absent.
fn num<T: std::str::FromStr>(n: Node, key: &str, default: T) -> Result<T, ReadError> {
    match n.attribute(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| at(n, format!("bad {key}=\"{v}\""))),
    }
}

/// A model enum from its nmap name, as the JSON shape spells it.
fn parse_name<T: DeserializeOwned>(v: &str) -> Option<T> {
    let d: StrDeserializer<'_, serde::de::value::Error> = v.into_deserializer();
    T::deserialize(d).ok()
}

/// Required attribute `key` as a model enum.
fn name<T: DeserializeOwned>(n: Node, key: &str) -> Result<T, ReadError> {
    let v = n
        .attribute(key)
        .ok_or_else(|| at(n, format!("missing {key}=")))?;
    parse_name(v).ok_or_else(|| at(n, format!("unknown {key}=\"{v}\"")))
}

fn reason(n: Node) -> Reason {
    n.attribute("reason")
        .and_then(parse_name)
        .unwrap_or(Reason::Unknown)
}

fn scan_type(n: Node) -> Result<ScanType, ReadError> {
    let v = n.attribute("type").unwrap_or_default();
    parse_name(v).ok_or_else(|| at(n, format!("unsupported scan type=\"{v}\"")))
}

fn host(n: Node) -> Result<HostResult, ReadError> {
    let status = child(n, "status").ok_or_else(|| at(n, "no <status>".into()))?;
    let addr = n
        .children()
        .find(|c| c.has_tag_name("address") && c.attribute("addrtype") != Some("mac"))
        .ok_or_else(|| at(n, "no IP <address>".into()))?;
    let ip = addr.attribute("addr").unwrap_or_default();
    let ip = ip
        .parse()
        .map_err(|_| at(addr, format!("bad addr=\"{ip}\"")))?;
    let mut h = HostResult::new(ip, name::<HostStatus>(status, "state")?, reason(status));
    h.reason_ttl = num(status, "reason_ttl", 0)?;
    h.start_time = num(n, "starttime", 0)?;
    h.end_time = num(n, "endtime", 0)?;
    h.timed_out = n.attribute("timedout") == Some("true");
    h.incomplete = n
        .attribute("comment")
        .is_some_and(|c| c.starts_with(crate::xml::INCOMPLETE_COMMENT));
    for c in n.children().filter(Node::is_element) {
        match c.tag_name().name() {
            "address" if c.attribute("addrtype") == Some("mac") => h.mac = Some(mac(c)?),
            "hostnames" => {
                for hn in c.children().filter(|x| x.has_tag_name("hostname")) {
                    h.hostnames.push(Hostname {
                        name: hn.attribute("name").unwrap_or_default().into(),
                        kind: name::<HostnameKind>(hn, "type")?,
                    });
                }
            }
            "ports" => ports(c, &mut h.ports, &mut h.scripts)?,
            "hostscript" => {
                for sc in c.children().filter(|x| x.has_tag_name("script")) {
                    h.scripts.push(script(sc, None));
                }
            }
            "ratelimit" => {
                h.icmp_rate_limit = Some(IcmpRateLimit {
                    protocol: name(c, "proto")?,
                    observed_per_sec: num(c, "persec", 0.0)?,
                    unresolved: num(c, "unresolved", 0)?,
                    exact: c.attribute("exact") == Some("true"),
                    tcp_icmp: c.attribute("reply") == Some("icmp-unreach"),
                })
            }
            "times" => h.latency = Some(Duration::from_micros(num(c, "srtt", 0)?)),
            "os" => h.os.get_or_insert_with(OsReport::default).merge_xml(os(c)?),
            "uptime" => {
                let seconds = num(c, "seconds", 0)?;
                // `lastboot` is text; the boot is the host's end less it.
                let up = OsUptime {
                    seconds,
                    last_boot: h.end_time.saturating_sub(seconds),
                };
                h.os.get_or_insert_with(OsReport::default).uptime = Some(up);
            }
            "distance" => {
                let d = num(c, "value", 0)?;
                h.os.get_or_insert_with(OsReport::default).distance = Some(d);
            }
            _ => {}
        }
    }
    h.ports.sort_by_key(|p| (p.port, p.protocol));
    if let Some(w) = h
        .ports
        .windows(2)
        .find(|w| (w[0].port, w[0].protocol) == (w[1].port, w[1].protocol))
    {
        return Err(at(
            n,
            format!("port {}/{} listed twice", w[0].port, w[0].protocol),
        ));
    }
    Ok(h)
}

/// nmap's `<os>`: `<osmatch>` with its `<osclass>` and `<cpe>`,
/// `<osfingerprint>`, and portolan's `nomatch`.
fn os(n: Node) -> Result<OsReport, ReadError> {
    let mut r = OsReport {
        no_match: n.attribute("nomatch").map(String::from),
        ..OsReport::default()
    };
    for m in n.children().filter(|c| c.has_tag_name("osmatch")) {
        let mut classes = Vec::new();
        for c in m.children().filter(|c| c.has_tag_name("osclass")) {
            classes.push(OsClass {
                device_type: c.attribute("type").unwrap_or_default().into(),
                vendor: c.attribute("vendor").unwrap_or_default().into(),
                family: c.attribute("osfamily").unwrap_or_default().into(),
                generation: c.attribute("osgen").map(String::from),
                accuracy: num(c, "accuracy", 0)?,
                cpe: c
                    .children()
                    .filter(|x| x.has_tag_name("cpe"))
                    .filter_map(|x| x.text().map(String::from))
                    .collect(),
            });
        }
        r.matches.push(OsMatch {
            name: m.attribute("name").unwrap_or_default().into(),
            accuracy: num(m, "accuracy", 0)?,
            classes,
        });
    }
    if let Some(fp) = child(n, "osfingerprint").and_then(|f| f.attribute("fingerprint")) {
        r.fingerprint = fp.into();
    }
    Ok(r)
}

fn child<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

fn mac(n: Node) -> Result<MacAddress, ReadError> {
    let text = n.attribute("addr").unwrap_or_default();
    let bad = || at(n, format!("bad MAC addr=\"{text}\""));
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut octets = [0u8; 6];
    for (o, p) in octets.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(MacAddress {
        octets,
        vendor: n.attribute("vendor").map(String::from),
    })
}

fn ports(
    n: Node,
    out: &mut Vec<PortResult>,
    scripts: &mut Vec<ScriptResult>,
) -> Result<(), ReadError> {
    for c in n.children().filter(Node::is_element) {
        if c.has_tag_name("extraports") {
            let state: PortState = name(c, "state")?;
            for r in c.children().filter(|x| x.has_tag_name("extrareasons")) {
                // Without `ports` (nmap before 7.92) the ports are unknown.
                let Some(list) = r.attribute("ports") else {
                    continue;
                };
                let protocol: Protocol = name(r, "proto")?;
                let reason = reason(r);
                for port in parse_ranges(list).map_err(|e| at(r, e))? {
                    out.push(PortResult {
                        port,
                        protocol,
                        state,
                        reason,
                        reason_ttl: 0,
                        service: None,
                    });
                }
            }
        } else if c.has_tag_name("port") {
            let st = child(c, "state").ok_or_else(|| at(c, "no <state>".into()))?;
            let port: u16 = num(c, "portid", 0)?;
            let protocol: Protocol = name(c, "protocol")?;
            // The service's certificate (`ssl-cert` without a severity) is
            // read by `service`; every other script is a check result.
            for sc in c.children().filter(|x| {
                x.has_tag_name("script")
                    && !(x.attribute("id") == Some("ssl-cert") && x.attribute("severity").is_none())
            }) {
                scripts.push(script(sc, Some((port, protocol))));
            }
            out.push(PortResult {
                port,
                protocol,
                state: name(st, "state")?,
                reason: reason(st),
                reason_ttl: num(st, "reason_ttl", 0)?,
                service: child(c, "service")
                    .map(|s| service(c, s))
                    .transpose()?
                    .map(Box::new),
            });
        }
    }
    Ok(())
}

/// A `<script id output>` as a check result: portolan's `severity` and
/// `summary` attributes when there (nmap's scripts have neither: info,
/// and the output's first line as the summary), `<elem>`/`<table>` as
/// the structured items.
fn script(n: Node, port: Option<(u16, Protocol)>) -> ScriptResult {
    let output = n.attribute("output").unwrap_or_default().to_string();
    let summary = match n.attribute("summary") {
        Some(s) => s.to_string(),
        None => output.lines().next().unwrap_or_default().trim().to_string(),
    };
    ScriptResult {
        id: n.attribute("id").unwrap_or_default().to_string(),
        port: port.map(|p| p.0),
        protocol: port.map(|p| p.1),
        severity: n
            .attribute("severity")
            .and_then(Severity::parse)
            .unwrap_or(Severity::Info),
        summary,
        output,
        items: script_items(n),
    }
}

/// `<elem key>` and `<table key>` children (nesting is bounded by the
/// document depth check).
fn script_items(n: Node) -> Vec<ScriptItem> {
    n.children()
        .filter(Node::is_element)
        .filter_map(|c| {
            let key = c.attribute("key").map(String::from);
            match c.tag_name().name() {
                "elem" => Some(ScriptItem::Elem {
                    key,
                    value: c.text().unwrap_or_default().to_string(),
                }),
                "table" => Some(ScriptItem::Table {
                    key,
                    items: script_items(c),
                }),
                _ => None,
            }
        })
        .collect()
}

fn service(port: Node, s: Node) -> Result<ServiceInfo, ReadError> {
    let text = |k: &str| s.attribute(k).map(String::from);
    let certificate = port
        .children()
        .find(|c| c.has_tag_name("script") && c.attribute("id") == Some("ssl-cert"))
        .map(super::cert::certificate)
        .transpose()?;
    Ok(ServiceInfo {
        name: text("name").unwrap_or_else(|| "unknown".into()),
        product: text("product"),
        version: text("version"),
        extrainfo: text("extrainfo"),
        hostname: text("hostname"),
        ostype: text("ostype"),
        devicetype: text("devicetype"),
        tunnel: text("tunnel"),
        method: match s.attribute("method") {
            Some(_) => name::<ServiceMethod>(s, "method")?,
            None => ServiceMethod::Table,
        },
        conf: num(s, "conf", 3)?,
        cpe: s
            .children()
            .filter(|c| c.has_tag_name("cpe"))
            .map(|c| c.text().unwrap_or_default().to_string())
            .collect(),
        certificate: certificate.map(Box::new),
    })
}

fn runstats(n: Node) -> Result<RunStats, ReadError> {
    let fin = child(n, "finished").ok_or_else(|| at(n, "no <finished>".into()))?;
    let hosts = child(n, "hosts");
    let count = |key: &str| hosts.map_or(Ok(0), |h| num(h, key, 0));
    let msg = fin.attribute("errormsg").map(String::from);
    let interrupted = msg.as_deref() == Some("Scan interrupted");
    Ok(RunStats {
        end_time: num(fin, "time", 0)?,
        elapsed: num(fin, "elapsed", 0.0)?,
        hosts_up: count("up")?,
        hosts_down: count("down")?,
        interrupted,
        // Counted from the hosts' marks once the document is read.
        hosts_incomplete: 0,
        error: if interrupted { None } else { msg },
    })
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
