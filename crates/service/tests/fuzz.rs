//! Property tests standing in for fuzzing: no input makes the parser or
//! the matcher panic.

use portolan_service::{Database, Subject};
use proptest::prelude::*;
use std::sync::OnceLock;

fn db() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| Database::builtin().unwrap())
}

/// Lines built from the format's own keywords and punctuation, so the
/// parser's deeper paths are reached, not just "unknown keyword".
fn line() -> impl Strategy<Value = String> {
    let kw = prop::sample::select(vec![
        "probe",
        "wait",
        "rarity",
        "ports",
        "tls-ports",
        "fallback",
        "match",
        "soft",
        "product",
        "version",
        "info",
        "cpe",
        "#",
        "",
    ]);
    let arg = "[ -~]{0,24}|\"[ -~]{0,12}\"|/[()\\\\a-z$1.*?+\\[\\]]{0,12}/[is]{0,2}|tcp \"[\\\\x0-9a-f]{0,8}\"";
    (kw, arg).prop_map(|(k, a)| format!("{k} {a}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics(lines in prop::collection::vec(line(), 0..12)) {
        let text = format!("probe P tcp \"x\"\n{}", lines.join("\n"));
        if let Err(e) = Database::parse(&text, "fuzz.db") {
            prop_assert!(e.to_string().starts_with("fuzz.db:"));
        }
    }

    #[test]
    fn parser_never_panics_on_any_text(text in "\\PC{0,200}") {
        let _ = Database::parse(&text, "fuzz.db");
    }

    #[test]
    fn matcher_never_panics(reply in prop::collection::vec(any::<u8>(), 0..600)) {
        let s = Subject::new(&reply);
        for p in db().probes() {
            for r in &p.rules {
                if let Ok(Some(id)) = r.apply(&s) {
                    for f in [&id.product, &id.version, &id.info, &id.hostname].into_iter().flatten() {
                        prop_assert!(f.chars().all(|c| (' '..='~').contains(&c)), "{f:?}");
                    }
                }
            }
        }
    }
}
