//! The store suite on SQLite, and what only a file can get wrong.

mod common;

use portolan_store::{Location, Store, StoreError};
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("store-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn suite() {
    for (name, case) in common::CASES {
        let path = temp(&format!("{name}.sqlite"));
        eprintln!("case {name}");
        case(&Location::Sqlite(path.clone()));
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn a_missing_directory_is_created() {
    let p = temp("d").join("a/b/history.sqlite");
    Store::open(&Location::Sqlite(p.clone())).unwrap();
    assert!(p.exists());
}

/// Opens `bytes` written to a file and asserts the error and that the
/// file is untouched.
fn refused(name: &str, bytes: &[u8]) -> StoreError {
    let p = temp(name);
    std::fs::write(&p, bytes).unwrap();
    let e = Store::open(&Location::Sqlite(p.clone()))
        .err()
        .expect("refused");
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name} was changed");
    assert!(!e.to_string().contains('\n'));
    e
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_kept() {
    let e = refused("text.sqlite", b"this is my shopping list\n");
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string().contains("not a usable SQLite database"),
        "{e}"
    );
}

#[test]
fn a_damaged_database_is_refused_and_kept() {
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xa5u8, 8192));
    let e = refused("damaged.sqlite", &bytes);
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
}

#[test]
fn another_programs_database_is_refused_and_kept() {
    let p = temp("foreign.sqlite");
    rusqlite::Connection::open(&p)
        .unwrap()
        .execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
        .unwrap();
    let before = std::fs::read(&p).unwrap();
    let e = Store::open(&Location::Sqlite(p.clone()))
        .err()
        .expect("refused");
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), before);
}
