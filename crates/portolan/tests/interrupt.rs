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

#[test]
fn sigint_during_service_detection_stops_it_at_once() {
    // A service that accepts and never speaks keeps -sV busy for seconds
    // (every probe waits its full time); Ctrl-C must end the run at once,
    // with the host written and the run marked interrupted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, connections) = std::sync::mpsc::channel();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(64).flatten() {
            conns.push(c);
            let _ = accepted.send(());
        }
    });
    let dir = std::env::temp_dir().join(format!("portolan-int-sv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("scan.xml");
    let mut child = portolan()
        .args(["-sT", "-Pn", "-n", "-sV", "--version-all", "-p"])
        .arg(port.to_string())
        .args(["-oX", xml.to_str().unwrap(), "127.0.0.1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The connect scan's connection, then a -sV probe's: service detection
    // is under way (a fixed sleep raced a slow start under load).
    for _ in 0..2 {
        connections
            .recv_timeout(Duration::from_secs(30))
            .expect("portolan connects to the service");
    }
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::time::Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "took {:?} to stop",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"exit="error""#), "{text}");
    assert!(text.contains(&format!(r#"portid="{port}""#)), "{text}");
    // Its service detection was cut short: the host says so.
    assert!(text.contains(r#"comment="scan incomplete"#), "{text}");
    drop(held);
}
