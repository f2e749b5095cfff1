//! OS detection (`-O`): portolan's own stack database and classifier.
//!
//! The session's OS stage hands [`Database::classify`] a host's
//! [`Evidence`] (the SYN/ACK and RST+ACK its scan, or OS detection's own
//! SYNs, drew) and gets an [`OsReport`]: a ranked list of labels with
//! accuracies, or "not enough evidence" with the reason. This crate sends
//! nothing and reads no files: the caller reads `--os-db` files and
//! passes their text to [`Database::parse`].
//!
//! - `features`: the evidence reduced to the database's features, and
//!   their one-line text form (the "OS fingerprint:" users see, which is
//!   also the database's `fp` line);
//! - `db`: the database's text format and its parser;
//! - `classify`: the scoring model (see its docs for the weights).
//!
//! The built-in database (`data/`) holds the Hershel+ stacks converted by
//! `scripts/os-db/convert-hershelplus.py` (BSD-3-Clause, notice kept in
//! the file) and Linux captures made by `scripts/os-db/capture-linux.sh`.

mod classify;
pub mod db;
pub mod features;

pub use classify::RtoStats;
pub use db::Entry;
pub use features::{initial_ttl, Features, TimeoutRst};

use portolan_model::traits::{StackTraits, TraitSamples};
use portolan_model::{OsMatch, OsReport};

/// The built-in database files, in the order they are read.
const BUILTIN: [(&str, &str); 2] = [
    ("linux.osdb", include_str!("../data/linux.osdb")),
    ("hershelplus.osdb", include_str!("../data/hershelplus.osdb")),
];

/// Matches listed at most.
const MAX_MATCHES: usize = 10;
/// The lowest accuracy listed; with `--osscan-guess`, the lowest guess.
const MIN_ACCURACY: f64 = 85.0;
const MIN_GUESS: f64 = 50.0;

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
pub struct Database {
    entries: Vec<Entry>,
    rto: Vec<RtoStats>,
}

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
    /// The entries portolan ships (checked by this crate's tests, so a
    /// broken built-in file never reaches a release).
    pub fn builtin() -> Database {
        let mut db = Database::default();
        for (name, text) in BUILTIN {
            match Database::parse(text, name) {
                Ok(part) => db.merge(part),
                Err(e) => panic!("built-in OS database: {e}"),
            }
        }
        db
    }

    /// Parses a database file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Database, DbError> {
        Ok(Database::from_entries(db::parse(text, origin)?))
    }

    /// A database of `entries`.
    pub fn from_entries(entries: Vec<Entry>) -> Database {
        let rto = entries.iter().map(|e| RtoStats::of(&e.rto)).collect();
        Database { entries, rto }
    }

    /// Adds `other`'s entries (a user's `--os-db` file) before the
    /// built-in ones of equal score: the user's own capture wins a tie.
    pub fn merge(&mut self, other: Database) {
        let mut entries = other.entries;
        let mut rto = other.rto;
        entries.append(&mut self.entries);
        rto.append(&mut self.rto);
        self.entries = entries;
        self.rto = rto;
    }

    /// The entries, in ranking order of ties.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Ranks the entries against `evidence`.
    pub fn classify(&self, evidence: &Evidence, options: &Options) -> OsReport {
        let f = Features::from_samples(&evidence.samples, &evidence.more);
        if !f.has_syn_ack() {
            let why = if f.closed_ttl.is_some() {
                "not enough evidence: only a closed port answered, and a SYN/ACK from an open port is needed"
            } else {
                "not enough evidence: no open or closed TCP port answered"
            };
            let mut r = OsReport::not_enough(why);
            r.fingerprint = f.to_string();
            return r;
        }
        self.classify_features(&f, options)
    }

    /// Ranks the entries against `f` (published records come as features
    /// directly, RTOs included).
    pub fn classify_features(&self, f: &Features, options: &Options) -> OsReport {
        let mut ranked: Vec<(f64, u32, usize)> = self
            .entries
            .iter()
            .zip(&self.rto)
            .enumerate()
            .map(|(i, (e, rto))| {
                let (acc, compared) = classify::score(e, rto, f);
                (acc, compared, i)
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let floor = if options.guess {
            MIN_GUESS
        } else {
            MIN_ACCURACY
        };
        let mut matches: Vec<OsMatch> = Vec::new();
        for &(acc, _, i) in &ranked {
            if matches.len() == MAX_MATCHES || acc < floor {
                break;
            }
            let e = &self.entries[i];
            if matches.iter().any(|m| m.name == e.name) {
                continue;
            }
            let accuracy = acc.round().clamp(0.0, 100.0) as u8;
            let classes = e
                .classes
                .iter()
                .map(|c| portolan_model::OsClass {
                    accuracy,
                    ..c.clone()
                })
                .collect();
            matches.push(OsMatch {
                name: e.name.clone(),
                accuracy,
                classes,
            });
        }
        let no_match = if matches.is_empty() {
            Some(match ranked.first() {
                Some(&(acc, _, i)) => format!(
                    "no database entry is close enough: the nearest, {}, is {:.0}%{}",
                    self.entries[i].name,
                    acc,
                    if options.guess {
                        ""
                    } else {
                        " (--osscan-guess lists guesses from 50%)"
                    }
                ),
                None => "the OS database is empty".to_string(),
            })
        } else {
            None
        };
        OsReport {
            matches,
            no_match,
            distance: f
                .observed_ttl
                .map(|t| initial_ttl(t).saturating_sub(t).saturating_add(1)),
            uptime: None,
            fingerprint: f.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "match Linux 6.12\n\
        class Linux | Linux | 6.X | general purpose | cpe:/o:linux:linux_kernel:6\n\
        source test\n\
        fp ttl=64 df=1 win=64240 opts=MSTNW mss=1460 ws=7\n\
        match Windows 10\n\
        class Microsoft | Windows | 10 | general purpose | cpe:/o:microsoft:windows_10\n\
        source test\n\
        fp ttl=128 df=1 win=65535 opts=MNWNNST mss=1460 ws=8\n";

    fn linux_features() -> Features {
        Features {
            ttl: Some(64),
            observed_ttl: Some(63),
            df: Some(true),
            win: Some(64240),
            opts: Some("MSTNW".into()),
            mss: Some(1460),
            ws: Some(7),
            ..Features::default()
        }
    }

    #[test]
    fn the_builtin_database_reads() {
        let db = Database::builtin();
        assert!(db.entries().len() > 300, "{}", db.entries().len());
        assert!(db.entries().iter().all(|e| !e.source.is_empty()));
    }

    #[test]
    fn a_match_is_ranked_with_classes_distance_and_fingerprint() {
        let db = Database::parse(TWO, "t").unwrap();
        let r = db.classify_features(&linux_features(), &Options::default());
        assert_eq!(r.matches.len(), 1);
        assert_eq!(r.matches[0].name, "Linux 6.12");
        assert_eq!(r.matches[0].accuracy, 100);
        assert_eq!(r.matches[0].classes[0].accuracy, 100);
        assert_eq!(r.distance, Some(2));
        assert_eq!(
            r.fingerprint,
            "ttl=64 df=1 win=64240 opts=MSTNW mss=1460 ws=7"
        );
    }

    #[test]
    fn linux_with_ttl_128_is_not_windows() {
        let db = Database::parse(TWO, "t").unwrap();
        let mut f = linux_features();
        f.ttl = Some(128);
        f.observed_ttl = Some(128);
        let r = db.classify_features(&f, &Options::default());
        assert!(r.matches.is_empty(), "{r:?}");
        assert!(r.no_match.unwrap().contains("Linux 6.12, is 50%"));
        let g = db.classify_features(&f, &Options { guess: true });
        assert_eq!(g.matches.len(), 1);
        assert_eq!(g.matches[0].name, "Linux 6.12");
        assert!(g.matches[0].accuracy < OsReport::SURE);
    }

    #[test]
    fn no_syn_ack_is_not_enough_evidence() {
        let db = Database::builtin();
        let r = db.classify(&Evidence::default(), &Options { guess: true });
        assert!(r.matches.is_empty());
        assert!(r.no_match.unwrap().starts_with("not enough evidence"));
    }

    #[test]
    fn a_users_entry_wins_a_tie() {
        let mut db = Database::parse(TWO, "t").unwrap();
        let mine = TWO.replace("match Linux 6.12", "match My Linux");
        db.merge(Database::parse(&mine, "mine").unwrap());
        let r = db.classify_features(&linux_features(), &Options::default());
        assert_eq!(r.matches[0].name, "My Linux");
    }
}
