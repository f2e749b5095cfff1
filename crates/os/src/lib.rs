//! OS detection (`-O`): portolan's own stack database and classifier.
//!
//! WORK IN PROGRESS (skeleton): the API below is the contract between
//! the classifier (this crate) and the session's OS stage; the body is
//! being written. `classify` answers "not enough evidence" until then.

use portolan_model::traits::{StackTraits, TraitSamples};
use portolan_model::OsReport;

/// What OS detection knows of one host.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The port scan's own replies (first SYN/ACK, RST+ACK, RST).
    pub samples: TraitSamples,
    /// Replies to OS detection's own extra probes, if it sent any.
    pub more: Vec<StackTraits>,
}

/// How to classify.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--osscan-guess`: list close guesses even when none is sure.
    pub guess: bool,
}

/// The stack database: the built-in entries plus any `--os-db` files.
#[derive(Clone, Debug, Default)]
pub struct Database {}

/// A malformed database file: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError {
    /// The file (or "built-in").
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.line, self.reason)
    }
}

impl std::error::Error for DbError {}

impl Database {
    /// The entries portolan ships.
    pub fn builtin() -> Database {
        Database {}
    }

    /// Parses a database file's text; `origin` names it in errors.
    pub fn parse(_text: &str, _origin: &str) -> Result<Database, DbError> {
        Ok(Database {})
    }

    /// Adds `other`'s entries (a user's `--os-db` file).
    pub fn merge(&mut self, _other: Database) {}

    /// Ranks the entries against `evidence`.
    pub fn classify(&self, _evidence: &Evidence, _options: &Options) -> OsReport {
        OsReport::not_enough("OS detection is not built yet")
    }
}
