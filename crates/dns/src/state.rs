//! The mass resolver's logic, with no sockets and no clock of its own.
//!
//! Like quinn's protocol crate, [`Core`] takes lookups, datagrams, send
//! failures and the current time, and hands out datagrams to send and
//! answers. That keeps retransmission, server rotation and giving up
//! testable in memory and deterministic; [`crate::ReverseResolver`] is the
//! thin thread that moves bytes between it and the sockets.
//!
//! Every submitted address gets exactly one answer: a name, or `None`
//! after NXDOMAIN, a failure, the last timeout, or when no server is left.
//! A server whose send fails is dropped at once; one that never answered
//! and has let [`SILENT_LIMIT`] queries time out is dropped too, so an
//! unreachable server costs about one timeout, not one per address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use rand::Rng;

use crate::config::ResolverConfig;
use crate::wire::{self, Reply};

/// Timeouts after which a server that never answered is given up on.
pub const SILENT_LIMIT: u32 = 3;

/// Queries in flight at first, and the least after cuts: a burst of the
/// full [`ResolverConfig::max_outstanding`] can overflow a server's
/// receive buffer, so the window grows by one per answer, TCP-style, and
/// halves (at most once per first timeout) when queries go unanswered.
pub const INITIAL_WINDOW: usize = 32;

/// A lookup's outcome: the address and its name, if one was found.
pub type Answer = (IpAddr, Option<String>);

/// A datagram to send: the index of the server (in the configuration's
/// order) and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Index into [`ResolverConfig::servers`].
    pub server: usize,
    /// The query.
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
struct Server {
    dead: bool,
    answered: bool,
    silent_timeouts: u32,
}

#[derive(Debug)]
struct Query {
    addr: IpAddr,
    qname: Vec<u8>,
    /// Sends so far.
    tries: usize,
    /// Server of the latest send.
    server: usize,
    /// Servers sent to, as a bit set (servers beyond 64 share bit 63).
    sent_to: u64,
    deadline: Instant,
}

/// The resolver's state machine (see the module docs).
#[derive(Debug)]
pub struct Core {
    cfg: ResolverConfig,
    servers: Vec<Server>,
    next_server: usize,
    /// Queries allowed in flight now (see [`INITIAL_WINDOW`]).
    window: usize,
    /// When the window was last cut.
    last_cut: Option<Instant>,
    queue: VecDeque<IpAddr>,
    inflight: HashMap<u16, Query>,
    transmits: VecDeque<Transmit>,
    answers: VecDeque<Answer>,
}

/// Whether `addr`'s name is a local matter never asked of a name server:
/// loopback addresses, whose reverse zones RFC 6303 has every resolver
/// serve itself. Only the hosts file names them, so scanning the local
/// machine never sends its addresses to the network.
pub fn answered_locally(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

fn bit(server: usize) -> u64 {
    1u64 << server.min(63)
}

impl Core {
    /// A resolver with `cfg`'s servers, hosts and timing. At least one try
    /// and one query in flight are always allowed.
    pub fn new(mut cfg: ResolverConfig) -> Self {
        if cfg.timeouts.is_empty() {
            cfg.timeouts = ResolverConfig::default().timeouts;
        }
        cfg.max_outstanding = cfg.max_outstanding.clamp(1, 4096);
        let servers = vec![Server::default(); cfg.servers.len()];
        let window = INITIAL_WINDOW.min(cfg.max_outstanding);
        Core {
            cfg,
            servers,
            next_server: 0,
            window,
            last_cut: None,
            queue: VecDeque::new(),
            inflight: HashMap::new(),
            transmits: VecDeque::new(),
            answers: VecDeque::new(),
        }
    }

    /// Asks for the name of `addr`. Addresses of the hosts file are
    /// answered at once, and so are loopback addresses (see
    /// [`answered_locally`]); the rest are queued for [`Core::advance`].
    pub fn submit(&mut self, addr: IpAddr) {
        if let Some(name) = self.cfg.hosts.get(&addr) {
            self.answers.push_back((addr, Some(name.clone())));
        } else if answered_locally(addr) {
            self.answers.push_back((addr, None));
        } else {
            self.queue.push_back(addr);
        }
    }

    /// Lookups submitted and not yet answered.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.inflight.len()
    }

    /// Marks server `server` unusable (its send failed, or its port is
    /// closed). Queries last sent to it are retried elsewhere at once.
    pub fn server_failed(&mut self, server: usize, now: Instant) {
        let Some(s) = self.servers.get_mut(server) else {
            return;
        };
        s.dead = true;
        for q in self.inflight.values_mut() {
            if q.server == server {
                q.deadline = now;
            }
        }
    }

    /// A datagram from server `server`. Anything that is not a response
    /// to a query in flight that was sent to that server is ignored.
    pub fn on_datagram(&mut self, server: usize, msg: &[u8], now: Instant) {
        let Some(id) = wire::message_id(msg) else {
            return;
        };
        let Some(q) = self.inflight.get(&id) else {
            return;
        };
        if q.sent_to & bit(server) == 0 {
            return;
        }
        let Ok(reply) = wire::decode_response(msg, &q.qname) else {
            return;
        };
        if let Some(s) = self.servers.get_mut(server) {
            s.answered = true;
            s.silent_timeouts = 0;
        }
        self.window = (self.window + 1).min(self.cfg.max_outstanding);
        match reply {
            Reply::Name(name) => self.answer(id, Some(name)),
            Reply::NoName => self.answer(id, None),
            Reply::Failure(_) => {
                // Another server may know; otherwise there is no name.
                let retry = self.inflight.get(&id).is_some_and(|q| {
                    q.tries < self.cfg.timeouts.len() && self.has_untried(q.sent_to)
                });
                match self.inflight.get_mut(&id) {
                    Some(q) if retry => q.deadline = now,
                    _ => self.answer(id, None),
                }
            }
        }
    }

    /// Handles timeouts and starts queued lookups, as of `now`; then
    /// [`Core::poll_transmit`] and [`Core::poll_answer`] hold the results.
    pub fn advance(&mut self, now: Instant) {
        let expired: Vec<u16> = self
            .inflight
            .iter()
            .filter(|(_, q)| q.deadline <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            self.expire(id, now);
        }
        if self.servers.iter().all(|s| s.dead) {
            // Nothing can be asked: every lookup has no name, now.
            let ids: Vec<u16> = self.inflight.keys().copied().collect();
            for id in ids {
                self.answer(id, None);
            }
            while let Some(addr) = self.queue.pop_front() {
                self.answers.push_back((addr, None));
            }
            return;
        }
        while self.inflight.len() < self.window {
            let Some(addr) = self.queue.pop_front() else {
                break;
            };
            self.start(addr, now);
        }
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next finished lookup, if any.
    pub fn poll_answer(&mut self) -> Option<Answer> {
        self.answers.pop_front()
    }

    /// When [`Core::advance`] next has work to do for timeouts.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.inflight.values().map(|q| q.deadline).min()
    }

    fn answer(&mut self, id: u16, name: Option<String>) {
        if let Some(q) = self.inflight.remove(&id) {
            self.answers.push_back((q.addr, name));
        }
    }

    /// A query's wait ran out (or its server died): try again, on the
    /// next server, or give up.
    fn expire(&mut self, id: u16, now: Instant) {
        let Some(q) = self.inflight.get(&id) else {
            return;
        };
        let (last, sent_to, tries) = (q.server, q.sent_to, q.tries);
        if let Some(s) = self.servers.get_mut(last) {
            if !s.dead {
                s.silent_timeouts += 1;
                if !s.answered && s.silent_timeouts >= SILENT_LIMIT {
                    s.dead = true;
                }
            }
        }
        let cut_due = self
            .last_cut
            .is_none_or(|t| now.saturating_duration_since(t) >= self.cfg.timeouts[0]);
        if cut_due && self.servers.get(last).is_some_and(|s| !s.dead) {
            self.window = (self.window / 2).max(INITIAL_WINDOW.min(self.cfg.max_outstanding));
            self.last_cut = Some(now);
        }
        if tries >= self.cfg.timeouts.len() {
            self.answer(id, None);
            return;
        }
        let Some(server) = self.pick_server(sent_to) else {
            self.answer(id, None);
            return;
        };
        self.send(id, server, now);
    }

    fn start(&mut self, addr: IpAddr, now: Instant) {
        let Some(server) = self.pick_server(0) else {
            self.answers.push_back((addr, None));
            return;
        };
        let mut rng = rand::thread_rng();
        let id = loop {
            let id: u16 = rng.gen();
            if !self.inflight.contains_key(&id) {
                break id;
            }
        };
        let q = Query {
            addr,
            qname: wire::reverse_name(addr),
            tries: 0,
            server,
            sent_to: 0,
            deadline: now,
        };
        self.inflight.insert(id, q);
        self.send(id, server, now);
    }

    fn send(&mut self, id: u16, server: usize, now: Instant) {
        let Some(q) = self.inflight.get_mut(&id) else {
            return;
        };
        let wait = self.cfg.timeouts[q.tries.min(self.cfg.timeouts.len() - 1)];
        q.tries += 1;
        q.server = server;
        q.sent_to |= bit(server);
        q.deadline = now + wait;
        self.transmits.push_back(Transmit {
            server,
            payload: wire::encode_query(id, &q.qname),
        });
    }

    /// Whether a live server has not been sent the query yet.
    fn has_untried(&self, sent_to: u64) -> bool {
        (0..self.servers.len()).any(|i| !self.servers[i].dead && sent_to & bit(i) == 0)
    }

    /// The next live server in rotation, preferring one not in `avoid`.
    fn pick_server(&mut self, avoid: u64) -> Option<usize> {
        let n = self.servers.len();
        let live = |i: usize| !self.servers[i].dead;
        let order: Vec<usize> = (0..n).map(|k| (self.next_server + k) % n).collect();
        let pick = order
            .iter()
            .copied()
            .find(|&i| live(i) && avoid & bit(i) == 0)
            .or_else(|| order.iter().copied().find(|&i| live(i)))?;
        self.next_server = (pick + 1) % n;
        Some(pick)
    }
}

#[cfg(test)]
mod tests;
