//! Subcommands beside the nmap-style command, dispatched the way cargo and
//! git dispatch theirs.
//!
//! Why a reserved first word and not a flag: `portolan [nmap flags]
//! TARGETS` must keep meaning exactly what it means to an nmap user, so the
//! word is looked at only in first position, and only the words below are
//! reserved. `scan` is the nmap-style command itself (the same as no
//! word); after it every word is a target, so a host that happens to be
//! called `diff` is scanned with `portolan scan diff`. The other words are
//! reserved for features still to come and answer "not yet supported"
//! rather than being taken for host names today and changing meaning
//! later. Each subcommand's flags are rows of the one flag table (its
//! `commands` column).

use crate::CliError;

/// A subcommand: the first word of the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subcommand {
    /// The nmap-style scan (also what runs without a subcommand word).
    Scan,
    /// Compare two scans.
    Diff,
    /// Past scans, and the timeline of a target.
    History,
    /// This machine's own sockets and the processes that hold them.
    Local,
    /// An HTML report of scan files.
    Report,
    /// Import nmap's or portolan's results into the history.
    Import,
}

impl Subcommand {
    /// Every subcommand, in help order.
    pub const ALL: [Subcommand; 6] = [
        Subcommand::Scan,
        Subcommand::Diff,
        Subcommand::History,
        Subcommand::Local,
        Subcommand::Report,
        Subcommand::Import,
    ];

    /// The word that selects it.
    pub fn name(self) -> &'static str {
        match self {
            Subcommand::Scan => "scan",
            Subcommand::Diff => "diff",
            Subcommand::History => "history",
            Subcommand::Local => "local",
            Subcommand::Report => "report",
            Subcommand::Import => "import",
        }
    }

    /// The subcommand `word` selects, if it is one.
    pub fn from_name(word: &str) -> Option<Subcommand> {
        Subcommand::ALL.into_iter().find(|s| s.name() == word)
    }

    /// One line for help.
    pub fn summary(self) -> &'static str {
        match self {
            Subcommand::Scan => "Scan targets with nmap's flags (the default)",
            Subcommand::Diff => "Compare two scans",
            Subcommand::History => "List past scans, or the timeline of a target's ports",
            Subcommand::Local => "List this machine's sockets, their states and owning processes",
            Subcommand::Report => {
                "Write one self-contained HTML report of scan files (XML or JSON)"
            }
            Subcommand::Import => "Import another scanner's results",
        }
    }

    /// False for the words reserved for features not built yet.
    pub fn available(self) -> bool {
        true
    }

    /// Refuses a reserved subcommand by name.
    pub(crate) fn check_available(self) -> Result<(), CliError> {
        if self.available() {
            Ok(())
        } else {
            Err(CliError::SubcommandNotSupported(self.name()))
        }
    }
}

/// Flag-table column for rows of the nmap-style scan.
pub(crate) const SCAN: &[Subcommand] = &[Subcommand::Scan];
/// Flag-table column for rows of `portolan local`.
pub(crate) const LOCAL: &[Subcommand] = &[Subcommand::Local];
/// Flag-table column for rows of `portolan diff`.
pub(crate) const DIFF: &[Subcommand] = &[Subcommand::Diff];
/// Flag-table column for rows of `portolan history`.
pub(crate) const HISTORY: &[Subcommand] = &[Subcommand::History];
/// Flag-table column for rows of `portolan import`.
pub(crate) const IMPORT: &[Subcommand] = &[Subcommand::Import];
/// Flag-table column for rows of `portolan report`.
pub(crate) const REPORT: &[Subcommand] = &[Subcommand::Report];
