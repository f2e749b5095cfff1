//! `connect()` as a layer of the engine's one driver loop, so a connect
//! scan runs in the same engine run as raw-packet probes (`-sT -sU`, raw
//! pings pipelined into `-sT`).
//!
//! The layer's items and its probe module, [`ConnectModule`], are the
//! engine's (`portolan_engine::connect_layer`), so the simulator speaks
//! them too. [`Connector`] is the [`ConnectIo`] that runs the
//! attempts on a tokio runtime of its own and hands outcomes back over a
//! channel. Silence is the engine's timeout (an attempt still pending is
//! dropped at `cap`), and a local error (no descriptor, no port) is
//! dropped too, so the engine's retry covers it. The all-connect scan
//! keeps its own async driver ([`crate::run`]), which needs no raw socket.

use crate::attempt;
use crate::outcome::Outcome;
pub use portolan_engine::ConnectModule;
use portolan_engine::{ConnectIo, ConnectRequest};
use std::io;
use std::net::IpAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Runs connect attempts on a tokio runtime of its own (see the module
/// docs).
pub struct Connector {
    rt: tokio::runtime::Runtime,
    permits: Arc<Semaphore>,
    source: Option<IpAddr>,
    cap: Duration,
    tx: mpsc::Sender<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
}

impl Connector {
    /// Attempts from `source` (if set), at most `sockets` at once, each
    /// given up after `cap` (the timing's longest probe timeout).
    pub fn new(source: Option<IpAddr>, sockets: usize, cap: Duration) -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let (tx, rx) = mpsc::channel();
        Ok(Connector {
            rt,
            permits: Arc::new(Semaphore::new(sockets.max(1))),
            source,
            cap,
            tx,
            rx,
        })
    }
}

/// The outcome's bytes: the request and the row's code; `None` for
/// silence and local errors (the engine's timeout retries those).
fn outcome_bytes(req: &[u8], outcome: Outcome) -> Option<Vec<u8>> {
    let Outcome::State(state, reason) = outcome else {
        return None;
    };
    ConnectRequest::decode(req)?.outcome(state, reason)
}

impl ConnectIo for Connector {
    fn start(&mut self, requests: &[&[u8]]) -> io::Result<usize> {
        for (i, req) in requests.iter().enumerate() {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                return Ok(i);
            };
            let Some(ConnectRequest { dst, .. }) = ConnectRequest::decode(req) else {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad request"));
            };
            let req = req.to_vec();
            let (tx, source, cap) = (self.tx.clone(), self.source, self.cap);
            self.rt.spawn(async move {
                let outcome = match attempt::start(dst, source) {
                    attempt::Started::Done(o) => o,
                    attempt::Started::Pending(socket) => {
                        let deadline = tokio::time::Instant::now() + cap;
                        attempt::finish(socket, deadline).await
                    }
                };
                drop(permit);
                if let Some(bytes) = outcome_bytes(&req, outcome) {
                    let _ = tx.send(bytes);
                }
            });
        }
        Ok(requests.len())
    }

    fn outcomes(
        &mut self,
        timeout: Duration,
        on_outcome: &mut dyn FnMut(&[u8]),
    ) -> io::Result<usize> {
        let mut n = 0;
        let first = if timeout.is_zero() {
            self.rx.try_recv().ok()
        } else {
            self.rx.recv_timeout(timeout).ok()
        };
        if let Some(o) = first {
            on_outcome(&o);
            n += 1;
            while let Ok(o) = self.rx.try_recv() {
                on_outcome(&o);
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::connect_layer::OUTCOMES;
    use portolan_engine::{ProbeContext, ProbeModule, ProbeSpec, ValidationKey};
    use portolan_model::PortState;

    #[test]
    fn requests_and_outcomes_round_trip() {
        let ctx = ProbeContext {
            src_v4: None,
            src_v6: None,
            source_port: None,
            key: ValidationKey::from_seed(1),
            ttl: 64,
        };
        let mut buf = [0u8; 64];
        for dst in ["127.0.0.1", "::1"] {
            let spec = ProbeSpec {
                dst: dst.parse().unwrap(),
                dport: 8080,
                attempt: 2,
            };
            let n = ConnectModule.build(&ctx, &spec, &mut buf);
            assert_eq!(n, ConnectRequest::LEN);
            for (code, &(state, reason)) in OUTCOMES.iter().enumerate() {
                let out = outcome_bytes(&buf[..n], Outcome::State(state, reason)).unwrap();
                assert_eq!(out[ConnectRequest::LEN], code as u8);
                let r = ConnectModule.classify(&ctx, &out).unwrap();
                assert_eq!(
                    (r.dst, r.dport, r.attempt, r.state, r.reason),
                    (spec.dst, 8080, Some(2), state, reason)
                );
            }
            assert!(outcome_bytes(&buf[..n], Outcome::Silent).is_none());
            assert!(ConnectModule.classify(&ctx, &buf[..n]).is_none());
        }
    }

    #[test]
    fn a_connector_reports_refused_and_open_on_loopback() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let mut c = Connector::new(None, 4, Duration::from_secs(2)).unwrap();
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        let na = ConnectRequest {
            dst: open,
            attempt: 0,
        }
        .encode(&mut a);
        let nb = ConnectRequest {
            dst: closed,
            attempt: 0,
        }
        .encode(&mut b);
        assert_eq!(c.start(&[&a[..na], &b[..nb]]).unwrap(), 2);
        let mut got = Vec::new();
        let start = std::time::Instant::now();
        while got.len() < 2 && start.elapsed() < Duration::from_secs(5) {
            c.outcomes(Duration::from_millis(100), &mut |o| got.push(o.to_vec()))
                .unwrap();
        }
        let ctx = ProbeContext {
            src_v4: None,
            src_v6: None,
            source_port: None,
            key: ValidationKey::from_seed(1),
            ttl: 64,
        };
        let mut states: Vec<(u16, PortState)> = got
            .iter()
            .map(|o| {
                let r = ConnectModule.classify(&ctx, o).unwrap();
                (r.dport, r.state)
            })
            .collect();
        states.sort();
        let mut want = vec![
            (open.port(), PortState::Open),
            (closed.port(), PortState::Closed),
        ];
        want.sort();
        assert_eq!(states, want);
    }
}
