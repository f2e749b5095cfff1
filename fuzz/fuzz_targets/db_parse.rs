//! The probe-database parser on any text: it returns a database or an
//! error naming the file and line, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_service::Database;
use std::sync::OnceLock;

fn builtin() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| Database::builtin().expect("built-in database parses"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Database::parse(&text, "fuzz.db") {
        Ok(mut db) => {
            let _ = db.check_fallbacks();
            // Merging into the built-in database must not panic either.
            let _ = builtin().clone().merge(db.clone());
            let _ = db.merge(Database::default());
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.db:"), "{e}"),
    }
});
