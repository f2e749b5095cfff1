//! The one error type of packet parsing and emitting.

/// Why a packet could not be parsed or emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer ends before the header or length it announces.
    #[error("{what} truncated: needs {need} bytes, has {have}")]
    Truncated {
        /// The layer that was cut short (`ipv4`, `tcp`, ...).
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// A header field holds a value the format forbids.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// The layer (`ipv4`, `tcp`, ...).
        what: &'static str,
        /// The offending field and why.
        why: &'static str,
    },
    /// A checksum does not verify.
    #[error("bad {what} checksum")]
    Checksum {
        /// The layer whose checksum failed.
        what: &'static str,
    },
    /// The output buffer is too small for the packet to emit.
    #[error("buffer too small: packet needs {need} bytes, buffer has {have}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// Source and destination addresses are of different IP families.
    #[error("source and destination addresses are of different IP families")]
    FamilyMismatch,
    /// TCP options longer than 40 bytes.
    #[error("TCP options too long: {0} bytes, at most 40")]
    OptionsTooLong(usize),
}

pub(crate) fn truncated(what: &'static str, need: usize, have: usize) -> Error {
    Error::Truncated { what, need, have }
}

pub(crate) fn need(what: &'static str, buf: &[u8], need: usize) -> Result<(), Error> {
    if buf.len() < need {
        Err(truncated(what, need, buf.len()))
    } else {
        Ok(())
    }
}
