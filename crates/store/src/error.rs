//! Why the store could not be opened, read or written.
//!
//! Every error is one line for the user: it names the store (a path, or a
//! PostgreSQL URL without its password) and says what to do where there
//! is something to do.

/// A store error; its `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but is not an SQLite database, or SQLite says it
    /// is damaged.
    #[error(
        "history store {store} is not a usable SQLite database ({detail}); nothing was changed"
    )]
    Corrupt {
        /// The store's name.
        store: String,
        /// What SQLite or the check said.
        detail: String,
    },
    /// The database holds tables of another program.
    #[error("history store {store} belongs to another program (it has tables but no portolan schema); nothing was changed")]
    Foreign {
        /// The store's name.
        store: String,
    },
    /// The store was written by a newer portolan.
    #[error("history store {store} has schema version {found}, newer than this portolan's {supported}; upgrade portolan")]
    NewerSchema {
        /// The store's name.
        store: String,
        /// The version in the store.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// PostgreSQL cannot be reached or refused the connection.
    #[error("cannot connect to the PostgreSQL history store {store}: {detail}")]
    Connect {
        /// The store's name.
        store: String,
        /// What the client said.
        detail: String,
    },
    /// A file-system problem (the store's directory cannot be created).
    #[error("history store {store}: {detail}")]
    Io {
        /// The store's name.
        store: String,
        /// What went wrong.
        detail: String,
    },
    /// A query failed.
    #[error("history store: {0}")]
    Query(String),
    /// No scan matches what was asked (`last`, a tag, an id).
    #[error("no scan {0} in the history store")]
    NotFound(String),
    /// Stored data that does not fit the model (a state name unknown to
    /// this build).
    #[error("history store holds {0}")]
    BadData(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Query(one_line(&e.to_string()))
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Query(one_line(&pg_text(&e)))
    }
}

/// A PostgreSQL error with its server message, or with its causes.
pub(crate) fn pg_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// `text` on one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
