//! Portolan's output formats, behind one trait.
//!
//! A scan's results arrive as the plain data of `portolan-model`: a
//! [`ScanInfo`] when the scan starts, one [`HostResult`] per finished host,
//! and [`RunStats`] at the end. Each format is an [`OutputFormat`] that
//! turns those three events into bytes; [`Outputs`] fans one event out to
//! every format the user asked for (`-oN`, `-oG`, `-oX`, `-oJ` and the
//! terminal), so the scanner knows nothing of how results are written.
//!
//! Why nmap's formats: people and tools already read them. Normal output
//! keeps nmap's layout line for line, grepable keeps its fields, and XML its
//! element and attribute names, so existing parsers and habits work
//! unchanged. JSON is portolan's own: one object per line, so a consumer can
//! stream results while the scan runs (see `docs/json-schema.md`).
//!
//! Why streaming: every host is written and flushed as soon as it finishes,
//! and [`OutputFormat::end`] closes the document even after an interrupt,
//! so an interrupted scan leaves well-formed files holding every host it
//! finished.
//!
//! Why a reader: scan history, diffs, resume and reports start from a
//! finished scan's file. [`read`] reads portolan's JSON back into the
//! model exactly, and XML in nmap's format (portolan's or nmap's own) into
//! as much of the model as XML carries.
//!
//! Why sanitising: service banners and host names come from the network.
//! Every format escapes or replaces control characters in them (a banner
//! must not be able to rewrite the terminal or forge a grepable field), and
//! XML text goes through quick-xml's escaping.
//!
//! ```
//! use portolan_output::{grepable, normal, xml, OutputFormat, OutputOptions, Outputs};
//! # use portolan_model::{RunStats, ScanInfo};
//! # fn main() -> std::io::Result<()> {
//! let opts = OutputOptions { verbose: 0, reason: false, open_only: false, debugging: 0, version_scan: false };
//! let mut out = Outputs::new(vec![
//!     normal(Box::new(std::io::stdout()), opts),
//!     xml(Box::new(std::io::sink()), opts), // e.g. a File for -oX
//! ]);
//! out.push(grepable(Box::new(std::io::sink()), opts));
//! # let info = ScanInfo { version: "0.1.0".into(), args: "portolan 198.18.0.1".into(),
//! #     start_time: 0, scans: vec![], verbose: 0, debugging: 0 };
//! out.begin(&info)?;
//! // for each finished host: out.host(&host)?;
//! # let stats = RunStats { end_time: 0, elapsed: 0.0, hosts_up: 0, hosts_down: 1,
//! #     interrupted: false, hosts_incomplete: 0, error: None };
//! out.end(&stats)?;
//! # Ok(())
//! # }
//! ```

mod common;
mod grepable;
mod json;
mod normal;
mod os;
pub mod read;
mod scripts;
#[cfg(test)]
mod scripts_tests;
mod timefmt;
mod xml;

#[cfg(test)]
mod testdata;

use portolan_model::{HostResult, RunStats, ScanInfo};
use std::io::{self, Write};

/// One output format: receives the scan's events in order
/// (`begin`, any number of `host`/`warning`, `end`) and writes them.
pub trait OutputFormat: Send {
    /// Writes the document's start (banner, XML prolog, JSON scan line).
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()>;

    /// Writes one finished host and flushes, so an interrupted scan keeps
    /// every host finished before the interrupt.
    fn host(&mut self, host: &HostResult) -> io::Result<()>;

    /// Writes a warning such as `Failed to resolve "x".` where the format
    /// has a place for it; formats without one ignore it.
    fn warning(&mut self, _msg: &str) -> io::Result<()> {
        Ok(())
    }

    /// Writes the end of the document and flushes; called after an
    /// interrupt too (`stats.interrupted`), so the document is complete.
    fn end(&mut self, stats: &RunStats) -> io::Result<()>;
}

/// What the user asked to see, shared by every format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// `-v` level: raises the "Not shown" threshold and shows down hosts.
    pub verbose: u8,
    /// `--reason`: add the REASON column and the host's reason.
    pub reason: bool,
    /// `--open`: list only ports that may be open.
    pub open_only: bool,
    /// `-d` level, recorded in the XML document.
    pub debugging: u8,
    /// `-sV` ran: normal output marks an open port whose service is only
    /// guessed (the port table, a soft match) with nmap's `?` (`ssh?`).
    pub version_scan: bool,
}

/// Several outputs fed the same events: the terminal and every `-o` file.
///
/// An error from one output does not stop the others: every output gets
/// every event, and the first error of the call is returned afterwards.
#[derive(Default)]
pub struct Outputs(Vec<Box<dyn OutputFormat>>);

impl Outputs {
    /// A fan-out over `outputs`, fed in the order given.
    pub fn new(outputs: Vec<Box<dyn OutputFormat>>) -> Self {
        Outputs(outputs)
    }

    /// Adds one more output.
    pub fn push(&mut self, output: Box<dyn OutputFormat>) {
        self.0.push(output);
    }

    /// How many outputs there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn each(
        &mut self,
        mut f: impl FnMut(&mut dyn OutputFormat) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut first: Option<io::Error> = None;
        for out in &mut self.0 {
            if let Err(e) = f(out.as_mut()) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl OutputFormat for Outputs {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        self.each(|o| o.begin(info))
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.each(|o| o.host(host))
    }

    fn warning(&mut self, msg: &str) -> io::Result<()> {
        self.each(|o| o.warning(msg))
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.each(|o| o.end(stats))
    }
}

/// nmap's normal output as printed on the terminal: `Starting Portolan ...`
/// and `Portolan done: ...`.
pub fn normal(w: Box<dyn Write + Send>, opts: OutputOptions) -> Box<dyn OutputFormat> {
    Box::new(normal::Normal::new(w, opts, normal::Style::Terminal))
}

/// nmap's normal output as written by `-oN`: the same report, opened by a
/// `# Portolan ... scan initiated ... as: ...` comment and closed by a
/// `# Portolan done at ...` comment instead of the terminal's lines.
pub fn normal_file(w: Box<dyn Write + Send>, opts: OutputOptions) -> Box<dyn OutputFormat> {
    Box::new(normal::Normal::new(w, opts, normal::Style::File))
}

/// nmap's grepable output (`-oG`): one line per host and fact, tab-separated fields.
pub fn grepable(w: Box<dyn Write + Send>, opts: OutputOptions) -> Box<dyn OutputFormat> {
    Box::new(grepable::Grepable::new(w, opts))
}

/// nmap's XML output (`-oX`), with nmap's element and attribute names.
pub fn xml(w: Box<dyn Write + Send>, opts: OutputOptions) -> Box<dyn OutputFormat> {
    Box::new(xml::Xml::new(w, opts))
}

/// Portolan's JSON output (`-oJ`): newline-delimited JSON objects, one per
/// event, described in `docs/json-schema.md`.
pub fn json(w: Box<dyn Write + Send>, opts: OutputOptions) -> Box<dyn OutputFormat> {
    Box::new(json::Json::new(w, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    impl OutputFormat for Failing {
        fn begin(&mut self, _: &ScanInfo) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
        fn host(&mut self, _: &HostResult) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
        fn end(&mut self, _: &RunStats) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
    }

    #[test]
    fn one_failing_output_does_not_stop_the_others() {
        let buf = testdata::SharedBuf::default();
        let mut outs = Outputs::new(vec![
            Box::new(Failing),
            json(Box::new(buf.clone()), OutputOptions::default()),
        ]);
        assert_eq!(outs.len(), 2);
        let err = outs.begin(&testdata::scan_info()).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert!(outs.host(&testdata::one_open_999_closed()).is_err());
        assert!(outs.end(&testdata::stats(false)).is_err());
        let text = buf.text();
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
