//! Command-line errors.
//!
//! Every error names the token the user typed wrong, so that the one line
//! `portolan: <error>` is enough to fix the command without reading the
//! help page. Whatever the user typed is shown through
//! [`portolan_targets::escape_token`] (control bytes and escape sequences
//! escaped, long values cut), so an error stays one harmless line.

use portolan_targets::escape_token as esc;

/// Why a command line was rejected.
///
/// `Display` is one line without a prefix; the binary prints it as
/// `portolan: {error}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An option that is not in the flag table (`--foo`, `-sZ`).
    #[error("unrecognized option \"{}\"", esc(.0))]
    UnknownOption(String),
    /// A flag that needs a value came last on the line.
    #[error("{} requires a value", esc(.0))]
    MissingValue(String),
    /// A switch was given a value with `=` (`--open=yes`).
    #[error("{} takes no value (got \"{}\")", esc(flag), esc(value))]
    UnexpectedValue {
        /// The flag as typed.
        flag: String,
        /// The value given to it.
        value: String,
    },
    /// A value that does not parse or is out of range.
    #[error(
        "invalid value \"{}\" for {}: expected {expected}",
        esc(value),
        esc(flag)
    )]
    InvalidValue {
        /// The flag as typed.
        flag: String,
        /// The rejected value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A `<time>` value that is not nmap's duration syntax.
    #[error(
        "invalid duration \"{}\" for {} (expected e.g. 500ms, 30s, 5m, 1h)",
        esc(value),
        esc(flag)
    )]
    InvalidDuration {
        /// The flag as typed.
        flag: String,
        /// The rejected value.
        value: String,
    },
    /// A word where a subcommand takes no positional arguments.
    #[error("portolan {command} takes no arguments besides options (got \"{}\")", esc(.arg))]
    UnexpectedArgument {
        /// The subcommand.
        command: &'static str,
        /// The word.
        arg: String,
    },
    /// A subcommand was given nothing to work on.
    #[error("portolan {command} needs {what}")]
    MissingArgument {
        /// The subcommand.
        command: &'static str,
        /// What it needs.
        what: &'static str,
    },
    /// A flag whose feature is not built yet: rejected rather than ignored.
    #[error("{}: not yet supported", esc(.0))]
    NotSupported(String),
    /// A subcommand reserved for a feature not built yet (`diff`).
    #[error("'{0}' is not yet supported")]
    SubcommandNotSupported(&'static str),
    /// `portolan help WORD` where WORD is no subcommand.
    #[error(
        "unknown subcommand \"{}\" (subcommands: scan, diff, history, local, report, import)",
        esc(.0)
    )]
    UnknownSubcommand(String),
    /// Flags that are each valid but contradict each other; the message
    /// names both.
    #[error("{0}")]
    Conflict(String),
    /// An argument that is not valid UTF-8 (shown lossily).
    #[error("argument \"{}\" is not valid UTF-8", esc(.0))]
    NotUnicode(String),
}

impl CliError {
    /// An [`CliError::InvalidValue`] for `flag`.
    pub(crate) fn invalid(flag: &str, value: &str, expected: &'static str) -> Self {
        CliError::InvalidValue {
            flag: flag.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }
}
