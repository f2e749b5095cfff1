//! Printing that survives a closed terminal or pipe.
//!
//! `println!` and `eprintln!` panic when the stream is gone
//! (`portolan … 2>&1 | head` closes both), so every line the binary prints
//! goes through here: a write that fails is dropped, and a broken pipe on
//! standard output is reported back so the run can stop quietly.

use std::fmt;
use std::io::{self, Write};

/// Whether `e` says the reader of a pipe went away.
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Writes one line to standard error; a closed stream drops it.
pub fn err(args: fmt::Arguments<'_>) {
    let mut e = io::stderr().lock();
    let _ = e.write_fmt(args).and_then(|()| e.write_all(b"\n"));
}

/// Writes `text` to standard output as it is; false when the stream is
/// gone (any other error too: nothing more can be shown there).
pub fn out(text: &str) -> bool {
    let mut o = io::stdout().lock();
    o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .is_ok()
}
