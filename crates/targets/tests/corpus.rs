//! Replays the seed corpus in `tests/corpus/`: tricky inputs that once
//! broke, or plausibly could break, a parser. Each line of each file, and
//! each whole file, goes through both the target and the port parsers;
//! the only expectation is that nothing panics.

mod common;

use std::path::Path;

#[test]
fn corpus_inputs_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus exists")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut inputs = 0;
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for line in text.split('\n').chain([&*text]) {
            common::exercise_targets(line);
            common::exercise_ports(line);
            inputs += 1;
        }
    }
    assert!(inputs > 50, "corpus has only {inputs} inputs");
}
