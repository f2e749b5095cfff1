//! The HTML report of real loopback scans (`-oH`, `portolan report`),
//! opened in headless Chromium: the counts the page shows are the scan's,
//! a hostile banner stays text, and the screenshot in `docs/` is taken.
//! Also `--live`, and `-oH` after Ctrl-C.

mod common;
use common::{portolan, stderr, stdout, Loopback};
use portolan_testbed::chromium;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A banner that would retitle the page if any of it ran.
const HOSTILE: &str =
    "SSH-2.0-<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">\r\n";

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portolan-html-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback service greeting every connection with [`HOSTILE`]; runs
/// until the test process ends.
fn hostile_service() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = c.write_all(HOSTILE.as_bytes());
                std::thread::sleep(Duration::from_secs(2));
            });
        }
    });
    port
}

/// What the scan's own JSON output says: hosts up, open ports, ports.
fn json_counts(path: &Path) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let (mut up, mut open, mut ports) = (0, 0, 0);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["type"] != "host" {
            continue;
        }
        up += u64::from(v["status"] == "up");
        for p in v["ports"].as_array().into_iter().flatten() {
            ports += 1;
            open += u64::from(p["state"] == "open");
        }
        for e in v["extraports"].as_array().into_iter().flatten() {
            ports += e["count"].as_u64().unwrap();
        }
    }
    (up, open, ports)
}

/// The value of `attr` on the element that has `marker` among its
/// attributes, in `dom`.
fn attr_near(dom: &str, marker: &str, attr: &str) -> String {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in the page"));
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag_end = at + dom[at..].find('>').unwrap();
    let tag = &dom[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let s = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
        + key.len();
    tag[s..s + tag[s..].find('"').unwrap()].to_string()
}

#[test]
fn chromium_shows_the_scan_and_keeps_a_hostile_banner_text() {
    if !chromium::require() {
        return;
    }
    let lo = Loopback::new(3, 4);
    let evil = hostile_service();
    let dir = tmp("chromium");
    let (html, json) = (dir.join("scan.html"), dir.join("scan.json"));
    let ports = format!("{},{evil}", lo.port_list());
    let out = portolan()
        .args(["-sT", "-sV", "-p", &ports, "-oH"])
        .arg(&html)
        .arg("-oJ")
        .arg(&json)
        .arg("127.0.0.1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (up, open, scanned) = json_counts(&json);
    assert_eq!((up, open, scanned), (1, 4, 8), "the scan itself");

    let run = chromium::run(&html, &["--dump-dom"]).unwrap();
    let dom = run.stdout();
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not finish:\n{dom}"
    );
    // The hostile script would have retitled the page.
    assert!(dom.contains("<title>Portolan scan report</title>"), "{dom}");
    assert!(!dom.contains("pwned</title>"));
    let card = |key: &str| attr_near(&dom, &format!("data-card=\"{key}\""), "data-value");
    assert_eq!(card("hosts-up"), up.to_string());
    assert_eq!(card("open-ports"), open.to_string());
    assert_eq!(card("ports-scanned"), scanned.to_string());
    // Every port is a row (none summarised at 8 ports), all on one page.
    assert_eq!(
        attr_near(&dom, "id=\"count\"", "data-matching-ports"),
        scanned.to_string()
    );
    let tbody = &dom[dom.find("<tbody>").unwrap()..dom.find("</tbody>").unwrap()];
    assert_eq!(tbody.matches("<tr>").count() as u64, scanned);
    // The banner is in a cell, as text: escaped in the DOM, no element made.
    assert!(
        tbody.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x"),
        "{tbody}"
    );
    assert!(!tbody.contains("<img") && !tbody.contains("<script"));

    // Filtered and sorted from the URL: open ports only, highest first.
    let run =
        chromium::run_with_fragment(&html, "#state=open&sort=-port", &["--dump-dom"]).unwrap();
    let dom = run.stdout();
    assert_eq!(
        attr_near(&dom, "id=\"count\"", "data-matching"),
        open.to_string()
    );
    let tbody = &dom[dom.find("<tbody>").unwrap()..dom.find("</tbody>").unwrap()];
    let shown: Vec<u16> = tbody
        .split("<td class=\"c-port num\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].parse().unwrap())
        .collect();
    let mut want: Vec<u16> = lo.open.iter().copied().chain([evil]).collect();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(shown, want, "open ports, sorted by port, descending");
    let run = chromium::run_with_fragment(&html, "#filter=pwned", &["--dump-dom"]).unwrap();
    assert_eq!(
        attr_near(&run.stdout(), "id=\"count\"", "data-matching"),
        "1"
    );

    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report-screenshot.png");
    let run = chromium::run(
        &html,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1400",
        ],
    )
    .unwrap();
    assert!(
        run.output.status.success(),
        "{}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "screenshot saved"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_subcommand_reads_xml_and_json() {
    let lo = Loopback::new(2, 3);
    let dir = tmp("subcommand");
    let (xml, json, html) = (dir.join("s.xml"), dir.join("s.json"), dir.join("r.html"));
    let out = portolan()
        .args(["-sT", "-p", &lo.port_list(), "-oX"])
        .arg(&xml)
        .arg("-oJ")
        .arg(&json)
        .arg("127.0.0.1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = portolan()
        .arg("report")
        .arg(&xml)
        .arg(&json)
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains(r#"data-card="hosts-up" data-value="2""#),
        "two scans of one host"
    );
    assert!(page.contains(r#"data-card="open-ports" data-value="4""#));
    assert!(page.contains("s.xml") && page.contains("s.json"));
    // Without -o the page goes to standard output.
    let out = portolan().arg("report").arg(&json).output().unwrap();
    assert!(stdout(&out).starts_with("<!DOCTYPE html>"));
    // A bad file: one line naming it, exit 1.
    let missing = dir.join("missing.xml");
    let out = portolan().arg("report").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("missing.xml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_prints_open_ports_on_stderr_and_leaves_stdout_alone() {
    let lo = Loopback::new(2, 2);
    let args = ["-sT", "-p", &lo.port_list(), "127.0.0.1"];
    let plain = portolan().args(args).output().unwrap();
    let live = portolan().arg("--live").args(args).output().unwrap();
    assert!(live.status.success(), "{}", stderr(&live));
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| {
                !l.starts_with("Starting") && !l.contains("scanned in") && !l.contains("latency")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(stdout(&live)),
        strip(stdout(&plain)),
        "the report is intact"
    );
    let err = stderr(&live);
    for p in &lo.open {
        assert!(
            err.contains(&format!("Discovered open port {p}/tcp on 127.0.0.1\n")),
            "{err}"
        );
    }
    assert_eq!(err.matches("Discovered open port").count(), 2, "{err}");
}

#[test]
fn sigint_leaves_a_complete_html_report() {
    let dir = tmp("sigint");
    let (html, json) = (dir.join("scan.html"), dir.join("scan.json"));
    let mut child = portolan()
        .args(["-sT", "-Pn", "-n", "-p80", "--max-rate", "50", "-oH"])
        .arg(&html)
        .arg("-oJ")
        .arg(&json)
        .arg("127.0.0.0/16")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(!child.wait().unwrap().success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.trim_end().ends_with("</html>"),
        "complete after Ctrl-C"
    );
    assert!(
        page.contains("<dd class=\"status\">interrupted</dd>"),
        "says it was cut short"
    );
    let (up, _, _) = json_counts(&json);
    assert!(up > 0);
    assert!(page.contains(&format!(r#"data-card="hosts-up" data-value="{up}""#)));
    // The outputs and the interrupted scan's checkpoint (for --resume).
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["scan.html", "scan.json", "scan.json.resume"],
        "no temporary file left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Findings per severity in the scan's own JSON output.
fn json_findings(path: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for s in v["scripts"].as_array().into_iter().flatten() {
            *out.entry(s["severity"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    out
}

#[test]
fn chromium_shows_findings_and_the_changes_between_two_stored_scans() {
    if !chromium::require() {
        return;
    }
    let dir = tmp("changes");
    let store = dir.join("h.sqlite").display().to_string();
    // A directory listing (Python's http.server) for the checks to find.
    let root = dir.join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("backup.tar"), b"x").unwrap();
    let lo = Loopback::new(1, 2);
    let web = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let web_port = web.local_addr().unwrap().port();
    drop(web);
    let ports = format!("{},{web_port}", lo.port_list());
    let scan = |extra: &[&str], json: &Path| {
        let out = portolan()
            .args(["--history", &store, "-sT", "-Pn", "-n", "-p", &ports])
            .args(extra)
            .arg("-oJ")
            .arg(json)
            .arg("127.0.0.1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    // Scan 1: the web server is not running yet.
    scan(&[], &dir.join("1.json"));
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &web_port.to_string(),
        ])
        .current_dir(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs");
    let up = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, web_port)).is_ok()
    });
    assert!(up, "http.server did not start");
    // Scan 2: it is, and the checks run.
    let json2 = dir.join("2.json");
    scan(&["-sV", "-sC"], &json2);
    let _ = server.kill();
    let _ = server.wait();
    let findings = json_findings(&json2);
    assert!(
        findings.values().sum::<u64>() > 0,
        "no findings: {findings:?}"
    );

    let html = dir.join("report.html");
    let out = portolan()
        .args(["report", "--history", &store, "1", "2", "-o"])
        .arg(&html)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let run = chromium::run(&html, &["--dump-dom"]).unwrap();
    let dom = run.stdout();
    assert!(dom.contains("data-ready=\"1\""), "{dom}");
    // The findings cards count what the scan found, per severity.
    for sev in ["critical", "high", "medium", "low", "info"] {
        let want = findings.get(sev).copied().unwrap_or(0);
        let card = attr_near(&dom, &format!("data-card=\"findings-{sev}\""), "data-value");
        assert_eq!(card, want.to_string(), "{sev}");
    }
    let rows = dom.matches("<tr class=\"finding\"").count() as u64;
    assert_eq!(rows, findings.values().sum::<u64>());
    // The table's Findings column names the web port's checks.
    let table = &dom[dom.find("<table id=\"ports\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains(">Findings</th>"), "{table}");
    let tbody = table;
    let web_checks: Vec<String> = std::fs::read_to_string(&json2)
        .unwrap()
        .lines()
        .flat_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["scripts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["port"] == web_port)
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!web_checks.is_empty());
    for id in &web_checks {
        assert!(
            tbody.contains(id.as_str()),
            "{id} not in the table: {tbody}"
        );
    }
    // The changes: the web port is new in scan 2, as portolan diff says.
    assert_eq!(
        attr_near(&dom, "data-change-count=\"new\"", "data-value"),
        "1"
    );
    assert!(
        dom.contains("<tr data-kind=\"new\">") && dom.contains(&format!("{web_port}/tcp")),
        "{dom}"
    );
    let diff = portolan()
        .args(["diff", "--history", &store, "1", "2"])
        .output()
        .unwrap();
    assert!(
        stdout(&diff).contains(&format!("+{web_port}/tcp open")),
        "{}",
        stdout(&diff)
    );
}
