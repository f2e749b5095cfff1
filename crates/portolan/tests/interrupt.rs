//! An interrupted scan still leaves well-formed output files.

mod common;
use common::portolan;
use std::time::Duration;

#[test]
fn sigint_leaves_complete_xml_and_json() {
    let dir = std::env::temp_dir().join(format!("portolan-int-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("scan.xml");
    let json = dir.join("scan.json");
    // A long, slow scan of many loopback addresses.
    let mut child = portolan()
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-p80",
            "--max-rate",
            "50",
            "-oX",
            xml.to_str().unwrap(),
            "-oJ",
            json.to_str().unwrap(),
            "127.0.0.0/16",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "an interrupted scan exits non-zero");
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &text,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("interrupted XML is well-formed");
    let finished = doc
        .descendants()
        .find(|n| n.has_tag_name("finished"))
        .unwrap();
    assert_eq!(finished.attribute("exit"), Some("error"));
    assert!(doc.descendants().filter(|n| n.has_tag_name("host")).count() > 0);
    let last = std::fs::read_to_string(&json).unwrap();
    let end: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(end["type"], "end");
}
