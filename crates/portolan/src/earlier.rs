//! The hosts a resumed scan's earlier runs finished, for `-oH`.
//!
//! Why: nmap's formats continue their files (the checkpoint cut them
//! after its last finished host), but the HTML report is rewritten whole
//! from what it has gathered, so a resumed run must give it the earlier
//! hosts first. They are read back from where they already are, exactly
//! the checkpoint's finished hosts: the scan's own JSON lines (`-oJ`, up
//! to the checkpoint's length: the model exactly), else its XML (`-oX`,
//! closed after that length), else its history store. With none of
//! these the report can only hold this run's hosts, and says so.

use crate::checkpoint::Checkpoint;
use portolan_cli::Options;
use portolan_model::HostResult;
use std::collections::HashSet;
use std::io::{BufReader, Read};
use std::net::IpAddr;
use std::path::Path;

/// The earlier runs' finished hosts, when the scan writes `-oH`; the
/// error says why they cannot be had (the run goes on without them).
pub fn hosts(opts: &Options, cp: &Checkpoint) -> Result<Vec<HostResult>, String> {
    if opts.output.html.is_none() || cp.done.is_empty() {
        return Ok(Vec::new());
    }
    let done: HashSet<IpAddr> = cp.done.iter().copied().collect();
    let keep = |hosts: Vec<HostResult>| -> Vec<HostResult> {
        hosts
            .into_iter()
            .filter(|h| done.contains(&h.addr))
            .collect()
    };
    let mark = |path: &Option<std::path::PathBuf>| {
        let path = path.as_ref()?;
        cp.files.iter().find(|m| &m.path == path)
    };
    if let Some(m) = mark(&opts.output.json) {
        let f = open(&m.path)?.take(m.len);
        let doc = portolan_output::read::read_json(BufReader::new(f))
            .map_err(|e| format!("{}: {e}", m.path.display()))?;
        return Ok(keep(doc.hosts));
    }
    if let Some(m) = mark(&opts.output.xml) {
        let mut text = String::new();
        open(&m.path)?
            .take(m.len)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: {e}", m.path.display()))?;
        text.push_str("</nmaprun>\n");
        let doc = portolan_output::read::read_xml_str(&text)
            .map_err(|e| format!("{}: {e}", m.path.display()))?;
        return Ok(keep(doc.hosts));
    }
    if let (Some(loc), Some(id)) = (crate::history::location(opts), cp.history_scan) {
        let doc = portolan_store::Store::open(&loc)
            .and_then(|mut s| s.load(id))
            .map_err(|e| e.to_string())?;
        return Ok(keep(doc.hosts));
    }
    Err("the scan has no -oJ, -oX or history store to read them from".into())
}

fn open(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))
}
