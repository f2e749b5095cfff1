//! Banner services inside a network namespace: each port greets every
//! connection with the first words of real software (`SSH-2.0-…`,
//! `220 …`, `+OK …`, a MySQL handshake) and then keeps it open, reading
//! and ignoring whatever the client sends, as a server waiting for a
//! command does.
//!
//! It exists for service-detection benchmarks: many services that answer
//! at once, so what is measured is the scanner's own overhead and not
//! anybody's banner wait. One thread serves every listener and connection
//! with `poll`, so a thousand connections cost a thousand file descriptors
//! and no threads.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Result, TestbedError};
use crate::sys::in_netns;

/// How long a connection is kept when the client neither speaks nor
/// closes.
const IDLE_CLOSE: Duration = Duration::from_secs(15);

/// Banner services served by one background thread; stopped on drop.
#[derive(Debug)]
pub struct BannerServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Conn {
    stream: TcpStream,
    since: Instant,
}

impl BannerServer {
    /// Listens on each `(port, banner)` on every address of namespace
    /// `ns` (dual-stack `[::]`) and greets each connection with `banner`.
    pub fn start(ns: &str, services: &[(u16, Vec<u8>)]) -> Result<BannerServer> {
        let listeners = in_netns(ns, || -> Result<Vec<(TcpListener, Vec<u8>)>> {
            services
                .iter()
                .map(|(port, banner)| {
                    listen(*port)
                        .map(|l| (l, banner.clone()))
                        .map_err(|e| TestbedError::io(format!("tcp listen on {port} in {ns}"), e))
                })
                .collect()
        })??;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("tb-banner-{ns}"))
            .spawn(move || serve(listeners, &flag))
            .map_err(|e| TestbedError::io("spawning banner thread", e))?;
        Ok(BannerServer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for BannerServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn listen(port: u16) -> std::io::Result<TcpListener> {
    let s = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    s.set_only_v6(false)?;
    s.set_reuse_address(true)?;
    let addr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
    s.bind(&addr.into())?;
    s.listen(4096)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

fn serve(listeners: Vec<(TcpListener, Vec<u8>)>, stop: &AtomicBool) {
    let mut conns: Vec<Conn> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let (ready_l, ready_c): (Vec<bool>, Vec<bool>) = {
            let mut fds: Vec<PollFd<'_>> = listeners
                .iter()
                .map(|(l, _)| l.as_fd())
                .chain(conns.iter().map(|c| c.stream.as_fd()))
                .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
                .collect();
            if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) <= 0 {
                let now = Instant::now();
                conns.retain(|c| now.duration_since(c.since) < IDLE_CLOSE);
                continue;
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            let (l, c) = ready.split_at(listeners.len());
            (l.to_vec(), c.to_vec())
        };
        // Read (and drop) what clients sent; forget those that closed.
        let mut keep = Vec::with_capacity(conns.len());
        for (mut c, ready) in conns.drain(..).zip(ready_c) {
            let open = !ready
                || loop {
                    match c.stream.read(&mut buf) {
                        Ok(0) => break false,
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break true,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => break false,
                    }
                };
            if open && c.since.elapsed() < IDLE_CLOSE {
                keep.push(c);
            }
        }
        conns = keep;
        for ((l, banner), _) in listeners.iter().zip(ready_l).filter(|(_, r)| *r) {
            loop {
                match l.accept() {
                    Ok((mut stream, _)) => {
                        // A banner fits any socket buffer: one write does.
                        let _ = stream.write_all(banner);
                        if stream.set_nonblocking(true).is_ok() {
                            conns.push(Conn {
                                stream,
                                since: Instant::now(),
                            });
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
    }
}
