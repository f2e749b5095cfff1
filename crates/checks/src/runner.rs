//! Running the selected checks against a host: every applicable (check,
//! port) pair at once, bounded by a semaphore, each under its own
//! timeout, so a service that stalls or trickles bytes costs at most the
//! timeout; with `--max-rate`, every connection and datagram waits for
//! a token of the run's budget (the first before the check's timeout
//! starts). Results go into the host's `scripts`, sorted by port and
//! check, followed by the risk table's hints for its open ports.

use crate::pace::Pacer;
use crate::registry::Selection;
use crate::risk::RiskTable;
use crate::{Check, Ctx, ScriptArgs};
use portolan_model::{
    render_items, HostResult, PortResult, PortState, Protocol, ScriptResult, ServiceMethod,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What `-sC`, `--script`, `--script-args`, `--script-timeout` and
/// `--risk-db` asked for.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The checks to run.
    pub selection: Selection,
    /// `--script-args`.
    pub args: Arc<ScriptArgs>,
    /// How long one check may take.
    pub timeout: Duration,
    /// How many checks run at once, over all hosts.
    pub parallelism: usize,
    /// The risk table whose hints open ports get.
    pub risk: Arc<RiskTable>,
    /// `--max-rate`: new connections and datagrams per second, shared
    /// with the scan and `-sV` when the session hands its budget over.
    pub pacer: Option<Arc<Pacer>>,
}

impl CheckOptions {
    /// The default set with the built-in risk table, a 5 s timeout and
    /// 64 checks at once.
    pub fn new(selection: Selection) -> CheckOptions {
        CheckOptions {
            selection,
            args: Arc::new(ScriptArgs::default()),
            timeout: Duration::from_secs(5),
            parallelism: 64,
            risk: Arc::new(RiskTable::builtin()),
            pacer: None,
        }
    }
}

/// Runs checks on hosts; cheap to clone (one semaphore for all clones).
#[derive(Clone)]
pub struct Runner {
    opts: Arc<CheckOptions>,
    checks: Arc<Vec<&'static dyn Check>>,
    slots: Arc<Semaphore>,
}

impl Runner {
    /// A runner for `opts`.
    pub fn new(opts: CheckOptions) -> Runner {
        let checks = Arc::new(opts.selection.checks());
        let slots = Arc::new(Semaphore::new(opts.parallelism.max(1)));
        Runner {
            opts: Arc::new(opts),
            checks,
            slots,
        }
    }

    /// The (check, port) pairs that would run on `host`.
    pub fn plan(&self, host: &HostResult) -> Vec<(&'static dyn Check, Ctx)> {
        let mut out = Vec::new();
        for p in host.ports.iter().filter(|p| checked(p)) {
            let ctx = self.ctx(host, p);
            let by_port = !identified(p);
            for &c in self.checks.iter() {
                if c.applies(&ctx, by_port) {
                    out.push((c, ctx.clone()));
                }
            }
        }
        out
    }

    /// Runs every applicable check on `host` and records the findings and
    /// the risk hints in `host.scripts`.
    pub async fn run_host(&self, host: &mut HostResult) {
        let mut set = JoinSet::new();
        for (check, mut ctx) in self.plan(host) {
            // Each check its own first-token flag (plan clones per port).
            ctx.prepaid = Arc::new(AtomicBool::new(false));
            let slots = self.slots.clone();
            set.spawn(async move {
                let _permit = slots.acquire_owned().await.ok()?;
                // The first connection's token, before the clock starts.
                if let Some(p) = &ctx.pacer {
                    p.wait().await;
                    ctx.prepaid.store(true, Ordering::Relaxed);
                }
                let found = tokio::time::timeout(ctx.timeout, check.run(&ctx)).await;
                let f = found.ok().flatten()?;
                let info = check.info();
                Some(ScriptResult {
                    id: info.id.to_string(),
                    port: Some(ctx.port),
                    protocol: Some(ctx.protocol),
                    severity: f.severity.unwrap_or(info.severity),
                    summary: f.summary,
                    output: render_items(&f.items),
                    items: f.items,
                })
            });
        }
        let mut found = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(Some(r)) = r {
                found.push(r);
            }
        }
        found.sort_by(|a, b| (a.port, a.protocol, &a.id).cmp(&(b.port, b.protocol, &b.id)));
        host.scripts.extend(found);
        self.add_hints(host);
    }

    /// Adds the risk table's hint to every open port it names.
    pub fn add_hints(&self, host: &mut HostResult) {
        for p in host.ports.iter().filter(|p| p.state == PortState::Open) {
            let name = p.service.as_ref().map(|s| s.name.as_str());
            if let Some(e) = self.opts.risk.lookup(p.port, p.protocol, name) {
                host.scripts.push(e.hint(p.port, p.protocol));
            }
        }
    }

    fn ctx(&self, host: &HostResult, p: &PortResult) -> Ctx {
        let svc = p.service.as_deref();
        Ctx {
            addr: host.addr,
            port: p.port,
            protocol: p.protocol,
            service: svc.map(|s| s.name.clone()),
            tunnel: svc.and_then(|s| s.tunnel.clone()),
            certificate: svc.and_then(|s| s.certificate.as_deref().cloned()),
            args: self.opts.args.clone(),
            timeout: self.opts.timeout,
            pacer: self.opts.pacer.clone(),
            prepaid: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Open ports, and UDP ports that may be (a UDP check's reply proves it).
fn checked(p: &PortResult) -> bool {
    match p.protocol {
        Protocol::Udp => matches!(p.state, PortState::Open | PortState::OpenFiltered),
        _ => p.state == PortState::Open,
    }
}

/// Whether `-sV` named the service (then port numbers no longer select
/// checks: a web server on 6379 gets no Redis check).
fn identified(p: &PortResult) -> bool {
    p.service
        .as_deref()
        .is_some_and(|s| s.method == ServiceMethod::Probed && s.name != "unknown")
}
