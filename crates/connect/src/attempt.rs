//! One connect attempt.

use crate::outcome::{classify, Outcome};
use portolan_model::{PortState, Reason};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpSocket;

/// Connects to `dst` until `deadline`, then closes with a reset.
///
/// The socket lingers for zero seconds, so closing it sends RST and leaves
/// no TIME_WAIT entry behind: tens of thousands of attempts a second would
/// otherwise exhaust the ephemeral ports.
pub(crate) async fn attempt(
    dst: SocketAddr,
    source: Option<IpAddr>,
    deadline: tokio::time::Instant,
) -> Outcome {
    let socket = match dst {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    };
    let Ok(socket) = socket else {
        return Outcome::LocalError;
    };
    // Zero linger never blocks on close: the kernel sends RST at once.
    if socket2::SockRef::from(&socket)
        .set_linger(Some(Duration::ZERO))
        .is_err()
    {
        return Outcome::LocalError;
    }
    if let Some(src) = source {
        if socket.bind(SocketAddr::new(src, 0)).is_err() {
            return Outcome::LocalError;
        }
    }
    match tokio::time::timeout_at(deadline, socket.connect(dst)).await {
        Err(_elapsed) => Outcome::Silent,
        Ok(Ok(stream)) => {
            let self_connect = matches!(
                (stream.local_addr(), stream.peer_addr()),
                (Ok(l), Ok(p)) if l == p
            );
            if self_connect {
                Outcome::State(PortState::Closed, Reason::ConnRefused)
            } else {
                Outcome::State(PortState::Open, Reason::SynAck)
            }
        }
        Ok(Err(e)) => classify(&Err(e)),
    }
}
