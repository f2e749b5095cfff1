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
mod text;

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
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Lists the sockets `query` selects.
pub fn list(query: &LocalQuery) -> Result<Snapshot, LocalError> {
    let filter = query.filter()?;
    if !filter.owners {
        let (raws, source) = dump_spaces(query, &filter)?;
        return Ok(assemble(&filter, raws, source, None));
    }
    // The owner walk does not depend on the listing, so it runs while
    // the kernel dumps the sockets.
    let (links, dumped) = owners::walk_during(|| dump_spaces(query, &filter));
    let (raws, source) = dumped?;
    let owners = owners::Owners::new(links, Users::load());
    Ok(assemble(&filter, raws, source, Some(owners)))
}

/// Sockets of a namespace (`None`: the current one), as dumped.
type Dumped = Vec<(Option<Arc<str>>, RawSocket)>;

/// Dumps every namespace `query` names.
fn dump_spaces(query: &LocalQuery, filter: &Filter) -> Result<(Dumped, &'static str), LocalError> {
    let spaces: Vec<Option<String>> = match query.netns.as_deref() {
        None => vec![None],
        Some("all") => std::iter::once(None)
            .chain(netns::names().into_iter().map(Some))
            .collect(),
        Some(name) => vec![Some(name.to_string())],
    };
    let mut raws: Dumped = Vec::new();
    let mut source_name = "";
    let every = query.netns.as_deref() == Some("all");
    for ns in &spaces {
        let label: Option<Arc<str>> = ns.as_deref().map(Arc::from);
        let (name, got) = match netns::run_in(ns.as_deref(), || dump(filter)) {
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
    Ok((raws, source_name))
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
    raws: Dumped,
    source: &'static str,
    mut owners: Option<owners::Owners>,
) -> Snapshot {
    let table = ServiceTable::builtin();
    let mut hidden = false;
    let mut sockets = Vec::with_capacity(raws.len());
    for (netns, raw) in raws {
        let (owners, denied) = match owners.as_mut() {
            Some(o) if raw.inode != 0 => (o.of(raw.inode), o.denied()),
            _ => (Vec::new(), false),
        };
        if denied && owners.is_empty() {
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
    // Namespaces are few: rank them once, then sort by a key that
    // compares as integers and moves cheaply (sorting 100,000 entries in
    // place would move 100,000 large structs, many times each).
    let mut names: Vec<Option<Arc<str>>> = Vec::new();
    for e in &sockets {
        if names.last() != Some(&e.netns) && !names.contains(&e.netns) {
            names.push(e.netns.clone());
        }
    }
    names.sort();
    sockets.sort_by_cached_key(|e| {
        let rank = names.iter().position(|n| *n == e.netns).unwrap_or(0);
        order_key(rank, e)
    });
    Snapshot {
        sockets,
        owners_hidden: hidden,
        source,
    }
}

/// The listing's order (namespace rank, protocol, local address, remote
/// address, each address ordered as [`SocketAddr`] orders it: IPv4 before
/// IPv6, then address, then port) as integers.
fn order_key(rank: usize, e: &SocketEntry) -> (u32, u128, u32, u128, u16) {
    let addr = |a: SocketAddr| match a.ip() {
        IpAddr::V4(ip) => (0u32, u128::from(u32::from(ip)), a.port()),
        IpAddr::V6(ip) => (1u32, u128::from(ip), a.port()),
    };
    let (lf, lip, lport) = addr(e.raw.local);
    let (rf, rip, rport) = addr(e.raw.remote);
    let head = (u32::try_from(rank).unwrap_or(u32::MAX) << 9)
        | (u32::from(e.raw.proto.ipproto()) << 1)
        | lf;
    (head, lip, (u32::from(lport) << 1) | rf, rip, rport)
}
