//! The store suite on a real PostgreSQL server that the test starts
//! from Debian's `postgresql` package (root only: `initdb` runs as the
//! `postgres` user). Skips without root or the package, and fails
//! instead under `PORTOLAN_TESTS_MUST_RUN`.

mod common;

use common::pg::{pg_bin, PgServer};
use portolan_store::{Location, Store, StoreError};

fn server() -> Option<PgServer> {
    if !portolan_testbed::require_root_only()
        || !portolan_testbed::skip_unless(
            pg_bin().is_some(),
            "needs Debian's postgresql package (/usr/lib/postgresql/*/bin/initdb)",
        )
    {
        return None;
    }
    Some(PgServer::start().expect("PostgreSQL starts"))
}

#[test]
fn suite() {
    let Some(mut pg) = server() else { return };
    for (name, case) in common::CASES {
        eprintln!("case {name}");
        case(&Location::Postgres(pg.fresh_db()));
    }
    // The tables live beside others' in a shared database; only a
    // half-made portolan schema is foreign.
    let url = pg.fresh_db();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE recipes (name TEXT)").unwrap();
    Store::open(&Location::Postgres(url.clone())).unwrap();
    let url = pg.fresh_db();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE portolan_scans (id BIGINT)")
        .unwrap();
    let e = Store::open(&Location::Postgres(url))
        .err()
        .expect("refused");
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
}

#[test]
fn an_unreachable_server_is_one_clear_line() {
    // A port where nothing listens: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://scan:secret@127.0.0.1:{port}/history");
    let e = Store::open(&Location::Postgres(url))
        .err()
        .expect("refused");
    let text = e.to_string();
    assert!(matches!(e, StoreError::Connect { .. }), "{text}");
    assert!(
        text.starts_with("cannot connect to the PostgreSQL history store"),
        "{text}"
    );
    assert!(!text.contains("secret") && !text.contains('\n'), "{text}");
}
