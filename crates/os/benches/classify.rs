//! Classifier time per host (`cargo bench -p portolan-os`): the OS stage
//! runs once per up host, so this must stay far below a host's scan time.
//! A plain timing loop (median of runs) rather than criterion, which the
//! workspace does not carry.

use std::hint::black_box;
use std::time::Instant;

use portolan_os::{Database, Observation, Options};

fn median_ns(runs: usize, per_run: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_run {
                f();
            }
            start.elapsed().as_nanos() as f64 / per_run as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn main() {
    let start = Instant::now();
    let db = Database::builtin();
    println!(
        "built-in database: {} entries, first load {:.1} ms",
        db.entries().len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    let header = Observation {
        ttl: Some(57),
        df: Some(true),
        window: Some(65160),
        mss: Some(1460),
        options: Some("MSTNW".into()),
        wscale: Some(7),
        ..Observation::default()
    };
    let with_rto = Observation {
        rto: Some(vec![1.0, 3.0, 7.0, 15.0, 31.0]),
        ..header.clone()
    };
    let opts = Options { guess: true };
    for (what, o) in [
        ("SYN/ACK only", &header),
        ("SYN/ACK + RTO series", &with_rto),
    ] {
        let ns = median_ns(5, 200, || {
            black_box(db.classify_observation(black_box(o), &opts));
        });
        println!(
            "classify, {what}: {:.1} us per host (median of 5)",
            ns / 1e3
        );
    }
}
