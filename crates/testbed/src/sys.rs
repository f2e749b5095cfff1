//! Thin helpers around the system tools and the `setns` call.
//!
//! The testbed drives iproute2 and nftables through their command-line tools
//! rather than netlink: the commands are what a person would type to debug a
//! failing test, and they appear verbatim in error messages.

use std::fs::File;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use nix::sched::{setns, CloneFlags};

use crate::error::{Result, TestbedError};

/// Renders a command line for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Keeps the last `max` bytes of a byte string, as lossy UTF-8.
pub(crate) fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).trim().to_string()
}

/// Runs a command to completion, optionally feeding `stdin`, and fails unless it exits 0.
pub(crate) fn run_checked(cmd: &mut Command, stdin: Option<&str>) -> Result<Output> {
    let text = describe(cmd);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().map_err(|source| TestbedError::Spawn {
        cmd: text.clone(),
        source,
    })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .map_err(|e| TestbedError::io(format!("writing stdin of `{text}`"), e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| TestbedError::io(format!("waiting for `{text}`"), e))?;
    if !out.status.success() {
        return Err(TestbedError::Command {
            cmd: text,
            status: out.status.to_string(),
            stderr: tail(&out.stderr, 2000),
        });
    }
    Ok(out)
}

/// Runs `ip ARGS...` in the current namespace.
pub(crate) fn ip(args: &[&str]) -> Result<Output> {
    run_checked(Command::new("ip").args(args), None)
}

/// Runs `ip netns exec NS PROGRAM ARGS...`.
pub(crate) fn ns_exec(ns: &str, program: &str, args: &[&str]) -> Result<Output> {
    run_checked(
        Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args),
        None,
    )
}

/// Loads an nftables script into a namespace (`nft -f -`).
pub(crate) fn nft_load(ns: &str, script: &str) -> Result<()> {
    run_checked(
        Command::new("ip").args(["netns", "exec", ns, "nft", "-f", "-"]),
        Some(script),
    )
    .map(|_| ())
}

/// Writes a sysctl inside a namespace through its /proc/sys file.
pub(crate) fn ns_sysctl(ns: &str, key: &str, value: &str) -> Result<()> {
    ns_exec(ns, "sysctl", &["-q", "-w", &format!("{key}={value}")]).map(|_| ())
}

/// Writes several sysctls inside a namespace with one `sysctl` run.
pub(crate) fn ns_sysctls(ns: &str, settings: &[(&str, &str)]) -> Result<()> {
    let args: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut all: Vec<&str> = vec!["-q", "-w"];
    all.extend(args.iter().map(String::as_str));
    ns_exec(ns, "sysctl", &all).map(|_| ())
}

/// Runs `f` on a fresh thread that has joined the network namespace `ns`.
///
/// Sockets created inside `f` belong to `ns` for their whole life, so they can
/// be handed to ordinary threads afterwards; the calling thread's namespace is
/// never changed.
pub fn in_netns<T, F>(ns: &str, f: F) -> Result<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let path = format!("/var/run/netns/{ns}");
    let file = File::open(&path).map_err(|source| TestbedError::Netns {
        ns: ns.to_string(),
        source,
    })?;
    std::thread::scope(|s| {
        let handle = s.spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| TestbedError::Netns {
                ns: ns.to_string(),
                source: e.into(),
            })?;
            Ok(f())
        });
        handle
            .join()
            .unwrap_or_else(|_| Err(TestbedError::Config(format!("thread in {ns} panicked"))))
    })
}
