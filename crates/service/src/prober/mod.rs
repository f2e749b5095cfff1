//! The prober: talks to open ports until a rule names what listens.
//!
//! Each service is one tokio task; a semaphore bounds how many talk at
//! once, so thousands of services of hundreds of hosts are probed together
//! and the slowest (silent) ones cost one wait each, not one wait in a
//! queue. Per service the order is nmap's: the NULL probe (connect and
//! listen for a banner), then probes whose port hints fit, then the rest by
//! rarity up to the version intensity. Unlike nmap, probes do not wait for
//! each other: each has its own connection and a few are in flight at
//! once (hinted ones with the NULL probe, the rest after a short silence),
//! because serial waits for silent services are where nmap's `-sV` time
//! goes. A reply is matched as it arrives, so a service that answers at
//! once is identified at once instead of after the probe's full wait. TLS
//! is detected from a reply (a TLS record), from a rule naming `ssl`, from
//! a TLS-port hint, or from a service that silently closes on plain text,
//! and then all probes are run again inside the tunnel.
//!
//! `--max-rate` paces new connections and UDP probes across all services,
//! and is one budget with the scan's probes: the prober draws from the
//! run's [`SharedRateLimiter`] (see [`portolan_engine::limiter`]), the
//! bucket the raw driver's engine draws from. It uses the engine's type
//! directly rather than a trait of its own: `portolan-engine` is light
//! (the model and a hash function, no I/O, no async runtime), and one
//! concrete type leaves nothing to adapt in the binary. Waiting tasks
//! queue for the limiter one at a time, so one task wakes per token
//! however many services wait.

use crate::db::{Database, Probe, Transport, NULL_PROBE};
use crate::matcher::{Identity, Subject, MAX_SUBJECT};
use crate::tls::{looks_like_tls, CertInfo, Tls};
use portolan_engine::{RateLimiter, SharedRateLimiter};
use portolan_model::{Protocol, ServiceInfo, ServiceMethod};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::time::{timeout, Instant};

mod tcp;
mod udp;

/// Silence after some reply data that ends the reply: most services send
/// one burst, and waiting a probe's full wait after it would make every
/// unmatched reply cost seconds.
const IDLE_GAP: Duration = Duration::from_millis(400);

/// Silence on the NULL probe's connection after which the other probes go
/// out too (on their own connections; the NULL probe keeps listening).
/// Banners come within a round trip of connecting; waiting the NULL
/// probe's full wait before asking a silent service anything is what made
/// service detection slow.
const EARLY_PROBES: Duration = Duration::from_millis(300);

/// Confidence of a hard match.
pub const CONF_HARD: u8 = 10;
/// Confidence of a soft match (service name only).
pub const CONF_SOFT: u8 = 8;

/// An open port to identify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Host address.
    pub addr: IpAddr,
    /// Port number.
    pub port: u16,
    /// `Tcp` or `Udp` (SCTP ports are not probed).
    pub protocol: Protocol,
}

/// Settings of a probing run.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// `--version-intensity` 0-9: probes of rarity above it are skipped
    /// unless their port hints fit (`--version-light` = 2, `--version-all`
    /// = 9).
    pub intensity: u8,
    /// Services probed at once (from the scan's parallelism settings).
    pub parallelism: usize,
    /// `--allports`: also probe 9100-9107/tcp, which printers print.
    pub all_ports: bool,
    /// Time allowed for one TCP connect or TLS handshake.
    pub connect_timeout: Duration,
    /// Time allowed for one service in all.
    pub service_timeout: Duration,
    /// Whether to try TLS at all.
    pub tls: bool,
    /// Probes sent at once to one service, each on its own connection
    /// (1 = one after another, as nmap does). A few in flight keep a silent
    /// service from costing the sum of all probe waits.
    pub probes_in_flight: usize,
    /// New TCP connections plus UDP probes per second, all services
    /// together (the scan's `--max-rate`); `None` for no limit.
    pub max_rate: Option<f64>,
    /// The run's `--max-rate` budget, shared with the scan; when set it
    /// replaces `max_rate`.
    pub rate_limiter: Option<SharedRateLimiter>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            intensity: 7,
            parallelism: 256,
            all_ports: false,
            connect_timeout: Duration::from_secs(3),
            service_timeout: Duration::from_secs(30),
            tls: true,
            probes_in_flight: 8,
            max_rate: None,
            rate_limiter: None,
        }
    }
}

/// One step of probing, for `--version-trace`.
#[derive(Debug)]
pub enum TraceEvent<'a> {
    /// A probe was sent (the NULL probe sends nothing).
    Sent {
        /// Service.
        target: &'a Target,
        /// Probe name.
        probe: &'a str,
        /// Whether inside TLS.
        tunnel: bool,
        /// Payload.
        bytes: &'a [u8],
    },
    /// A probe's reply was read (possibly empty).
    Received {
        /// Service.
        target: &'a Target,
        /// Probe name.
        probe: &'a str,
        /// Whether inside TLS.
        tunnel: bool,
        /// Reply.
        bytes: &'a [u8],
    },
    /// A rule matched.
    Matched {
        /// Service.
        target: &'a Target,
        /// Probe name.
        probe: &'a str,
        /// What the rule found.
        identity: &'a Identity,
    },
    /// A TLS handshake finished or failed.
    Tls {
        /// Service.
        target: &'a Target,
        /// Whether it succeeded.
        ok: bool,
    },
    /// Connecting failed.
    ConnectFailed {
        /// Service.
        target: &'a Target,
        /// The error.
        error: String,
    },
}

/// Receives trace events; it must not block.
pub type TraceFn = Arc<dyn Fn(&TraceEvent<'_>) + Send + Sync>;

/// What was learned of one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The service.
    pub target: Target,
    /// Identification (method `Probed`), or `None` when nothing matched:
    /// then the caller keeps its port-table guess.
    pub service: Option<ServiceInfo>,
    /// The TLS certificate, when the service spoke TLS.
    pub certificate: Option<CertInfo>,
    /// The first non-empty reply, for reporting unknown services.
    pub banner: Option<Vec<u8>>,
    /// Whether the service sent anything at all: for UDP, proof that the
    /// port is open (nmap's reason `udp-response`).
    pub answered: bool,
}

/// Identifies services with a probe database.
#[derive(Clone)]
pub struct Prober {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    opts: ProbeOptions,
    trace: Option<TraceFn>,
    tls: Option<Tls>,
    /// Services probed at once, shared by every call on this prober.
    services: Arc<Semaphore>,
    pacer: Option<Arc<Pacer>>,
}

/// Paces new connections and UDP probes by a rate limiter.
struct Pacer {
    limiter: SharedRateLimiter,
    /// Waiting tasks ask the limiter one at a time, so one wakes per
    /// token (the mutex queues them fairly).
    turn: tokio::sync::Mutex<()>,
}

impl Pacer {
    /// The prober's own limiter: `rate` per second, no burst (one
    /// connection at once, then one every `1 / rate` seconds).
    fn new(rate: f64) -> Option<Self> {
        (rate.is_finite() && rate > 0.0).then(|| {
            Self::shared(SharedRateLimiter::new(RateLimiter::new(
                rate,
                1.0,
                std::time::Instant::now(),
            )))
        })
    }

    fn shared(limiter: SharedRateLimiter) -> Self {
        Pacer {
            limiter,
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// Waits for a token and takes it.
    async fn wait(&self) {
        let _turn = self.turn.lock().await;
        loop {
            let now = std::time::Instant::now();
            if self.limiter.try_take(now) {
                return;
            }
            let at = self
                .limiter
                .next_ready()
                .unwrap_or(now + Duration::from_millis(10));
            tokio::time::sleep_until(Instant::from_std(at)).await;
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Conn = Box<dyn Io>;

/// Per-service progress.
#[derive(Default)]
struct State {
    soft: Option<Identity>,
    banner: Option<Vec<u8>>,
    cert: Option<CertInfo>,
    tunnel: bool,
    /// The probe whose reply showed TLS: inside the tunnel it goes first.
    tls_probe: Option<usize>,
    silent_closes: usize,
    replies: usize,
}

/// Probes of one service in flight, each on its own connection.
struct Window {
    /// Probe indices in sending order.
    order: Vec<usize>,
    /// The next of `order` to start.
    next: usize,
    /// Most in flight at once.
    limit: usize,
    set: tokio::task::JoinSet<(usize, Vec<u8>, bool, bool)>,
    /// The probe of each task started, to stop those a soft match makes
    /// useless.
    running: Vec<(usize, tokio::task::AbortHandle)>,
    /// Probes sent a second time (see `settle`).
    retried: Vec<usize>,
    /// Attempts in a row that got no connection.
    failures: usize,
}

enum Step {
    Hard(Box<Identity>),
    Tls(Option<Conn>),
    Done,
}

impl Prober {
    /// A prober over `db` with `opts`.
    pub fn new(db: Arc<Database>, opts: ProbeOptions) -> Self {
        let tls = if opts.tls { Tls::new() } else { None };
        let services = Arc::new(Semaphore::new(opts.parallelism.max(1)));
        let pacer = match &opts.rate_limiter {
            Some(l) => Some(Pacer::shared(l.clone())),
            None => opts.max_rate.and_then(Pacer::new),
        }
        .map(Arc::new);
        Prober {
            inner: Arc::new(Inner {
                db,
                opts,
                trace: None,
                tls,
                services,
                pacer,
            }),
        }
    }

    /// The same prober reporting every step to `trace`.
    pub fn with_trace(self, trace: TraceFn) -> Self {
        let i = &self.inner;
        Prober {
            inner: Arc::new(Inner {
                db: i.db.clone(),
                opts: i.opts.clone(),
                trace: Some(trace),
                tls: i.tls.clone(),
                services: i.services.clone(),
                pacer: i.pacer.clone(),
            }),
        }
    }

    /// Identifies all `targets` concurrently (at most `parallelism` at
    /// once); results are in the order of `targets`.
    pub async fn detect(&self, targets: &[Target]) -> Vec<Detection> {
        let mut set = tokio::task::JoinSet::new();
        for (i, &t) in targets.iter().enumerate() {
            let me = self.clone();
            set.spawn(async move { (i, me.detect_one(t).await) });
        }
        let mut out: Vec<Option<Detection>> = vec![None; targets.len()];
        while let Some(r) = set.join_next().await {
            if let Ok((i, d)) = r {
                out[i] = Some(d);
            }
        }
        out.into_iter()
            .zip(targets)
            .map(|(d, &t)| {
                d.unwrap_or(Detection {
                    target: t,
                    service: None,
                    certificate: None,
                    banner: None,
                    answered: false,
                })
            })
            .collect()
    }

    /// Identifies one service, waiting for a turn when `parallelism`
    /// services of this prober are already being probed.
    pub async fn detect_one(&self, target: Target) -> Detection {
        let _permit = self.inner.services.clone().acquire_owned().await.ok();
        self.probe_service(target).await
    }

    async fn probe_service(&self, target: Target) -> Detection {
        let deadline = Instant::now() + self.inner.opts.service_timeout;
        let mut st = State::default();
        let hard = match target.protocol {
            Protocol::Tcp if self.inner.opts.all_ports || !(9100..=9107).contains(&target.port) => {
                self.tcp(&target, deadline, &mut st).await
            }
            Protocol::Udp => self.udp(&target, deadline, &mut st).await,
            _ => None,
        };
        let id = hard.or_else(|| st.soft.take());
        let tunnel = st.tunnel.then(|| "ssl".to_string());
        let mut service = match id {
            Some(id) => Some(to_service(id, tunnel)),
            None if st.tunnel => Some(ServiceInfo {
                conf: CONF_SOFT,
                tunnel,
                method: ServiceMethod::Probed,
                ..ServiceInfo::from_table("unknown")
            }),
            None if st.replies == 0 && st.silent_closes > 0 => Some(ServiceInfo {
                conf: CONF_SOFT,
                method: ServiceMethod::Probed,
                ..ServiceInfo::from_table("tcpwrapped")
            }),
            None => None,
        };
        if let (Some(s), Some(c)) = (service.as_mut(), st.cert.as_ref()) {
            s.certificate = Some(Box::new(c.clone()));
        }
        Detection {
            target,
            service,
            certificate: st.cert,
            banner: st.banner,
            answered: st.replies > 0,
        }
    }

    fn trace(&self, ev: TraceEvent<'_>) {
        if let Some(f) = &self.inner.trace {
            f(&ev);
        }
    }

    fn hinted(&self, p: &Probe, port: u16, tunnel: bool) -> bool {
        p.ports.contains(port) || (tunnel && p.tls_ports.contains(port))
    }

    /// Probes in the order to send them for `port`.
    fn order(&self, port: u16, transport: Transport, tunnel: bool) -> Vec<usize> {
        let intensity = self.inner.opts.intensity;
        let mut v: Vec<(bool, usize, &Probe)> = self
            .inner
            .db
            .probes()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.transport == transport && p.name != NULL_PROBE)
            .map(|(i, p)| {
                let hinted = self.hinted(p, port, tunnel);
                (hinted, i, p)
            })
            .filter(|(h, _, p)| *h || p.rarity <= intensity)
            .collect();
        v.sort_by_key(|(h, _, p)| (!*h, p.rarity));
        v.into_iter().map(|(_, i, _)| i).collect()
    }

    /// The best rule result for `reply` to `probe`: its own rules, then its
    /// fallbacks', then (TCP) the NULL probe's; the first hard match wins,
    /// else the first soft one.
    fn identify(&self, probe: &Probe, reply: &[u8]) -> Option<Identity> {
        let db = &self.inner.db;
        let subject = Subject::new(reply);
        let mut chain: Vec<&Probe> = vec![probe];
        chain.extend(probe.fallback.iter().filter_map(|f| db.probe(f)));
        if probe.transport == Transport::Tcp && probe.name != NULL_PROBE {
            chain.extend(db.probe(NULL_PROBE));
        }
        let mut soft = None;
        for p in chain {
            for rule in &p.rules {
                if soft.is_some() && rule.soft {
                    continue;
                }
                match rule.apply(&subject) {
                    Ok(Some(id)) if !id.soft => return Some(id),
                    Ok(Some(id)) => soft = Some(id),
                    _ => {}
                }
            }
        }
        soft
    }

    /// Waits for the rate limit's next turn, if there is a limit.
    async fn pace(&self) {
        if let Some(p) = &self.inner.pacer {
            p.wait().await;
        }
    }
}

/// How long a connect that ran out of file descriptors waits before trying
/// again.
const FD_RETRY: Duration = Duration::from_millis(20);

/// EMFILE / ENFILE: the process or the system has no descriptor free.
fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(24) | Some(23))
}

fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn to_service(id: Identity, tunnel: Option<String>) -> ServiceInfo {
    ServiceInfo {
        name: id.service,
        product: id.product,
        version: id.version,
        extrainfo: id.info,
        hostname: id.hostname,
        ostype: id.os,
        devicetype: id.device,
        method: ServiceMethod::Probed,
        conf: if id.soft { CONF_SOFT } else { CONF_HARD },
        tunnel,
        cpe: id.cpe,
        certificate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::is_out_of_descriptors;
    use std::io::{Error, ErrorKind};

    #[test]
    fn only_descriptor_exhaustion_is_waited_out() {
        assert!(is_out_of_descriptors(&Error::from_raw_os_error(24)));
        assert!(is_out_of_descriptors(&Error::from_raw_os_error(23)));
        assert!(!is_out_of_descriptors(&Error::from_raw_os_error(111)));
        assert!(!is_out_of_descriptors(&Error::from(ErrorKind::TimedOut)));
    }
}
