//! The one error type of the testbed crate.

use std::io;

/// Everything that can go wrong while building, configuring or tearing down a testbed.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    /// An external command (`ip`, `nft`, ...) could not be started.
    #[error("could not run `{cmd}`: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// Why it could not be started.
        source: io::Error,
    },
    /// An external command ran but exited unsuccessfully.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        cmd: String,
        /// Its exit status, as text.
        status: String,
        /// The tail of its standard error.
        stderr: String,
    },
    /// Entering a network namespace failed.
    #[error("cannot enter network namespace {ns}: {source}")]
    Netns {
        /// The namespace name.
        ns: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A socket or file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A target index that this testbed does not have.
    #[error("no target {0} in this testbed")]
    NoSuchTarget(usize),
    /// A configuration value that cannot be honoured.
    #[error("invalid testbed configuration: {0}")]
    Config(String),
}

impl TestbedError {
    /// Wraps an I/O error with a description of what was being done.
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Self {
        TestbedError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = TestbedError> = std::result::Result<T, E>;
