//! The SQLite backend: one file, created on first use.
//!
//! Why the checks before opening: SQLite happily "opens" any file and only
//! fails at the first query, and writing our schema into another
//! program's database would damage it. So an existing non-empty file must
//! start with SQLite's magic header, and the first query is run before
//! anything is written. Writers wait for each other (`busy_timeout`)
//! rather than fail, since several scans may record at once; WAL lets
//! `history` and `diff` read while a scan writes.

use crate::conn::{Backend, Conn};
use crate::value::{Row, Value};
use crate::StoreError;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// The first 16 bytes of every SQLite 3 database file.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// An open SQLite store.
pub(crate) struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// Opens (or creates, with its directory) the database at `path`.
    pub(crate) fn open(path: &Path, name: &str) -> Result<Sqlite, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            store: name.to_owned(),
            detail,
        };
        match std::fs::File::open(path) {
            Ok(mut f) => {
                let mut head = Vec::with_capacity(16);
                f.by_ref()
                    .take(16)
                    .read_to_end(&mut head)
                    .map_err(|e| io(name, e))?;
                if !head.is_empty() && head.as_slice() != MAGIC {
                    return Err(corrupt("no SQLite header".into()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| io(name, e))?;
                }
            }
            Err(e) => return Err(io(name, e)),
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Io {
            store: name.to_owned(),
            detail: e.to_string(),
        })?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(|e| corrupt(e.to_string()))?;
        // The first real read: a damaged file fails here, before any write.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| corrupt(e.to_string()))?;
        Ok(Sqlite { conn })
    }
}

fn io(name: &str, e: std::io::Error) -> StoreError {
    StoreError::Io {
        store: name.to_owned(),
        detail: e.to_string(),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(Some(f)) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            _ => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Text(None),
        ValueRef::Integer(i) => Value::Int(Some(i)),
        ValueRef::Real(f) => Value::Real(Some(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(Some(String::from_utf8_lossy(t).into_owned()))
        }
    }
}

impl Conn for Sqlite {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.execute(rusqlite::params_from_iter(params))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(value(r.get_ref(i)?));
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn begin_write(&mut self) -> Result<(), StoreError> {
        // IMMEDIATE: take the write lock now (waiting for it), not at the
        // first write, where a waiting reader-turned-writer would fail.
        self.batch("BEGIN IMMEDIATE")
    }

    fn begin_exclusive(&mut self) -> Result<(), StoreError> {
        self.begin_write()
    }

    fn ready(&mut self) -> Result<(), StoreError> {
        // Only now, once the file is known to be ours: WAL changes the
        // file's header.
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 32 MiB of page cache (the default is 2): a sweep's hosts come in
        // permuted order, so each one's address lands on a random page of
        // the address index, which must not be read back from the OS
        // every time.
        self.conn.pragma_update(None, "cache_size", -32768)?;
        Ok(())
    }

    fn tables(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            &[],
        )?;
        Ok(rows.iter().map(|r| r.str(0).to_owned()).collect())
    }
}
