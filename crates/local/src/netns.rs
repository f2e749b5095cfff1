//! `--netns NAME|all`: listing another network namespace's sockets.
//!
//! A socket belongs to the namespace it was created in, and netlink
//! `sock_diag` (like `/proc/thread-self/net`) answers for the namespace of
//! the calling thread. So the listing of a named namespace runs in a
//! short-lived thread that first `setns`es into `/run/netns/NAME` (the
//! `ip netns` convention); the process's other threads stay where they
//! are. Owners need no namespace switch: `/proc` shows every process of
//! our pid namespace whatever its network namespace.

use crate::error::LocalError;
use nix::sched::{setns, CloneFlags};

/// Where `ip netns` keeps named namespaces.
pub const NETNS_DIR: &str = "/run/netns";

/// Checks a `--netns` argument: `all`, or a name present in
/// [`NETNS_DIR`].
pub fn check_name(name: &str) -> Result<(), LocalError> {
    if name == "all" {
        return Ok(());
    }
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains('/');
    if plain && std::path::Path::new(NETNS_DIR).join(name).exists() {
        Ok(())
    } else {
        Err(LocalError::NoNetns(name.to_string()))
    }
}

/// The named namespaces, sorted.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(NETNS_DIR)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `f` in namespace `name` (in a thread of its own), or here when
/// `name` is `None`.
pub fn run_in<T: Send>(
    name: Option<&str>,
    f: impl FnOnce() -> Result<T, LocalError> + Send,
) -> Result<T, LocalError> {
    let Some(name) = name else { return f() };
    check_name(name)?;
    let path = std::path::Path::new(NETNS_DIR).join(name);
    let setns_err = |e: &dyn std::fmt::Display| LocalError::Setns {
        name: name.to_string(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(&path).map_err(|e| setns_err(&e))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| setns_err(&e))?;
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(setns_err(&"listing thread panicked")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", "..", "a/b", "portolan-no-such-ns-xyz"] {
            let e = check_name(bad).unwrap_err().to_string();
            assert_eq!(
                e,
                format!("no network namespace \"{bad}\" (not in /run/netns)")
            );
        }
        assert!(check_name("all").is_ok());
    }
}
