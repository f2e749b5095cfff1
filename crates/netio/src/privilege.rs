//! Whether this process may use raw sockets at all.
//!
//! Raw-packet scans fail late and confusingly without `CAP_NET_RAW`, so the
//! front end asks first and, if the answer is no, either falls back to a
//! connect scan or tells the user exactly what to grant.

/// Returns true if the process may open raw sockets (it has `CAP_NET_RAW`
/// in its network namespace). Any failure to open one counts as "no".
pub fn has_raw_privilege() -> bool {
    // SAFETY: socket(2) takes no pointers; the returned descriptor, if any,
    // is owned by nobody else and is closed right here.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    };
    if fd < 0 {
        return false;
    }
    // SAFETY: `fd` is a descriptor we just opened and nothing else uses.
    unsafe { libc::close(fd) };
    true
}
