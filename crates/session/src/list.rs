//! `-sL`: the targets listed, named by reverse DNS, nothing sent to them.
//!
//! Why its own loop rather than a host stage: every target is a result
//! here, in target order, so names are looked up in parallel a chunk at a
//! time and the chunk is written in order, with no engine at all. With
//! `--shard K/N` only the targets that shard would scan are listed (the
//! engine's own test, [`portolan_engine::ShardFilter`]).

use crate::config::ScanConfig;
use crate::plan::Plan;
use crate::sink::Sink;
use portolan_dns::{ResolverConfig, ReverseResolver};
use portolan_model::{HostResult, HostStatus, Hostname, HostnameKind, Reason};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `-sL`: every target with status unknown, its typed name and (unless
/// `-n`) its reverse name; nothing is sent to the targets. Names are looked
/// up in parallel, [`LIST_CHUNK`] targets at a time, and written in target
/// order. Returns how many targets were listed (an interrupt stops the
/// listing between chunks).
pub(crate) fn list_scan(
    plan: &Plan,
    opts: &ScanConfig,
    stop: &AtomicBool,
    sink: &mut Sink<'_>,
) -> u64 {
    let shard = crate::modes::shard_filter(plan, opts);
    let mut resolver = if opts.no_dns {
        None
    } else {
        let r = if opts.system_dns {
            ReverseResolver::system(crate::rdns::SYSTEM_THREADS)
        } else if opts.dns_servers.is_empty() {
            ReverseResolver::new(ResolverConfig::system())
        } else {
            ReverseResolver::new(ResolverConfig::with_servers(&opts.dns_servers))
        };
        r.map_err(|e| sink.warning(&format!("reverse DNS unavailable: {e}")))
            .ok()
    };
    let mut targets = plan
        .targets
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.as_ref().is_none_or(|s| s.contains(*i as u64)))
        .map(|(_, t)| t);
    let mut listed = 0;
    loop {
        let chunk: Vec<HostResult> = targets
            .by_ref()
            .take(LIST_CHUNK)
            .map(|t| {
                let mut h = HostResult::new(t.addr, HostStatus::Unknown, Reason::Unknown);
                if let Some(name) = &t.name {
                    h.hostnames.push(Hostname {
                        name: name.to_string(),
                        kind: HostnameKind::User,
                    });
                }
                h
            })
            .collect();
        if chunk.is_empty() || stop.load(Ordering::Relaxed) {
            break;
        }
        let mut names: HashMap<IpAddr, Option<String>> = HashMap::new();
        if let Some(r) = &mut resolver {
            let mut asked = 0;
            for h in &chunk {
                if !names.contains_key(&h.addr) && r.submit(h.addr) {
                    names.insert(h.addr, None);
                    asked += 1;
                }
            }
            // Short waits, so Ctrl-C is noticed; the resolver gives every
            // lookup an answer (a name or none) within its retries.
            let deadline = Instant::now() + Duration::from_secs(30);
            while asked > 0 && !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if let Some((addr, name)) = r.recv_timeout(Duration::from_millis(50)) {
                    asked -= 1;
                    names.insert(addr, name);
                }
            }
        }
        for mut h in chunk {
            if let Some(Some(name)) = names.get(&h.addr) {
                crate::rdns::add_ptr_name(&mut h, name);
            }
            sink.write(h);
            listed += 1;
        }
    }
    listed
}

/// Targets of `-sL` named per round of parallel lookups.
const LIST_CHUNK: usize = 4096;
