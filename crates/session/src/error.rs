//! Why a session cannot start or did not finish.

use crate::plan::PlanError;
use portolan_netio::NetError;
use std::io;
use thiserror::Error;

/// Why a scan failed.
#[derive(Debug, Error)]
pub enum SessionError {
    /// The configuration does not make a scan.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The observer could not write (see [`crate::ScanObserver`]).
    #[error("writing output failed: {0}")]
    Output(io::Error),
    /// The raw-packet layer failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Anything else from the operating system.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The service probe database (built-in or `--service-db`) is wrong.
    #[error(transparent)]
    ServiceDb(#[from] portolan_service::DbError),
    /// The OS database (`--os-db`) is wrong: file, line and reason.
    #[error("{0}")]
    OsDb(String),
    /// A check flag is wrong (`--script`, `--script-args`, `--risk-db`).
    #[error("{0}")]
    Checks(String),
}
