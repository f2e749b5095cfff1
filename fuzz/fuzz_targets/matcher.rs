//! The matcher on any reply: every rule of the built-in database is
//! applied to it, and a pattern taken from the input's first line is
//! compiled and run over the rest. Nothing panics, matching work stays
//! bounded, and filled-in fields are printable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_service::{Database, Pattern, Subject};
use std::sync::OnceLock;

fn db() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| Database::builtin().expect("built-in database parses"))
}

fuzz_target!(|data: &[u8]| {
    let subject = Subject::new(data);
    for probe in db().probes() {
        for rule in &probe.rules {
            if let Ok(Some(id)) = rule.apply(&subject) {
                for f in [&id.product, &id.version, &id.info, &id.hostname]
                    .into_iter()
                    .flatten()
                {
                    assert!(f.chars().all(|c| (' '..='~').contains(&c)), "{f:?}");
                }
            }
        }
    }
    // A user's pattern: `flags \n pattern \n subject`.
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (Some(flags), Some(pat), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let Ok(pat) = std::str::from_utf8(pat) else {
        return;
    };
    let caseless = flags.contains(&b'i');
    let dotall = flags.contains(&b's');
    if let Ok(p) = Pattern::new(pat, caseless, dotall) {
        let _ = p.captures(&Subject::new(rest));
    }
});
