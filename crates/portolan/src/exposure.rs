//! `portolan local --exposure`: fetching the outside scans and joining
//! them with this machine's listeners.
//!
//! The join is `portolan_local::exposure`'s; this module only turns each
//! `--exposure` argument into a [`ScanDocument`]. Today that is a file,
//! read by portolan's own readers whatever its format: portolan's JSON
//! lines, or XML in nmap's format (portolan's `-oX` or nmap's). The scan
//! history store, once it exists, adds a [`ScanInput`] variant that hands
//! over a stored scan as the same model document; nothing else changes.

use portolan_cli::local::LocalOptions;
use portolan_local::{exposure, list, Exposure, LocalQuery, Snapshot};
use portolan_model::ScanDocument;
use portolan_output::read::{read_json, read_xml};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Where one outside scan comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanInput {
    /// A portolan (`-oJ`, `-oX`) or nmap (`-oX`) output file.
    File(PathBuf),
}

impl ScanInput {
    /// Reads the scan; errors are one line naming the file.
    pub fn load(&self) -> Result<ScanDocument, String> {
        match self {
            ScanInput::File(path) => {
                let name = path.display();
                let f = File::open(path).map_err(|e| format!("cannot read \"{name}\": {e}"))?;
                let mut r = BufReader::new(f);
                let head = r
                    .fill_buf()
                    .map_err(|e| format!("cannot read \"{name}\": {e}"))?;
                let first = head
                    .strip_prefix(b"\xef\xbb\xbf")
                    .unwrap_or(head)
                    .iter()
                    .find(|b| !b.is_ascii_whitespace());
                let doc = match first {
                    Some(b'<') => read_xml(r),
                    Some(b'{') => read_json(r),
                    _ => {
                        return Err(format!(
                            "\"{name}\": not a scan output file (portolan JSON or XML, nmap XML)"
                        ))
                    }
                };
                doc.map_err(|e| format!("\"{name}\": {e}"))
            }
        }
    }
}

/// The exposure report for `opts`, when `--exposure` was given; `snap`
/// is the listing already made, reused when it holds the same sockets
/// the join needs.
pub fn report(opts: &LocalOptions, snap: &Snapshot) -> Result<Option<Exposure>, String> {
    if opts.exposure.is_empty() {
        return Ok(None);
    }
    let scans = opts
        .exposure
        .iter()
        .map(|p| ScanInput::File(p.clone()).load())
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
