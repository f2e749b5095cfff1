//! The session's public API on loopback, without privileges: a connect
//! scan delivers its host to the observer between `begin` and `end`, a
//! stopped handle interrupts the run, a bad configuration fails before
//! anything is sent, and the plan is visible before running.

use portolan_model::{HostResult, HostStatus, PortState, RunStats, ScanInfo, ScanType};
use portolan_session::{Collect, ScanConfig, ScanObserver, Session, SessionError, StopHandle};
use std::io;
use std::net::TcpListener;

fn loopback(ports: &str) -> ScanConfig {
    ScanConfig {
        args_line: "session_api".into(),
        targets: vec!["127.0.0.1".into()],
        ports: Some(ports.into()),
        scans: vec![ScanType::Connect],
        privileged: Some(false),
        skip_discovery: true,
        no_dns: true,
        ..ScanConfig::default()
    }
}

/// Records the order of events.
#[derive(Default)]
struct Events(Vec<String>);

impl ScanObserver for Events {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        self.0.push(format!("begin {}", info.args));
        Ok(())
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.0.push(format!("host {}", host.addr));
        Ok(())
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.0.push(format!("end {}", stats.hosts_up));
        Ok(())
    }
}

#[test]
fn connect_scan_of_loopback_finds_the_open_port() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let session = Session::new(loopback(&open.to_string())).unwrap();
    assert_eq!(session.plan().techniques.len(), 1);
    assert_eq!(session.plan().title(), ScanType::Connect.title());
    let mut hosts = Collect::default();
    let stats = session.run(&mut hosts).unwrap();
    assert_eq!(stats.hosts_up, 1);
    assert!(!stats.interrupted);
    let [host] = &hosts.hosts[..] else {
        panic!("{:?}", hosts.hosts)
    };
    assert_eq!(host.status, HostStatus::Up);
    let port = host.ports.iter().find(|p| p.port == open).unwrap();
    assert_eq!(port.state, PortState::Open);
    assert!(port.service.is_some(), "service names are filled in");
}

#[test]
fn observer_sees_begin_hosts_end_in_order() {
    let session = Session::new(loopback("1")).unwrap();
    let mut events = Events::default();
    session.run(&mut events).unwrap();
    assert_eq!(
        events.0,
        ["begin session_api", "host 127.0.0.1", "end 1"].map(String::from)
    );
}

#[test]
fn a_stopped_handle_interrupts_the_run() {
    let stop = StopHandle::new();
    stop.stop();
    let session = Session::new(loopback("1-1000"))
        .unwrap()
        .with_stop(stop.clone());
    assert!(session.stop_handle().is_stopped());
    let mut hosts = Collect::default();
    let stats = session.run(&mut hosts).unwrap();
    assert!(stats.interrupted);
}

#[test]
fn a_bad_configuration_fails_before_running() {
    let e = Session::new(loopback("70000")).err().unwrap();
    assert!(matches!(e, SessionError::Plan(_)), "{e}");
    assert!(e.to_string().contains("70000"), "{e}");
    let raw = ScanConfig {
        scans: vec![ScanType::Ack],
        ..loopback("80")
    };
    let e = Session::new(raw).err().unwrap();
    assert!(e.to_string().starts_with("-sA:"), "{e}");
}
