//! Portolan's scan history: every scan, its hosts and ports, kept in a
//! database so that later commands (`history`, `diff`, `import`) can
//! compare runs.
//!
//! Why one schema on two databases: a single user wants nothing to set up,
//! so the default is an SQLite file; a team (or shards of one scan on
//! several machines) wants one shared store, so PostgreSQL is the second
//! backend. Both run the same schema ([`schema`]) and the same SQL text;
//! the backend only executes it ([`conn`]).
//!
//! Why streamed, transactional writes: a scan is recorded while it runs.
//! [`Store::begin_scan`] commits the scan's row with status `running`,
//! each [`Store::add_host`] commits one host, and [`Store::finish_scan`]
//! sets the final status (`complete` or `interrupted`). A crash loses only
//! the hosts in flight, and the scan row says it never finished.
//!
//! ```
//! use portolan_store::{Location, Store};
//! let dir = std::env::temp_dir().join(format!("portolan-store-doc-{}", std::process::id()));
//! let mut store = Store::open(&Location::Sqlite(dir.join("h.sqlite"))).unwrap();
//! assert!(store.scans().unwrap().is_empty());
//! # std::fs::remove_dir_all(dir).unwrap();
//! ```

mod codec;
mod conn;
mod error;
mod pg;
mod read;
pub mod schema;
mod sqlite;
mod timeline;
mod value;
mod write;

pub use conn::Backend;
pub use error::StoreError;
pub use read::{missing_shards_text, ScanRecord, ScanStatus};
pub use timeline::{PortEvent, PortTimeline, TimelineQuery};
pub use write::ScanMeta;

use conn::Conn;
use portolan_model::Protocol;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The ports a scan covers, per protocol, sorted.
pub(crate) type Coverage = Arc<Vec<(Protocol, Vec<u16>)>>;

/// A scan's number in the store.
pub type ScanId = i64;

/// Where a store is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file (created with its directory when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host:port/db`).
    Postgres(String),
}

impl Location {
    /// `--history`'s value: a `postgres://` or `postgresql://` URL, else a
    /// file path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(text))
        }
    }

    /// How messages name the store: the path, or the URL without its
    /// password.
    pub fn display_name(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("\"{}\"", p.display()),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// `url` with the password (between `user:` and `@`) replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (auth, host),
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// An open store, migrated to this build's schema.
pub struct Store {
    conn: Box<dyn Conn>,
    /// Each scan's covered ports, per protocol, sorted (for the compact
    /// storage of a host's most common state).
    coverage: HashMap<ScanId, Coverage>,
}

impl Store {
    /// Opens the store at `location`, creating or migrating its schema.
    /// A corrupt or foreign file, a newer schema or an unreachable server
    /// is an error, and nothing is written.
    pub fn open(location: &Location) -> Result<Store, StoreError> {
        let name = location.display_name();
        let mut conn: Box<dyn Conn> = match location {
            Location::Sqlite(path) => Box::new(sqlite::Sqlite::open(path, &name)?),
            Location::Postgres(url) => Box::new(pg::Postgres::connect(url, &name)?),
        };
        schema::migrate(conn.as_mut(), &name)?;
        conn.ready()?;
        Ok(Store {
            conn,
            coverage: HashMap::new(),
        })
    }

    /// Which database this store is.
    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    /// Runs `f` in one write transaction: committed when it succeeds,
    /// rolled back when it fails.
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.begin_write()?;
        match f(self.conn.as_mut()) {
            Ok(v) => {
                self.conn.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_lose_their_password_in_messages() {
        let l = Location::parse("postgres://scan:s3cret@db.example:5433/hist");
        assert!(matches!(l, Location::Postgres(_)));
        assert_eq!(l.display_name(), "postgres://scan:***@db.example:5433/hist");
        assert_eq!(
            Location::parse("/tmp/h.sqlite"),
            Location::Sqlite("/tmp/h.sqlite".into())
        );
        assert_eq!(
            Location::parse("postgresql://h/db").display_name(),
            "postgresql://h/db"
        );
    }
}
