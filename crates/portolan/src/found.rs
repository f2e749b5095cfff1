//! What a scan has found so far (hosts up, open ports), counted from
//! the hosts whose ports are known, for the progress line.

use portolan_model::{HostResult, PortState};

/// What the scan has found so far: the progress line shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// Hosts whose ports are known and that are up.
    pub hosts_up: u64,
    /// Open ports on them.
    pub open_ports: u64,
}

impl Found {
    /// Counts `host`, an up host whose ports are known.
    pub fn add(&mut self, host: &HostResult) {
        self.hosts_up += 1;
        self.open_ports += host
            .ports
            .iter()
            .filter(|p| p.state == PortState::Open)
            .count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_counts_up_hosts_and_their_open_ports() {
        use portolan_model::{HostStatus, PortResult, Protocol, Reason};
        let mut h = HostResult::new("::1".parse().unwrap(), HostStatus::Up, Reason::Localhost);
        for (port, state) in [
            (22, PortState::Open),
            (23, PortState::Closed),
            (80, PortState::Open),
        ] {
            h.ports.push(PortResult {
                port,
                protocol: Protocol::Tcp,
                state,
                reason: Reason::SynAck,
                reason_ttl: 64,
                service: None,
            });
        }
        let mut f = Found::default();
        f.add(&h);
        f.add(&h);
        assert_eq!(
            f,
            Found {
                hosts_up: 2,
                open_ports: 4
            }
        );
    }
}
