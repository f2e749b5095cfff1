//! nmap's habits the binary keeps: exit codes after signals, quiet ends on
//! closed pipes, errors printed once and on one line.

mod common;
use common::portolan;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A long, slow loopback scan that runs until signalled.
fn slow_scan() -> Child {
    portolan()
        .args([
            "-sT",
            "-Pn",
            "-n",
            "-p80",
            "--max-rate",
            "20",
            "127.0.0.0/16",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn signal_status(sig: nix::sys::signal::Signal) -> Option<i32> {
    let mut child = slow_scan();
    std::thread::sleep(Duration::from_millis(800));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
    child.wait().unwrap().code()
}

#[test]
fn sigterm_exits_143_and_sigint_130() {
    assert_eq!(signal_status(nix::sys::signal::Signal::SIGTERM), Some(143));
    assert_eq!(signal_status(nix::sys::signal::Signal::SIGINT), Some(130));
}
