//! Fuzz-style tests: the database parser and the classifier never panic,
//! whatever the input (random text, mangled database lines, hostile
//! replies with odd option layouts, NaN or huge retransmission times).
//! proptest drives them (deterministic per its seed file); the cargo-fuzz
//! targets in crates/os/fuzz run the same entry points without bounds.

use portolan_model::traits::{Echo, OptionLayout, StackTraits, Timestamps, TraitSamples};
use portolan_os::{Database, Evidence, Observation, Options, BUILTIN_FILES};
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "entry", "class", "source", "ttl", "df", "window", "mss", "options", "wscale", "ecn", "closed",
    "giveup", "rto", "isn", "ipid", "ts", "tsrate", "echo", "unreach", "syn-nots", "syn-nows",
    "syn-mss", "#", "",
];

fn db_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(KEYS),
        prop_oneof![
            "[ -~]{0,40}",
            "[0-9,*mss-]{0,20}",
            "[LNMWST\\[\\]0-9+!,-]{0,16}",
            "[a-z| :/0-9.]{0,40}",
            "[0-9. NaIinf-]{0,30}",
        ],
    )
        .prop_map(|(k, v)| format!("{k} {v}"))
}

fn traits() -> impl Strategy<Value = StackTraits> {
    (
        any::<(u8, u32, bool, u8, u8, u16, u16)>(),
        prop::collection::vec(any::<u8>(), 0..12),
        any::<(bool, bool, Option<u16>, Option<u8>, Option<(u32, u32)>, u8)>(),
    )
        .prop_map(
            |((ttl, ip_id, df, flags, reserved, window, data_len), kinds, rest)| {
                let (overflow, malformed, mss, wscale, ts, echo) = rest;
                let mut options = OptionLayout::default();
                for k in kinds {
                    options.push(k);
                }
                options.overflow |= overflow;
                options.malformed = malformed;
                let e =
                    |n: u8| [Echo::Zero, Echo::Same, Echo::Plus1, Echo::Other][usize::from(n % 4)];
                StackTraits {
                    ttl,
                    ip_id,
                    df,
                    flags,
                    reserved,
                    window,
                    data_len,
                    options,
                    mss,
                    wscale,
                    seq_echo: e(echo),
                    ack_echo: e(echo / 4),
                    timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                    ..StackTraits::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_text(text in "\\PC{0,400}") {
        let _ = Database::parse(&text, "fuzz");
    }

    #[test]
    fn parser_never_panics_on_db_like_lines(lines in prop::collection::vec(db_line(), 0..30)) {
        let text = lines.join("\n");
        if let Err(e) = Database::parse(&text, "fuzz") {
            prop_assert!(e.line >= 1 && e.line <= lines.len().max(1));
            prop_assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn parser_never_panics_on_mangled_shipped_entries(cut in 0usize..4000, junk in "[ -~]{0,12}") {
        let (_, text) = BUILTIN_FILES[0];
        let mut t = text.to_string();
        let at = (0..=cut.min(t.len())).rev().find(|&i| t.is_char_boundary(i)).unwrap_or(0);
        t.insert_str(at, &junk);
        let _ = Database::parse(&t, "fuzz");
    }

    #[test]
    fn classify_never_panics_on_hostile_replies(
        replies in prop::collection::vec(traits(), 0..6),
        guess in any::<bool>(),
    ) {
        let db = Database::builtin();
        let mut samples = TraitSamples::new();
        for t in &replies {
            samples.offer(*t);
        }
        let ev = Evidence { samples, more: replies.clone() };
        let r = db.classify(&ev, &Options { guess });
        prop_assert!(r.matches.len() <= portolan_os::MAX_MATCHES);
        prop_assert!(r.matches.is_empty() != r.no_match.is_none());
        for m in &r.matches {
            prop_assert!(m.accuracy <= 100);
        }
    }

    #[test]
    fn classify_never_panics_on_odd_observations(
        rto in prop::option::of(prop::collection::vec(
            prop_oneof![any::<f32>(), Just(f32::NAN), Just(f32::INFINITY), 0.0f32..100.0], 0..40)),
        window in any::<Option<u16>>(),
        mss in any::<Option<u16>>(),
        ttl in any::<Option<u8>>(),
        options in prop::option::of("[LNMWST\\[\\]0-9]{0,10}"),
    ) {
        let db = Database::builtin();
        let o = Observation { rto, window, mss, ttl, options, ..Observation::default() };
        let _ = db.classify_observation(&o, &Options { guess: true });
    }

    #[test]
    fn burst_evidence_never_panics_on_hostile_replies(
        replies in prop::collection::vec(
            (traits(), prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), 0.0f64..2e9]),
            0..12,
        ),
    ) {
        let s = portolan_os::Sequence::from_replies(&replies);
        prop_assert_eq!(s.replies, replies.len());
        if let Some(u) = s.uptime {
            prop_assert!(s.ts_rate.is_some() && u.seconds <= u64::from(u32::MAX));
        }
        let _ = s.fingerprint();
        // The burst's classes rank entries that record them: never a
        // panic, never above 100 %.
        let mut o = Observation { options: Some("MSTNW".into()), ttl: Some(64), ..Observation::default() };
        o.add_sequence(&s);
        let r = Database::builtin().classify_observation(&o, &Options { guess: true });
        prop_assert!(r.matches.iter().all(|m| m.accuracy <= 100));
    }
}
