//! The resolvers the scanner uses: mass DNS over UDP on a thread of its
//! own, or the system's resolver on a pool of threads.
//!
//! A scan finds hosts faster than a resolver asked one name at a time can
//! name them, so lookups are submitted as hosts finish and their answers
//! collected whenever the caller likes; neither side ever waits for the
//! other. Both kinds share one type so the caller does not care which it
//! has.

use std::collections::HashSet;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::config::{parse_hosts, ResolverConfig};
use crate::state::{answered_locally, Answer, Core};

/// Reverse lookups in the background (see the module docs). Every
/// submitted address comes back exactly once, with its name or `None`.
#[derive(Debug)]
pub struct ReverseResolver {
    backend: Backend,
    answers: Receiver<Answer>,
    pending: usize,
}

#[derive(Debug)]
enum Backend {
    Mass {
        commands: Sender<Command>,
        wake: UnixDatagram,
        woken: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    },
    System {
        jobs: Option<Sender<IpAddr>>,
        stop: Arc<AtomicBool>,
        /// Loopback addresses the hosts file lists (the others are
        /// answered without asking, see [`answered_locally`]).
        local: HashSet<IpAddr>,
        answers: Sender<Answer>,
    },
}

#[derive(Debug)]
enum Command {
    Lookup(IpAddr),
    Stop,
}

impl ReverseResolver {
    /// Starts the mass resolver: one connected UDP socket per server (so
    /// the kernel only hands over datagrams from that server, and reports
    /// its closed port), served by one thread.
    pub fn new(config: ResolverConfig) -> io::Result<Self> {
        let sockets: Vec<Option<UdpSocket>> =
            config.servers.iter().map(|&s| connect(s).ok()).collect();
        let mut core = Core::new(config);
        let now = Instant::now();
        for (i, s) in sockets.iter().enumerate() {
            if s.is_none() {
                core.server_failed(i, now);
            }
        }
        let (wake, wake_rx) = UnixDatagram::pair()?;
        wake.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        let (commands, commands_rx) = mpsc::channel();
        let (answers_tx, answers) = mpsc::channel();
        let woken = Arc::new(AtomicBool::new(false));
        let io = Io {
            core,
            sockets,
            wake: wake_rx,
            woken: woken.clone(),
            commands: commands_rx,
            answers: answers_tx,
        };
        let thread = std::thread::Builder::new()
            .name("portolan-dns".into())
            .spawn(move || io.run())?;
        Ok(ReverseResolver {
            backend: Backend::Mass {
                commands,
                wake,
                woken,
                thread: Some(thread),
            },
            answers,
            pending: 0,
        })
    }

    /// Starts `threads` workers (at least one) asking the system resolver
    /// (getnameinfo), for `--system-dns`. Loopback addresses that
    /// `/etc/hosts` does not list get no name without a call.
    pub fn system(threads: usize) -> io::Result<Self> {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let local = parse_hosts(&hosts)
            .into_keys()
            .filter(|&a| answered_locally(a))
            .collect();
        let (jobs, jobs_rx) = mpsc::channel::<IpAddr>();
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        let (answers_tx, answers) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        for i in 0..threads.max(1) {
            let (rx, tx, stop) = (jobs_rx.clone(), answers_tx.clone(), stop.clone());
            // Workers are not joined: a getnameinfo call cannot be cut
            // short, so on drop they finish their call and then exit.
            std::thread::Builder::new()
                .name(format!("portolan-dns-{i}"))
                .spawn(move || system_worker(&rx, &tx, &stop))?;
        }
        Ok(ReverseResolver {
            backend: Backend::System {
                jobs: Some(jobs),
                stop,
                local,
                answers: answers_tx,
            },
            answers,
            pending: 0,
        })
    }

    /// Asks for the name of `addr`; returns at once. False when the
    /// resolver has stopped, so `addr` will never be answered.
    pub fn submit(&mut self, addr: IpAddr) -> bool {
        self.pending += 1;
        let sent = match &self.backend {
            Backend::Mass {
                commands,
                wake,
                woken,
                ..
            } => {
                let sent = commands.send(Command::Lookup(addr)).is_ok();
                if !woken.swap(true, Ordering::AcqRel) {
                    // A full buffer means a wake-up is already queued.
                    let _ = wake.send(&[1]);
                }
                sent
            }
            Backend::System { answers, local, .. }
                if answered_locally(addr) && !local.contains(&addr) =>
            {
                answers.send((addr, None)).is_ok()
            }
            Backend::System { jobs, .. } => jobs.as_ref().is_some_and(|j| j.send(addr).is_ok()),
        };
        if !sent {
            // The worker is gone; nothing will ever answer.
            self.pending -= 1;
        }
        sent
    }

    /// Lookups submitted and not yet received.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// A finished lookup, if one is ready; never blocks.
    pub fn try_recv(&mut self) -> Option<Answer> {
        match self.answers.try_recv() {
            Ok(a) => {
                self.pending = self.pending.saturating_sub(1);
                Some(a)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.pending = 0;
                None
            }
        }
    }

    /// A finished lookup, waiting up to `timeout` for one. `None` when
    /// none came in time, or nothing is pending.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Answer> {
        if self.pending == 0 {
            return None;
        }
        match self.answers.recv_timeout(timeout) {
            Ok(a) => {
                self.pending = self.pending.saturating_sub(1);
                Some(a)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.pending = 0;
                None
            }
        }
    }
}

impl Drop for ReverseResolver {
    fn drop(&mut self) {
        match &mut self.backend {
            Backend::Mass {
                commands,
                wake,
                thread,
                ..
            } => {
                let _ = commands.send(Command::Stop);
                let _ = wake.send(&[1]);
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Backend::System { jobs, stop, .. } => {
                stop.store(true, Ordering::Release);
                jobs.take();
            }
        }
    }
}

/// A nonblocking UDP socket connected to `server`.
fn connect(server: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let s = UdpSocket::bind(local)?;
    // Room for a window of answers arriving together; best effort.
    let _ = nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::RcvBuf, &(1 << 20));
    s.connect(server)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

fn system_worker(jobs: &Mutex<Receiver<IpAddr>>, answers: &Sender<Answer>, stop: &AtomicBool) {
    loop {
        let addr = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(a) => a,
                Err(_) => return,
            }
        };
        if stop.load(Ordering::Acquire) {
            return;
        }
        let name = dns_lookup::lookup_addr(&addr).ok();
        if answers.send((addr, name)).is_err() {
            return;
        }
    }
}

/// The mass resolver's thread: sockets and channels around a [`Core`].
struct Io {
    core: Core,
    sockets: Vec<Option<UdpSocket>>,
    wake: UnixDatagram,
    woken: Arc<AtomicBool>,
    commands: Receiver<Command>,
    answers: Sender<Answer>,
}

/// The longest the thread sleeps with nothing due.
const IDLE: Duration = Duration::from_millis(500);

impl Io {
    fn run(mut self) {
        let mut buf = vec![0u8; 4096];
        loop {
            self.woken.store(false, Ordering::Release);
            loop {
                match self.commands.try_recv() {
                    Ok(Command::Lookup(addr)) => self.core.submit(addr),
                    Ok(Command::Stop) | Err(TryRecvError::Disconnected) => return,
                    Err(TryRecvError::Empty) => break,
                }
            }
            let now = Instant::now();
            self.core.advance(now);
            let mut failed = false;
            while let Some(t) = self.core.poll_transmit() {
                let sent = match self.sockets.get(t.server).and_then(Option::as_ref) {
                    Some(s) => match s.send(&t.payload) {
                        // A full buffer loses the datagram; the timeout retries.
                        Err(e) if e.kind() != ErrorKind::WouldBlock => false,
                        _ => true,
                    },
                    None => false,
                };
                if !sent {
                    self.core.server_failed(t.server, now);
                    failed = true;
                }
            }
            while let Some(a) = self.core.poll_answer() {
                if self.answers.send(a).is_err() {
                    return;
                }
            }
            if failed {
                // Queries of the failed server go elsewhere (or end) now.
                continue;
            }
            let wait = self
                .core
                .next_deadline()
                .map_or(IDLE, |d| d.saturating_duration_since(now).min(IDLE));
            if !self.wait(wait) {
                return;
            }
            self.receive(&mut buf);
        }
    }

    /// Sleeps until a datagram, a command or `timeout`; false if polling
    /// itself fails.
    fn wait(&mut self, timeout: Duration) -> bool {
        // Round up so a deadline 0.4 ms away is not a busy loop.
        let ms = timeout
            .as_millis()
            .saturating_add(1)
            .min(u128::from(u16::MAX));
        let ms = u16::try_from(ms).unwrap_or(u16::MAX);
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(1 + self.sockets.len());
        fds.push(PollFd::new(self.wake.as_fd(), PollFlags::POLLIN));
        for s in self.sockets.iter().flatten() {
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return false,
        }
        let mut sink = [0u8; 64];
        while self.wake.recv(&mut sink).is_ok() {}
        true
    }

    /// Reads every datagram waiting on every socket into the core.
    fn receive(&mut self, buf: &mut [u8]) {
        for (i, s) in self.sockets.iter().enumerate() {
            let Some(s) = s else { continue };
            // Bounded, so one flooding server cannot starve the others.
            for _ in 0..1024 {
                match s.recv(buf) {
                    Ok(n) => self.core.on_datagram(i, &buf[..n], Instant::now()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        // An ICMP error for this server (port or host
                        // unreachable): nobody answers DNS there.
                        self.core.server_failed(i, Instant::now());
                        break;
                    }
                }
            }
        }
    }
}
