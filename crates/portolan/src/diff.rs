//! `portolan diff`: which two scans to compare, read from the history
//! store or from files, compared by `portolan_diff` and written as text,
//! XML or JSON. Exit status as ndiff's: 0 same, 1 different, 2 error.
//!
//! A word names a stored scan when it is `last` or a number, a file when
//! such a file exists, and a tag otherwise ([`Scans`], which `portolan
//! local --exposure` shares). The default store is only
//! read: a missing one is an error, not a new empty file.

use portolan_cli::diff::{DiffFormat, DiffOptions};
use portolan_diff::{diff, write_text, write_xml, DiffOptions as Rules};
use portolan_model::ScanDocument;
use portolan_store::{ScanId, ScanRecord, Store};
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

/// Runs `portolan diff`.
pub fn run(opts: &DiffOptions) -> ExitCode {
    match compare(opts) {
        Ok(true) => ExitCode::from(1),
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => {
            crate::say::err(format_args!("portolan diff: {e}"));
            ExitCode::from(2)
        }
    }
}

/// The scans' documents, compared and written; true when they differ.
fn compare(opts: &DiffOptions) -> Result<bool, String> {
    let mut scans = Scans::new(opts.history.clone());
    let (a, b) = match (opts.since, opts.scans.as_slice()) {
        (Some(age), [_, _, ..]) => {
            return Err(format!(
                "--since {}: name at most one scan (the newer side)",
                crate::history_cmd::age_text(age)
            ))
        }
        (Some(age), words) => {
            let newest = words.first().map_or("last", String::as_str);
            let store = scans.store()?;
            let b = store.resolve(newest).map_err(|e| e.to_string())?;
            let a = store.older_than(b, age)?;
            (scans.stored(a)?, scans.stored(b)?)
        }
        (None, []) => {
            let (a, b) = scans.store()?.last_pair()?;
            (scans.stored(a)?, scans.stored(b)?)
        }
        (None, [a]) => (scans.load(a)?, scans.load("last")?),
        (None, [a, b, ..]) => (scans.load(a)?, scans.load(b)?),
    };
    let d = diff(&a, &b, Rules { all: opts.all });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match opts.format {
        DiffFormat::Text => write_text(&mut out, &d),
        DiffFormat::Xml => write_xml(&mut out, &d),
        DiffFormat::Json => serde_json::to_writer_pretty(&mut out, &d)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if !crate::say::is_broken_pipe(&e) => Err(format!("cannot write: {e}")),
        _ => Ok(d.differs()),
    }
}

/// A scan output file: nmap's or portolan's XML, or portolan's JSON.
pub fn read_file(path: &Path) -> Result<ScanDocument, String> {
    let name = portolan_targets::escape_token(&path.to_string_lossy());
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read \"{name}\": {e}"))?;
    portolan_output::read::read_any(BufReader::new(f)).map_err(|e| format!("\"{name}\": {e}"))
}

/// Scans named by words (see the module docs), with the history store
/// opened only when a word needs it.
pub struct Scans {
    history: Option<String>,
    store: Option<Store>,
}

impl Scans {
    /// Names resolved against `history` (`--history`; the default store
    /// when `None`).
    pub fn new(history: Option<String>) -> Self {
        Scans {
            history,
            store: None,
        }
    }

    /// The scan `word` names: a file when it looks like one or exists,
    /// else `last`, an id or a tag in the store.
    pub fn load(&mut self, word: &str) -> Result<ScanDocument, String> {
        let numeric = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
        let file_like = word.contains('/') || word.ends_with(".xml") || word.ends_with(".json");
        if word != "last" && !numeric && (file_like || Path::new(word).is_file()) {
            return read_file(Path::new(word));
        }
        let store = self.store().map_err(|e| {
            if word == "last" || numeric {
                return e;
            }
            format!(
                "{} is no scan file, and {e}",
                portolan_targets::escape_token(word)
            )
        })?;
        let id = store.resolve(word).map_err(|e| e.to_string())?;
        self.stored(id)
    }

    /// The stored scan of the same targets before the one `word` names,
    /// if there is one (for a report's changes).
    pub fn earlier(&mut self, word: &str) -> Result<Option<(ScanId, ScanDocument)>, String> {
        let store = self.store()?;
        let id = store.resolve(word).map_err(|e| e.to_string())?;
        let scans = store.scans().map_err(|e| e.to_string())?;
        let Some(this) = scans.iter().find(|s| s.id == id) else {
            return Ok(None);
        };
        let before =
            same_targets_before(&scans, this, |s| s.id < id && s.group.is_none()).map(|s| s.id);
        match before {
            Some(b) => Ok(Some((b, self.stored(b)?))),
            None => Ok(None),
        }
    }

    fn store(&mut self) -> Result<&mut Store, String> {
        if self.store.is_none() {
            self.store = Some(crate::history_cmd::open(self.history.as_deref(), false)?);
        }
        Ok(self.store.as_mut().expect("just opened"))
    }

    fn stored(&mut self, id: ScanId) -> Result<ScanDocument, String> {
        self.store()?.load(id).map_err(|e| e.to_string())
    }
}

/// The last two scans of the same targets; the newest scan of the same
/// targets as another and at least some age older.
trait LastPair {
    fn last_pair(&mut self) -> Result<(ScanId, ScanId), String>;
    fn older_than(&mut self, newer: ScanId, age: u64) -> Result<ScanId, String>;
}

impl LastPair for Store {
    fn last_pair(&mut self) -> Result<(ScanId, ScanId), String> {
        let scans = self.scans().map_err(|e| e.to_string())?;
        let newest = scans.last().ok_or("the history store holds no scan yet")?;
        let older = same_targets_before(&scans, newest, |_| true)
            .ok_or_else(|| {
                format!(
                    "no earlier scan of the same targets as scan {} (name two scans: portolan diff A B)",
                    newest.id
                )
            })?;
        Ok((older.id, newest.id))
    }

    fn older_than(&mut self, newer: ScanId, age: u64) -> Result<ScanId, String> {
        let scans = self.scans().map_err(|e| e.to_string())?;
        let b = scans
            .iter()
            .find(|s| s.id == newer)
            .ok_or_else(|| format!("no scan {newer} in the history store"))?;
        let cutoff = b.start_time.saturating_sub(age);
        same_targets_before(&scans, b, |s| s.start_time <= cutoff)
            .map(|s| s.id)
            .ok_or_else(|| {
                format!(
                    "no scan of the same targets as scan {newer} at least {} older",
                    crate::history_cmd::age_text(age)
                )
            })
    }
}

/// The newest scan in `scans` other than `this`, of the same targets, that
/// `keep` accepts.
fn same_targets_before<'a>(
    scans: &'a [ScanRecord],
    this: &ScanRecord,
    keep: impl Fn(&ScanRecord) -> bool,
) -> Option<&'a ScanRecord> {
    scans
        .iter()
        .rev()
        .find(|s| s.id != this.id && s.targets == this.targets && keep(s))
}
