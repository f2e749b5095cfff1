//! Diffs of committed scan pairs (see `fixtures/README.md`), checked
//! against the expected output byte for byte.

use portolan_diff::{diff, write_text, write_xml, DiffOptions, ScanDiff};
use portolan_model::ScanDocument;
use portolan_output::read::{read_json, read_xml};
use std::io::BufReader;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> ScanDocument {
    let f = BufReader::new(std::fs::File::open(fixture(name)).unwrap());
    if name.ends_with(".xml") {
        read_xml(f).unwrap()
    } else {
        read_json(f).unwrap()
    }
}

fn text(d: &ScanDiff) -> String {
    let mut out = Vec::new();
    write_text(&mut out, d).unwrap();
    String::from_utf8(out).unwrap()
}

fn xml(d: &ScanDiff) -> String {
    let mut out = Vec::new();
    write_xml(&mut out, d).unwrap();
    String::from_utf8(out).unwrap()
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

#[test]
fn nmap_pair_gives_the_recorded_text_and_xml() {
    let d = diff(
        &read("nmap-a.xml"),
        &read("nmap-b.xml"),
        DiffOptions::default(),
    );
    assert!(d.differs());
    assert_eq!(text(&d), expected("nmap.diff.txt"));
    assert_eq!(xml(&d), expected("nmap.diff.xml"));
    // 8000/tcp is in scan A only: not compared, not "closed".
    assert_eq!(d.not_compared, 1);
    let ports: Vec<u16> = d.hosts[0].ports.iter().map(|p| p.port).collect();
    assert_eq!(ports, [21, 22, 80]);
    assert!(d.hosts[0].names_changed() && !d.hosts[0].status_changed());
}

#[test]
fn portolan_pair_reads_the_same_from_json_and_xml() {
    let a = read("portolan-a.json");
    let d = diff(&a, &read("portolan-b.json"), DiffOptions::default());
    assert_eq!(text(&d), expected("portolan.diff.txt"));
    assert_eq!(xml(&d), expected("portolan.diff.xml"));
    let from_xml = diff(&a, &read("portolan-b.xml"), DiffOptions::default());
    assert_eq!(from_xml.hosts, d.hosts);
    assert_eq!(from_xml.not_compared, 1);
}

#[test]
fn a_scan_compared_with_itself_has_no_difference() {
    for name in [
        "nmap-a.xml",
        "nmap-b.xml",
        "portolan-a.json",
        "portolan-b.xml",
    ] {
        let doc = read(name);
        let d = diff(&doc, &doc, DiffOptions::default());
        assert!(!d.differs(), "{name}");
        assert_eq!(d.not_compared, 0, "{name}");
    }
}

#[test]
fn the_json_form_is_the_diffs_serde_shape() {
    let d = diff(
        &read("nmap-a.xml"),
        &read("nmap-b.xml"),
        DiffOptions::default(),
    );
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["hosts"][0]["addr"], "198.18.0.2");
    assert_eq!(
        v["hosts"][0]["ports"][1]["b"]["version"],
        "9.2p1 Debian 2+deb12u11"
    );
    assert_eq!(v["hosts"][0]["ports"][2]["a"]["state"], "closed");
    assert_eq!(v["not_compared"], 1);
}
