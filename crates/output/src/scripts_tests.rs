//! Check results in every format: nmap's script layout in normal output,
//! `<script>` with `<elem>`/`<table>` in XML, objects in JSON (schema and
//! round trip), finding IDs in grepable output, and the findings summary.

use crate::testdata::*;
use crate::{grepable, json, normal, xml, OutputOptions};
use portolan_model::{
    render_items, HostResult, HostStatus, PortState, Protocol, Reason, ScriptItem, ScriptResult,
    Severity,
};

fn result(id: &str, port: Option<u16>, severity: Severity, items: Vec<ScriptItem>) -> ScriptResult {
    ScriptResult {
        id: id.into(),
        port,
        protocol: port.map(|_| Protocol::Tcp),
        severity,
        summary: format!("{id} summary"),
        output: render_items(&items),
        items,
    }
}

/// A host with Redis open: a finding with an element and a table, its
/// risk hint, a one-line title on port 80, and a host-level result.
fn scripted_host() -> HostResult {
    let mut h = HostResult::new(
        "198.18.0.2".parse().unwrap(),
        HostStatus::Up,
        Reason::SynAck,
    );
    h.ports
        .push(port(80, Protocol::Tcp, PortState::Open, Reason::SynAck, 64));
    h.ports.push(port(
        6379,
        Protocol::Tcp,
        PortState::Open,
        Reason::SynAck,
        64,
    ));
    h.scripts = vec![
        result(
            "http-title",
            Some(80),
            Severity::Info,
            vec![ScriptItem::elem("title", "Admin\x1b[2J")],
        ),
        result(
            "redis-info",
            Some(6379),
            Severity::High,
            vec![
                ScriptItem::elem("Version", "7.0.15"),
                ScriptItem::table(
                    "modules",
                    vec![ScriptItem::value("a"), ScriptItem::value("b")],
                ),
            ],
        ),
        result(
            "risk-hint",
            Some(6379),
            Severity::Info,
            vec![ScriptItem::elem("rating", "high")],
        ),
        result(
            "host-check",
            None,
            Severity::Low,
            vec![ScriptItem::elem("k", "v")],
        ),
    ];
    h
}

#[test]
fn normal_output_draws_nmaps_script_layout_and_the_findings() {
    let text = render(
        normal,
        OutputOptions::default(),
        &scan_info(),
        &[scripted_host()],
        Some(&stats(false)),
    );
    let expect = "\
PORT     STATE SERVICE
80/tcp   open  unknown
|_http-title: title: Admin\\x1b[2J
6379/tcp open  unknown
| redis-info: 
|   Version: 7.0.15
|   modules: 
|     a
|_    b
|_risk-hint: rating: high

Host script results:
|_host-check: k: v
";
    assert!(text.contains(expect), "{text}");
    let findings = "\
Findings (4):
  HIGH     198.18.0.2:6379/tcp redis-info: redis-info summary
  LOW      198.18.0.2 host-check: host-check summary
  INFO     198.18.0.2:80/tcp http-title: http-title summary
  INFO     198.18.0.2:6379/tcp risk-hint: risk-hint summary
";
    assert!(text.contains(findings), "{text}");
    assert!(
        text.contains("seconds; findings: 1 high, 1 low, 2 info\n"),
        "{text}"
    );
}

#[test]
fn without_results_the_closing_line_is_unchanged() {
    let text = render(
        normal,
        OutputOptions::default(),
        &scan_info(),
        &[one_open_999_closed()],
        Some(&stats(false)),
    );
    assert!(
        !text.contains("Findings") && !text.contains("findings:"),
        "{text}"
    );
}

#[test]
fn xml_has_script_elements_with_elems_and_tables() {
    let text = render(
        xml,
        OutputOptions::default(),
        &scan_info(),
        &[scripted_host()],
        Some(&stats(false)),
    );
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, opts).unwrap();
    let script = doc
        .descendants()
        .find(|n| n.has_tag_name("script") && n.attribute("id") == Some("redis-info"))
        .expect("redis-info script");
    assert_eq!(script.parent().unwrap().tag_name().name(), "port");
    assert_eq!(
        script.attribute("output"),
        Some("Version: 7.0.15\nmodules: \n  a\n  b")
    );
    let elem = script.children().find(|n| n.has_tag_name("elem")).unwrap();
    assert_eq!(
        (elem.attribute("key"), elem.text()),
        (Some("Version"), Some("7.0.15"))
    );
    let table = script.children().find(|n| n.has_tag_name("table")).unwrap();
    assert_eq!(table.attribute("key"), Some("modules"));
    let listed: Vec<_> = table
        .children()
        .filter(|n| n.has_tag_name("elem"))
        .map(|n| n.text())
        .collect();
    assert_eq!(listed, vec![Some("a"), Some("b")]);
    let host_script = doc
        .descendants()
        .find(|n| n.has_tag_name("hostscript"))
        .unwrap();
    assert_eq!(
        host_script.first_element_child().unwrap().attribute("id"),
        Some("host-check")
    );
    let back = crate::read::read_xml(text.as_bytes()).unwrap();
    assert_eq!(back.hosts[0].ports.len(), 2);
}

#[test]
fn xml_check_results_read_back_equal() {
    // Written and read: the same results, severities, summaries and
    // items (text without control characters, which XML output replaces).
    let mut host = scripted_host();
    host.scripts[0] = result(
        "http-title",
        Some(80),
        Severity::Info,
        vec![ScriptItem::elem("title", "Admin <console> & \"more\"")],
    );
    host.scripts[2].summary = "port 6379: Redis is anyone's <data> & \"more\"".into();
    let text = render(
        xml,
        OutputOptions::default(),
        &scan_info(),
        std::slice::from_ref(&host),
        Some(&stats(false)),
    );
    let back = crate::read::read_xml(text.as_bytes()).unwrap();
    assert_eq!(back.hosts[0].scripts, host.scripts, "{text}");
    // nmap's own scripts (no severity or summary) read as info, the
    // output's first line as the summary.
    let nmap = text
        .replace(" severity=\"high\"", "")
        .replace(" summary=\"redis-info summary\"", "");
    let back = crate::read::read_xml(nmap.as_bytes()).unwrap();
    let redis = &back.hosts[0].scripts[1];
    assert_eq!(
        (redis.severity, redis.summary.as_str()),
        (Severity::Info, "Version: 7.0.15")
    );
    assert_eq!(redis.items, host.scripts[1].items);
}

#[test]
fn json_writes_objects_that_match_the_schema_and_read_back() {
    let text = render(
        json,
        OutputOptions::default(),
        &scan_info(),
        &[scripted_host()],
        Some(&stats(false)),
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    check_schema(&lines);
    let host = lines.iter().find(|l| l["type"] == "host").unwrap();
    assert_eq!(host["scripts"][1]["id"], "redis-info");
    assert_eq!(host["scripts"][1]["severity"], "high");
    assert_eq!(host["scripts"][1]["items"][1]["table"]["key"], "modules");
    let doc = crate::read::read_json(text.as_bytes()).unwrap();
    assert_eq!(doc.hosts[0].scripts, scripted_host().scripts);
}

#[test]
fn grepable_lists_the_finding_ids_but_not_the_hints() {
    let text = render(
        grepable,
        OutputOptions::default(),
        &scan_info(),
        &[scripted_host()],
        Some(&stats(false)),
    );
    let line = text.lines().find(|l| l.contains("Ports:")).unwrap();
    assert!(
        line.ends_with(
            "\tFindings: 80/tcp/http-title/info, 6379/tcp/redis-info/high, host/host-check/low"
        ),
        "{line}"
    );
}
