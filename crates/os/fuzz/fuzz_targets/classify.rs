//! Feature extraction and classification on hostile replies: arbitrary
//! header values and option kinds (the layout a packet parser would
//! build), never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portolan_model::traits::{OptionLayout, StackTraits, TraitSamples};
use portolan_os::{Database, Evidence, Options};

fuzz_target!(|data: &[u8]| {
    let db = Database::builtin();
    let mut samples = TraitSamples::new();
    let mut more = Vec::new();
    for chunk in data.chunks(16) {
        let b = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let mut options = OptionLayout::default();
        for &k in chunk.iter().skip(8) {
            options.push(k);
        }
        options.malformed = b(7) & 1 == 1;
        let t = StackTraits {
            ttl: b(0),
            df: b(1) & 1 == 1,
            flags: b(2),
            window: u16::from_be_bytes([b(3), b(4)]),
            mss: (b(5) & 1 == 1).then(|| u16::from_be_bytes([b(5), b(6)])),
            wscale: (b(7) & 2 == 2).then_some(b(7) >> 2),
            options,
            ..StackTraits::default()
        };
        samples.offer(t);
        more.push(t);
    }
    let _ = db.classify(
        &Evidence { samples, more },
        &Options {
            guess: data.len() % 2 == 0,
        },
    );
});
