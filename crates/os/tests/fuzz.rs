//! Hostile input never panics: arbitrary and mutated database text
//! (`--os-db` files are user input), and arbitrary reply traits (hostile
//! option layouts, TTLs, windows) through feature extraction and
//! classification against the built-in database.

use portolan_model::traits::{OptionLayout, StackTraits, TraitSamples};
use portolan_os::{Database, Evidence, Options};
use proptest::prelude::*;
use std::sync::OnceLock;

fn builtin() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(Database::builtin)
}

const VALID: &str = "match A\nclass a | b | 1.X | general purpose | cpe:/o:a:b\nsource s\n\
    fp ttl=64 df=1 win=1,2 opts=MSTNW mss=1460 ws=7 closed-ttl=64 closed-df=1 closed-win=0\n\
    rst present=1 ack=0 win=0 seq=1 nonzero=0\nrto 1.0 3.0 7.0\n";

fn traits() -> impl Strategy<Value = StackTraits> {
    (
        any::<u8>(),
        any::<bool>(),
        any::<u8>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..12),
        any::<(bool, bool)>(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(ttl, df, flags, window, kinds, (overflow, malformed), mss, ws)| {
                let mut options = OptionLayout::default();
                for k in kinds {
                    options.push(k);
                }
                options.overflow |= overflow;
                options.malformed = malformed;
                StackTraits {
                    ttl,
                    df,
                    flags,
                    window,
                    options,
                    mss,
                    wscale: ws,
                    ..StackTraits::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_is_parsed_or_refused(text in ".{0,400}") {
        let _ = Database::parse(&text, "fuzz");
    }

    #[test]
    fn mutated_entries_are_parsed_or_refused(at in 0usize..400, bytes in proptest::collection::vec(any::<u8>(), 1..6)) {
        let mut v = VALID.as_bytes().to_vec();
        let at = at.min(v.len());
        v.splice(at..at, bytes);
        let text = String::from_utf8_lossy(&v);
        if let Ok(db) = Database::parse(&text, "fuzz") {
            let _ = db.classify(&Evidence::default(), &Options::default());
        }
    }

    #[test]
    fn hostile_replies_classify_without_panic(a in traits(), b in traits(), guess in any::<bool>()) {
        let mut samples = TraitSamples::new();
        samples.offer(a);
        samples.offer(b);
        let r = builtin().classify(&Evidence { samples, more: vec![a, b] }, &Options { guess });
        prop_assert!(r.matches.len() <= 10);
        prop_assert!(r.matches.iter().all(|m| m.accuracy <= 100));
        prop_assert!(r.matches.is_empty() != r.no_match.is_none());
    }
}
