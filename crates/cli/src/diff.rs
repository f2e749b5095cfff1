//! `portolan diff`'s options: which two scans, and how to show their
//! differences.
//!
//! The scans stay words as typed (`last`, `12`, a tag, a file name):
//! which is which needs the file system and the history store, so the
//! binary decides.

/// How the differences are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DiffFormat {
    /// ndiff's text layout.
    #[default]
    Text,
    /// ndiff's `nmapdiff` XML (`--xml`).
    Xml,
    /// JSON (`--json`).
    Json,
}

/// Everything a `portolan diff` command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffOptions {
    /// Zero, one or two scans: ids, `last`, tags or files.
    pub scans: Vec<String>,
    /// `--xml` / `--json`.
    pub format: DiffFormat,
    /// `--all`: show `open|filtered` flapping too.
    pub all: bool,
    /// `--history`: the store to read scans from.
    pub history: Option<String>,
    /// `--since AGE` (seconds): compare with the newest stored scan of
    /// the same targets that is at least this old.
    pub since: Option<u64>,
}

/// Sets the format, refusing two different ones.
pub(crate) fn set_format(
    o: &mut DiffOptions,
    flag: &str,
    f: DiffFormat,
) -> Result<(), crate::CliError> {
    if o.format != DiffFormat::Text && o.format != f {
        return Err(crate::CliError::Conflict(format!(
            "{flag}: choose one of --xml and --json"
        )));
    }
    o.format = f;
    Ok(())
}
