//! One connect attempt, in two steps.
//!
//! [`start`] opens a non-blocking socket and calls `connect()`. On loopback
//! and other local paths the kernel has usually finished the handshake (or
//! received the RST) by the time `connect()` returns `EINPROGRESS`, so the
//! result is read at once from `SO_ERROR` and the peer address, without
//! registering the socket with the reactor or spawning a task: that halves
//! the system calls per port on the fast paths. Only attempts still pending
//! go to [`finish`], which waits for writability until the deadline.
//!
//! Sockets linger for zero seconds, so closing one sends RST and leaves no
//! TIME_WAIT entry: tens of thousands of attempts a second would otherwise
//! exhaust the ephemeral ports.

use crate::outcome::{classify, Outcome};
use portolan_model::{PortState, Reason};
use socket2::{Domain, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The first step's result.
pub(crate) enum Started {
    /// The attempt is already decided.
    Done(Outcome),
    /// The handshake is under way.
    Pending(Socket),
}

/// Opens a socket and starts connecting to `dst`.
pub(crate) fn start(dst: SocketAddr, source: Option<IpAddr>) -> Started {
    let socket = match open(dst, source) {
        Ok(s) => s,
        Err(_) => return Started::Done(Outcome::LocalError),
    };
    match socket.connect(&dst.into()) {
        Ok(()) => Started::Done(connected(&socket)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => match settled(&socket) {
            Some(outcome) => Started::Done(outcome),
            None => Started::Pending(socket),
        },
        Err(e) => Started::Done(classify(&Err(e))),
    }
}

/// Waits until the pending handshake of `socket` ends or `deadline` passes.
pub(crate) async fn finish(socket: Socket, deadline: tokio::time::Instant) -> Outcome {
    let std_stream: std::net::TcpStream = socket.into();
    let Ok(stream) = tokio::net::TcpStream::from_std(std_stream) else {
        return Outcome::LocalError;
    };
    loop {
        match tokio::time::timeout_at(deadline, stream.writable()).await {
            Err(_elapsed) => return Outcome::Silent,
            Ok(Err(_)) => return Outcome::LocalError,
            Ok(Ok(())) => {
                let sock = socket2::SockRef::from(&stream);
                if let Some(outcome) = settled(&sock) {
                    return outcome;
                }
                // A spurious wake-up: wait again.
            }
        }
    }
}

fn open(dst: SocketAddr, source: Option<IpAddr>) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(dst),
        Type::STREAM.nonblocking().cloexec(),
        Some(socket2::Protocol::TCP),
    )?;
    if let Some(src) = source {
        socket.bind(&SocketAddr::new(src, 0).into())?;
    }
    Ok(socket)
}

/// The outcome if the handshake has ended, `None` while it goes on.
fn settled(socket: &Socket) -> Option<Outcome> {
    match socket.take_error() {
        Ok(Some(err)) => Some(classify(&Err(err))),
        Err(_) => Some(Outcome::LocalError),
        Ok(None) => match socket.peer_addr() {
            Ok(_) => Some(connected(socket)),
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => None,
            Err(_) => Some(Outcome::LocalError),
        },
    }
}

/// A completed handshake: open, unless we connected to ourselves. The
/// socket is set to linger zero seconds, so closing it sends RST (only an
/// established connection needs this; refused attempts leave nothing).
fn connected(socket: &Socket) -> Outcome {
    // Zero linger never blocks on close: the kernel sends RST at once.
    let _ = socket.set_linger(Some(Duration::ZERO));
    let local = socket.local_addr().ok().and_then(|a| a.as_socket());
    let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
    if local.is_some() && local == peer {
        Outcome::State(PortState::Closed, Reason::ConnRefused)
    } else {
        Outcome::State(PortState::Open, Reason::SynAck)
    }
}
