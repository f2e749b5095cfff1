//! What to list: [`LocalQuery`], a plain struct the command line fills,
//! and its checked form [`Filter`], which says what the kernel is asked for
//! (states, protocols, families) and what is filtered afterwards (ports,
//! pid, process name).

use crate::error::LocalError;
use crate::model::{Family, Proto, SocketEntry, State};
use portolan_targets::{PortSet, PortSpec, ServiceTable};

/// Which socket source to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// Netlink `sock_diag`, falling back to `/proc/net` when unavailable.
    #[default]
    Auto,
    /// Netlink `sock_diag` only.
    Netlink,
    /// `/proc/net/{tcp,tcp6,udp,udp6}` only (the fallback, forced).
    ProcNet,
}

/// The options of `portolan local`, as typed; [`LocalQuery::filter`]
/// checks them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalQuery {
    /// `-a`: every socket, not only listeners (TCP LISTEN, UDP UNCONN).
    pub all: bool,
    /// `-t`: TCP (with neither `tcp` nor `udp`, both).
    pub tcp: bool,
    /// `-u`: UDP.
    pub udp: bool,
    /// `-4`: IPv4 (with neither `ipv4` nor `ipv6`, both).
    pub ipv4: bool,
    /// `-6`: IPv6.
    pub ipv6: bool,
    /// `-p PORTS`: local or remote port in portolan's port syntax.
    pub ports: Option<String>,
    /// `--state S[,S...]`: states by name (see [`parse_state`]); implies
    /// every socket in those states, listening or not.
    pub states: Vec<String>,
    /// `--pid N`: only sockets this process holds.
    pub pid: Option<u32>,
    /// `--process NAME`: only sockets held by a process of this name.
    pub process: Option<String>,
    /// `-n`: do not look up owners (faster).
    pub no_owners: bool,
    /// `--netns NAME|all`: another named namespace, or every one.
    pub netns: Option<String>,
    /// Which source to read.
    pub backend: Backend,
}

/// A checked query.
#[derive(Clone, Debug)]
pub struct Filter {
    /// Protocols to dump.
    pub protos: Vec<Proto>,
    /// Families to dump.
    pub families: Vec<Family>,
    /// States per protocol, as `idiag_states` bitmasks (TCP, UDP).
    pub tcp_states: u32,
    /// UDP state mask.
    pub udp_states: u32,
    /// TCP ports wanted (local or remote), if filtered.
    pub tcp_ports: Option<PortSet>,
    /// UDP ports wanted, if filtered.
    pub udp_ports: Option<PortSet>,
    /// Owner pid wanted.
    pub pid: Option<u32>,
    /// Owner name wanted.
    pub process: Option<String>,
    /// Whether owners are looked up.
    pub owners: bool,
    /// The source.
    pub backend: Backend,
}

/// Parses one state name, case-insensitive, `-` or `_` alike: the TCP
/// names (`established`, `syn_sent`, `syn_recv`, `fin_wait1`,
/// `fin_wait2`, `time_wait`, `close`, `close_wait`, `last_ack`, `listen`,
/// `closing`), `ss`'s spellings (`estab`, `fin-wait-1`, `unconn`...) and
/// the groups `all`, `listening` (listen and close: UDP's unconnected
/// sockets), `connected` (all but listen and close) and `synchronized`
/// (connected but syn_sent and syn_recv).
pub fn parse_state(word: &str) -> Result<u32, LocalError> {
    let w = word.trim().to_ascii_lowercase().replace('-', "_");
    let one = |s: State| Ok(s.bit());
    match w.as_str() {
        "established" | "estab" => one(State::Established),
        "syn_sent" => one(State::SynSent),
        "syn_recv" => one(State::SynRecv),
        "fin_wait1" | "fin_wait_1" => one(State::FinWait1),
        "fin_wait2" | "fin_wait_2" => one(State::FinWait2),
        "time_wait" => one(State::TimeWait),
        "close" | "closed" | "unconn" => one(State::Close),
        "close_wait" => one(State::CloseWait),
        "last_ack" => one(State::LastAck),
        "listen" => one(State::Listen),
        // `ss`'s group: TCP listeners and unconnected UDP sockets.
        "listening" => Ok(State::Listen.bit() | State::Close.bit()),
        "closing" => one(State::Closing),
        "all" => Ok(ALL_STATES),
        "connected" => Ok(ALL_STATES & !State::Listen.bit() & !State::Close.bit()),
        "synchronized" => Ok(ALL_STATES
            & !State::Listen.bit()
            & !State::Close.bit()
            & !State::SynSent.bit()
            & !State::SynRecv.bit()),
        _ => Err(LocalError::State(word.to_string())),
    }
}

/// Every state's bit.
pub const ALL_STATES: u32 = 0xffe;

impl LocalQuery {
    /// The listing `--exposure` joins: every listener (both families) of
    /// the protocols, ports and namespaces asked for, with owners when
    /// they are shown or filtered on. The other selections (`-a`,
    /// `--state`, `-4`/`-6`, `--pid`, `--process`) apply to the report's
    /// rows instead ([`crate::Exposure::retain`]): a listener they hide
    /// still decides whether an open port is heard here.
    pub fn for_exposure(&self) -> LocalQuery {
        LocalQuery {
            tcp: self.tcp,
            udp: self.udp,
            ports: self.ports.clone(),
            no_owners: self.no_owners && self.pid.is_none() && self.process.is_none(),
            netns: self.netns.clone(),
            backend: self.backend,
            ..LocalQuery::default()
        }
    }

    /// Checks the query: every state name and the port list must parse.
    pub fn filter(&self) -> Result<Filter, LocalError> {
        let mut protos = Vec::new();
        if self.tcp || !self.udp {
            protos.push(Proto::Tcp);
        }
        if self.udp || !self.tcp {
            protos.push(Proto::Udp);
        }
        let mut families = Vec::new();
        if self.ipv4 || !self.ipv6 {
            families.push(Family::V4);
        }
        if self.ipv6 || !self.ipv4 {
            families.push(Family::V6);
        }
        let (tcp_states, udp_states) = if !self.states.is_empty() {
            let mut mask = 0;
            for list in &self.states {
                for word in list.split(',') {
                    mask |= parse_state(word)?;
                }
            }
            (mask, mask & (State::Close.bit() | State::Established.bit()))
        } else if self.all {
            (ALL_STATES, State::Close.bit() | State::Established.bit())
        } else {
            (State::Listen.bit(), State::Close.bit())
        };
        let (tcp_ports, udp_ports) = match &self.ports {
            None => (None, None),
            Some(text) => {
                let spec = PortSpec::parse(text, ServiceTable::builtin())?;
                let t = portolan_targets::Protocol::Tcp;
                let u = portolan_targets::Protocol::Udp;
                (Some(spec.ports(t)), Some(spec.ports(u)))
            }
        };
        if let Some(ns) = &self.netns {
            crate::netns::check_name(ns)?;
        }
        Ok(Filter {
            protos,
            families,
            tcp_states,
            udp_states,
            tcp_ports,
            udp_ports,
            pid: self.pid,
            process: self.process.clone(),
            owners: !self.no_owners || self.pid.is_some() || self.process.is_some(),
            backend: self.backend,
        })
    }
}

impl Filter {
    /// The kernel state mask for `proto`.
    pub fn states(&self, proto: Proto) -> u32 {
        match proto {
            Proto::Tcp => self.tcp_states,
            Proto::Udp => self.udp_states,
        }
    }

    /// The port set for `proto`, if ports are filtered.
    pub fn ports(&self, proto: Proto) -> Option<&PortSet> {
        match proto {
            Proto::Tcp => self.tcp_ports.as_ref(),
            Proto::Udp => self.udp_ports.as_ref(),
        }
    }

    /// Whether a kernel record passes the port filter (local or remote
    /// port in the set).
    pub fn port_ok(&self, proto: Proto, local: u16, remote: u16) -> bool {
        self.ports(proto)
            .is_none_or(|set| set.contains(local) || (remote != 0 && set.contains(remote)))
    }

    /// Whether a socket with owners attached passes the owner filters.
    pub fn owner_ok(&self, e: &SocketEntry) -> bool {
        if let Some(pid) = self.pid {
            if !e.owners.iter().any(|p| p.pid == pid) {
                return false;
            }
        }
        if let Some(name) = &self.process {
            if !e.owners.iter().any(|p| &p.name == name) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names() {
        assert_eq!(parse_state("LISTEN").unwrap(), 1 << 10);
        assert_eq!(parse_state("time-wait").unwrap(), 1 << 6);
        assert_eq!(parse_state("fin-wait-1").unwrap(), 1 << 4);
        assert_eq!(parse_state("Close_Wait").unwrap(), 1 << 8);
        assert_eq!(parse_state("estab").unwrap(), 1 << 1);
        assert_eq!(parse_state("all").unwrap(), ALL_STATES);
        assert_eq!(parse_state("listening").unwrap(), (1 << 10) | (1 << 7));
        assert_eq!(
            parse_state("bogus").unwrap_err().to_string(),
            "unknown socket state \"bogus\""
        );
    }

    #[test]
    fn defaults_are_listeners_of_both_protocols_and_families() {
        let f = LocalQuery::default().filter().unwrap();
        assert_eq!(f.protos, [Proto::Tcp, Proto::Udp]);
        assert_eq!(f.families, [Family::V4, Family::V6]);
        assert_eq!(f.tcp_states, State::Listen.bit());
        assert_eq!(f.udp_states, State::Close.bit());
        assert!(f.owners);
    }

    #[test]
    fn states_and_ports_parse() {
        let q = LocalQuery {
            tcp: true,
            ipv6: true,
            states: vec!["time_wait,close-wait".into()],
            ports: Some("http,T:22,U:53".into()),
            ..Default::default()
        };
        let f = q.filter().unwrap();
        assert_eq!(f.protos, [Proto::Tcp]);
        assert_eq!(f.families, [Family::V6]);
        assert_eq!(f.tcp_states, (1 << 6) | (1 << 8));
        assert!(f.port_ok(Proto::Tcp, 22, 0));
        assert!(f.port_ok(Proto::Tcp, 40000, 80));
        assert!(!f.port_ok(Proto::Tcp, 53, 0));
        assert!(f.port_ok(Proto::Udp, 53, 0));
        let bad = LocalQuery {
            ports: Some("22,70000".into()),
            ..Default::default()
        };
        assert_eq!(
            bad.filter().unwrap_err().to_string(),
            "invalid port \"70000\": out of range 0-65535"
        );
        let bad = LocalQuery {
            states: vec!["listen,nope".into()],
            ..Default::default()
        };
        assert_eq!(
            bad.filter().unwrap_err().to_string(),
            "unknown socket state \"nope\""
        );
    }
}
