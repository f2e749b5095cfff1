//! `-O` against the non-Linux stacks that run here, each answering in a
//! namespace of its own at a 198.18.x.x address, the scanner inside that
//! namespace: libslirp (Debian's slirp4netns), lwIP (Debian's liblwip
//! behind `scripts/os-db/lwip-harness.c` on a tap device) and smoltcp
//! (`scripts/os-db/smoltcp-server` on a tap device, built once under
//! `target/smoltcp-server`). The same stacks made the database's entries
//! (`scripts/os-db/capture-*.sh`); here portolan's own SYN probes them and
//! the answer is asserted exactly: label, accuracy and family.
//!
//! Each namespace has only its link's route: nothing it holds reaches
//! further (slirp's default route is deleted; its gateway address leads
//! only to this machine's loopback, where the test's own listener waits).

mod common;
use portolan_testbed::{require_root, skip};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A namespace with the stack's process; both go when it drops.
struct Stack {
    ns: String,
    child: Option<Child>,
}

impl Stack {
    fn new(tag: &str) -> Stack {
        let ns = format!("portolan-os{tag}{}", std::process::id());
        let _ = ip(&["netns", "del", &ns]);
        assert!(ip(&["netns", "add", &ns]), "ip netns add {ns}");
        assert!(ip(&["-n", &ns, "link", "set", "lo", "up"]));
        Stack { ns, child: None }
    }

    /// Waits until `ip -n NS ARGS` prints `needle` (the stack is up).
    fn wait_for(&mut self, args: &[&str], needle: &str) {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new("ip")
                .args(["-n", &self.ns])
                .args(args)
                .output()
                .expect("ip runs");
            if String::from_utf8_lossy(&out.stdout).contains(needle) {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    panic!("the stack's process ended: {st}");
                }
            }
            assert!(Instant::now() < end, "{args:?} never showed {needle}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `portolan -O` of `target`'s ports from inside the namespace: the
    /// best match's name, accuracy and families.
    fn scan(&self, target: &str, ports: &str) -> (String, u8, Vec<String>) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns, env!("CARGO_BIN_EXE_portolan")])
            .args(["-O", "-n", "-Pn", "-p", ports, "-oX", "-", target])
            .env(
                "XDG_DATA_HOME",
                concat!(env!("CARGO_TARGET_TMPDIR"), "/history"),
            )
            .output()
            .expect("portolan runs");
        let xml = common::stdout(&out);
        assert!(out.status.success(), "{xml}");
        let doc = common::parse_xml(&xml);
        let m = doc
            .descendants()
            .find(|n| n.has_tag_name("osmatch"))
            .unwrap_or_else(|| panic!("no <osmatch>: {xml}"));
        let families = m
            .children()
            .filter(|c| c.has_tag_name("osclass"))
            .map(|c| c.attribute("osfamily").unwrap_or("").to_string())
            .collect();
        (
            m.attribute("name").unwrap().to_string(),
            m.attribute("accuracy").unwrap().parse().unwrap(),
            families,
        )
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = ip(&["netns", "del", &self.ns]);
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/os-db")
}

#[test]
fn libslirp_is_named_slirp() {
    if !require_root() || !(have("slirp4netns") || skip("needs slirp4netns (Debian slirp4netns)")) {
        return;
    }
    // slirp forwards its gateway address to this machine's loopback: the
    // open port is a listener of the test's own, the closed one refuses.
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let (op, cp) = (
        open.local_addr().unwrap().port(),
        closed.local_addr().unwrap().port(),
    );
    drop(closed);
    let mut st = Stack::new("slirp");
    st.child = Some(
        Command::new("slirp4netns")
            .args([
                "--configure",
                "--mtu=1500",
                "--disable-dns",
                "--cidr=198.18.252.0/24",
                "--netns-type=path",
                &format!("/var/run/netns/{}", st.ns),
                "tap0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slirp4netns starts"),
    );
    st.wait_for(&["route", "show", "default"], "198.18.252.2");
    // Nothing beyond the link: no default route through slirp.
    assert!(ip(&["-n", &st.ns, "route", "del", "default"]));
    let (name, accuracy, families) = st.scan("198.18.252.2", &format!("{op},{cp}"));
    assert_eq!(
        (name.as_str(), accuracy, families),
        (
            "libslirp 4.7.0 (slirp4netns)",
            100,
            vec!["Slirp".to_string()]
        )
    );
}

#[test]
fn lwip_is_named_lwip() {
    if !require_root() || !((have("cc") && have("pkg-config")) || skip("needs cc and pkg-config")) {
        return;
    }
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "lwip"])
        .output()
        .expect("pkg-config runs");
    if !(flags.status.success() || skip("needs liblwip-dev (pkg-config lwip)")) {
        return;
    }
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lwip-harness");
    let built = Command::new("cc")
        .arg("-o")
        .arg(&bin)
        .arg(scripts().join("lwip-harness.c"))
        .args(String::from_utf8_lossy(&flags.stdout).split_whitespace())
        .status()
        .expect("cc runs");
    assert!(built.success(), "lwip-harness does not build");
    let mut st = Stack::new("lwip");
    st.child = Some(
        Command::new("ip")
            .args(["netns", "exec", &st.ns])
            .arg(&bin)
            .args(["198.18.253.6", "80", "60"])
            .env("PRECONFIGURED_TAPIF", "tap0")
            .stdout(Stdio::null())
            .spawn()
            .expect("the harness starts"),
    );
    st.wait_for(&["link", "show"], "tap0");
    assert!(ip(&[
        "-n",
        &st.ns,
        "addr",
        "add",
        "198.18.253.5/30",
        "dev",
        "tap0"
    ]));
    assert!(ip(&["-n", &st.ns, "link", "set", "tap0", "up"]));
    let (name, accuracy, families) = st.scan("198.18.253.6", "80,81");
    assert_eq!(
        (name.as_str(), accuracy, families),
        ("lwIP 2.1.3", 100, vec!["lwIP".to_string()])
    );
}

/// The smoltcp server, built once per target directory.
fn smoltcp_server() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../smoltcp-server");
    let bin = dir.join("release/smoltcp-server");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .args(["build", "-q", "--release", "--locked", "--manifest-path"])
        .arg(scripts().join("smoltcp-server/Cargo.toml"))
        .arg("--target-dir")
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    (ok && bin.exists()).then_some(bin)
}

#[test]
fn smoltcp_is_named_smoltcp() {
    if !require_root() {
        return;
    }
    let Some(bin) = smoltcp_server() else {
        skip("scripts/os-db/smoltcp-server does not build (smoltcp from crates.io)");
        return;
    };
    let mut st = Stack::new("smol");
    assert!(ip(&[
        "-n", &st.ns, "tuntap", "add", "dev", "tap0", "mode", "tap"
    ]));
    assert!(ip(&[
        "-n",
        &st.ns,
        "addr",
        "add",
        "198.18.253.9/30",
        "dev",
        "tap0"
    ]));
    assert!(ip(&["-n", &st.ns, "link", "set", "tap0", "up"]));
    st.child = Some(
        Command::new("ip")
            .args(["netns", "exec", &st.ns])
            .arg(&bin)
            .args(["tap0", "198.18.253.10", "80", "60"])
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let (name, accuracy, families) = st.scan("198.18.253.10", "80,81");
    assert_eq!(
        (name.as_str(), accuracy, families),
        ("smoltcp 0.12.0", 100, vec!["smoltcp".to_string()])
    );
}
