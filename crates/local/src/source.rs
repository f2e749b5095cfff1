//! Where sockets come from: the [`SocketSource`] trait, so other systems
//! can add their own listing (only Linux is implemented: netlink
//! `sock_diag`, with `/proc/net` as the fallback).

use crate::error::LocalError;
use crate::model::{Family, Proto, RawSocket};
use crate::query::Backend;

/// A way of listing the kernel's sockets.
pub trait SocketSource {
    /// A short name for messages and JSON (`netlink`, `procfs`).
    fn name(&self) -> &'static str;

    /// Calls `out` for each socket of `proto` and `family` whose state bit
    /// is in `states` and, when `ports` is given, whose local or remote
    /// port is in one of those inclusive ranges (a source may return more;
    /// the caller filters again).
    fn dump(
        &self,
        proto: Proto,
        family: Family,
        states: u32,
        ports: Option<&[(u16, u16)]>,
        out: &mut dyn FnMut(RawSocket),
    ) -> Result<(), LocalError>;
}

/// Opens the source `backend` asks for, in the calling thread's network
/// namespace: netlink when it opens and answers, else `/proc/net`.
pub fn open(backend: Backend) -> Result<Box<dyn SocketSource>, LocalError> {
    match backend {
        Backend::ProcNet => Ok(Box::new(crate::procnet::ProcNet)),
        Backend::Netlink => Ok(Box::new(crate::diag::Netlink::open()?)),
        Backend::Auto => match crate::diag::Netlink::open() {
            Ok(n) => {
                // A kernel without inet_diag accepts the socket but fails
                // the dump: probe once with an empty state mask.
                match n.dump(Proto::Tcp, Family::V4, 0, None, &mut |_| {}) {
                    Ok(()) => Ok(Box::new(n)),
                    Err(_) => Ok(Box::new(crate::procnet::ProcNet)),
                }
            }
            Err(_) => Ok(Box::new(crate::procnet::ProcNet)),
        },
    }
}
