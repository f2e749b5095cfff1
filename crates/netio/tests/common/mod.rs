//! A throwaway pair of network namespaces joined by a veth link, for tests
//! that need real raw sockets without touching any real network.
//!
//! Scanner namespace: veth `va` with 198.18.0.1/24 (and 198.18.0.3/24, an
//! address no scan uses) and 2001:2::1/64. Target namespace: veth `vb` with
//! 198.18.0.2/24 and 2001:2::2/64. Both have `lo` up and no other route.
//! Dropping the [`Testbed`] deletes both namespaces (and with them the veth
//! pair), also when a test panics.
#![allow(dead_code)]

use std::fs::File;
use std::net::IpAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sched::{setns, CloneFlags};

pub const SCANNER_V4: &str = "198.18.0.1";
pub const TARGET_V4: &str = "198.18.0.2";
pub const UNUSED_V4: &str = "198.18.0.3";
pub const SCANNER_V6: &str = "2001:2::1";
pub const TARGET_V6: &str = "2001:2::2";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// True if running as root; otherwise prints why the test is skipped.
pub fn root_or_skip(test: &str) -> bool {
    portolan_testbed::skip_unless(
        nix::unistd::geteuid().is_root(),
        format_args!("{test}: needs root (network namespaces and raw sockets)"),
    )
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by veth; see the module docs.
pub struct Testbed {
    pub scanner: String,
    pub target: String,
}

impl Testbed {
    /// Builds the namespaces (the caller must be root).
    pub fn new() -> Testbed {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = format!("pt-nio-{}-{n}", std::process::id());
        let tb = Testbed {
            scanner: format!("{base}-a"),
            target: format!("{base}-b"),
        };
        ip(&["netns", "add", &tb.scanner]);
        ip(&["netns", "add", &tb.target]);
        let (a, b) = (tb.scanner.as_str(), tb.target.as_str());
        ip(&[
            "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b,
        ]);
        ip(&["-n", a, "addr", "add", "198.18.0.1/24", "dev", "va"]);
        ip(&["-n", a, "addr", "add", "198.18.0.3/24", "dev", "va"]);
        ip(&["-n", a, "addr", "add", "2001:2::1/64", "dev", "va", "nodad"]);
        ip(&["-n", b, "addr", "add", "198.18.0.2/24", "dev", "vb"]);
        ip(&["-n", b, "addr", "add", "2001:2::2/64", "dev", "vb", "nodad"]);
        for ns in [a, b] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        ip(&["-n", a, "link", "set", "va", "up"]);
        ip(&["-n", b, "link", "set", "vb", "up"]);
        tb
    }

    /// Runs `f` on a fresh thread that has entered namespace `ns`. Sockets
    /// it opens stay in `ns` wherever they are used afterwards.
    pub fn in_ns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(format!("/run/netns/{ns}")).expect("opening netns");
                setns(file, CloneFlags::CLONE_NEWNET).expect("setns");
                f()
            })
            .join()
            .expect("namespace thread panicked")
        })
    }

    /// Runs `f` in the scanner namespace.
    pub fn in_scanner<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        Self::in_ns(&self.scanner, f)
    }

    /// Runs `f` in the target namespace.
    pub fn in_target<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        Self::in_ns(&self.target, f)
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        for ns in [&self.scanner, &self.target] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Builds a TCP SYN from `src:sport` to `dst:dport`.
pub fn syn(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32) -> Vec<u8> {
    let b = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            etherparse::PacketBuilder::ipv4(s.octets(), d.octets(), 64)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            etherparse::PacketBuilder::ipv6(s.octets(), d.octets(), 64)
        }
        _ => panic!("mixed address families"),
    };
    let b = b.tcp(sport, dport, seq, 1024).syn();
    let mut out = Vec::with_capacity(b.size(0));
    b.write(&mut out, &[]).expect("building SYN");
    out
}

/// The fields of a received packet the tests look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// TCP flags (0 for other protocols).
    pub flags: u8,
}

pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// Parses an IP packet far enough for the tests; None if malformed.
pub fn parse(p: &[u8]) -> Option<Seen> {
    let (src, dst, proto, l4) = match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let s: [u8; 4] = p.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = p.get(16..20)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), *p.get(9)?, p.get(ihl..)?)
        }
        6 => {
            let s: [u8; 16] = p.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = p.get(24..40)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), *p.get(6)?, p.get(40..)?)
        }
        _ => return None,
    };
    let (sport, dport) = if l4.len() >= 4 && (proto == 6 || proto == 17) {
        (
            u16::from_be_bytes([l4[0], l4[1]]),
            u16::from_be_bytes([l4[2], l4[3]]),
        )
    } else {
        (0, 0)
    };
    let flags = if proto == 6 { *l4.get(13)? } else { 0 };
    Some(Seen {
        src,
        dst,
        proto,
        sport,
        dport,
        flags,
    })
}
