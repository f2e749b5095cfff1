//! The OS database parser on any text (`--os-db` files are user input):
//! it returns a database or an error naming the file and line, never
//! panics, and a parsed database classifies without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_os::{Database, Evidence, Options};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Database::parse(&text, "fuzz.osdb") {
        Ok(db) => {
            let _ = db.classify(&Evidence::default(), &Options { guess: true });
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.osdb:"), "{e}"),
    }
});
