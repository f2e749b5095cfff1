//! `--live`: each open port as soon as its host's ports are known, in
//! masscan's words (`Discovered open port 22/tcp on 198.18.0.2`).
//!
//! Why standard error: standard output keeps the nmap-style report
//! intact (and `-oX -` or `-oJ -` stay parseable), while `2>&1 >/dev/null`
//! or `2>open.txt` gives the live list alone. The lines come before
//! service detection and reverse DNS, so a long `-sV` scan shows its
//! findings at once. Ports are reported per host (the session reports a
//! host when all its ports are known), which for a sweep is as they come.

use portolan_model::{HostResult, PortState};

/// The `--live` lines of `host`'s open ports, each ending in a newline;
/// empty when it has none.
pub fn lines(host: &HostResult) -> String {
    host.ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .map(|p| {
            format!(
                "Discovered open port {}/{} on {}\n",
                p.port, p.protocol, host.addr
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::lines;
    use portolan_model::{HostResult, HostStatus, PortResult, PortState, Protocol, Reason};

    #[test]
    fn one_line_per_open_port() {
        let mut h = HostResult::new(
            "198.18.0.2".parse().unwrap(),
            HostStatus::Up,
            Reason::EchoReply,
        );
        for (port, state, protocol) in [
            (22, PortState::Open, Protocol::Tcp),
            (23, PortState::Closed, Protocol::Tcp),
            (53, PortState::Open, Protocol::Udp),
        ] {
            h.ports.push(PortResult {
                port,
                protocol,
                state,
                reason: Reason::SynAck,
                reason_ttl: 64,
                service: None,
            });
        }
        assert_eq!(
            lines(&h),
            "Discovered open port 22/tcp on 198.18.0.2\nDiscovered open port 53/udp on 198.18.0.2\n"
        );
    }
}
