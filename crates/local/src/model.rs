//! The records a listing is made of: one [`SocketEntry`] per socket, with
//! its kernel state, bind scope and owners.
//!
//! States keep the kernel's numbering (`include/net/tcp_states.h`) so the
//! in-kernel filter mask is `1 << state`, and the names follow the issue:
//! TCP states by their RFC names, UDP sockets as `UNCONN`/`ESTAB` the way
//! `ss` shows them (a UDP socket is only ever "closed" or "connected").

use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A transport protocol listed by `portolan local`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// Lower-case name: `tcp`, `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }

    /// The IP protocol number.
    pub fn ipproto(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }

    /// The port table's protocol.
    pub fn table_proto(self) -> portolan_targets::Protocol {
        match self {
            Proto::Tcp => portolan_targets::Protocol::Tcp,
            Proto::Udp => portolan_targets::Protocol::Udp,
        }
    }
}

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    V4,
    /// IPv6 (`AF_INET6`).
    V6,
}

/// A socket state, numbered as the kernel numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// `TCP_ESTABLISHED` (1); a connected UDP socket.
    Established = 1,
    /// `TCP_SYN_SENT` (2).
    SynSent = 2,
    /// `TCP_SYN_RECV` (3), also request sockets (`TCP_NEW_SYN_RECV`).
    SynRecv = 3,
    /// `TCP_FIN_WAIT1` (4).
    FinWait1 = 4,
    /// `TCP_FIN_WAIT2` (5).
    FinWait2 = 5,
    /// `TCP_TIME_WAIT` (6).
    TimeWait = 6,
    /// `TCP_CLOSE` (7); an unconnected UDP socket.
    Close = 7,
    /// `TCP_CLOSE_WAIT` (8).
    CloseWait = 8,
    /// `TCP_LAST_ACK` (9).
    LastAck = 9,
    /// `TCP_LISTEN` (10).
    Listen = 10,
    /// `TCP_CLOSING` (11).
    Closing = 11,
}

impl State {
    /// Every state, in kernel order.
    pub const ALL: [State; 11] = [
        State::Established,
        State::SynSent,
        State::SynRecv,
        State::FinWait1,
        State::FinWait2,
        State::TimeWait,
        State::Close,
        State::CloseWait,
        State::LastAck,
        State::Listen,
        State::Closing,
    ];

    /// The state for a kernel state number (12, `TCP_NEW_SYN_RECV`, is a
    /// half-open connection and reads as SYN_RECV).
    pub fn from_kernel(n: u8) -> Option<State> {
        match n {
            12 => Some(State::SynRecv),
            1..=11 => Some(State::ALL[usize::from(n - 1)]),
            _ => None,
        }
    }

    /// The bit of this state in `idiag_states`.
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The display name for a socket of `proto`: `LISTEN`, `TIME_WAIT`...,
    /// and for UDP `UNCONN` or `ESTAB` as `ss` shows them.
    pub fn name(self, proto: Proto) -> &'static str {
        match (proto, self) {
            (Proto::Udp, State::Close) => "UNCONN",
            (Proto::Udp, State::Established) => "ESTAB",
            (_, State::Established) => "ESTABLISHED",
            (_, State::SynSent) => "SYN_SENT",
            (_, State::SynRecv) => "SYN_RECV",
            (_, State::FinWait1) => "FIN_WAIT1",
            (_, State::FinWait2) => "FIN_WAIT2",
            (_, State::TimeWait) => "TIME_WAIT",
            (_, State::Close) => "CLOSE",
            (_, State::CloseWait) => "CLOSE_WAIT",
            (_, State::LastAck) => "LAST_ACK",
            (_, State::Listen) => "LISTEN",
            (_, State::Closing) => "CLOSING",
        }
    }

    /// The lower-case name used in JSON and XML (`listen`, `time_wait`,
    /// `unconn`...).
    pub fn key(self, proto: Proto) -> String {
        self.name(proto).to_ascii_lowercase()
    }
}

/// Which local addresses a socket is reachable on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BindScope {
    /// Bound to a loopback address (127.0.0.0/8, ::1): this machine only.
    Loopback,
    /// Bound to one non-loopback address.
    Address,
    /// Bound to the wildcard (0.0.0.0 or ::): every address.
    All,
}

impl BindScope {
    /// The scope of a socket bound to `ip`.
    pub fn of(ip: IpAddr) -> BindScope {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        if ip.is_unspecified() {
            BindScope::All
        } else if ip.is_loopback() {
            BindScope::Loopback
        } else {
            BindScope::Address
        }
    }

    /// Lower-case name: `loopback`, `address`, `all`.
    pub fn name(self) -> &'static str {
        match self {
            BindScope::Loopback => "loopback",
            BindScope::Address => "address",
            BindScope::All => "all",
        }
    }
}

/// A socket as the kernel reports it, before owners are attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSocket {
    /// TCP or UDP.
    pub proto: Proto,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port (unspecified, port 0, when unconnected).
    pub remote: SocketAddr,
    /// The state.
    pub state: State,
    /// Receive queue: bytes not yet read, or for a listener the
    /// connections waiting for `accept` (as `ss` shows it).
    pub recv_q: u32,
    /// Send queue: bytes not yet acknowledged, or for a listener its
    /// backlog (as `ss` shows it).
    pub send_q: u32,
    /// The socket's owner uid.
    pub uid: u32,
    /// The socket inode (0 for TIME_WAIT and request sockets).
    pub inode: u64,
    /// An IPv6 socket with `IPV6_V6ONLY`: a wildcard (`::`) listener then
    /// takes no IPv4 connections. From sock_diag; `/proc/net` does not
    /// say, so there it is false (dual-stack, Linux's default).
    pub v6only: bool,
}

/// A process owning sockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Short name (`/proc/PID/comm`).
    pub name: String,
    /// Command line, arguments joined by spaces.
    pub cmdline: String,
    /// The user name, or the uid as a number when `/etc/passwd` has none.
    pub user: String,
}

/// One socket of the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketEntry {
    /// The kernel's record.
    pub raw: RawSocket,
    /// The processes holding it (empty when unknown or hidden).
    pub owners: Vec<Arc<Process>>,
    /// The service name from portolan's port table for the local port.
    pub service: Option<&'static str>,
    /// The namespace it was listed in (`None`: the current one).
    pub netns: Option<Arc<str>>,
}

impl SocketEntry {
    /// The address family.
    pub fn family(&self) -> Family {
        if self.raw.local.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    /// The bind scope of the local address.
    pub fn scope(&self) -> BindScope {
        BindScope::of(self.raw.local.ip())
    }

    /// The state's display name.
    pub fn state_name(&self) -> &'static str {
        self.raw.state.name(self.raw.proto)
    }
}

/// The result of one listing.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The sockets, sorted by namespace, protocol, local address, remote.
    pub sockets: Vec<SocketEntry>,
    /// True when some sockets belong to other users whose processes this
    /// user may not inspect: their owners are left empty.
    pub owners_hidden: bool,
    /// Which source listed them (`netlink` or `procfs`).
    pub source: &'static str,
}
