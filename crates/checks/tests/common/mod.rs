//! A lab for the real-daemon tests: a testbed (scanner and one target
//! namespace, 198.18.0.0/15 only), Debian daemons started in the target
//! namespace by the test and killed when the lab is dropped, and a scan
//! of chosen ports from the scanner namespace: service detection
//! (`portolan-service`'s prober, as `-sV`) and then the checks, as the
//! session's stages run them.

#![allow(dead_code)]

use portolan_checks::{CheckOptions, Runner, ScriptArgs, ScriptResult, Selection};
use portolan_model::{
    HostResult, HostStatus, PortResult, PortState, Protocol, Reason, ServiceInfo,
};
use portolan_service::{Database, ProbeOptions, Prober, Target};
use portolan_testbed::{in_netns, Testbed};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The lab (see the module docs).
pub struct Lab {
    children: Vec<Child>,
    /// A scratch directory for configurations, data and logs.
    pub dir: PathBuf,
    tb: Testbed,
}

impl Lab {
    /// A lab, or `None` (after a skip line, or a failure under
    /// `PORTOLAN_TESTS_MUST_RUN`) when not root, or when a program in
    /// `needs` is not installed.
    pub fn new(hint: &str, needs: &[&str]) -> Option<Lab> {
        if !portolan_testbed::require_root() {
            return None;
        }
        for p in needs {
            if !portolan_testbed::skip_unless(
                Path::new(p).exists(),
                format_args!("{p} is not installed (see .ci/run's daemon list)"),
            ) {
                return None;
            }
        }
        let tb = Testbed::builder(hint).targets(2).build().expect("testbed");
        let dir =
            std::env::temp_dir().join(format!("portolan-checks-{hint}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Some(Lab {
            children: Vec::new(),
            dir,
            tb,
        })
    }

    /// The first target's address, where the daemons listen.
    pub fn addr(&self) -> IpAddr {
        self.addr_at(0)
    }

    /// Target `i`'s address (0 or 1).
    pub fn addr_at(&self, i: usize) -> IpAddr {
        IpAddr::V4(self.tb.target_addr(i))
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `text` to the scratch file `name` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Runs `program args` in the target namespace to its end (set-up
    /// commands such as openssl); panics when it fails.
    pub fn run(&mut self, program: &str, args: &[&str]) {
        let out = self
            .tb
            .target(0)
            .unwrap()
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `program args` in the scanner namespace: its output.
    pub fn run_in_scanner(&self, program: &str, args: &[&str]) -> String {
        let out = self
            .tb
            .run_in_scanner(Command::new(program).args(args))
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// Starts a daemon in the target namespace (in the foreground, so its
    /// PID is the child's); output goes to `name.log`.
    pub fn spawn(&mut self, name: &str, program: &str, args: &[&str]) {
        self.spawn_at(0, name, program, args)
    }

    /// [`spawn`](Self::spawn) on target `i`.
    pub fn spawn_at(&mut self, i: usize, name: &str, program: &str, args: &[&str]) {
        let log = std::fs::File::create(self.path(&format!("{name}.log"))).unwrap();
        let child = self
            .tb
            .target(i)
            .unwrap()
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        self.children.push(child);
    }

    /// Waits up to 10 s for a TCP listener on the first target's `port`.
    pub fn wait_tcp(&self, port: u16) {
        self.wait_tcp_at(0, port)
    }

    /// [`wait_tcp`](Self::wait_tcp) on target `i`.
    pub fn wait_tcp_at(&self, i: usize, port: u16) {
        let to = SocketAddr::new(self.addr_at(i), port);
        let ok = in_netns(self.tb.scanner_ns(), || {
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                if TcpStream::connect_timeout(&to, Duration::from_millis(200)).is_ok() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            false
        })
        .unwrap();
        assert!(
            ok,
            "nothing listens on {to}; logs in {}",
            self.dir.display()
        );
    }

    /// Scans `ports` of the target as `-sV` and then `--script script`
    /// with `args`: the host's script results.
    pub fn scan(&self, ports: &[(u16, Protocol)], script: &str, args: &str) -> Vec<ScriptResult> {
        self.scan_at(0, ports, script, args)
    }

    /// [`scan`](Self::scan) of target `i`.
    pub fn scan_at(
        &self,
        i: usize,
        ports: &[(u16, Protocol)],
        script: &str,
        args: &str,
    ) -> Vec<ScriptResult> {
        let addr = self.addr_at(i);
        let mut host = HostResult::new(addr, HostStatus::Up, Reason::SynAck);
        for &(port, protocol) in ports {
            let state = match protocol {
                Protocol::Udp => PortState::OpenFiltered,
                _ => PortState::Open,
            };
            host.ports.push(PortResult {
                port,
                protocol,
                state,
                reason: Reason::SynAck,
                reason_ttl: 64,
                service: None,
            });
        }
        let mut opts = CheckOptions::new(Selection::parse(script).unwrap());
        opts.args = Arc::new(ScriptArgs::parse(args).unwrap());
        opts.timeout = Duration::from_secs(3);
        let runner = Runner::new(opts);
        in_netns(self.tb.scanner_ns(), move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                detect(&mut host).await;
                runner.run_host(&mut host).await;
            });
            host.scripts
        })
        .unwrap()
    }
}

/// `-sV` on the host's ports, recorded as the session's version stage
/// records it.
async fn detect(host: &mut HostResult) {
    let db = Arc::new(Database::builtin().unwrap());
    let prober = Prober::new(db, ProbeOptions::default());
    let targets: Vec<Target> = host
        .ports
        .iter()
        .map(|p| Target {
            addr: host.addr,
            port: p.port,
            protocol: p.protocol,
        })
        .collect();
    for d in prober.detect(&targets).await {
        let p = host
            .ports
            .iter_mut()
            .find(|p| p.port == d.target.port && p.protocol == d.target.protocol)
            .unwrap();
        if let Some(mut s) = d.service {
            if s.certificate.is_none() {
                s.certificate = d.certificate.map(Box::new);
            }
            p.service = Some(Box::new(s));
        } else if let Some(c) = d.certificate {
            let mut s = ServiceInfo::from_table("ssl");
            s.certificate = Some(Box::new(c));
            p.service = Some(Box::new(s));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The results of check `id` on `port`.
pub fn on<'a>(found: &'a [ScriptResult], id: &str, port: u16) -> Vec<&'a ScriptResult> {
    found
        .iter()
        .filter(|r| r.id == id && r.port == Some(port))
        .collect()
}

/// The proven findings (not risk hints) on `port`.
pub fn findings(found: &[ScriptResult], port: u16) -> Vec<&ScriptResult> {
    found
        .iter()
        .filter(|r| r.id != "risk-hint" && r.port == Some(port))
        .collect()
}

/// The value of the first element keyed `key` in a result.
pub fn elem<'a>(r: &'a ScriptResult, key: &str) -> Option<&'a str> {
    r.items.iter().find_map(|i| match i {
        portolan_model::ScriptItem::Elem {
            key: Some(k),
            value,
        } if k == key => Some(value.as_str()),
        _ => None,
    })
}

/// Makes a program's command for quick use.
pub fn cmd(program: &str) -> Command {
    Command::new(program)
}
