//! The prober over TCP: connections (plain and TLS), and the window of
//! probes in flight on their own connections for one service, each reply
//! judged as it arrives (see the parent module's docs for why probes
//! overlap).

use super::*;

impl Prober {
    pub(super) async fn connect(&self, t: &Target, deadline: Instant) -> Option<TcpStream> {
        self.pace().await;
        let wait = self.inner.opts.connect_timeout.min(left(deadline));
        let addr = SocketAddr::new(t.addr, t.port);
        let mut r = timeout(wait, TcpStream::connect(addr)).await;
        // Out of file descriptors (a connect scan runs alongside and holds
        // many): wait for some to be freed rather than give the service up.
        while matches!(&r, Ok(Err(e)) if is_out_of_descriptors(e)) && !left(deadline).is_zero() {
            tokio::time::sleep(FD_RETRY.min(left(deadline))).await;
            let wait = self.inner.opts.connect_timeout.min(left(deadline));
            r = timeout(wait, TcpStream::connect(addr)).await;
        }
        match r {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Some(s)
            }
            Ok(Err(e)) => {
                self.trace(TraceEvent::ConnectFailed {
                    target: t,
                    error: e.to_string(),
                });
                None
            }
            Err(_) => {
                self.trace(TraceEvent::ConnectFailed {
                    target: t,
                    error: "timed out".into(),
                });
                None
            }
        }
    }

    /// A TLS connection and the server's certificate.
    pub(super) async fn connect_tls(
        &self,
        t: &Target,
        deadline: Instant,
    ) -> Option<(Conn, Option<CertInfo>)> {
        let tls = self.inner.tls.as_ref()?;
        let tcp = self.connect(t, deadline).await?;
        let wait = self.inner.opts.connect_timeout.min(left(deadline));
        let r = timeout(wait, tls.handshake(tcp, t.addr)).await;
        let ok = matches!(r, Ok(Ok(_)));
        self.trace(TraceEvent::Tls { target: t, ok });
        let (stream, cert) = r.ok()?.ok()?;
        Some((Box::new(stream), cert))
    }

    pub(super) async fn open(
        &self,
        t: &Target,
        deadline: Instant,
        tunnel: bool,
    ) -> Option<(Conn, Option<CertInfo>)> {
        if tunnel {
            self.connect_tls(t, deadline).await
        } else {
            let s = self.connect(t, deadline).await?;
            Some((Box::new(s), None))
        }
    }

    pub(super) async fn tcp(
        &self,
        t: &Target,
        deadline: Instant,
        st: &mut State,
    ) -> Option<Identity> {
        let step = match self.tcp_phase(t, deadline, st, None).await {
            // Closed without a word on every probe: perhaps a TLS server
            // that drops plain text without an alert. One handshake tells.
            Step::Done if st.replies == 0 && st.silent_closes > 0 && !left(deadline).is_zero() => {
                match self.connect_tls(t, deadline).await {
                    Some((c, cert)) => {
                        st.cert = st.cert.take().or(cert);
                        Step::Tls(Some(c))
                    }
                    None => Step::Done,
                }
            }
            step => step,
        };
        match step {
            Step::Hard(id) => Some(*id),
            Step::Done => None,
            Step::Tls(first) => {
                st.tunnel = true;
                // A soft match outside the tunnel (`ssl`) says nothing of
                // what runs inside.
                st.soft = None;
                match self.tcp_phase(t, deadline, st, first).await {
                    Step::Hard(id) => Some(*id),
                    _ => None,
                }
            }
        }
    }

    /// Runs the NULL probe and the ordered probes once, plain or in TLS.
    ///
    /// Probes go out on their own connections, up to `probes_in_flight`
    /// at once, a new one as soon as one finishes: those whose port hints
    /// fit at once, the rest once the NULL probe has heard nothing for
    /// [`EARLY_PROBES`]. The NULL connection keeps listening for its full
    /// wait meanwhile, and every reply is judged as it arrives, so a
    /// service costs about the time of the probe that names it, not the
    /// sum of the waits before it.
    pub(super) async fn tcp_phase(
        &self,
        t: &Target,
        deadline: Instant,
        st: &mut State,
        first: Option<Conn>,
    ) -> Step {
        let db = self.inner.db.clone();
        let tunnel = st.tunnel;
        let tls_ok = !tunnel && self.inner.tls.is_some();
        let tls_hint = db.probes().iter().any(|p| p.tls_ports.contains(t.port));
        let mut spare: Option<Conn> = None;
        let mut order = self.order(t.port, Transport::Tcp, tunnel);
        let mut hinted = order
            .iter()
            .take_while(|&&i| self.hinted(&db.probes()[i], t.port, tunnel))
            .count();
        // An HTTP server that said "this is a TLS port" will answer HTTP
        // inside the tunnel: ask it at once, like a hinted probe.
        if let Some(p) = st.tls_probe.filter(|_| tunnel) {
            if let Some(pos) = order.iter().position(|&i| i == p).filter(|&x| x >= hinted) {
                order.remove(pos);
                order.insert(hinted, p);
                hinted += 1;
            }
        }
        let mut w = Window {
            order,
            next: 0,
            limit: self.inner.opts.probes_in_flight.max(1),
            set: tokio::task::JoinSet::new(),
            running: Vec::new(),
            retried: Vec::new(),
            failures: 0,
        };
        self.fill(&mut w, hinted, st, &mut spare, t, deadline, tunnel);

        if let Some(null) = db
            .probe(NULL_PROBE)
            .filter(|p| p.transport == Transport::Tcp)
        {
            let conn = match first {
                Some(c) => Some(c),
                None => self.open(t, deadline, tunnel).await.map(|(c, cert)| {
                    if st.cert.is_none() {
                        st.cert = cert;
                    }
                    c
                }),
            };
            let Some(mut conn) = conn else {
                return Step::Done;
            };
            // On a TLS port, a short silence is enough to try TLS.
            let wait = if tls_ok && tls_hint {
                EARLY_PROBES
            } else {
                null.wait
            };
            // Listen for a banner while judging other probes' replies as
            // they come: the first hard match ends it all.
            let (reply, eof) = {
                let listen = self.exchange(&mut conn, t, null, wait, deadline, tunnel);
                tokio::pin!(listen);
                let early = tokio::time::sleep(EARLY_PROBES);
                tokio::pin!(early);
                let mut early_done = false;
                loop {
                    tokio::select! {
                        r = &mut listen => break r,
                        () = &mut early, if !early_done => {
                            early_done = true;
                            let all = w.order.len();
                            self.fill(&mut w, all, st, &mut None, t, deadline, tunnel);
                        }
                        Some(r) = w.set.join_next(), if !w.set.is_empty() => {
                            let Ok(r) = r else { continue };
                            if let Some(step) = self.settle(&mut w, r, t, st, tls_ok) {
                                return step;
                            }
                            let all = if early_done { w.order.len() } else { hinted };
                            self.fill(&mut w, all, st, &mut None, t, deadline, tunnel);
                        }
                    }
                }
            };
            if !reply.is_empty() {
                st.replies += 1;
                st.banner.get_or_insert_with(|| reply.clone());
                if tls_ok && looks_like_tls(&reply) {
                    return Step::Tls(None);
                }
                if let Some(step) = self.judge(t, null, &reply, st, tls_ok) {
                    return step;
                }
                // A banner that did not name the product: the next probe
                // goes on this connection (an IRC server's lookups are
                // already under way on it).
                if !eof {
                    spare = Some(conn);
                }
            } else if eof {
                st.silent_closes += 1;
            } else {
                spare = Some(conn);
            }
            if tls_ok && reply.is_empty() && tls_hint {
                drop(spare.take());
                if let Some((c, cert)) = self.connect_tls(t, deadline).await {
                    st.cert = st.cert.take().or(cert);
                    return Step::Tls(Some(c));
                }
            }
        }

        loop {
            let all = w.order.len();
            self.fill(&mut w, all, st, &mut spare, t, deadline, tunnel);
            let Some(r) = w.set.join_next().await else {
                break;
            };
            let Ok(r) = r else { continue };
            if let Some(step) = self.settle(&mut w, r, t, st, tls_ok) {
                return step;
            }
        }
        Step::Done
    }

    /// Starts probes from `w.order[w.next..upto]` until `w.limit` are in
    /// flight, skipping those that cannot refine a soft match; the first
    /// one gets the `spare` connection, if any. Starts nothing once the
    /// deadline has passed or connections keep failing.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fill(
        &self,
        w: &mut Window,
        upto: usize,
        st: &State,
        spare: &mut Option<Conn>,
        t: &Target,
        deadline: Instant,
        tunnel: bool,
    ) {
        let db = self.inner.db.clone();
        while w.set.len() < w.limit && w.next < upto.min(w.order.len()) {
            if left(deadline).is_zero() || w.failures >= w.limit {
                return;
            }
            let idx = w.order[w.next];
            w.next += 1;
            let probe = &db.probes()[idx];
            let useful = st
                .soft
                .as_ref()
                .is_none_or(|soft| probe.rules.iter().any(|r| r.service == soft.service));
            if !useful {
                continue;
            }
            let me = self.clone();
            let target = *t;
            let conn = spare.take();
            let handle = w
                .set
                .spawn(async move { me.attempt(target, idx, conn, deadline, tunnel).await });
            w.running.push((idx, handle));
        }
    }

    /// Judges one finished probe of the window and counts connection
    /// failures (a run of them as long as the window stops probing: the
    /// port no longer takes connections).
    pub(super) fn settle(
        &self,
        w: &mut Window,
        r: (usize, Vec<u8>, bool, bool),
        t: &Target,
        st: &mut State,
        tls_ok: bool,
    ) -> Option<Step> {
        let had_soft = st.soft.is_some();
        let (idx, answered) = (r.0, !r.1.is_empty());
        let (step, connected) = self.take(r, t, st, tls_ok);
        if connected {
            w.failures = 0;
        } else {
            w.failures += 1;
        }
        if let (false, Some(soft)) = (had_soft, &st.soft) {
            // A soft match: probes in flight with no rule for that service
            // cannot tell more, and they hold the server's connections (an
            // IRC server allows a few per address): stop them.
            let db = self.inner.db.clone();
            for (idx, h) in &w.running {
                if !db.probes()[*idx]
                    .rules
                    .iter()
                    .any(|r| r.service == soft.service)
                {
                    h.abort();
                }
            }
        }
        // A probe that could name the service got only a soft answer (the
        // server refused it for the other probes' connections, which are
        // now stopped): it goes once more.
        if let (None, true, Some(soft)) = (&step, answered, &st.soft) {
            let db = self.inner.db.clone();
            let useful = db.probes()[idx]
                .rules
                .iter()
                .any(|r| r.service == soft.service);
            if useful && !w.retried.contains(&idx) {
                w.retried.push(idx);
                w.order.insert(w.next, idx);
            }
        }
        step
    }

    /// Judges the replies of probes in flight as they arrive; returns the
    /// step that ends probing, if any, and how many probes got a connection.
    pub(super) async fn collect(
        &self,
        set: &mut tokio::task::JoinSet<(usize, Vec<u8>, bool, bool)>,
        t: &Target,
        st: &mut State,
        tls_ok: bool,
    ) -> (Option<Step>, usize) {
        let mut connected = 0;
        while let Some(r) = set.join_next().await {
            let Ok(r) = r else {
                continue;
            };
            let (step, ok) = self.take(r, t, st, tls_ok);
            connected += usize::from(ok);
            if step.is_some() {
                return (step, connected);
            }
        }
        (None, connected)
    }

    /// Judges one probe attempt; returns the step that ends probing, if
    /// any, and whether the attempt got a connection.
    pub(super) fn take(
        &self,
        (idx, reply, eof, ok): (usize, Vec<u8>, bool, bool),
        t: &Target,
        st: &mut State,
        tls_ok: bool,
    ) -> (Option<Step>, bool) {
        if reply.is_empty() {
            if eof && ok {
                st.silent_closes += 1;
            }
            return (None, ok);
        }
        st.replies += 1;
        st.banner.get_or_insert_with(|| reply.clone());
        if tls_ok && looks_like_tls(&reply) {
            return (Some(Step::Tls(None)), ok);
        }
        let db = self.inner.db.clone();
        let step = self.judge(t, &db.probes()[idx], &reply, st, tls_ok);
        if matches!(step, Some(Step::Tls(_))) {
            st.tls_probe = Some(idx);
        }
        (step, ok)
    }

    /// Sends probe `idx` on `conn` or a new connection. Returns the probe,
    /// its reply, whether the peer closed, and whether a connection was had.
    pub(super) async fn attempt(
        self,
        t: Target,
        idx: usize,
        conn: Option<Conn>,
        deadline: Instant,
        tunnel: bool,
    ) -> (usize, Vec<u8>, bool, bool) {
        let db = self.inner.db.clone();
        let probe = &db.probes()[idx];
        let conn = match conn {
            Some(c) => Some(c),
            None => self.open(&t, deadline, tunnel).await.map(|(c, _)| c),
        };
        let Some(mut conn) = conn else {
            return (idx, Vec::new(), false, false);
        };
        let (reply, eof) = self
            .exchange(&mut conn, &t, probe, probe.wait, deadline, tunnel)
            .await;
        (idx, reply, eof, true)
    }

    /// Matches a reply: a hard match ends probing, a soft one is kept.
    pub(super) fn judge(
        &self,
        t: &Target,
        probe: &Probe,
        reply: &[u8],
        st: &mut State,
        tls_ok: bool,
    ) -> Option<Step> {
        let id = self.identify(probe, reply)?;
        self.trace(TraceEvent::Matched {
            target: t,
            probe: &probe.name,
            identity: &id,
        });
        if tls_ok && (id.service == "ssl" || id.service == "tls") {
            return Some(Step::Tls(None));
        }
        if !id.soft {
            return Some(Step::Hard(Box::new(id)));
        }
        if st.soft.is_none() {
            st.soft = Some(id);
        }
        None
    }

    /// Sends a probe's payload and reads the reply until its wait ends, the
    /// peer closes, or a hard match is already possible. Returns the reply
    /// and whether the peer closed.
    pub(super) async fn exchange(
        &self,
        conn: &mut Conn,
        t: &Target,
        probe: &Probe,
        wait: Duration,
        deadline: Instant,
        tunnel: bool,
    ) -> (Vec<u8>, bool) {
        if !probe.payload.is_empty() {
            let payload = probe.payload_for_connection();
            self.trace(TraceEvent::Sent {
                target: t,
                probe: &probe.name,
                tunnel,
                bytes: &payload,
            });
            if conn.write_all(&payload).await.is_err() || conn.flush().await.is_err() {
                return (Vec::new(), true);
            }
        }
        let end = Instant::now() + wait.min(left(deadline));
        let mut reply = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        let mut eof = false;
        loop {
            let now = Instant::now();
            if now >= end || reply.len() >= MAX_SUBJECT {
                break;
            }
            // Once data has come, a pause of IDLE_GAP ends the reply.
            let limit = if reply.is_empty() {
                end - now
            } else {
                (end - now).min(IDLE_GAP)
            };
            match timeout(limit, conn.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    eof = true;
                    break;
                }
                Ok(Ok(n)) => {
                    reply.extend_from_slice(&buf[..n]);
                    if looks_like_tls(&reply) {
                        break;
                    }
                    match self.identify(probe, &reply) {
                        // An HTTP reply is judged whole: a rule on its headers
                        // must not win over one on its body (CUPS's title).
                        Some(id) if !id.soft && !http_incomplete(&reply) => break,
                        // A banner line that only names the service (an
                        // IRC server's lookup notice, before a wait of
                        // seconds): end the NULL probe here, so probes
                        // that can tell more start now, the first on this
                        // very connection.
                        Some(_) if probe.name == NULL_PROBE && reply.ends_with(b"\n") => break,
                        _ => {}
                    }
                }
                Err(_) => break,
            }
        }
        self.trace(TraceEvent::Received {
            target: t,
            probe: &probe.name,
            tunnel,
            bytes: &reply,
        });
        (reply, eof)
    }
}

/// Whether `reply` is an HTTP response whose headers, or whose body of a
/// stated `Content-Length`, have not all arrived.
fn http_incomplete(reply: &[u8]) -> bool {
    if !reply.starts_with(b"HTTP/1.") {
        return false;
    }
    let Some(end) = reply.windows(4).position(|w| w == b"\r\n\r\n") else {
        return true;
    };
    let head = String::from_utf8_lossy(&reply[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    length.is_some_and(|n| reply.len() - (end + 4) < n)
}

#[cfg(test)]
mod tests {
    use super::http_incomplete;

    #[test]
    fn an_http_reply_is_whole_once_its_stated_body_is_in() {
        assert!(http_incomplete(b"HTTP/1.0 400 Bad\r\nServer: CUPS/2.4\r\n"));
        assert!(http_incomplete(
            b"HTTP/1.0 400 Bad\r\nContent-Length: 5\r\n\r\nab"
        ));
        assert!(!http_incomplete(
            b"HTTP/1.0 400 Bad\r\nContent-Length: 2\r\n\r\nab"
        ));
        assert!(!http_incomplete(b"HTTP/1.0 200 OK\r\n\r\n"));
        assert!(!http_incomplete(b"SSH-2.0-OpenSSH_9.2p1\r\n"));
    }
}
