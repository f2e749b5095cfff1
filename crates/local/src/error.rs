//! Errors: each one line naming what the user typed or what failed.

use thiserror::Error;

/// Why a listing failed.
#[derive(Debug, Error)]
pub enum LocalError {
    /// A `--state` word is not a state name.
    #[error("unknown socket state \"{0}\"")]
    State(String),
    /// The `-p` list does not parse.
    #[error(transparent)]
    Ports(#[from] portolan_targets::PortError),
    /// `--netns NAME` names no namespace in /run/netns.
    #[error("no network namespace \"{0}\" (not in /run/netns)")]
    NoNetns(String),
    /// Entering a namespace failed.
    #[error("cannot enter network namespace \"{name}\": {message}")]
    Setns {
        /// The namespace.
        name: String,
        /// The system's reason.
        message: String,
    },
    /// `--exposure` cannot join this scan with this machine.
    #[error("--exposure: {0}")]
    Exposure(String),
    /// The socket source failed.
    #[error("cannot list sockets ({what}): {message}")]
    Source {
        /// What was being done.
        what: String,
        /// The system's reason.
        message: String,
    },
}

impl LocalError {
    /// A source failure.
    pub(crate) fn source(what: impl Into<String>, e: impl std::fmt::Display) -> LocalError {
        LocalError::Source {
            what: what.into(),
            message: e.to_string(),
        }
    }
}
