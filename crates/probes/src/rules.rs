//! Port-state rule tables: what came back, and the state it proves.
//!
//! Every technique states its rules as one table of [`Rule`] rows, each a
//! [`Response`] and the [`PortState`] it means, in the order nmap's
//! documentation lists them ("TCP SYN/ACK response → open"). Classifying a
//! reply is finding the first row whose response matches what was
//! [`Observed`]; a reply that matches no row proves nothing and is
//! ignored. The reason reported is the observed reply's own (`syn-ack`,
//! `reset`, the ICMP code's name, `no-response`).

use portolan_model::{PortState, Reason};

/// A kind of reply, as a rule table names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// TCP SYN/ACK.
    SynAck,
    /// A bare TCP SYN (split handshake).
    Syn,
    /// TCP RST, any window.
    Rst,
    /// TCP RST with a non-zero window (window scan).
    RstNonZeroWindow,
    /// TCP RST with a zero window (window scan).
    RstZeroWindow,
    /// A UDP datagram from the probed port.
    Udp,
    /// SCTP INIT ACK.
    InitAck,
    /// SCTP ABORT.
    Abort,
    /// ICMP port unreachable sent by the probed host itself (for UDP
    /// tables, where it means closed).
    IcmpPortUnreachable,
    /// ICMP unreachable with a code of [`crate::icmp::unreach_reason`]'s
    /// set: ICMPv4 type 3 code 0/1/2/3/9/10/13, ICMPv6 type 1 code 0-6.
    IcmpUnreachable,
    /// Nothing, after every retransmission.
    NoResponse,
}

/// What actually came back (already validated as a reply to our probe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// TCP SYN/ACK.
    SynAck,
    /// TCP SYN without ACK.
    Syn,
    /// TCP RST with its window.
    Rst {
        /// The RST's window field.
        window: u16,
    },
    /// An ICMP unreachable, with the reason its code names.
    IcmpUnreachable(Reason),
    /// A UDP datagram.
    Udp,
    /// An SCTP INIT ACK.
    InitAck,
    /// An SCTP ABORT.
    Abort,
    /// An ICMP port unreachable about a UDP probe sent by a host other
    /// than the probed one (a firewall rejecting on its behalf): an
    /// unreachable, but no proof that the port is closed.
    ForeignPortUnreachable,
    /// Nothing at all.
    NoResponse,
}

impl Observed {
    /// The reason nmap prints for this reply.
    pub fn reason(self) -> Reason {
        match self {
            Observed::SynAck => Reason::SynAck,
            Observed::Syn => Reason::Syn,
            Observed::Rst { .. } => Reason::Reset,
            Observed::IcmpUnreachable(r) => r,
            Observed::Udp => Reason::UdpResponse,
            Observed::InitAck => Reason::InitAck,
            Observed::Abort => Reason::Abort,
            Observed::ForeignPortUnreachable => Reason::PortUnreach,
            Observed::NoResponse => Reason::NoResponse,
        }
    }
}

impl Response {
    /// Whether an observed reply is of this kind.
    pub fn matches(self, o: Observed) -> bool {
        match (self, o) {
            (Response::SynAck, Observed::SynAck) => true,
            (Response::Syn, Observed::Syn) => true,
            (Response::Rst, Observed::Rst { .. }) => true,
            (Response::RstNonZeroWindow, Observed::Rst { window }) => window != 0,
            (Response::RstZeroWindow, Observed::Rst { window }) => window == 0,
            (Response::IcmpPortUnreachable, Observed::IcmpUnreachable(r)) => {
                r == Reason::PortUnreach
            }
            (Response::IcmpUnreachable, Observed::IcmpUnreachable(_)) => true,
            (Response::IcmpUnreachable, Observed::ForeignPortUnreachable) => true,
            (Response::Udp, Observed::Udp) => true,
            (Response::InitAck, Observed::InitAck) => true,
            (Response::Abort, Observed::Abort) => true,
            (Response::NoResponse, Observed::NoResponse) => true,
            _ => false,
        }
    }
}

/// One row of a rule table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The reply.
    pub response: Response,
    /// The state it proves.
    pub state: PortState,
}

/// A row, briefly: `rule(Response::SynAck, PortState::Open)`.
pub const fn rule(response: Response, state: PortState) -> Rule {
    Rule { response, state }
}

/// The state and reason an observed reply proves under `table`, or `None`
/// if no row matches (the reply is then ignored).
pub fn lookup(table: &[Rule], observed: Observed) -> Option<(PortState, Reason)> {
    table
        .iter()
        .find(|r| r.response.matches(observed))
        .map(|r| (r.state, observed.reason()))
}

/// The state of a port that never answered under `table`.
pub fn no_reply(table: &[Rule]) -> (PortState, Reason) {
    lookup(table, Observed::NoResponse).unwrap_or((PortState::Filtered, Reason::NoResponse))
}
