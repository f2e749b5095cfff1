//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use portolan_testbed::Testbed;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Output};

/// Where the binary under test keeps its scan history: the tests' own
/// directory, never the user's data directory.
pub const DATA_HOME: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/history");

/// The `portolan` binary under test (its history kept in [`DATA_HOME`]).
pub fn portolan() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portolan"));
    cmd.env("XDG_DATA_HOME", DATA_HOME);
    cmd
}

/// Runs portolan with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    portolan().args(args).output().expect("portolan runs")
}

/// Runs portolan with `args` in the testbed's scanner namespace and
/// asserts that it succeeded.
pub fn run_in_scanner(tb: &Testbed, args: &[&str]) -> Output {
    let mut cmd = tb.scanner_command(env!("CARGO_BIN_EXE_portolan"));
    // Scans made by tests never go into the user's history.
    cmd.env(
        "XDG_DATA_HOME",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
    );
    cmd.args(args);
    let out = tb.run_in_scanner(&mut cmd).expect("portolan runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Listeners on 127.0.0.1 (kept open while the value lives) and some ports
/// where nothing listens.
pub struct Loopback {
    /// The listening sockets.
    pub listeners: Vec<TcpListener>,
    /// Their ports.
    pub open: Vec<u16>,
    /// Ports where nothing listens.
    pub closed: Vec<u16>,
}

impl Loopback {
    /// `open` listeners on ephemeral ports and `n_closed` ports without one.
    pub fn new(open: usize, n_closed: usize) -> Self {
        let listeners: Vec<TcpListener> = (0..open)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind"))
            .collect();
        let open: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        let mut closed = Vec::new();
        while closed.len() < n_closed {
            let p = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            if !open.contains(&p) && !closed.contains(&p) {
                closed.push(p);
            }
        }
        Loopback {
            listeners,
            open,
            closed,
        }
    }

    /// Every port, as a `-p` list.
    pub fn port_list(&self) -> String {
        self.open
            .iter()
            .chain(&self.closed)
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses portolan's XML with an independent parser; nmap's
/// `<!DOCTYPE nmaprun>` needs DTDs allowed.
pub fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("well-formed XML")
}

/// Each `<host>` of an XML report with its (first) address.
pub fn xml_hosts<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
) -> impl Iterator<Item = (String, roxmltree::Node<'a, 'i>)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("host"))
        .map(|h| {
            let addr = h
                .children()
                .find(|n| n.has_tag_name("address"))
                .and_then(|n| n.attribute("addr"))
                .expect("address")
                .to_string();
            (addr, h)
        })
}

/// Address -> (state, reason) of every host in an XML report.
pub fn host_statuses(xml: &str) -> BTreeMap<String, (String, String)> {
    let doc = parse_xml(xml);
    xml_hosts(&doc)
        .map(|(addr, h)| {
            let st = h
                .children()
                .find(|n| n.has_tag_name("status"))
                .expect("status");
            (
                addr,
                (
                    st.attribute("state").unwrap().to_string(),
                    st.attribute("reason").unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// Every listed `<port>`'s number with its state and reason.
pub fn port_states(
    doc: &roxmltree::Document<'_>,
) -> std::collections::BTreeMap<u16, (String, String)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("port"))
        .map(|port| {
            let id: u16 = port.attribute("portid").unwrap().parse().unwrap();
            let st = port.children().find(|n| n.has_tag_name("state")).unwrap();
            (
                id,
                (
                    st.attribute("state").unwrap().to_string(),
                    st.attribute("reason").unwrap().to_string(),
                ),
            )
        })
        .collect()
}
