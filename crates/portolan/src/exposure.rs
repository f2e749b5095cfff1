//! `portolan local --exposure`: fetching the outside scans and joining
//! them with this machine's listeners.
//!
//! The join is `portolan_local::exposure`'s; this module only turns each
//! `--exposure` argument into a [`portolan_model::ScanDocument`], as
//! `portolan diff` names scans (`crate::diff::Scans`): a file (portolan's
//! JSON lines, or XML in nmap's format, portolan's `-oX` or nmap's), or a
//! scan in the history store (`last`, its id, or a tag). Ports open from
//! outside get the risk table's hint (`portolan_checks::RiskTable`).

use portolan_cli::local::LocalOptions;
use portolan_local::exposure::Risk;
use portolan_local::{exposure, list, Exposure, LocalQuery, Proto, Snapshot};
use portolan_model::Protocol;

/// The exposure report for `opts`, when `--exposure` was given; `snap`
/// is the listing already made, reused when it holds the same sockets
/// the join needs.
pub fn report(opts: &LocalOptions, snap: &Snapshot) -> Result<Option<Exposure>, String> {
    if opts.exposure.is_empty() {
        return Ok(None);
    }
    let mut named = crate::diff::Scans::new(opts.history.clone());
    let scans = opts
        .exposure
        .iter()
        .map(|w| named.load(w))
        .collect::<Result<Vec<_>, _>>()?;
    let query: LocalQuery = opts.query.for_exposure();
    let own;
    let listeners = if query == opts.query {
        snap
    } else {
        own = list(&query).map_err(|e| e.to_string())?;
        &own
    };
    let spaces =
        exposure::namespace_addresses(query.netns.as_deref()).map_err(|e| e.to_string())?;
    let mut report = exposure::join(listeners, &scans, &spaces).map_err(|e| e.to_string())?;
    let filter = opts.query.filter().map_err(|e| e.to_string())?;
    report.retain(&filter);
    let risks = portolan_checks::RiskTable::builtin();
    report.add_risk(|proto, port, service| {
        let protocol = match proto {
            Proto::Tcp => Protocol::Tcp,
            Proto::Udp => Protocol::Udp,
        };
        risks.lookup(port, protocol, service).map(|e| Risk {
            rating: e.rating.as_str().to_owned(),
            why: e.why.clone(),
        })
    });
    for h in report.hosts.iter().filter(|h| h.assumed) {
        eprintln!(
            "portolan: {} is not an address of this machine; taken as this machine (a forwarded address?)",
            h.addr
        );
    }
    for a in &report.foreign {
        eprintln!("portolan: scanned host {a} is not an address of this machine: ignored");
    }
    Ok(Some(report))
}
