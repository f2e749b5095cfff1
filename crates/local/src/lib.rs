//! `portolan local`: this machine's TCP and UDP sockets (IPv4 and IPv6),
//! with state, queues, owning processes, service name and bind scope.
//!
//! Listing asks the kernel directly (netlink `sock_diag`, the states
//! filtered in the kernel; `/proc/net` as the fallback) and maps owners
//! with one walk over `/proc/*/fd`, so it stays fast at 100,000 sockets.
//! Only Linux is implemented; other systems would add a [`SocketSource`].
//!
//! ```no_run
//! use portolan_local::{list, LocalQuery, render, Format};
//! let q = LocalQuery { tcp: true, ports: Some("22,http".into()), ..Default::default() };
//! let snap = list(&q).unwrap();
//! print!("{}", render(&snap, Format::Table));
//! ```

mod bytecode;
mod diag;
mod error;
pub mod exposure;
mod format;
mod model;
mod netns;
mod owners;
mod procnet;
mod query;
mod source;
mod summary;

pub use diag::Netlink;
pub use error::LocalError;
pub use exposure::{Exposure, ExposureRow, ScannedHost, Verdict};
pub use format::{escape, render, write_report, write_to, Format};
pub use model::{BindScope, Family, Process, Proto, RawSocket, Snapshot, SocketEntry, State};
pub use netns::{names as netns_names, NETNS_DIR};
pub use owners::Users;
pub use procnet::ProcNet;
pub use query::{parse_state, Backend, Filter, LocalQuery, ALL_STATES};
pub use source::{open as open_source, SocketSource};
pub use summary::{
    diff, ephemeral_range, summarize, Diff, Summary, Warning, CLOSE_WAIT_PER_PROCESS,
    TIME_WAIT_EPHEMERAL_SHARE, TIME_WAIT_TOTAL,
};

use portolan_targets::ServiceTable;
use std::collections::HashSet;
use std::sync::Arc;

/// Lists the sockets `query` selects.
pub fn list(query: &LocalQuery) -> Result<Snapshot, LocalError> {
    let filter = query.filter()?;
    let spaces: Vec<Option<String>> = match query.netns.as_deref() {
        None => vec![None],
        Some("all") => std::iter::once(None)
            .chain(netns::names().into_iter().map(Some))
            .collect(),
        Some(name) => vec![Some(name.to_string())],
    };
    let mut raws: Vec<(Option<Arc<str>>, RawSocket)> = Vec::new();
    let mut source_name = "";
    let every = query.netns.as_deref() == Some("all");
    for ns in &spaces {
        let label: Option<Arc<str>> = ns.as_deref().map(Arc::from);
        let (name, got) = match netns::run_in(ns.as_deref(), || dump(&filter)) {
            Ok(x) => x,
            // With `all`, a namespace deleted since the directory was read
            // is simply gone.
            Err(LocalError::NoNetns(_) | LocalError::Setns { .. }) if every && ns.is_some() => {
                continue
            }
            Err(e) => return Err(e),
        };
        source_name = name;
        raws.extend(got.into_iter().map(|r| (label.clone(), r)));
    }
    Ok(assemble(&filter, raws, source_name))
}

/// Dumps every protocol and family of `filter` with the source it asks
/// for, in the calling thread's namespace.
pub fn dump(filter: &Filter) -> Result<(&'static str, Vec<RawSocket>), LocalError> {
    let src = source::open(filter.backend)?;
    let mut out = Vec::new();
    for &proto in &filter.protos {
        let states = filter.states(proto);
        if states == 0 {
            continue;
        }
        let ranges = filter
            .ports(proto)
            .map(|set| bytecode::ranges(&set.to_vec()));
        for &family in &filter.families {
            src.dump(proto, family, states, ranges.as_deref(), &mut |r| {
                if states & r.state.bit() != 0
                    && filter.port_ok(proto, r.local.port(), r.remote.port())
                {
                    out.push(r);
                }
            })?;
        }
    }
    Ok((src.name(), out))
}

/// Attaches owners and service names, applies the owner filters, sorts.
fn assemble(
    filter: &Filter,
    raws: Vec<(Option<Arc<str>>, RawSocket)>,
    source: &'static str,
) -> Snapshot {
    let mut map = if filter.owners {
        let wanted: HashSet<u64> = raws
            .iter()
            .map(|(_, r)| r.inode)
            .filter(|&i| i != 0)
            .collect();
        owners::owners(&wanted, &Users::load())
    } else {
        owners::OwnerMap::default()
    };
    let table = ServiceTable::builtin();
    let mut hidden = false;
    let mut sockets = Vec::with_capacity(raws.len());
    for (netns, raw) in raws {
        // Inodes are unique: move the owner list out instead of cloning.
        let owners = map.by_inode.remove(&raw.inode).unwrap_or_default();
        if map.denied && owners.is_empty() && raw.inode != 0 {
            hidden = true;
        }
        let e = SocketEntry {
            service: table.name(raw.local.port(), raw.proto.table_proto()),
            raw,
            owners,
            netns,
        };
        if filter.owner_ok(&e) {
            sockets.push(e);
        }
    }
    sockets.sort_by(|a, b| {
        (&a.netns, a.raw.proto, a.raw.local, a.raw.remote).cmp(&(
            &b.netns,
            b.raw.proto,
            b.raw.local,
            b.raw.remote,
        ))
    });
    Snapshot {
        sockets,
        owners_hidden: hidden,
        source,
    }
}
