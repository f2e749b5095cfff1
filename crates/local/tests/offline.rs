//! Summary, snapshot diff, formats and escaping on made-up snapshots (no
//! root needed).

use portolan_local::{
    diff, escape, render, summarize, write_to, Format, Process, Proto, RawSocket, Snapshot,
    SocketEntry, State, Warning,
};
use std::sync::Arc;

fn entry(
    proto: Proto,
    state: State,
    local: &str,
    remote: &str,
    owner: Option<&Arc<Process>>,
) -> SocketEntry {
    SocketEntry {
        raw: RawSocket {
            proto,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            state,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 1,
            v6only: false,
        },
        owners: owner.into_iter().cloned().collect(),
        service: None,
        netns: None,
    }
}

fn proc_(pid: u32, name: &str) -> Arc<Process> {
    Arc::new(Process {
        pid,
        name: name.into(),
        cmdline: format!("{name} --serve\u{1b}[2J"),
        user: "root".into(),
    })
}

fn snap(sockets: Vec<SocketEntry>) -> Snapshot {
    Snapshot {
        sockets,
        owners_hidden: false,
        source: "netlink",
    }
}

#[test]
fn close_wait_pile_names_the_process() {
    let leaky = proc_(42, "leaky");
    let fine = proc_(43, "fine");
    let mut v = Vec::new();
    for i in 0..100 {
        v.push(entry(
            Proto::Tcp,
            State::CloseWait,
            &format!("198.18.0.1:{}", 1000 + i),
            "198.18.0.2:80",
            Some(&leaky),
        ));
    }
    for i in 0..99 {
        v.push(entry(
            Proto::Tcp,
            State::CloseWait,
            &format!("198.18.0.1:{}", 3000 + i),
            "198.18.0.2:80",
            Some(&fine),
        ));
    }
    let s = summarize(&snap(v), None);
    assert_eq!(s.total, 199);
    assert_eq!(s.per_process[0], (42, "leaky".to_string(), 100));
    assert_eq!(
        s.warnings,
        [Warning::CloseWait {
            pid: 42,
            name: "leaky".into(),
            count: 100
        }]
    );
    assert_eq!(
        s.warnings[0].to_string(),
        "100 sockets in CLOSE_WAIT held by leaky (pid 42): it does not close connections its peers closed"
    );
}

#[test]
fn time_wait_pile_names_the_endpoint() {
    let mut v = Vec::new();
    for i in 0..600u16 {
        let remote = if i < 500 {
            "198.18.0.9:443"
        } else {
            "198.18.0.8:80"
        };
        v.push(entry(
            Proto::Tcp,
            State::TimeWait,
            &format!("198.18.0.1:{}", 40000 + i),
            remote,
            None,
        ));
    }
    let s = snap(v);
    // 600 of a 1000-port range is over half: warns.
    let sum = summarize(&s, Some((40000, 40999)));
    assert_eq!(sum.warnings.len(), 1);
    assert_eq!(
        sum.warnings[0].to_string(),
        "600 sockets in TIME_WAIT (threshold 501); most to 198.18.0.9:443 (500); busiest local port 40000 (1)"
    );
    // Against the default range and the 10,000 total: quiet.
    assert!(summarize(&s, Some((32768, 60999))).warnings.is_empty());
    assert!(summarize(&s, None).warnings.is_empty());
}

#[test]
fn diff_reports_listeners_and_counts() {
    let p = proc_(1, "d");
    let a = snap(vec![
        entry(
            Proto::Tcp,
            State::Listen,
            "0.0.0.0:22",
            "0.0.0.0:0",
            Some(&p),
        ),
        entry(
            Proto::Udp,
            State::Close,
            "127.0.0.1:53",
            "0.0.0.0:0",
            Some(&p),
        ),
        entry(
            Proto::Tcp,
            State::Established,
            "198.18.0.1:22",
            "198.18.0.2:5000",
            Some(&p),
        ),
    ]);
    let b = snap(vec![
        entry(
            Proto::Tcp,
            State::Listen,
            "0.0.0.0:22",
            "0.0.0.0:0",
            Some(&p),
        ),
        entry(Proto::Tcp, State::Listen, "[::]:8080", "[::]:0", Some(&p)),
    ]);
    let d = diff(&a, &b);
    assert_eq!(d.opened.len(), 1);
    assert_eq!(d.opened[0].raw.local.port(), 8080);
    assert_eq!(d.closed.len(), 1);
    assert_eq!(d.closed[0].raw.local.port(), 53);
    assert_eq!(
        d.state_changes,
        [
            (Proto::Tcp, State::Established, 1, 0),
            (Proto::Tcp, State::Listen, 1, 2),
            (Proto::Udp, State::Close, 1, 0)
        ]
    );
    assert!(diff(&b, &b).is_empty());
}

#[test]
fn control_bytes_are_escaped_in_every_format() {
    assert_eq!(
        escape("a\u{1b}[31mb\n\\\u{85}"),
        "a\\x1b[31mb\\x0a\\\\\\u{0085}"
    );
    let p = Arc::new(Process {
        pid: 7,
        name: "ev\u{1b}il\nname".into(),
        cmdline: "run \u{7}<x>&".into(),
        user: "root".into(),
    });
    let s = snap(vec![entry(
        Proto::Tcp,
        State::Listen,
        "127.0.0.1:22",
        "0.0.0.0:0",
        Some(&p),
    )]);
    for f in [Format::Table, Format::Plain, Format::Json, Format::Xml] {
        let mut out = Vec::new();
        let sum = summarize(&s, None);
        write_to(&mut out, &s, Some(&sum), f).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{f:?}: {text}"
        );
        assert!(
            text.contains("ev\\x1bil\\x0aname") || text.contains("ev\\\\x1bil\\\\x0aname"),
            "{f:?}: {text}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&render(&s, Format::Json)).unwrap();
    let sock = &json["sockets"][0];
    assert_eq!(sock["state"], "listen");
    assert_eq!(sock["local_address"], "127.0.0.1");
    assert_eq!(sock["local_port"], 22);
    assert_eq!(sock["scope"], "loopback");
    assert_eq!(sock["owners"][0]["name"], "ev\\x1bil\\x0aname");
    assert_eq!(sock["owners"][0]["cmdline"], "run \\x07<x>&");
    let xml = render(&s, Format::Xml);
    assert!(xml.contains("cmdline=\"run \\x07&lt;x&gt;&amp;\""), "{xml}");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let owner = doc.descendants().find(|n| n.has_tag_name("owner")).unwrap();
    assert_eq!(owner.attribute("cmdline"), Some("run \\x07<x>&"));
    assert_eq!(owner.attribute("name"), Some("ev\\x1bil\\x0aname"));
    let plain = render(&s, Format::Plain);
    assert_eq!(
        plain,
        "tcp LISTEN 0 0 127.0.0.1:22 0.0.0.0:* loopback - root 7/ev\\x1bil\\x0aname\n"
    );
}

#[test]
fn bad_input_is_one_line_naming_it() {
    let exe = std::env::current_exe().unwrap();
    let exe = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/local");
    for (args, want) in [
        (
            &["--state", "listen,bogus"][..],
            "local: unknown socket state \"bogus\"\n",
        ),
        (
            &["-p", "22,1-99999"][..],
            "local: invalid port \"1-99999\": out of range 0-65535\n",
        ),
        (
            &["-p", "nosuchservice"][..],
            "local: no port matches \"nosuchservice\"\n",
        ),
        (
            &["--netns", "portolan-missing-ns"][..],
            "local: no network namespace \"portolan-missing-ns\" (not in /run/netns)\n",
        ),
    ] {
        let out = std::process::Command::new(&exe)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want);
        assert!(out.stdout.is_empty());
    }
}
