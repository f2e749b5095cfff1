//! `--os-rto`: what holding back the kernel's RSTs needs, and when a
//! host's SYN/ACK retransmission series is complete.
//!
//! A raw SYN's SYN/ACK reaches the scanner's kernel, which has no socket
//! for it and answers with a RST; the target then never retransmits. To
//! time the retransmissions (Hershel+'s RTO evidence, the `rto` lines of
//! the database), OS detection's prober (`crate::os_probe`) adds a
//! temporary nftables table of portolan's own, `portolan_rto_<pid>`,
//! dropping outgoing RSTs from its probe's source port to that one host
//! and port only, and deletes it when the measurement ends (at the end
//! of the batch, on an interrupt, or when the guard is dropped on an
//! error). Only a killed process (SIGKILL) leaves it behind: `nft delete
//! table inet portolan_rto_<pid>` removes it.
//!
//! nftables is driven through its own command (`nft -f -`), not a
//! netlink library: the rules are a few lines, the command is what every
//! distribution ships with nftables, and its errors are readable.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

/// The longest a host's series is followed, in seconds after its first
/// SYN/ACK (Linux's default five retransmissions end at 31 s).
pub const MAX_SECONDS: f64 = 45.0;
/// How long the first retransmission is waited for (RFC 6298's initial
/// RTO is 1 s; older stacks use 3 s).
const FIRST_WAIT: f64 = 3.5;

/// Whether `--os-rto` can run here: CAP_NET_ADMIN (for nftables) and the
/// `nft` command. `Err` is the hint for the one-line error.
pub fn usable() -> Result<(), &'static str> {
    if !has_net_admin() {
        return Err("needs CAP_NET_ADMIN (it holds back the kernel's RSTs with a temporary nftables table); run as root or grant it");
    }
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("nft").is_file()));
    if !found {
        return Err("needs the nft command (Debian package nftables)");
    }
    Ok(())
}

/// CAP_NET_ADMIN (bit 12) in this process's effective set, from
/// /proc/self/status.
fn has_net_admin() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << 12) != 0)
}

/// The table's name for this process.
pub fn table_name() -> String {
    format!("portolan_rto_{}", std::process::id())
}

/// A temporary nftables table holding back the kernel's RSTs to the
/// listed `(host, host's port, our source port)`; deleted on drop.
pub struct RstHold {
    table: String,
}

impl RstHold {
    /// Adds the table and its rules. `Err` says why nft refused.
    pub fn new(flows: &[(IpAddr, u16, u16)]) -> Result<RstHold, String> {
        let table = table_name();
        let mut script = format!(
            "add table inet {table}\n\
             add chain inet {table} out {{ type filter hook output priority 0; policy accept; }}\n"
        );
        for (addr, dport, sport) in flows {
            let family = if addr.is_ipv4() { "ip" } else { "ip6" };
            script.push_str(&format!(
                "add rule inet {table} out {family} daddr {addr} tcp sport {sport} tcp dport {dport} tcp flags & rst == rst drop\n"
            ));
        }
        // The guard exists before the table does: whatever fails after
        // `add table`, drop deletes it.
        let hold = RstHold { table };
        nft(&script)?;
        Ok(hold)
    }
}

impl Drop for RstHold {
    fn drop(&mut self) {
        let _ = nft(&format!("delete table inet {}\n", self.table));
    }
}

/// Runs an nft script; `Err` is nft's first line of complaint.
fn nft(script: &str) -> Result<(), String> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nft: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("nft: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    Err(format!(
        "nft: {}",
        err.lines().next().unwrap_or("failed").trim()
    ))
}

/// Seconds after the first SYN/ACK until which a host's series is
/// followed, given the retransmissions seen so far (seconds after the
/// first, ascending): the first is waited for [`FIRST_WAIT`]; after
/// that, until a doubled interval (the usual exponential backoff) has
/// passed with a quarter and half a second to spare. A stack that keeps
/// its interval fits within that too. Never past [`MAX_SECONDS`].
pub fn follow_until(series: &[f64]) -> f64 {
    let until = match series {
        [] => FIRST_WAIT,
        [.., last] => {
            let prev = series.len().checked_sub(2).map_or(0.0, |i| series[i]);
            last + 2.0 * (last - prev).max(0.0) * 1.25 + 0.5
        }
    };
    until.min(MAX_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_followed_one_doubled_interval_past_its_last() {
        assert_eq!(follow_until(&[]), 3.5);
        // Linux: 1, 3, 7 s: after 3 s the next is due at 7 s.
        assert_eq!(follow_until(&[1.0]), 1.0 + 2.5 + 0.5);
        assert_eq!(follow_until(&[1.0, 3.0]), 3.0 + 5.0 + 0.5);
        // Capped.
        assert_eq!(follow_until(&[1.0, 3.0, 7.0, 15.0, 31.0]), MAX_SECONDS);
        // Hostile order: never before the last time seen.
        assert!(follow_until(&[5.0, 1.0]) >= 1.0);
    }

    #[test]
    fn the_table_is_portolans_own() {
        assert!(table_name().starts_with("portolan_rto_"));
    }
}
