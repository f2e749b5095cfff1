//! TCP listeners and UDP responders living inside a network namespace.
//!
//! The sockets are created by a thread that has joined the namespace (see
//! [`crate::in_netns`]); a socket keeps the namespace it was created in, so
//! one ordinary background thread then serves all of them. It polls with a
//! short timeout and checks a stop flag, which is how `Drop` ends it.

use std::io::ErrorKind;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
    SockaddrIn6,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Result, TestbedError};
use crate::sys::in_netns;

/// Sockets served by one background thread; stopped and closed on drop.
#[derive(Debug)]
pub struct Listeners {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

enum Served {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

fn bind_dual(ty: Type, proto: Protocol, port: u16) -> std::io::Result<Socket> {
    let s = Socket::new(Domain::IPV6, ty, Some(proto))?;
    s.set_only_v6(false)?;
    s.set_reuse_address(true)?;
    let addr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
    s.bind(&addr.into())?;
    s.set_nonblocking(true)?;
    Ok(s)
}

impl Listeners {
    /// Binds dual-stack (`[::]`, IPv4-mapped too) TCP listeners and UDP echo
    /// responders on the given ports inside namespace `ns` and serves them.
    ///
    /// TCP connections are accepted and closed at once; UDP datagrams are sent
    /// back unchanged to their source.
    pub fn start(ns: &str, tcp: &[u16], udp: &[u16]) -> Result<Listeners> {
        let sockets = in_netns(ns, || -> Result<Vec<Served>> {
            let mut out = Vec::new();
            for &port in tcp {
                let s = bind_dual(Type::STREAM, Protocol::TCP, port)
                    .and_then(|s| s.listen(4096).map(|()| s))
                    .map_err(|e| {
                        TestbedError::io(format!("tcp listen on port {port} in {ns}"), e)
                    })?;
                out.push(Served::Tcp(s.into()));
            }
            for &port in udp {
                let s = bind_dual(Type::DGRAM, Protocol::UDP, port)
                    .map_err(|e| TestbedError::io(format!("udp bind on port {port} in {ns}"), e))?;
                // Learn each datagram's destination, to answer from it.
                setsockopt(&s, sockopt::Ipv6RecvPacketInfo, &true).map_err(|e| {
                    TestbedError::io(format!("IPV6_RECVPKTINFO on port {port} in {ns}"), e.into())
                })?;
                out.push(Served::Udp(s.into()));
            }
            Ok(out)
        })??;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("tb-listen-{ns}"))
            .spawn(move || serve(sockets, &flag))
            .map_err(|e| TestbedError::io("spawning listener thread", e))?;
        Ok(Listeners {
            stop,
            thread: Some(thread),
        })
    }
}

fn serve(sockets: Vec<Served>, stop: &AtomicBool) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd<'_>> = sockets
                .iter()
                .map(|s| {
                    let fd = match s {
                        Served::Tcp(l) => l.as_fd(),
                        Served::Udp(u) => u.as_fd(),
                    };
                    PollFd::new(fd, PollFlags::POLLIN)
                })
                .collect();
            if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) <= 0 {
                continue;
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        for (s, _) in sockets.iter().zip(ready).filter(|(_, r)| *r) {
            match s {
                Served::Tcp(l) => loop {
                    match l.accept() {
                        Ok((stream, _)) => drop(stream),
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                },
                Served::Udp(u) => while echo_once(u, &mut buf) {},
            }
        }
    }
}

/// Echoes one datagram back from the address it was sent to, as a real
/// host does: a wildcard socket would answer from the interface's primary
/// address, which a scanner rightly refuses when the datagram went to
/// another local address (the /24 of `udp-24` is local through a route).
/// Returns false when nothing is waiting.
fn echo_once(u: &UdpSocket, buf: &mut [u8]) -> bool {
    let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo);
    let (n, from, info) = {
        let mut iov = [std::io::IoSliceMut::new(buf)];
        let Ok(msg) = recvmsg::<SockaddrIn6>(
            u.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_DONTWAIT,
        ) else {
            return false;
        };
        let info = msg.cmsgs().ok().and_then(|mut c| {
            c.find_map(|m| match m {
                ControlMessageOwned::Ipv6PacketInfo(i) => Some(i),
                _ => None,
            })
        });
        (msg.bytes, msg.address, info)
    };
    let Some(from) = from else { return true };
    let iov = [std::io::IoSlice::new(&buf[..n])];
    let sent = match &info {
        Some(i) => sendmsg(
            u.as_raw_fd(),
            &iov,
            &[ControlMessage::Ipv6PacketInfo(i)],
            MsgFlags::empty(),
            Some(&from),
        ),
        None => sendmsg(u.as_raw_fd(), &iov, &[], MsgFlags::empty(), Some(&from)),
    };
    let _ = sent;
    true
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
