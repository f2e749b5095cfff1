//! What a `connect()` result means: the connect scan's port-state rules.
//!
//! The kernel does the TCP handshake, so the only evidence is the result of
//! `connect()`. The table below is nmap's, read row by row:
//!
//! | connect() result               | state     | reason        |
//! |--------------------------------|-----------|---------------|
//! | connected                      | open      | syn-ack       |
//! | ECONNREFUSED (RST, or ICMP port unreachable) | closed | conn-refused |
//! | EHOSTUNREACH (ICMP host unreachable, host/admin prohibited) | filtered | host-unreach |
//! | ENETUNREACH (ICMP net unreachable, net prohibited) | filtered | net-unreach |
//! | EACCES / EPERM (a local firewall rejected the SYN) | filtered | admin-prohibited |
//! | ETIMEDOUT, or no answer before the engine's deadline | (the engine's no-reply rule: filtered, no-response) | |
//!
//! Local resource errors (EADDRNOTAVAIL when ephemeral ports run out,
//! EMFILE/ENFILE, ENOBUFS, EINTR) say nothing about the target: the probe is
//! simply tried again. A connection to ourselves (local address equal to the
//! peer address, which TCP simultaneous open allows on loopback when the
//! kernel picks the target port as the ephemeral port) proves nothing listens
//! there, since a listener's port is never handed out as an ephemeral port: it
//! is reported closed rather than open.

use portolan_model::{PortState, Reason};
use std::io;

/// What one connect attempt told about a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A conclusive answer.
    State(PortState, Reason),
    /// No answer: the engine applies its no-reply rule after retries.
    Silent,
    /// A local problem: the attempt proves nothing and should be retried.
    LocalError,
}

/// Classifies the result of a connect attempt.
pub fn classify(result: &io::Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::State(PortState::Open, Reason::SynAck),
        Err(e) => classify_errno(e.raw_os_error().unwrap_or(0), e.kind()),
    }
}

fn classify_errno(errno: i32, kind: io::ErrorKind) -> Outcome {
    match errno {
        libc::ECONNREFUSED => Outcome::State(PortState::Closed, Reason::ConnRefused),
        libc::EHOSTUNREACH | libc::EHOSTDOWN => {
            Outcome::State(PortState::Filtered, Reason::HostUnreach)
        }
        libc::ENETUNREACH | libc::ENONET => Outcome::State(PortState::Filtered, Reason::NetUnreach),
        libc::EACCES | libc::EPERM => Outcome::State(PortState::Filtered, Reason::AdminProhibited),
        libc::ENOPROTOOPT => Outcome::State(PortState::Filtered, Reason::ProtoUnreach),
        libc::ETIMEDOUT => Outcome::Silent,
        _ if kind == io::ErrorKind::TimedOut => Outcome::Silent,
        // EADDRNOTAVAIL, EMFILE, ENFILE, ENOBUFS, EINTR, EAGAIN and anything
        // unforeseen: nothing learned about the target.
        _ => Outcome::LocalError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(errno: i32) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn every_row_of_the_table() {
        use PortState::*;
        let rows: &[(io::Result<()>, Outcome)] = &[
            (Ok(()), Outcome::State(Open, Reason::SynAck)),
            (
                err(libc::ECONNREFUSED),
                Outcome::State(Closed, Reason::ConnRefused),
            ),
            (
                err(libc::EHOSTUNREACH),
                Outcome::State(Filtered, Reason::HostUnreach),
            ),
            (
                err(libc::ENETUNREACH),
                Outcome::State(Filtered, Reason::NetUnreach),
            ),
            (
                err(libc::EACCES),
                Outcome::State(Filtered, Reason::AdminProhibited),
            ),
            (
                err(libc::EPERM),
                Outcome::State(Filtered, Reason::AdminProhibited),
            ),
            (err(libc::ETIMEDOUT), Outcome::Silent),
            (err(libc::EADDRNOTAVAIL), Outcome::LocalError),
            (err(libc::EMFILE), Outcome::LocalError),
            (err(libc::ENOBUFS), Outcome::LocalError),
        ];
        for (result, want) in rows {
            assert_eq!(classify(result), *want, "{result:?}");
        }
    }
}
