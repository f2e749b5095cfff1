//! JSON written by `-oJ` reads back into the same model; bad input fails
//! with an error naming its line and field.

use super::read_json;
use crate::read::ReadError;
use crate::testdata::*;
use crate::{json, OutputOptions};
use portolan_model::{HostResult, ScanDocument};
use proptest::prelude::*;

/// Every host the format tests know, and a few more.
fn rich_hosts() -> Vec<HostResult> {
    vec![
        one_open_999_closed(),
        mixed_tcp_udp(),
        ipv6_host(),
        down_host(),
        hostile_host(),
        timed_out_host(),
        udp_rate_limited(),
        all_closed(),
        tls_host(),
        every_state(),
    ]
}

fn rich_document() -> ScanDocument {
    let mut st = stats(true);
    st.error = Some("send failed: \"x\"".into());
    st.hosts_down = 1;
    st.elapsed = 12.345_678;
    ScanDocument {
        info: mixed_scan_info(),
        hosts: rich_hosts(),
        warnings: vec!["Failed to resolve \"nohost.invalid\".".into()],
        stats: Some(st),
    }
}

/// Writes `doc` as the JSON output does, warnings after the hosts.
fn write(doc: &ScanDocument, opts: OutputOptions) -> String {
    let buf = SharedBuf::default();
    let mut out = json(Box::new(buf.clone()), opts);
    out.begin(&doc.info).unwrap();
    for h in &doc.hosts {
        out.host(h).unwrap();
    }
    for w in &doc.warnings {
        out.warning(w).unwrap();
    }
    if let Some(st) = &doc.stats {
        out.end(st).unwrap();
    }
    buf.text()
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_rich_scan_reads_back_exactly_whatever_the_listing_rule() {
    let doc = rich_document();
    for opts in [
        OutputOptions::default(),
        OutputOptions {
            verbose: 3,
            ..Default::default()
        },
        OutputOptions {
            open_only: true,
            reason: true,
            ..Default::default()
        },
    ] {
        let text = write(&doc, opts);
        check_schema(&lines(&text));
        let back = read_json(text.as_bytes()).unwrap();
        assert_eq!(back, doc, "{opts:?}");
    }
}

#[test]
fn summarised_ports_keep_reason_ttl_and_table_service() {
    let text = write(&rich_document(), OutputOptions::default());
    let host = &lines(&text)[10];
    assert_eq!(host["address"], "198.18.0.2");
    let closed = &host["extraports"][0];
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["count"], 44);
    assert_eq!(closed["reasons"]["reset"], 44);
    assert_eq!(closed["ports"], "1-24,26-45");
    assert_eq!(closed["groups"][0]["reason_ttl"], 63);
    assert_eq!(closed["groups"][0]["ports"], "31-45");
    assert_eq!(closed["groups"][1]["ports"], "1-24,26-30");
    assert_eq!(closed["services"]["ftp"], "21");
    assert_eq!(closed["services"]["unknown"], "40-45");
    // A probed service is never folded into a summary.
    let listed: Vec<u64> = host["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert!(listed.contains(&25), "{listed:?}");
}

#[test]
fn a_killed_scan_reads_without_stats() {
    let mut doc = rich_document();
    doc.stats = None;
    let text = write(&doc, OutputOptions::default());
    assert_eq!(read_json(text.as_bytes()).unwrap(), doc);
}

fn error_of(text: &str) -> String {
    match read_json(text.as_bytes()) {
        Err(e) => e.to_string(),
        Ok(d) => panic!("read {d:?}"),
    }
}

#[test]
fn bad_input_names_line_and_field() {
    let good = write(&rich_document(), OutputOptions::default());
    let mut ls: Vec<String> = good.lines().map(String::from).collect();
    ls[2] = ls[2].replacen("\"state\":\"open\"", "\"state\":\"opn\"", 1);
    let e = error_of(&ls.join("\n"));
    assert!(
        e.starts_with("line 3, field `ports[0].state`: unknown variant `opn`"),
        "{e}"
    );

    assert_eq!(
        error_of("{\"type\":\"host\"}\n"),
        "line 1: `host` line before the `scan` line"
    );
    assert!(error_of("").contains("no `scan` line"));
    let e = error_of(&format!("{}\n{{\"type\":", ls[0]));
    assert!(e.starts_with("line 2: EOF while parsing"), "{e}");
    let e = error_of(&format!("{good}{}\n", ls[1]));
    assert!(e.ends_with("a line after the `end` line"), "{e}");
    let bad_family = ls[1].replacen("\"family\":\"ipv4\"", "\"family\":\"ipv6\"", 1);
    let e = error_of(&format!("{}\n{bad_family}\n", ls[0]));
    assert!(e.contains("family does not match address 127.0.0.1"), "{e}");
    let bad_count = ls[1].replacen("\"count\":999", "\"count\":998", 1);
    let e = error_of(&format!("{}\n{bad_count}\n", ls[0]));
    assert!(e.contains("extraports count 998"), "{e}");
    let twice = ls[1].replacen(
        "\"ports\":\"1-21,23-1000\"}",
        "\"ports\":\"1-22,23-1000\"}",
        1,
    );
    let e = error_of(&format!("{}\n{twice}\n", ls[0]));
    assert!(
        e.contains("extraports count 999 but its groups hold 1000"),
        "{e}"
    );
    let bad_mac = ls[2].replacen("02:42:AC", "02:42:XX", 1);
    let e = error_of(&format!("{}\n{bad_mac}\n", ls[0]));
    assert!(
        e.contains("field `mac`") && e.contains("bad MAC address"),
        "{e}"
    );
    assert!(matches!(
        read_json(&b"\xff\n"[..]),
        Err(ReadError::Json { line: 1, .. })
    ));
}

#[test]
fn unknown_line_types_are_skipped() {
    let doc = rich_document();
    let text = write(&doc, OutputOptions::default());
    let (first, rest) = text.split_once('\n').unwrap();
    let with_new = format!("{first}\n{{\"type\":\"progress\",\"percent\":50}}\n{rest}");
    assert_eq!(read_json(with_new.as_bytes()).unwrap(), doc);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes never panic the reader.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_json(&bytes[..]);
    }

    /// A valid file with one byte changed, or cut short, never panics.
    #[test]
    fn mutated_output_never_panics(at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let text = write(&rich_document(), OutputOptions::default());
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len());
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        let _ = read_json(&bytes[..]);
    }
}

/// Every line also reads as the model's owned `ScanEvent`, and the owned
/// event writes the same line as the borrowed one (default listing).
#[test]
fn lines_are_scan_events() {
    use portolan_model::{HostListing, ScanEvent, ScanEventRef};
    let doc = rich_document();
    let text = write(&doc, OutputOptions::default());
    let events: Vec<ScanEvent> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events[0], ScanEvent::Scan(doc.info.clone()));
    assert_eq!(events[10], ScanEvent::Host(doc.hosts[9].clone()));
    assert_eq!(
        events[11],
        ScanEvent::Warning {
            message: doc.warnings[0].clone()
        }
    );
    assert_eq!(events[12], ScanEvent::End(doc.stats.clone().unwrap()));
    for (event, line) in events.iter().zip(text.lines()) {
        assert_eq!(serde_json::to_string(event).unwrap(), line);
    }
    let h = &doc.hosts[0];
    let by_ref = ScanEventRef::Host(HostListing {
        host: h,
        verbose: 0,
        open_only: false,
    });
    assert_eq!(
        serde_json::to_string(&by_ref).unwrap(),
        serde_json::to_string(&ScanEvent::Host(h.clone())).unwrap()
    );
}
