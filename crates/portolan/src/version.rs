//! Service and version detection (`-sV`) after the port scan.
//!
//! Every open port of every finished host is handed to
//! [`portolan_service::Prober`] in one pass, so probing is concurrent across
//! all services of all hosts (bounded by the scan's parallelism), and each
//! identification replaces the port-table guess in the host's results.
//! Hosts are kept until the port scan ends; probing them as they finish is
//! a later refinement.

use portolan_model::{HostResult, PortState, Protocol};
use portolan_service::{Database, DbError, ProbeOptions, Prober, Target, TraceEvent, TraceFn};
use std::path::PathBuf;
use std::sync::Arc;

/// What the version flags asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionOptions {
    /// `--version-intensity` (`--version-light` = 2, `--version-all` = 9).
    pub intensity: u8,
    /// `--allports`.
    pub all_ports: bool,
    /// `--version-trace`.
    pub trace: bool,
    /// `--service-db FILE`, merged with the built-in database.
    pub db_file: Option<PathBuf>,
}

/// Loads the built-in probe database and merges the user's file, if any.
/// Errors name the file, the line and the reason.
pub fn load_database(opts: &VersionOptions) -> Result<Arc<Database>, DbError> {
    let mut db = Database::builtin()?;
    if let Some(path) = &opts.db_file {
        db.merge(Database::from_file(path)?)?;
    }
    Ok(Arc::new(db))
}

/// Probes every open port of `hosts` and records what answered.
pub fn detect(
    hosts: &mut [HostResult],
    db: Arc<Database>,
    opts: &VersionOptions,
    parallelism: usize,
) -> std::io::Result<()> {
    let targets: Vec<Target> = hosts
        .iter()
        .flat_map(|h| {
            h.ports
                .iter()
                .filter(|p| p.state == PortState::Open && p.protocol != Protocol::Sctp)
                .map(|p| Target {
                    addr: h.addr,
                    port: p.port,
                    protocol: p.protocol,
                })
        })
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let popts = ProbeOptions {
        intensity: opts.intensity,
        all_ports: opts.all_ports,
        parallelism: parallelism.max(1),
        ..ProbeOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut prober = Prober::new(db, popts);
    if opts.trace {
        prober = prober.with_trace(trace_to_stderr());
    }
    let detections = rt.block_on(prober.detect(&targets));
    for d in detections {
        let Some(service) = d.service else { continue };
        let Some(host) = hosts.iter_mut().find(|h| h.addr == d.target.addr) else {
            continue;
        };
        if let Some(p) = host
            .ports
            .iter_mut()
            .find(|p| p.port == d.target.port && p.protocol == d.target.protocol)
        {
            p.service = Some(Box::new(service));
        }
    }
    Ok(())
}

/// `--version-trace`: one line per probing step on standard error.
fn trace_to_stderr() -> TraceFn {
    Arc::new(|ev: &TraceEvent<'_>| {
        let line = match ev {
            TraceEvent::Sent {
                target,
                probe,
                tunnel,
                bytes,
            } => format!(
                "Service scan sending probe {probe} to {}:{}/{}{} ({} bytes)",
                target.addr,
                target.port,
                target.protocol,
                if *tunnel { " (ssl)" } else { "" },
                bytes.len()
            ),
            TraceEvent::Received {
                target,
                probe,
                bytes,
                ..
            } => format!(
                "Service scan got {} bytes from {}:{}/{} to probe {probe}",
                bytes.len(),
                target.addr,
                target.port,
                target.protocol
            ),
            TraceEvent::Matched { target, probe, .. } => format!(
                "Service scan match (probe {probe}) on {}:{}/{}",
                target.addr, target.port, target.protocol
            ),
            TraceEvent::Tls { target, ok } => format!(
                "Service scan TLS handshake with {}:{}/{} {}",
                target.addr,
                target.port,
                target.protocol,
                if *ok { "succeeded" } else { "failed" }
            ),
            TraceEvent::ConnectFailed { target, error } => format!(
                "Service scan connect to {}:{}/{} failed: {error}",
                target.addr, target.port, target.protocol
            ),
        };
        eprintln!("{line}");
    })
}
