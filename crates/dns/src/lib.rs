//! Reverse DNS for many hosts at once, as nmap does it.
//!
//! A scan can find thousands of hosts a second, and the system resolver
//! answers one `getnameinfo` call at a time per thread, each waiting out
//! its own timeouts. So, like nmap's mass DNS, this crate asks the name
//! servers itself: hundreds of PTR queries in flight over one connected
//! UDP socket per server, retransmitted after a timeout to the next server
//! in rotation, with `/etc/hosts` answering first and servers that cannot
//! be reached dropped at once so they never stall a scan. Loopback
//! addresses are named by the hosts file only (RFC 6303 zones), so
//! scanning the local machine sends nothing to a name server.
//!
//! [`wire`] is the message format, [`config`] reads `/etc/resolv.conf`
//! and `/etc/hosts`, [`state`] is the resolver's logic without I/O, and
//! [`ReverseResolver`] runs it on a thread (or, for `--system-dns`, runs
//! `getnameinfo` on a pool of threads).

pub mod config;
mod resolver;
pub mod state;
pub mod wire;

pub use config::ResolverConfig;
pub use resolver::ReverseResolver;
pub use state::Answer;
