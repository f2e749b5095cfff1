//! Hold-out test of the classifier on the converted Hershel+ records
//! (crates/os/data/hershelplus.osdb): issue 13 asks for at least 90 %
//! top-1 accuracy at family level on records left out of the database.
//!
//! Each Hershel+ entry is one stack's header traits with its measured
//! series of SYN/ACK retransmission times (one `rto` line per
//! observation). Fold k of 5 holds out every observation whose index in
//! its entry is k modulo 5 (capped at 2 per entry and fold, to keep the
//! debug-build test short); the database is every entry with its other
//! observations. A held-out observation is the entry's header traits with
//! the held-out series. The test reports top-1 and top-3 accuracy at the
//! exact label and at family level (vendor and family of any class; an
//! unidentified stack's family is its own name), twice: with the whole
//! record (SYN/ACK, give-up RST, RTO series: Hershel+'s evidence) and
//! with the SYN/ACK alone (what a plain port scan gives). Deterministic:
//! no randomness, fixed folds.
//!
//! Run: `cargo test -j1 -p portolan-os --test holdout -- --nocapture`.

use std::collections::BTreeSet;

use portolan_os::{Database, Entry, Observation, Span, BUILTIN_FILES};

const FOLDS: usize = 5;
const PER_FOLD: usize = 2;

fn families(e: &Entry) -> BTreeSet<String> {
    if e.classes.is_empty() {
        return BTreeSet::from([e.name.clone()]);
    }
    e.classes
        .iter()
        .map(|c| format!("{}/{}", c.vendor, c.family))
        .collect()
}

fn first(spans: &Option<Vec<Span>>) -> Option<u16> {
    match spans.as_deref()?.first()? {
        Span::Range(lo, _) => u16::try_from(*lo).ok(),
        Span::MssTimes(_) => None,
    }
}

fn header(e: &Entry) -> Observation {
    Observation {
        ttl: e.ttl,
        df: e.df,
        window: first(&e.window),
        mss: first(&e.mss),
        options: e.options.as_ref().and_then(|o| o.first().cloned()),
        ..Observation::default()
    }
}

#[derive(Default)]
struct Tally {
    n: usize,
    exact1: usize,
    exact3: usize,
    family1: usize,
    family3: usize,
}

impl Tally {
    fn pct(&self, k: usize) -> f64 {
        100.0 * k as f64 / self.n as f64
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {} held-out observations; family top-1 {:.1} %, top-3 {:.1} %; exact label top-1 {:.1} %, top-3 {:.1} %",
            self.n,
            self.pct(self.family1),
            self.pct(self.family3),
            self.pct(self.exact1),
            self.pct(self.exact3)
        )
    }
}

fn judge(db: &Database, o: &Observation, truth: &Entry, t: &mut Tally) {
    // The best three distinct labels, as a report lists them.
    let mut top: Vec<&Entry> = Vec::new();
    for r in db.rank(o) {
        let e = &db.entries()[r.index];
        if top.iter().all(|x| x.name != e.name) {
            top.push(e);
        }
        if top.len() == 3 {
            break;
        }
    }
    let fam = families(truth);
    let exact = |e: &&Entry| e.name == truth.name;
    let family = |e: &&Entry| !families(e).is_disjoint(&fam);
    t.n += 1;
    t.exact1 += usize::from(top.first().is_some_and(exact));
    t.exact3 += usize::from(top.iter().any(exact));
    t.family1 += usize::from(top.first().is_some_and(family));
    t.family3 += usize::from(top.iter().any(family));
}

#[test]
fn holdout_accuracy_on_hershel_records() {
    let (name, text) = BUILTIN_FILES
        .iter()
        .find(|(n, _)| n.ends_with("hershelplus.osdb"))
        .expect("shipped");
    let all = Database::parse(text, name).expect("parses");
    let entries = all.entries();
    assert!(entries.len() >= 420);
    let (mut full, mut syn) = (Tally::default(), Tally::default());
    for k in 0..FOLDS {
        let train: Vec<Entry> = entries
            .iter()
            .map(|e| Entry {
                rto: (e.rto.iter().enumerate())
                    .filter(|(i, _)| i % FOLDS != k)
                    .map(|(_, s)| s.clone())
                    .collect(),
                ..e.clone()
            })
            .collect();
        let db = Database::from_entries(train);
        for e in entries {
            let head = header(e);
            let held = (e.rto.iter().enumerate())
                .filter(|(i, _)| i % FOLDS == k)
                .take(PER_FOLD);
            for (_, series) in held {
                let o = Observation {
                    giveup: e.giveup,
                    rto: Some(series.clone()),
                    ..head.clone()
                };
                judge(&db, &o, e, &mut full);
                judge(&db, &head, e, &mut syn);
            }
        }
    }
    let full_line = full.line("whole record (SYN/ACK, give-up RST, RTO series)");
    let syn_line = syn.line("SYN/ACK alone");
    println!("{full_line}\n{syn_line}");
    assert!(full.pct(full.family1) >= 90.0, "{full_line}");
    assert!(syn.pct(syn.family1) >= 80.0, "{syn_line}");
}

/// A harder reading, printed for the report (asserted only loosely):
/// each stack left out whole, for the stacks whose family another stack
/// shares. This measures how a stack the database lacks is placed in its
/// family, not how a known stack is recognised.
#[test]
fn leave_one_stack_out_by_family() {
    let (name, text) = BUILTIN_FILES
        .iter()
        .find(|(n, _)| n.ends_with("hershelplus.osdb"))
        .expect("shipped");
    let all = Database::parse(text, name).expect("parses");
    let entries = all.entries();
    let (mut full, mut syn) = (Tally::default(), Tally::default());
    for (i, e) in entries.iter().enumerate() {
        let fam = families(e);
        let others: Vec<Entry> = (entries.iter().enumerate())
            .filter(|&(j, x)| j != i && x.name != e.name)
            .map(|(_, x)| x.clone())
            .collect();
        if !others.iter().any(|x| !families(x).is_disjoint(&fam)) {
            continue;
        }
        let db = Database::from_entries(others);
        let head = header(e);
        let o = Observation {
            giveup: e.giveup,
            rto: e.rto.first().cloned(),
            ..head.clone()
        };
        judge(&db, &o, e, &mut full);
        judge(&db, &head, e, &mut syn);
    }
    println!(
        "leave one stack out, {}\nleave one stack out, {}",
        full.line("whole record"),
        syn.line("SYN/ACK alone")
    );
    assert!(full.n >= 200);
    assert_eq!(full.exact1, 0, "a left-out label cannot be named");
    // Measured 39.2 % (whole record) and 44.5 % (SYN/ACK alone): a guard
    // against regressions, not a claim.
    assert!(full.pct(full.family1) >= 35.0);
    assert!(syn.pct(syn.family1) >= 40.0);
}
