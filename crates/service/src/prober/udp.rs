//! The prober over UDP: one datagram per probe, the reply matched as it
//! arrives.

use super::*;

impl Prober {
    /// UDP: the probes in order, a few at once each from its own socket,
    /// judged as replies arrive. An ICMP port unreachable (a refused
    /// receive) ends probing: the port is closed.
    pub(super) async fn udp(
        &self,
        t: &Target,
        deadline: Instant,
        st: &mut State,
    ) -> Option<Identity> {
        let db = self.inner.db.clone();
        let order = self.order(t.port, Transport::Udp, false);
        let in_flight = self.inner.opts.probes_in_flight.max(1);
        let mut next = 0;
        while next < order.len() && !left(deadline).is_zero() {
            let mut set = tokio::task::JoinSet::new();
            while set.len() < in_flight && next < order.len() {
                let idx = order[next];
                next += 1;
                let useful = st.soft.as_ref().is_none_or(|soft| {
                    db.probes()[idx]
                        .rules
                        .iter()
                        .any(|r| r.service == soft.service)
                });
                if useful {
                    let me = self.clone();
                    let target = *t;
                    set.spawn(async move { me.udp_attempt(target, idx, deadline).await });
                }
            }
            if set.is_empty() {
                break;
            }
            match self.collect(&mut set, t, st, false).await {
                (Some(Step::Hard(id)), _) => return Some(*id),
                (_, 0) => break,
                _ => {}
            }
        }
        None
    }

    /// Sends UDP probe `idx` and waits for one reply. Returns the probe,
    /// the reply, `false` (UDP has no close) and whether the port was not
    /// refused.
    pub(super) async fn udp_attempt(
        self,
        t: Target,
        idx: usize,
        deadline: Instant,
    ) -> (usize, Vec<u8>, bool, bool) {
        let db = self.inner.db.clone();
        let probe = &db.probes()[idx];
        let bind: IpAddr = match t.addr {
            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let Ok(sock) = UdpSocket::bind(SocketAddr::new(bind, 0)).await else {
            return (idx, Vec::new(), false, false);
        };
        if sock.connect(SocketAddr::new(t.addr, t.port)).await.is_err() {
            return (idx, Vec::new(), false, false);
        }
        self.pace().await;
        let payload = probe.payload_for_connection();
        self.trace(TraceEvent::Sent {
            target: &t,
            probe: &probe.name,
            tunnel: false,
            bytes: &payload,
        });
        if sock.send(&payload).await.is_err() {
            return (idx, Vec::new(), false, false);
        }
        let mut buf = vec![0u8; 65536];
        let wait = probe.wait.min(left(deadline));
        let (reply, ok) = match timeout(wait, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => (buf[..n].to_vec(), true),
            Ok(Err(_)) => (Vec::new(), false),
            Err(_) => (Vec::new(), true),
        };
        self.trace(TraceEvent::Received {
            target: &t,
            probe: &probe.name,
            tunnel: false,
            bytes: &reply,
        });
        (idx, reply, false, ok)
    }
}
