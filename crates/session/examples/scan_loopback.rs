//! Connect-scans a few ports of 127.0.0.1 (no privileges needed) and
//! prints each host's open ports as soon as the host is finished.
//!
//! ```sh
//! cargo run --example scan_loopback -p portolan-session
//! ```
//!
//! A listener on an ephemeral port is opened first, so at least one port
//! is open whatever this machine runs.

use portolan_model::{HostResult, PortState, ScanType};
use portolan_session::{ScanConfig, ScanObserver, Session};
use std::io;
use std::net::TcpListener;

/// Prints every finished host's open ports.
struct PrintOpen;

impl ScanObserver for PrintOpen {
    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        println!("{} is {:?}", host.addr, host.status);
        for port in host.ports.iter().filter(|p| p.state == PortState::Open) {
            let service = port.service.as_ref().map_or("unknown", |s| s.name.as_str());
            println!("  {}/{} open  {service}", port.port, port.protocol);
        }
        Ok(())
    }

    fn warning(&mut self, message: &str) {
        eprintln!("warning: {message}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let open = listener.local_addr()?.port();
    let config = ScanConfig {
        args_line: "scan_loopback".into(),
        targets: vec!["127.0.0.1".into()],
        ports: Some(format!("22,80,443,{open}")),
        scans: vec![ScanType::Connect],
        privileged: Some(false),
        skip_discovery: true,
        no_dns: true,
        ..ScanConfig::default()
    };
    let session = Session::new(config)?;
    for w in &session.plan().warnings {
        eprintln!("warning: {w}");
    }
    let stats = session.run(&mut PrintOpen)?;
    println!(
        "{} host(s) up, scanned in {:.2} s (port {open} was opened by this example)",
        stats.hosts_up, stats.elapsed
    );
    drop(listener);
    Ok(())
}
