//! The `portolan` command line, parsed exactly as nmap users type it, and
//! converted into the session library's [`ScanConfig`](portolan_session::ScanConfig)
//! ([`Options::scan_config`]).
//!
//! Why a hand parser: nmap's syntax (`-sT`, `-p-`, `-oX out.xml`,
//! `-oXout.xml`, `-top-ports 100`, `-sSU`, `-vv`) is getopt_long_only's, and
//! no argument-parsing crate accepts all of it. Why one table: every flag is
//! a single row in [`flags`], from which the parser, `--help` and later the
//! man page and shell completions are all derived, so they cannot drift
//! apart.
//!
//! This module only reads argv. It keeps target specifications, port lists
//! and file names raw; expanding them needs files, DNS and interfaces, and
//! belongs to the scanner. It rejects, by name, flags whose feature is not
//! built yet instead of accepting and ignoring them.
//!
//! A reserved first word selects a subcommand, as with cargo and git
//! (see [`Subcommand`]); without one the command line is nmap's.
//!
//! ```
//! use portolan_cli::{parse, Command};
//! let args = ["-sT", "-p-", "198.18.0.1"].map(std::ffi::OsString::from);
//! let Ok(Command::Scan(opts)) = parse(args) else { panic!() };
//! assert_eq!(opts.ports.as_deref(), Some("-"));
//! ```

#![warn(missing_docs)]

pub mod diff;
mod error;
pub mod flags;
mod help;
pub mod history;
pub mod local;
mod options;
mod parse;
pub mod report;
mod subcommand;
mod values;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_checks;
#[cfg(test)]
mod tests_subcommands;

pub use error::CliError;
pub use help::{help_text, subcommand_help, version_text};
pub use options::{
    NetOptions, Options, OutputOptions, PingKind, PingOption, TimingOptions, VersionFlags,
};
pub use parse::parse;
pub use portolan_model::ScanType;
pub use subcommand::Subcommand;

/// What the command line asks `portolan` to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Run a scan with these options.
    Scan(Box<Options>),
    /// Print [`help_text`] and exit successfully (`-h`, `--help`,
    /// `help`, `help scan`, or no arguments).
    Help,
    /// Print [`subcommand_help`] for this subcommand and exit successfully
    /// (`portolan help diff`).
    SubcommandHelp(Subcommand),
    /// Print [`version_text`] and exit successfully (`-V`, `--version`).
    Version,
    /// `portolan local`: list this machine's sockets.
    Local(Box<local::LocalOptions>),
    /// `portolan diff`: compare two scans.
    Diff(Box<diff::DiffOptions>),
    /// `portolan history`: list scans, timelines, prune, tag.
    History(Box<history::HistoryOptions>),
    /// `portolan import`: files into the history store.
    Import(Box<history::ImportOptions>),
    /// `portolan report`: an HTML report of scan files.
    Report(report::ReportOptions),
    /// `portolan --resume FILE`: continue the scan a checkpoint (or an
    /// output file with its checkpoint beside it) describes. It takes no
    /// other argument: the checkpoint holds the options.
    Resume(std::path::PathBuf),
}
