//! `portolan local`: this machine's sockets, their states and owners.
//!
//! The listing, filters, summary and formats are `portolan_local`'s; this
//! module only sends them where the flags say: the table (or `--plain`
//! columns) to the terminal, `-oJ`/`-oX` to files (`-` is standard
//! output, which then replaces the table). With `--every`, it lists again
//! at that interval and prints what changed, one line per change
//! (`+` a new listener, `-` a closed one, `~` a state count that moved),
//! until `--count` samples or Ctrl-C. With `--exposure`, the first
//! sample is joined with the outside scans (`crate::exposure`) and the
//! report replaces the table.

use portolan_cli::local::LocalOptions;
use portolan_local::{
    diff, ephemeral_range, list, summarize, write_report, Exposure, Format, Snapshot,
};
use portolan_session::StopHandle;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Runs `portolan local`; errors are one line for the caller to print.
pub fn run(opts: &LocalOptions) -> Result<ExitCode, String> {
    let snap = list(&opts.query).map_err(|e| e.to_string())?;
    let exposure = crate::exposure::report(opts, &snap)?;
    write_snapshot(opts, &snap, exposure.as_ref())?;
    if snap.owners_hidden {
        eprintln!("portolan: owners of other users' sockets are hidden (run as root to see them)");
    }
    let Some(every) = opts.every else {
        return Ok(ExitCode::SUCCESS);
    };
    let stop = StopHandle::new();
    stop.stop_on_signals().map_err(|e| e.to_string())?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut old = snap;
    let mut samples = 1;
    while opts.count.is_none_or(|c| samples < c) {
        let until = Instant::now() + every;
        while Instant::now() < until {
            if stop.is_stopped() {
                return Ok(ExitCode::SUCCESS);
            }
            std::thread::sleep(
                until
                    .saturating_duration_since(Instant::now())
                    .min(every / 10),
            );
        }
        let new = list(&opts.query).map_err(|e| e.to_string())?;
        if write_changes(&mut out, &old, &new).is_err() {
            // A closed pipe (`| head`) ends the watch quietly.
            return Ok(ExitCode::SUCCESS);
        }
        old = new;
        samples += 1;
    }
    Ok(ExitCode::SUCCESS)
}

/// The listing to the terminal and to each `-o` file.
fn write_snapshot(
    opts: &LocalOptions,
    snap: &Snapshot,
    exposure: Option<&Exposure>,
) -> Result<(), String> {
    let summary = opts.summary.then(|| summarize(snap, ephemeral_range()));
    let files = [(&opts.json, Format::Json), (&opts.xml, Format::Xml)];
    let to_stdout = files
        .iter()
        .any(|(p, _)| p.as_deref() == Some(Path::new("-")));
    for (path, format) in files {
        let Some(path) = path else { continue };
        let result = if path.as_os_str() == "-" {
            emit(
                io::stdout().lock(),
                snap,
                summary.as_ref(),
                exposure,
                format,
            )
        } else {
            let f = File::create(path)
                .map_err(|e| format!("cannot write \"{}\": {e}", path.display()))?;
            emit(f, snap, summary.as_ref(), exposure, format)
        };
        quiet_on_pipe(result, path)?;
    }
    if !to_stdout {
        let format = if opts.plain {
            Format::Plain
        } else {
            Format::Table
        };
        quiet_on_pipe(
            emit(
                io::stdout().lock(),
                snap,
                summary.as_ref(),
                exposure,
                format,
            ),
            Path::new("-"),
        )?;
    }
    Ok(())
}

fn emit(
    w: impl Write,
    snap: &Snapshot,
    summary: Option<&portolan_local::Summary>,
    exposure: Option<&Exposure>,
    format: Format,
) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 16, w);
    write_report(&mut w, snap, summary, exposure, format)?;
    w.flush()
}

/// A closed standard output ends the run quietly; other errors name the
/// file.
fn quiet_on_pipe(result: io::Result<()>, path: &Path) -> Result<(), String> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write \"{}\": {e}", path.display())),
        Ok(()) => Ok(()),
    }
}

/// One line per change between two samples.
fn write_changes(out: &mut impl Write, old: &Snapshot, new: &Snapshot) -> io::Result<()> {
    let d = diff(old, new);
    for (sign, entries) in [('+', &d.opened), ('-', &d.closed)] {
        for e in entries {
            let who = e
                .owners
                .first()
                .map(|p| format!(" {}[{}]", portolan_local::escape(&p.name), p.pid))
                .unwrap_or_default();
            writeln!(
                out,
                "{sign} {} {} {}{who}",
                e.raw.proto.name(),
                e.raw.local,
                e.state_name()
            )?;
        }
    }
    for (proto, state, before, after) in &d.state_changes {
        writeln!(
            out,
            "~ {} {} {before} -> {after}",
            proto.name(),
            state.name(*proto)
        )?;
    }
    out.flush()
}
