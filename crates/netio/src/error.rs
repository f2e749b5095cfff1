//! Errors of the raw-packet layer.
//!
//! Every variant says what went wrong in terms a user can act on: which
//! interface or address was wrong, which privilege is missing and how to
//! grant it, or which system call failed and why.

use std::io;
use std::net::IpAddr;

/// The message shown when raw sockets cannot be opened.
pub const PRIVILEGE_HINT: &str = "raw-packet scans need CAP_NET_RAW (run as root, or grant it: \
     sudo setcap cap_net_raw,cap_net_admin+eip $(which portolan))";

/// An interface name as an error quotes it: escaped, and cut when longer
/// than any interface name can be (Linux allows 15 bytes), so a hostile
/// or mistaken `-e` value cannot flood the terminal.
fn shown_name(name: &str) -> String {
    const SHOWN: usize = 32;
    if name.chars().count() <= SHOWN {
        return format!("{name:?}");
    }
    let cut: String = name.chars().take(SHOWN).collect();
    format!(
        "{cut:?}... ({} characters; interface names have at most 15)",
        name.chars().count()
    )
}

/// What can go wrong while finding a route or opening raw-packet sockets.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The process may not open raw or packet sockets.
    #[error("{PRIVILEGE_HINT}")]
    NoPrivilege,
    /// An interface named by the user (`-e`) does not exist.
    #[error("no such network interface: {}", shown_name(name))]
    UnknownInterface {
        /// The name that was given.
        name: String,
    },
    /// The interface has no address of the family the target needs.
    #[error("interface {interface} has no {family} address to send from")]
    NoAddress {
        /// The interface that was searched.
        interface: String,
        /// "IPv4" or "IPv6".
        family: &'static str,
    },
    /// A source address (`-S`) is not of the target's address family.
    #[error("source address {src} and target {dst} are of different IP versions")]
    FamilyMismatch {
        /// The source address given.
        src: IpAddr,
        /// The target address.
        dst: IpAddr,
    },
    /// A source address (`-S`) is not assigned to any local interface, and
    /// no interface (`-e`) says where to send from.
    #[error(
        "source address {src} is not assigned to a local interface; name one with -e to spoof it"
    )]
    SourceNotLocal {
        /// The source address given.
        src: IpAddr,
    },
    /// The target address cannot be scanned at all (unspecified address).
    #[error("cannot scan {dst}: not a unicast target address")]
    BadTarget {
        /// The target address.
        dst: IpAddr,
    },
    /// The kernel has no route to the target.
    #[error("no route to {dst}: {source}")]
    NoRoute {
        /// The target address.
        dst: IpAddr,
        /// The kernel's answer.
        source: io::Error,
    },
    /// The configuration asks for something this layer cannot do.
    #[error("invalid raw-packet configuration: {0}")]
    Config(String),
    /// A system call failed.
    #[error("{op} failed: {source}")]
    Os {
        /// The call and what it was for, e.g. "mmap of the receive ring".
        op: &'static str,
        /// The error the kernel returned.
        source: io::Error,
    },
}

impl NetError {
    /// Wraps the error of system call `op`, turning permission errors into
    /// [`NetError::NoPrivilege`] so the user learns how to fix them.
    pub(crate) fn os(op: &'static str, source: io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => NetError::NoPrivilege,
            _ => NetError::Os { op, source },
        }
    }

    /// The error of the last system call made by this thread, with context.
    pub(crate) fn last_os(op: &'static str) -> Self {
        Self::os(op, io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_interface_name_is_cut_in_the_error() {
        let e = NetError::UnknownInterface {
            name: "x".repeat(300),
        };
        let text = e.to_string();
        assert!(text.len() < 120, "{text}");
        assert!(text.contains("300 characters"), "{text}");
        let e = NetError::UnknownInterface {
            name: "eth\u{1b}[2J".into(),
        };
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
    }
}
