//! The PostgreSQL backend, for teams and for shards that share a store.
//!
//! Why the synchronous `postgres` client: recording happens in the
//! session's observer, which is called synchronously, and a scan writes
//! one short transaction per host; the async machinery would buy nothing.
//! Statements are prepared once per connection and reused. The URL is a
//! libpq-style `postgres://user:password@host:port/db`; the password is
//! never printed. Without a `connect_timeout` in the URL, an unreachable
//! server is given up after 10 seconds.

use crate::conn::{Backend, Conn};
use crate::error::{one_line, pg_text};
use crate::value::{Row, Value};
use crate::StoreError;
use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls, Statement};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// An open PostgreSQL store.
pub(crate) struct Postgres {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Postgres {
    /// Connects to `url`; `name` is how errors name the store.
    pub(crate) fn connect(url: &str, name: &str) -> Result<Postgres, StoreError> {
        let err = |detail: String| StoreError::Connect {
            store: name.to_owned(),
            detail: one_line(&detail),
        };
        let mut config = Config::from_str(url).map_err(|e| err(pg_text(&e)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut client = config.connect(NoTls).map_err(|e| err(pg_text(&e)))?;
        // Warnings (NOTICE) of DDL are not the user's business.
        client
            .batch_execute("SET client_min_messages = WARNING")
            .map_err(|e| err(pg_text(&e)))?;
        Ok(Postgres {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

/// A parameter as the client wants it: typed, NULL included.
fn param(v: &Value) -> Box<dyn ToSql + Sync + '_> {
    match v {
        Value::Int(i) => Box::new(*i),
        Value::Real(f) => Box::new(*f),
        Value::Text(t) => Box::new(t.as_deref()),
    }
}

fn row(r: &postgres::Row) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let t = c.type_();
        out.push(if *t == Type::INT8 {
            Value::Int(r.try_get(i)?)
        } else if *t == Type::INT4 {
            Value::Int(r.try_get::<_, Option<i32>>(i)?.map(i64::from))
        } else if *t == Type::FLOAT8 {
            Value::Real(r.try_get(i)?)
        } else {
            Value::Text(r.try_get(i)?)
        });
    }
    Ok(Row(out))
}

impl Conn for Postgres {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let st = self.statement(sql)?;
        let boxed: Vec<_> = params.iter().map(param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref() as _).collect();
        Ok(self.client.execute(&st, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let st = self.statement(sql)?;
        let boxed: Vec<_> = params.iter().map(param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref() as _).collect();
        self.client.query(&st, &refs)?.iter().map(row).collect()
    }

    fn begin_write(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN")
    }

    fn begin_exclusive(&mut self) -> Result<(), StoreError> {
        // One lock number for every portolan migrating this database.
        self.batch("BEGIN; SELECT pg_advisory_xact_lock(7411770176)")
    }

    fn tables(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self.query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema()",
            &[],
        )?;
        Ok(rows.iter().map(|r| r.str(0).to_owned()).collect())
    }
}
