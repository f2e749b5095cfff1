//! `portolan`: parse the command line, run the scan, write the outputs,
//! exit.
//!
//! The binary is a thin layer: `portolan_cli` turns argv into a command,
//! `portolan_session` plans and runs the scan, and [`outputs`] adapts the
//! output formats and the progress line ([`progress`]) to the session's
//! observer. Signals are the binary's to take: Ctrl-C and SIGTERM stop the
//! session (a second one exits at once), and the outputs are still closed
//! properly.

mod chatter;
mod checkpoint;
mod checkpointer;
mod diff;
mod earlier;
mod exposure;
mod found;
mod history;
mod history_cmd;
mod live;
mod local;
mod outputs;
mod partial;
mod progress;
mod report;
mod resume;
mod say;

use portolan_cli::{self as cli, Command, Options};
use portolan_session::{Session, SessionError, StopHandle};
use progress::Reporter;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            say::out(&cli::help_text());
            ExitCode::SUCCESS
        }
        Ok(Command::SubcommandHelp(sub)) => {
            say::out(&cli::subcommand_help(sub));
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            say::out(&cli::version_text());
            ExitCode::SUCCESS
        }
        Ok(Command::Local(opts)) => match local::run(&opts) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("portolan: {e}");
                ExitCode::from(1)
            }
        },
        Ok(Command::Diff(opts)) => diff::run(&opts),
        Ok(Command::History(opts)) => or_fail(history_cmd::history(&opts)),
        Ok(Command::Import(opts)) => or_fail(history_cmd::import(&opts)),
        Ok(Command::Report(opts)) => match report::run(&opts) {
            Ok(code) => code,
            Err(e) => {
                say::err(format_args!("portolan: {e}"));
                ExitCode::from(1)
            }
        },
        Ok(Command::Resume(path)) => match resume::resume(&path) {
            Ok(code) => code,
            Err(e) => {
                say::err(format_args!("portolan: {e}"));
                ExitCode::from(1)
            }
        },
        Ok(Command::Scan(opts)) => match scan(&opts, std::env::args().skip(1).collect(), None) {
            Ok(code) => code,
            Err(e) => {
                say::err(format_args!("portolan: {e}"));
                ExitCode::from(1)
            }
        },
        Err(e) => {
            say::err(format_args!("portolan: {e}"));
            // `diff`'s errors exit 2, as ndiff's do (1 means "different").
            let diff = std::env::args_os().nth(1).is_some_and(|a| a == "diff");
            ExitCode::from(if diff { 2 } else { 1 })
        }
    }
}

/// A subcommand's exit code, or its error on one line and exit 1.
fn or_fail(r: Result<ExitCode, String>) -> ExitCode {
    r.unwrap_or_else(|e| {
        say::err(format_args!("portolan: {e}"));
        ExitCode::from(1)
    })
}

/// Why a scan command failed.
#[derive(Debug)]
enum ScanError {
    /// Planning or running the scan.
    Session(SessionError),
    /// An output file cannot be created.
    Open(outputs::OpenError),
    /// The history store cannot be opened.
    History(portolan_store::StoreError),
    /// A checkpoint that cannot be resumed.
    Resume(String),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Session(e) => e.fmt(f),
            ScanError::Open(e) => e.fmt(f),
            ScanError::History(e) => {
                write!(f, "{e} (--no-history scans without recording)")
            }
            ScanError::Resume(e) => write!(f, "cannot resume: {e}"),
        }
    }
}

/// Runs the scan `opts` asks for and returns the exit code: plan (nothing
/// is created if the options are wrong), open the history store and the
/// outputs, catch signals, run. `argv` is the command line the checkpoint
/// keeps; `resumed` is the checkpoint `--resume` continues.
fn scan(
    opts: &Options,
    argv: Vec<String>,
    resumed: Option<(std::path::PathBuf, checkpoint::Checkpoint)>,
) -> Result<ExitCode, ScanError> {
    // Signals are caught from the first moment: planning can take a while
    // (a long -iL file, the service database), and a Ctrl-C then must still
    // end the run as an interrupted scan, with its outputs closed.
    let stop = StopHandle::new();
    stop.stop_on_signals()
        .map_err(|e| ScanError::Session(SessionError::Io(e)))?;
    let mut config = opts.scan_config();
    // Resuming is by host: host groups of at most RESUME_HOSTGROUP hosts
    // keep most hosts either finished or not begun at any moment (a /16
    // of three ports is otherwise one group, every host in flight until
    // the end). Measured: no slower whole (README, Benchmarks).
    let t = &mut config.timing;
    if t.max_hostgroup.is_none() && t.min_hostgroup.is_none() {
        t.max_hostgroup = Some(RESUME_HOSTGROUP);
    }
    if let Some((_, cp)) = &resumed {
        // Left out as --exclude leaves out: the permutation and the
        // shards stay those of the first run.
        config.exclude.extend(cp.done.iter().map(|a| a.to_string()));
        // Hosts begun continue with the ports they had resolved.
        let known = cp.known_ports().map_err(|e| {
            ScanError::Resume(format!("checkpoint {} {e}", resume::resumed_path(&resumed)))
        })?;
        if !known.is_empty() {
            config.known_ports = Some(std::sync::Arc::new(known));
        }
    }
    let session = Session::new(config)
        .map_err(ScanError::Session)?
        .with_stop(stop.clone());
    // Before the outputs: a store that cannot be used stops the command
    // before any output file is created or emptied.
    let continued = resumed.as_ref().and_then(|(_, cp)| {
        cp.history_scan.map(|scan| history::Resumed {
            scan,
            keep: cp.done.clone(),
        })
    });
    let recorder = history::Recorder::open(opts, continued).map_err(ScanError::History)?;
    let marks = resumed.as_ref().map(|(_, cp)| cp.files.as_slice());
    // -oH is rewritten whole: it starts with the earlier runs' hosts.
    let earlier = match &resumed {
        Some((_, cp)) => earlier::hosts(opts, cp).unwrap_or_else(|e| {
            say::err(format_args!(
                "portolan: WARNING: the HTML report holds only the hosts of this run \
                 (the earlier ones cannot be read back: {e})"
            ));
            Vec::new()
        }),
        None => Vec::new(),
    };
    let (outputs, normal_on_stdout, counters) =
        outputs::open(&opts.output, opts.version.enabled, marks, earlier)
            .map_err(ScanError::Open)?;
    let checkpointer = resume::checkpoint_for(opts, argv, resumed, counters);
    let plan = session.plan();
    for w in &plan.warnings {
        say::err(format_args!("portolan: {w}"));
    }
    if plan.targets.is_empty() {
        say::err(format_args!(
            "WARNING: No targets were specified, so 0 hosts scanned."
        ));
    }
    let reporter = Reporter::new(plan.title(), opts.output.stats_every, !opts.noninteractive);
    let mut observer = outputs::Terminal::new(outputs, reporter, stop.clone())
        .with_history(recorder)
        .with_live(opts.output.live)
        .with_checkpoint(checkpointer);
    if opts.output.verbose > 0 && normal_on_stdout && plan.port_scan {
        let per_host = plan.techniques.iter().map(|t| t.ports.len() as u64).sum();
        observer = observer.with_chatter(chatter::Chatter::new(plan.title(), per_host));
    }
    let stats = session.run(&mut observer).map_err(ScanError::Session)?;
    // Standard output's reader went away (`| head`): the run stopped
    // there, which is no failure unless a signal came too.
    Ok(
        if stats.interrupted && (stop.signal().is_some() || !observer.pipe_closed()) {
            ExitCode::from(interrupted_code(stop.signal()))
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// The largest automatic host group (see [`scan`]).
const RESUME_HOSTGROUP: u32 = 4096;

/// The exit status of an interrupted run: 128 + the signal's number, as a
/// shell reports a command a signal ended (130 for Ctrl-C, 143 for
/// SIGTERM); 130 when no signal is known.
fn interrupted_code(signal: Option<i32>) -> u8 {
    signal
        .and_then(|s| u8::try_from(128 + s).ok())
        .unwrap_or(130)
}
