//! Shared set-up for the namespace tests: a throwaway network namespace
//! with python3 children holding sockets in known states.

#![allow(dead_code, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A namespace `pl-<pid>-<tag>`, deleted (children killed first) on drop.
pub struct Ns {
    pub name: String,
    children: Vec<Child>,
}

fn run(args: &[&str], stdin: Option<&str>) {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = c.spawn().expect("spawn");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let st = child.wait().unwrap();
    assert!(st.success(), "{args:?} failed");
}

pub fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl Ns {
    pub fn new(tag: &str) -> Ns {
        let name = format!("pl-{}-{tag}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        run(&["ip", "netns", "add", &name], None);
        let ns = Ns {
            name,
            children: Vec::new(),
        };
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Runs a command in the namespace, to completion.
    pub fn exec(&self, args: &[&str]) {
        let mut v = vec!["ip", "netns", "exec", &self.name];
        v.extend_from_slice(args);
        run(&v, None);
    }

    /// Loads an nftables ruleset in the namespace.
    pub fn nft(&self, rules: &str) {
        run(
            &["ip", "netns", "exec", &self.name, "nft", "-f", "-"],
            Some(rules),
        );
    }

    /// Output of a command in the namespace.
    pub fn output(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .expect("spawn")
    }

    /// Starts `python3 -c script args...` in the namespace and waits (10 s
    /// at most) for it to print `ready`; returns its pid.
    pub fn spawn_python(&mut self, script: &str, args: &[&str]) -> u32 {
        self.spawn_python_as(&[], script, args)
    }

    /// [`Ns::spawn_python`] behind a command prefix such as `setpriv ...`
    /// (then the pid is the prefix's, which execs python).
    pub fn spawn_python_as(&mut self, prefix: &[&str], script: &str, args: &[&str]) -> u32 {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(prefix)
            .args([python(), "-c", script])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn python3");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let pid = child.id();
        self.children.push(child);
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("python helper did not get ready");
        assert_eq!(line.trim(), "ready", "python helper failed");
        // `ip netns exec` execs the program, so the pid is python's.
        pid
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Sockets in every interesting state; prints `ready`, lives until its
/// stdin closes.
pub const STATES_PY: &str = r#"
import socket, sys, time
A4, A6, S, D = socket.AF_INET, socket.AF_INET6, socket.SOCK_STREAM, socket.SOCK_DGRAM
def L(fam, addr, port, backlog=16):
    s = socket.socket(fam, S)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == A6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port)); s.listen(backlog); return s
keep = []
l1 = L(A4, '127.0.0.1', 7001); l2 = L(A6, '::1', 7002); l3 = L(A4, '0.0.0.0', 7003, 7)
c1 = socket.create_connection(('127.0.0.1', 7001)); a1, _ = l1.accept()
c2 = socket.create_connection(('::1', 7002)); a2, _ = l2.accept()
l4 = L(A4, '127.0.0.1', 7004)
c4 = socket.create_connection(('127.0.0.1', 7004)); a4, _ = l4.accept(); c4.close()
l5 = L(A6, '::1', 7005)
c5 = socket.create_connection(('::1', 7005)); a5, _ = l5.accept()
a5.close(); time.sleep(0.2); c5.close()
l6 = L(A4, '127.0.0.1', 7006)
c6 = socket.create_connection(('127.0.0.1', 7006))
c7 = socket.socket(A4, S); c7.setblocking(False)
try:
    c7.connect(('127.0.0.1', 7007))
except BlockingIOError:
    pass
u1 = socket.socket(A4, D); u1.bind(('127.0.0.1', 7010))
u2 = socket.socket(A6, D); u2.bind(('::', 7011))
u3 = socket.socket(A4, D); u3.connect(('127.0.0.1', 7010))
keep = [l1, l2, l3, c1, a1, c2, a2, l4, a4, l5, l6, c6, c7, u1, u2, u3]
time.sleep(0.5)
print('ready', flush=True)
sys.stdin.read()
"#;

/// Drops the client's final ACK to 7006 (server stays SYN_RECV) and
/// SYNs to 7007 (client stays SYN_SENT).
pub const STATES_NFT: &str = "table inet portolan_local {
  chain in {
    type filter hook input priority 0;
    tcp dport 7006 tcp flags & (syn | ack) == ack drop
    tcp dport 7007 tcp flags & (syn | ack) == syn drop
  }
}
";

/// A listener on port argv[1] under the name argv[2] (set with prctl).
pub const NAMED_PY: &str = r#"
import socket, sys, ctypes
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(5)
print('ready', flush=True)
sys.stdin.read()
"#;

/// The example binary (built by `cargo test` with the tests).
pub fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join("local")
}

/// `setpriv` arguments that drop to nobody.
pub const AS_NOBODY: [&str; 4] = [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];
