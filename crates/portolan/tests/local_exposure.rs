//! `portolan local --exposure` end to end (root): a target namespace with
//! listeners bound every way and nftables rules, scanned by portolan from
//! the scanner namespace (198.18.0.0/15 only) into a JSON file, then
//! listed in the target with that file. Every port must get its verdict.

use portolan_testbed::{in_netns, require_root, Testbed};
use std::net::{TcpListener, UdpSocket};
use std::process::Command;

const PORTS: &str = "9001-9005";

/// The rows `--plain` prints, cut to (proto, port, listen, scanned,
/// outside, verdict, risk).
fn plain_rows(text: &str) -> Vec<[String; 7]> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 10, "{l}");
            [f[0], f[1], f[2], f[3], f[4], f[5], f[6]].map(String::from)
        })
        .collect()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn exposure_reports_each_port_of_a_scanned_namespace() {
    if !require_root() {
        return;
    }
    let mut tb = Testbed::new("exposure").expect("testbed");
    let t4 = tb.target_addr(0);
    let ns = tb.target(0).unwrap().ns().to_string();
    // 9001: dual-stack ([::], IPv4 too), reachable.
    tb.target(0).unwrap().tcp_listen(&[9001]).unwrap();
    // 9002 loopback only; 9003 all IPv4 addresses but dropped from
    // outside; 9004 the target address only, dropped; 9006 all addresses,
    // not scanned; UDP 9011 all addresses, silent (open|filtered).
    let held = in_netns(&ns, || {
        let tcp: Vec<TcpListener> = [
            "127.0.0.1:9002".to_string(),
            "0.0.0.0:9003".into(),
            format!("{t4}:9004"),
            "0.0.0.0:9006".into(),
        ]
        .iter()
        .map(|a| TcpListener::bind(a.as_str()).unwrap())
        .collect();
        (tcp, UdpSocket::bind("0.0.0.0:9011").unwrap())
    })
    .unwrap();
    tb.target(0).unwrap().nft_drop_tcp(&[9003, 9004]).unwrap();
    // 9005: nothing listens, a DNAT rule publishes it (to 9001).
    let nat = format!(
        "table ip portolan_exposure {{\n chain pre {{\n  type nat hook prerouting priority -100;\n  tcp dport 9005 dnat to {t4}:9001\n }}\n}}\n"
    );
    let script = std::env::temp_dir().join(format!("portolan-exposure-{}.nft", std::process::id()));
    std::fs::write(&script, nat).unwrap();
    let target = tb.target(0).unwrap();
    let mut nft = target.command("nft");
    nft.arg("-f").arg(&script);
    let out = target.run(&mut nft).unwrap();
    assert!(out.status.success(), "nft: {out:?}");

    let file = std::env::temp_dir().join(format!("portolan-exposure-{}.json", std::process::id()));
    let mut scan = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    scan.args(["-sS", "-sU", "-Pn", "-n", "-T4", "--max-retries", "1", "-p"])
        .arg(format!("T:{PORTS},U:9011"))
        .arg("-oJ")
        .arg(&file)
        .arg(t4.to_string());
    let out = tb.run_in_scanner(&mut scan).unwrap();
    assert!(out.status.success(), "scan: {out:?}");

    let local = |args: &[&str]| {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns, env!("CARGO_BIN_EXE_portolan")])
            .arg("local")
            .args(args)
            .arg("--exposure")
            .arg(&file);
        run_ok(&mut c)
    };
    let t = t4.to_string();
    let row = |proto: &str, port: &str, listen: &str, scanned: &str, outside: &str, v: &str| {
        // Ports open from outside carry the risk table's rating (9000-9090:
        // web consoles, medium); the others none.
        let risk = if outside == "open" { "medium" } else { "-" };
        [proto, port, listen, scanned, outside, v, risk].map(String::from)
    };
    let expected = vec![
        row("tcp", "9001", "::", &t, "open", "reachable"),
        row("tcp", "9002", "127.0.0.1", "-", "-", "loopback"),
        row("tcp", "9003", "0.0.0.0", &t, "filtered", "local_only"),
        row("tcp", "9004", &t, &t, "filtered", "filtered"),
        row("tcp", "9005", "-", &t, "open", "forwarded"),
        row("tcp", "9006", "0.0.0.0", &t, "-", "not_scanned"),
        row(
            "udp",
            "9011",
            "0.0.0.0",
            &t,
            "open|filtered",
            "inconclusive",
        ),
    ];
    let text = local(&["-p", "9001-9011", "--plain"]);
    assert_eq!(plain_rows(&text), expected, "{text}");

    // The table says it in words.
    let table = local(&["-p", "9001-9011"]);
    assert!(table.starts_with("PROTO"), "{table}");
    for words in [
        "listening, reachable from outside",
        "listening on loopback only",
        "listening on all addresses, only reachable locally",
        "listening, filtered from outside",
        "reachable, nothing listens here (forwarded, DNAT or proxy)",
        "listening, not scanned",
    ] {
        assert!(table.contains(words), "{words}: {table}");
    }

    // JSON, listed from outside the namespace with --netns: the same rows.
    let mut c = Command::new(env!("CARGO_BIN_EXE_portolan"));
    c.args([
        "local",
        "--netns",
        &ns,
        "-p",
        "9001-9011",
        "-oJ",
        "-",
        "--exposure",
    ])
    .arg(&file);
    let doc: serde_json::Value = serde_json::from_str(&run_ok(&mut c)).unwrap();
    let e = &doc["exposure"];
    assert_eq!(e["hosts"][0]["address"], t.as_str(), "{e}");
    assert_eq!(e["hosts"][0]["assumed"], false);
    let json_rows: Vec<[String; 7]> = e["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().map_or("-".to_string(), str::to_string);
            [
                s("protocol"),
                p["port"].to_string(),
                s("listen_address"),
                s("scanned_address"),
                s("outside_state"),
                s("exposure"),
                p["risk"]["rating"]
                    .as_str()
                    .map_or("-".to_string(), str::to_string),
            ]
        })
        .collect();
    assert_eq!(json_rows, expected, "{e}");
    let owners = &e["ports"][0]["owners"][0]["pid"];
    assert_eq!(owners, std::process::id(), "9001's owner is this test");

    // XML: one <port> per row with the same verdicts.
    let xml = local(&["-p", "9001-9011", "-oX", "-"]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let verdicts: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("port"))
        .map(|n| {
            (
                n.attribute("exposure").unwrap(),
                n.attribute("risk").unwrap_or("-"),
            )
        })
        .collect();
    let want: Vec<(&str, &str)> = expected
        .iter()
        .map(|r| (r[5].as_str(), r[6].as_str()))
        .collect();
    assert_eq!(verdicts, want, "{xml}");

    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&script);
    drop(held);
}

#[test]
fn exposure_bad_file_is_one_line_naming_it() {
    let dir = std::env::temp_dir();
    let bad = dir.join(format!("portolan-exposure-bad-{}.txt", std::process::id()));
    std::fs::write(&bad, "hello\n").unwrap();
    let missing = dir.join("portolan-no-such-scan.json");
    for path in [&bad, &missing] {
        let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
            .args(["local", "--exposure"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&*path.to_string_lossy()), "{err}");
    }
    let _ = std::fs::remove_file(&bad);
}

/// A namespace holding the nmap fixtures' target addresses on its
/// loopback interface (nothing is sent); deleted on drop.
struct FixtureNs(String);

impl FixtureNs {
    fn new() -> FixtureNs {
        let name = format!("plx-{}-nmap", std::process::id());
        let ip = |args: &[&str]| {
            let st = Command::new("ip").args(args).status().unwrap();
            assert!(st.success(), "ip {args:?}");
        };
        ip(&["netns", "add", &name]);
        let ns = FixtureNs(name);
        let n = ns.0.as_str();
        ip(&["-n", n, "link", "set", "lo", "up"]);
        ip(&["-n", n, "addr", "add", "198.18.0.2/32", "dev", "lo"]);
        ip(&[
            "-n",
            n,
            "-6",
            "addr",
            "add",
            "2001:2::2/128",
            "dev",
            "lo",
            "nodad",
        ]);
        ns
    }
}

impl Drop for FixtureNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn exposure_reads_nmap_xml_fixtures() {
    if !require_root() {
        return;
    }
    let ns = FixtureNs::new();
    let held = in_netns(&ns.0, || {
        ["0.0.0.0:22", "198.18.0.2:81", "0.0.0.0:82"].map(|a| TcpListener::bind(a).unwrap())
    })
    .unwrap();
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../output/tests/fixtures/nmap/"
    );
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_portolan")])
        .args(["local", "-t", "-4", "--plain", "--exposure"])
        .arg(format!("{dir}tcp-syn-version.xml"));
    let v4 = "198.18.0.2";
    let row = |port: &str, listen: &str, outside: &str, v: &str, risk: &str| {
        ["tcp", port, listen, v4, outside, v, risk].map(String::from)
    };
    // Risk: FTP and the web-console range have entries; SSH has none.
    let expected = [
        row("21", "-", "open", "forwarded", "medium"),
        row("22", "0.0.0.0", "open", "reachable", "-"),
        row("81", v4, "filtered", "filtered", "-"),
        row("82", "0.0.0.0", "filtered", "local_only", "-"),
        row("8000", "-", "open", "forwarded", "medium"),
    ];
    assert_eq!(plain_rows(&run_ok(&mut c)), expected);

    // The same scan imported into a history store, named as `portolan
    // diff` names stored scans: `last`, and its id.
    let store =
        std::env::temp_dir().join(format!("portolan-exposure-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&store);
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_portolan"))
            .args(["import", "--history"])
            .arg(&store)
            .arg(format!("{dir}tcp-syn-version.xml")),
    );
    for word in ["last", "1"] {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_portolan")])
            .args(["local", "-t", "-4", "--plain", "--history"])
            .arg(&store)
            .args(["--exposure", word]);
        assert_eq!(plain_rows(&run_ok(&mut c)), expected, "--exposure {word}");
    }
    let _ = std::fs::remove_file(&store);
    drop(held);
}
