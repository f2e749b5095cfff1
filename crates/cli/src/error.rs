//! Command-line errors.
//!
//! Every error names the token the user typed wrong, so that the one line
//! `portolan: <error>` is enough to fix the command without reading the
//! help page.

/// Why a command line was rejected.
///
/// `Display` is one line without a prefix; the binary prints it as
/// `portolan: {error}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An option that is not in the flag table (`--foo`, `-sZ`).
    #[error("unrecognized option \"{0}\"")]
    UnknownOption(String),
    /// A flag that needs a value came last on the line.
    #[error("{0} requires a value")]
    MissingValue(String),
    /// A switch was given a value with `=` (`--open=yes`).
    #[error("{flag} takes no value (got \"{value}\")")]
    UnexpectedValue {
        /// The flag as typed.
        flag: String,
        /// The value given to it.
        value: String,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value \"{value}\" for {flag}: expected {expected}")]
    InvalidValue {
        /// The flag as typed.
        flag: String,
        /// The rejected value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A `<time>` value that is not nmap's duration syntax.
    #[error("invalid duration \"{value}\" for {flag} (expected e.g. 500ms, 30s, 5m, 1h)")]
    InvalidDuration {
        /// The flag as typed.
        flag: String,
        /// The rejected value.
        value: String,
    },
    /// A word where a subcommand takes no positional arguments.
    #[error("portolan {command} takes no arguments besides options (got \"{arg}\")")]
    UnexpectedArgument {
        /// The subcommand.
        command: &'static str,
        /// The word.
        arg: String,
    },
    /// A flag whose feature is not built yet: rejected rather than ignored.
    #[error("{0}: not yet supported")]
    NotSupported(String),
    /// A subcommand reserved for a feature not built yet (`diff`).
    #[error("'{0}' is not yet supported")]
    SubcommandNotSupported(&'static str),
    /// `portolan help WORD` where WORD is no subcommand.
    #[error(
        "unknown subcommand \"{0}\" (subcommands: scan, diff, history, local, report, import)"
    )]
    UnknownSubcommand(String),
    /// Flags that are each valid but contradict each other; the message
    /// names both.
    #[error("{0}")]
    Conflict(String),
    /// An argument that is not valid UTF-8 (shown lossily).
    #[error("argument \"{0}\" is not valid UTF-8")]
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
