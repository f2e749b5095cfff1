//! Whole-report tests: counts, escaping of hostile input, the embedded
//! data, and `-oH`'s file.

use crate::{render, sample, HtmlFile, ReportScan};
use portolan_model::{HostResult, PortResult, PortState, Protocol, Reason, ServiceInfo};
use portolan_output::OutputFormat;

const HOSTILE: &str =
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">";

fn hostile_scan() -> ReportScan {
    let mut doc = sample::scan(3, 100, 2);
    let mut s = ServiceInfo::from_table("ssh");
    s.extrainfo = Some(HOSTILE.into());
    s.product = Some("</script><!--".into());
    doc.hosts[0].ports.push(PortResult {
        port: 2222,
        protocol: Protocol::Tcp,
        state: PortState::Open,
        reason: Reason::SynAck,
        reason_ttl: 64,
        service: Some(Box::new(s)),
    });
    doc.hosts[1].hostnames.push(portolan_model::Hostname {
        name: HOSTILE.into(),
        kind: portolan_model::HostnameKind::Ptr,
    });
    doc.info.args = format!("portolan {HOSTILE}");
    ReportScan::from_document(&doc, Some(format!("{HOSTILE}.xml")))
}

/// The text between `<script type="application/json" id="report-data">`
/// and its end tag.
fn data_block(html: &str) -> &str {
    let open = r#"<script type="application/json" id="report-data">"#;
    let start = html.find(open).expect("data block") + open.len();
    let len = html[start..].find("</script>").expect("end of data block");
    &html[start..start + len]
}

#[test]
fn hostile_text_never_becomes_markup() {
    let html = render(&[hostile_scan()]).unwrap();
    // Our own two script elements, and no other.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert!(!html.contains("<img"), "an <img> got through");
    assert!(!html.contains("<!--"));
    assert!(html.contains("&lt;script&gt;document.title="));
    // The data block reads back to the very text.
    let data: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    assert_eq!(data["table"]["hosts"][1][1], HOSTILE);
    let version = data["table"]["rows"][2][5].as_str().unwrap();
    assert_eq!(version, format!("</script><!-- ({HOSTILE})"));
}

#[test]
fn cards_and_table_count_the_scan() {
    let doc = sample::scan(20, 300, 3);
    let html = render(&[ReportScan::from_document(&doc, None)]).unwrap();
    assert!(html.contains(r#"data-card="hosts-up" data-value="20""#));
    assert!(html.contains(r#"data-card="open-ports" data-value="60""#));
    assert!(html.contains(r#"data-card="ports-scanned" data-value="6000""#));
    let data: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    let rows = data["table"]["rows"].as_array().unwrap();
    // Three open and one filtered port listed per host (the 1,000 closed
    // ones are counted, not listed).
    assert_eq!(rows.len(), 20 * 4);
    assert_eq!(data["table"]["hosts"].as_array().unwrap().len(), 20);
}

#[test]
fn every_chart_is_drawn_and_the_policy_forbids_fetches() {
    let html = render(&[ReportScan::from_document(&sample::scan(5, 50, 4), None)]).unwrap();
    for key in ["top-ports", "services", "products", "port-states"] {
        assert!(html.contains(&format!(r#"data-chart="{key}""#)), "{key}");
    }
    assert!(html.contains("default-src 'none'"));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn a_host_without_listed_ports_still_has_a_row() {
    let mut doc = sample::scan(1, 30, 0);
    doc.hosts.push(HostResult::new(
        "198.18.1.1".parse().unwrap(),
        portolan_model::HostStatus::Down,
        Reason::NoResponse,
    ));
    let html = render(&[ReportScan::from_document(&doc, None)]).unwrap();
    let data: serde_json::Value = serde_json::from_str(data_block(&html)).unwrap();
    let rows = data["table"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0][1].is_null());
    assert!(html.contains(r#"data-card="hosts-down" data-value="1""#));
}

#[test]
fn html_file_is_complete_at_every_step() {
    let dir = std::env::temp_dir().join(format!("portolan-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scan.html");
    let doc = sample::scan(2, 10, 1);
    let mut out = HtmlFile::new(&path);
    out.begin(&doc.info).unwrap();
    let first = std::fs::read_to_string(&path).unwrap();
    assert!(first.trim_end().ends_with("</html>"));
    assert!(first.contains("in progress"));
    for h in &doc.hosts {
        out.host(h).unwrap();
    }
    out.end(doc.stats.as_ref().unwrap()).unwrap();
    let last = std::fs::read_to_string(&path).unwrap();
    assert!(last.contains(r#"data-card="hosts-up" data-value="2""#));
    assert!(last.contains("completed"));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "a temporary file was left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}
