//! `portolan history` and `portolan import`: reading and curating the
//! scan history that every scan writes (see [`crate::history`]).
//!
//! `history` only reads (or prunes and tags) an existing store: a
//! missing default store is an error, not a new empty file. `import`
//! creates the store like a scan does.

use crate::history::default_location;
use portolan_cli::history::{HistoryOptions, ImportOptions};
use portolan_model::rfc3339;
use portolan_store::{Location, PortTimeline, ScanRecord, Store, TimelineQuery};
use std::io::Write;
use std::process::ExitCode;

/// Runs `portolan history`; errors are one line for the caller.
pub fn history(opts: &HistoryOptions) -> Result<ExitCode, String> {
    let mut store = open(opts.history.as_deref(), false)?;
    let mut out = String::new();
    if let Some(age) = opts.prune {
        let now = now();
        let n = store
            .prune(now.saturating_sub(age))
            .map_err(|e| e.to_string())?;
        out.push_str(&format!(
            "Removed {n} scan{} started before {}\n",
            if n == 1 { "" } else { "s" },
            rfc3339(now.saturating_sub(age))
        ));
    }
    if let Some(tag) = &opts.tag {
        let word = opts.word.as_deref().unwrap_or("last");
        let id = store.resolve(word).map_err(|e| e.to_string())?;
        store.tag(id, tag).map_err(|e| e.to_string())?;
        out.push_str(&format!("Scan {id} is now tagged {tag}\n"));
    }
    let listing = opts.tag.is_none() && opts.prune.is_none();
    if listing && opts.word.is_none() && opts.port.is_none() && opts.service.is_none() {
        out.push_str(&scan_list(&store.scans().map_err(|e| e.to_string())?));
    } else if listing {
        let q = TimelineQuery {
            target: opts.word.clone(),
            port: opts.port,
            service: opts.service.clone(),
        };
        let t = store.timeline(&q).map_err(|e| e.to_string())?;
        if t.is_empty() {
            out.push_str("No stored scan saw such a port open\n");
        }
        for p in &t {
            out.push_str(&timeline(p));
        }
    }
    emit(&out)
}

/// Runs `portolan import`.
pub fn import(opts: &ImportOptions) -> Result<ExitCode, String> {
    // Every file is read before anything is written: a bad one imports
    // nothing.
    let docs = opts
        .files
        .iter()
        .map(|f| crate::diff::read_file(std::path::Path::new(f)).map(|d| (f, d)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = open(opts.history.as_deref(), true)?;
    let mut out = String::new();
    let mut last = None;
    for (file, doc) in &docs {
        let id = store.import(doc, file).map_err(|e| e.to_string())?;
        out.push_str(&format!(
            "Imported {} as scan {id} ({} host{})\n",
            portolan_targets::escape_token(file),
            doc.hosts.len(),
            if doc.hosts.len() == 1 { "" } else { "s" }
        ));
        last = Some(id);
    }
    if let (Some(tag), Some(id)) = (&opts.tag, last) {
        store.tag(id, tag).map_err(|e| e.to_string())?;
        out.push_str(&format!("Scan {id} is now tagged {tag}\n"));
    }
    emit(&out)
}

/// The store `--history` names, or the default one; `create` says
/// whether a missing SQLite file may be created.
pub fn open(history: Option<&str>, create: bool) -> Result<Store, String> {
    let location = match history {
        Some(text) => Location::parse(text),
        None => {
            default_location().ok_or("no history store: neither XDG_DATA_HOME nor HOME is set")?
        }
    };
    if let Location::Sqlite(p) = &location {
        if !create && !p.exists() {
            return Err(format!(
                "no history store at {} (scans are recorded there as they run)",
                location.display_name()
            ));
        }
    }
    Store::open(&location).map_err(|e| e.to_string())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn emit(text: &str) -> Result<ExitCode, String> {
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Err(e) if !crate::say::is_broken_pipe(&e) => Err(format!("cannot write: {e}")),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// One line per scan, oldest first.
fn scan_list(scans: &[ScanRecord]) -> String {
    let mut out = String::from("ID    STARTED               STATUS       UP    TAGS  COMMAND\n");
    for s in scans {
        let up = s.hosts_up.map_or("-".to_string(), |n| n.to_string());
        let tags = if s.tags.is_empty() {
            "-".to_string()
        } else {
            s.tags.join(",")
        };
        let mut what = if s.source == "scan" {
            s.args.clone()
        } else {
            format!("{} (imported from {})", s.args, s.source)
        };
        if let (Some(g), Some(k)) = (&s.group, &s.shard) {
            // The shards of one scan, named by its --scan-id.
            what = format!("[{g}: shard {k}] {what}");
        }
        out.push_str(&format!(
            "{:<5} {} {:<12} {up:<5} {tags:<5} {}\n",
            s.id,
            rfc3339(s.start_time),
            s.status.as_str(),
            printable(&what)
        ));
    }
    out.push_str(&shard_groups(scans));
    out
}

/// One line per sharded scan (`--scan-id`) still missing shards: which.
fn shard_groups(scans: &[ScanRecord]) -> String {
    let mut groups: Vec<(&str, u32)> = Vec::new();
    for s in scans {
        if let (Some(g), Some(n)) = (s.group.as_deref(), s.shard_count()) {
            if !groups.contains(&(g, n)) {
                groups.push((g, n));
            }
        }
    }
    groups
        .into_iter()
        .filter_map(|(g, n)| {
            portolan_store::missing_shards_text(scans, g, n)
                .map(|m| format!("scan {}: {m}\n", printable(g)))
        })
        .collect()
}

/// A port's timeline: a summary line, then each change.
fn timeline(t: &PortTimeline) -> String {
    let seen = |s: Option<(i64, u64)>| {
        s.map_or("never".to_string(), |(id, at)| {
            format!("{} (scan {id})", rfc3339(at))
        })
    };
    let mut out = format!(
        "{} {}/{}: first seen open {}, last seen open {}, in {} scan{}\n",
        t.addr,
        t.port,
        t.protocol,
        seen(t.first_open),
        seen(t.last_open),
        t.scans,
        if t.scans == 1 { "" } else { "s" }
    );
    for e in &t.changes {
        let service = e.service.as_deref().map(printable).unwrap_or_default();
        out.push_str(
            format!(
                "  {}  scan {:<5} {:<14} {service}",
                rfc3339(e.time),
                e.scan,
                e.state.as_str()
            )
            .trim_end(),
        );
        out.push('\n');
    }
    out
}

/// `text` with control characters (from a file or the network) shown as
/// `?`, so they cannot drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// An age in seconds as `--prune`/`--since` take it: `7d`, `36h`, or
/// seconds when neither fits.
pub fn age_text(secs: u64) -> String {
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s => format!("{s}s"),
    }
}
