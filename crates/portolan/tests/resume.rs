//! `--resume`: a scan of a namespace testbed killed at a random moment by
//! SIGINT, SIGTERM or SIGKILL, then resumed (once or twice), gives exactly
//! the ports of an uninterrupted scan, in one valid XML document, JSON
//! lines with one end, and one history record marked `resumed` with each
//! host once. Bad checkpoints are refused with one line and nothing
//! written.

mod common;
use common::portolan;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use portolan_testbed::Testbed;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `(address, protocol, port, state)` of every port listed.
type Ports = BTreeSet<(String, String, String, String)>;

/// The scan: 8,192 hosts of the sweep /16 (one in 13 has port 80 open,
/// the others are silent), three ports, paced so it lasts some seconds.
/// More than 4,096 targets, so hosts are written as they finish.
fn args(dir: &Path, seed: u32) -> Vec<String> {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    [
        "-sS",
        "-Pn",
        "-n",
        "-p79-81",
        "--max-rate",
        "6000",
        "--max-retries",
        "1",
        "--seed",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        seed.to_string(),
        "-oX".into(),
        p("scan.xml"),
        "-oJ".into(),
        p("scan.json"),
        "-oG".into(),
        p("scan.gnmap"),
        "-oH".into(),
        p("scan.html"),
        "--history".into(),
        p("history.sqlite"),
        "198.19.0.0/19".into(),
    ])
    .collect()
}

fn command(tb: &Testbed, args: &[String]) -> Command {
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    cmd.env("XDG_DATA_HOME", common::DATA_HOME)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// `portolan --resume` of the checkpoint beside `dir`'s scan.xml.
fn resume_command(tb: &Testbed, dir: &Path) -> Command {
    command(
        tb,
        &[
            "--resume".into(),
            dir.join("scan.xml").to_string_lossy().into_owned(),
        ],
    )
}

/// Runs the last resume of a scan with `seed` to its end.
fn run_to_end(mut cmd: Command, seed: u32) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "seed {seed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The XML's ports, after checking it is one well-formed document that
/// lists each host once and ends with `<runstats>`.
fn xml_ports(path: &Path) -> Ports {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &text,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "nmaprun");
    assert_eq!(
        root.children()
            .filter(|n| n.has_tag_name("runstats"))
            .count(),
        1
    );
    let mut seen = BTreeSet::new();
    let mut ports = Ports::new();
    for host in root.children().filter(|n| n.has_tag_name("host")) {
        assert_eq!(host.attribute("comment"), None, "an incomplete host stayed");
        let addr = host
            .children()
            .find(|n| n.has_tag_name("address"))
            .and_then(|a| a.attribute("addr"))
            .unwrap()
            .to_string();
        assert!(seen.insert(addr.clone()), "{addr} listed twice");
        for p in host.descendants().filter(|n| n.has_tag_name("port")) {
            let state = p.children().find(|n| n.has_tag_name("state")).unwrap();
            ports.insert((
                addr.clone(),
                p.attribute("protocol").unwrap().into(),
                p.attribute("portid").unwrap().into(),
                state.attribute("state").unwrap().into(),
            ));
        }
    }
    ports
}

/// The JSON lines' open ports and hosts, after checking every line parses
/// and the last one alone is the end.
fn json_hosts(path: &Path) -> (BTreeSet<String>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines[0]["type"], "scan");
    assert_eq!(lines.last().unwrap()["type"], "end");
    assert_eq!(lines.last().unwrap()["interrupted"], false);
    assert_eq!(lines.iter().filter(|l| l["type"] == "end").count(), 1);
    assert_eq!(lines.iter().filter(|l| l["type"] == "scan").count(), 1);
    let hosts: Vec<String> = lines
        .iter()
        .filter(|l| l["type"] == "host")
        .map(|l| l["address"].as_str().unwrap().to_string())
        .collect();
    let n = hosts.len();
    (hosts.into_iter().collect(), n)
}

/// A small deterministic generator: the kill moments vary with the seed
/// and stay reproducible.
fn fraction(seed: u32, round: u32) -> f64 {
    let x = u64::from(seed)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(u64::from(round).wrapping_mul(1_442_695_040_888_963_407))
        >> 33;
    0.15 + 0.7 * (x % 1000) as f64 / 1000.0
}

fn store_rows(path: &Path) -> (String, i64, i64) {
    let db = rusqlite::Connection::open(path).unwrap();
    let status: String = db
        .query_row("SELECT status FROM portolan_scans", [], |r| r.get(0))
        .unwrap();
    // Hosts with their own rows, and the silent ones kept as lists.
    let mut addrs: Vec<String> = db
        .prepare("SELECT addr FROM portolan_hosts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let own_rows = addrs.len();
    let lists: Vec<String> = db
        .prepare("SELECT addrs FROM portolan_silent")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for l in lists {
        addrs.extend(l.split(',').filter(|a| !a.is_empty()).map(String::from));
    }
    // The silent addresses (every port unanswered) are lists, not rows.
    assert!(
        own_rows * 4 < addrs.len(),
        "{own_rows} of {} hosts have rows",
        addrs.len()
    );
    let rows = addrs.len() as i64;
    let distinct = addrs.iter().collect::<BTreeSet<_>>().len() as i64;
    (status, rows, distinct)
}

#[test]
fn killed_scans_resume_to_exactly_the_uninterrupted_result() {
    if !portolan_testbed::require_root() {
        return;
    }
    let mut tb = Testbed::builder("resume")
        .targets(1)
        .build()
        .expect("testbed");
    tb.sweep16(0).expect("sweep /16");
    let base = std::env::temp_dir().join(format!("portolan-resume-{}", std::process::id()));
    let whole_dir = base.join("whole");
    std::fs::create_dir_all(&whole_dir).unwrap();
    let started = Instant::now();
    let out = command(&tb, &args(&whole_dir, 1)).output().unwrap();
    let whole_time = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = xml_ports(&whole_dir.join("scan.xml"));
    let open = whole.iter().filter(|p| p.3 == "open").count();
    assert_eq!(
        open,
        8192usize.div_ceil(13),
        "one host in 13 has port 80 open"
    );
    assert!(
        !whole_dir.join("scan.xml.resume").exists(),
        "a finished scan keeps no checkpoint"
    );

    // Seeds x signals; the last case is killed again while resumed.
    let cases: [(u32, &[Signal]); 4] = [
        (11, &[Signal::SIGINT]),
        (12, &[Signal::SIGTERM]),
        (13, &[Signal::SIGKILL]),
        (14, &[Signal::SIGKILL, Signal::SIGINT]),
    ];
    for (seed, signals) in cases {
        let dir = base.join(format!("seed{seed}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = command(&tb, &args(&dir, seed));
        let (mut finished, mut resumed) = (false, false);
        for (round, &signal) in signals.iter().enumerate() {
            let child = cmd.spawn().unwrap();
            // The first checkpoint comes after 2 s: a scan killed before
            // has nothing to resume (it is run again).
            let wait = whole_time
                .mul_f64(fraction(seed, round as u32))
                .max(Duration::from_millis(2500));
            std::thread::sleep(wait);
            kill(Pid::from_raw(child.id() as i32), signal).unwrap();
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                // Finished before the signal came: nothing to resume.
                finished = true;
                break;
            }
            let checkpoint = dir.join("scan.xml.resume");
            assert!(
                checkpoint.exists(),
                "seed {seed} {signal}: no checkpoint; {err}"
            );
            if signal != Signal::SIGKILL {
                assert!(err.contains("portolan --resume"), "{err}");
            }
            let text = std::fs::read_to_string(&checkpoint).unwrap();
            let body: serde_json::Value =
                serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
            let done = body["done"].as_array().unwrap().len();
            eprintln!("seed {seed}: {signal} after {wait:?}: {done} hosts done");
            if signal != Signal::SIGKILL {
                // The last checkpoint, written at the stop, has every host
                // finished by then.
                assert!(done > 0, "seed {seed}: nothing finished at the stop");
            }
            resumed = true;
            cmd = resume_command(&tb, &dir);
        }
        if !finished {
            run_to_end(cmd, seed);
        }
        let got = xml_ports(&dir.join("scan.xml"));
        assert_eq!(got.len(), whole.len(), "seed {seed} {signals:?}");
        assert!(got == whole, "seed {seed} {signals:?}: the ports differ");
        let (hosts, lines) = json_hosts(&dir.join("scan.json"));
        assert_eq!(
            (hosts.len(), lines),
            (8192, 8192),
            "seed {seed}: JSON hosts"
        );
        let gnmap = std::fs::read_to_string(dir.join("scan.gnmap")).unwrap();
        assert_eq!(
            gnmap.matches("\tPorts: ").count(),
            8192,
            "seed {seed}: grepable hosts"
        );
        assert_eq!(gnmap.matches("# Portolan done").count(), 1);
        // The HTML report is rewritten whole: after a resume it holds the
        // earlier runs' hosts too.
        let html = std::fs::read_to_string(dir.join("scan.html")).unwrap();
        let card = |name: &str, value: usize| format!(r#"data-card="{name}" data-value="{value}""#);
        assert!(
            html.contains(&card("hosts-up", 8192)) && html.contains(&card("open-ports", open)),
            "seed {seed}: the HTML report is not the whole scan"
        );
        assert!(!dir.join("scan.xml.resume").exists());
        let (status, rows, distinct) = store_rows(&dir.join("history.sqlite"));
        assert_eq!((rows, distinct), (8192, 8192), "seed {seed}: stored hosts");
        let expected = if resumed { "resumed" } else { "complete" };
        assert_eq!(status, expected, "seed {seed}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// The ports a checkpoint holds resolved for its hosts begun and not
/// finished: `(address, "tcp:80")`.
fn resolved(checkpoint: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(checkpoint).unwrap();
    let body: serde_json::Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
    let sets: Vec<String> = body["port_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let mut out = BTreeSet::new();
    for h in body["partial"].as_array().unwrap() {
        let addr = h["addr"].as_str().unwrap().to_string();
        if let Some(set) = h["common"]["set"].as_u64() {
            for part in sets[set as usize].split(';') {
                let (proto, list) = part.split_once(':').unwrap();
                for r in list.split(',') {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    for port in a.parse::<u16>().unwrap()..=b.parse::<u16>().unwrap() {
                        out.insert((addr.clone(), format!("{proto}:{port}")));
                    }
                }
            }
        }
        for k in h["others"].as_array().unwrap() {
            let proto = k["protocol"].as_str().unwrap();
            out.insert((addr.clone(), format!("{proto}:{}", k["port"])));
        }
    }
    out
}

/// One host's 65,535 ports, paced to last some seconds: 12 open, 3
/// dropped (filtered), the rest closed.
fn full_port_args(dir: &Path, target: &str, seed: u32) -> Vec<String> {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    [
        "-sS",
        "-Pn",
        "-n",
        "-p-",
        "--max-rate",
        "9000",
        "--max-retries",
        "1",
        "--seed",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        seed.to_string(),
        "-oX".into(),
        p("scan.xml"),
        "-oJ".into(),
        p("scan.json"),
        "--history".into(),
        p("history.sqlite"),
        target.into(),
    ])
    .collect()
}

/// A scan of one host's every port, interrupted midway, continues at port
/// granularity: the checkpoint holds the ports resolved so far (with
/// SIGKILL too, from the engine's snapshots), a resumed run interrupted
/// again holds every one of them and more (they were not probed again),
/// and the result is exactly the uninterrupted scan's.
#[test]
fn a_single_host_full_port_scan_resumes_at_port_granularity() {
    if !portolan_testbed::require_root() {
        return;
    }
    let mut tb = Testbed::builder("resume1h")
        .targets(1)
        .build()
        .expect("testbed");
    let open_ports = [
        22, 80, 443, 1234, 3306, 5432, 8080, 9000, 20001, 31337, 40000, 60000,
    ];
    let dropped = [25, 7000, 50000];
    tb.target(0)
        .unwrap()
        .tcp_listen(&open_ports)
        .unwrap()
        .nft_drop_tcp(&dropped)
        .unwrap();
    let target = tb.target_addr(0).to_string();
    let base = std::env::temp_dir().join(format!("portolan-resume1h-{}", std::process::id()));
    let whole_dir = base.join("whole");
    std::fs::create_dir_all(&whole_dir).unwrap();
    let started = Instant::now();
    let out = command(&tb, &full_port_args(&whole_dir, &target, 1))
        .output()
        .unwrap();
    let whole_time = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = xml_ports(&whole_dir.join("scan.xml"));
    let state = |s: &str| whole.iter().filter(|p| p.3 == s).count();
    assert_eq!(
        (state("open"), state("filtered")),
        (12, 3),
        "{whole_time:?}"
    );
    let cases: [(u32, &[Signal]); 3] = [
        (21, &[Signal::SIGINT]),
        (22, &[Signal::SIGKILL]),
        (23, &[Signal::SIGKILL, Signal::SIGTERM]),
    ];
    for (seed, signals) in cases {
        let dir = base.join(format!("seed{seed}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = command(&tb, &full_port_args(&dir, &target, seed));
        let mut before = BTreeSet::new();
        let mut finished = false;
        for (round, &signal) in signals.iter().enumerate() {
            let child = cmd.spawn().unwrap();
            // At 30 % to 70 %; a resumed run (which has the rest to do)
            // at a fifth of the whole time, after its first checkpoint.
            let share = match round {
                0 => fraction(seed, 0).clamp(0.3, 0.7),
                _ => 0.2,
            };
            let wait = whole_time.mul_f64(share).max(Duration::from_millis(2500));
            std::thread::sleep(wait);
            kill(Pid::from_raw(child.id() as i32), signal).unwrap();
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                assert_eq!(
                    round, 0,
                    "seed {seed}: the resumed run ended before {wait:?}"
                );
                finished = true;
                break;
            }
            let checkpoint = dir.join("scan.xml.resume");
            let now = resolved(&checkpoint);
            eprintln!(
                "seed {seed}: {signal} after {wait:?}: {} ports resolved",
                now.len()
            );
            assert!(
                now.len() > 1000 && now.len() < 65535,
                "seed {seed} {signal}: {} ports resolved in the checkpoint",
                now.len()
            );
            assert!(
                now.len() > before.len() && now.is_superset(&before),
                "seed {seed}: the resumed run lost or probed again the ports resolved before"
            );
            before = now;
            cmd = resume_command(&tb, &dir);
        }
        if !finished {
            run_to_end(cmd, seed);
        }
        let got = xml_ports(&dir.join("scan.xml"));
        assert!(got == whole, "seed {seed} {signals:?}: the ports differ");
        let (hosts, lines) = json_hosts(&dir.join("scan.json"));
        assert_eq!((hosts.len(), lines), (1, 1), "seed {seed}: JSON hosts");
        let db = rusqlite::Connection::open(dir.join("history.sqlite")).unwrap();
        let hosts: i64 = db
            .query_row("SELECT count(*) FROM portolan_hosts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(hosts, 1, "seed {seed}: stored hosts");
        assert!(!dir.join("scan.xml.resume").exists());
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// A checkpoint made by interrupting a slow loopback connect scan.
fn interrupted(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let xml = dir.join("scan.xml");
    let mut child = portolan()
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-p80",
            "--max-rate",
            "100",
            "--no-history",
            "-oX",
        ])
        .arg(&xml)
        .arg("127.0.0.0/18")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    child.wait().unwrap();
    let cp = dir.join("scan.xml.resume");
    assert!(cp.exists());
    cp
}

fn refused(path: &Path) -> String {
    let out = portolan().arg("--resume").arg(path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn bad_checkpoints_are_refused_and_nothing_is_written() {
    let dir = std::env::temp_dir().join(format!("portolan-resume-bad-{}", std::process::id()));
    let cp = interrupted(&dir);
    let xml = dir.join("scan.xml");
    let bytes = std::fs::read(&cp).unwrap();
    let before = std::fs::read(&xml).unwrap();

    // Corrupt: one byte of the body changed.
    let mut edited = bytes.clone();
    let at = edited.len() - 3;
    edited[at] ^= 1;
    let bad = dir.join("edited.resume");
    std::fs::write(&bad, &edited).unwrap();
    assert!(refused(&bad).contains("is corrupt"), "{}", refused(&bad));

    // Another build: a well-formed checkpoint whose build differs.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let body = text.split_once('\n').unwrap().1.trim_end();
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["build"] = "portolan 0.0.1 (another)".into();
    let reencode = |v: &serde_json::Value| {
        use sha2::Digest;
        let body = serde_json::to_vec(v).unwrap();
        let digest: String = sha2::Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut out = format!("portolan-checkpoint 2 {digest}\n").into_bytes();
        out.extend(body);
        out
    };
    std::fs::write(&bad, reencode(&v)).unwrap();
    let e = refused(&bad);
    assert!(
        e.contains("was written by another build (portolan 0.0.1 (another);"),
        "{e}"
    );

    // Other options: the seed of its command line differs from its own.
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["seed"] = 99.into();
    std::fs::write(&bad, reencode(&v)).unwrap();
    assert!(refused(&bad).contains("is of other options"));

    // Not a checkpoint, and no checkpoint beside it.
    let e = refused(&dir.join("edited.resume").with_extension("nothing"));
    assert!(e.contains("cannot read checkpoint"), "{e}");
    std::fs::write(dir.join("other.xml"), "<nmaprun/>").unwrap();
    let e = refused(&dir.join("other.xml"));
    assert!(e.contains("is not a portolan checkpoint, and no"), "{e}");

    // The output file rewritten since (another scan's): refused.
    let mut other = before.clone();
    other[60] ^= 1;
    std::fs::write(&xml, &other).unwrap();
    let e = refused(&cp);
    assert!(
        e.contains("is not the one the checkpoint was written with"),
        "{e}"
    );
    assert_eq!(std::fs::read(&xml).unwrap(), other, "nothing was written");
    assert_eq!(
        std::fs::read(&cp).unwrap(),
        bytes,
        "the checkpoint was kept"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
