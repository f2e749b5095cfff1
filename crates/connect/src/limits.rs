//! File-descriptor budget for sockets in flight.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Descriptors kept free for output files, the runtime and the resolver.
const RESERVED_FDS: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns how many
/// sockets the scan may hold open at once (the limit less a reserve,
/// capped at `cap`).
pub fn socket_budget(cap: usize) -> usize {
    let soft = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    };
    let usable = soft.saturating_sub(RESERVED_FDS).max(8);
    usize::try_from(usable).unwrap_or(usize::MAX).min(cap)
}

#[cfg(test)]
mod tests {
    #[test]
    fn budget_is_positive_and_capped() {
        let b = super::socket_budget(500);
        assert!((8..=500).contains(&b));
    }
}
