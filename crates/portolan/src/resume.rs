//! `portolan --resume FILE`, and the checkpoint every scan keeps (see
//! [`crate::checkpoint`] for what it holds and why).

use crate::{checkpoint, history, outputs, say, scan, ScanError};
use portolan_cli::{self as cli, Command, Options};
use std::process::ExitCode;

/// `portolan --resume FILE`: checks the checkpoint (its integrity, this
/// build, the output files it continues), then runs its scan again
/// without the hosts it finished. Nothing is written before every check
/// passed.
pub fn resume(given: &std::path::Path) -> Result<ExitCode, ScanError> {
    let (path, cp) = checkpoint::load(given).map_err(ScanError::Resume)?;
    let build = checkpoint::build_id();
    if cp.build != build {
        return Err(ScanError::Resume(format!(
            "checkpoint {} was written by another build ({}; this is {build})",
            path.display(),
            cp.build
        )));
    }
    let opts = match cli::parse(cp.argv.iter().map(std::ffi::OsString::from)) {
        Ok(Command::Scan(opts)) => opts,
        _ => {
            return Err(ScanError::Resume(format!(
                "checkpoint {} holds no scan command",
                path.display()
            )))
        }
    };
    if (opts.seed, opts.shard) != (cp.seed, cp.shard) {
        return Err(ScanError::Resume(format!(
            "checkpoint {} is of other options (its seed or shard differ from its command line)",
            path.display()
        )));
    }
    cp.check_files().map_err(ScanError::Resume)?;
    let argv = cp.argv.clone();
    scan(&opts, argv, Some((path, cp)))
}

/// The checkpoint a scan keeps: the one it resumes, or a new one beside
/// its first output file (else in the data directory).
pub fn checkpoint_for(
    opts: &Options,
    argv: Vec<String>,
    resumed: Option<(std::path::PathBuf, checkpoint::Checkpoint)>,
    counters: outputs::Counters,
) -> Option<checkpoint::Checkpointer> {
    let (path, base) = match resumed {
        Some(r) => r,
        None => {
            let o = &opts.output;
            let files: Vec<&std::path::Path> = [&o.xml, &o.json, &o.normal, &o.grepable]
                .into_iter()
                .flatten()
                .map(|p| p.as_path())
                .filter(|p| p.as_os_str() != "-")
                .collect();
            let data = history::default_location().and_then(|l| match l {
                portolan_store::Location::Sqlite(p) => {
                    p.parent().and_then(|d| d.parent()).map(|d| d.to_path_buf())
                }
                _ => None,
            });
            let path = checkpoint::path_for(&files, data)?;
            let marks = counters
                .iter()
                .map(|(p, _)| checkpoint::FileMark {
                    path: p.clone(),
                    len: 0,
                    head: String::new(),
                })
                .collect();
            let base = checkpoint::Checkpoint {
                build: checkpoint::build_id(),
                argv,
                seed: opts.seed,
                shard: opts.shard,
                history_scan: None,
                elapsed: 0.0,
                hosts_up: 0,
                hosts_down: 0,
                files: marks,
                done: Vec::new(),
                partial: Vec::new(),
                port_sets: Vec::new(),
            };
            (path, base)
        }
    };
    if opts.output.verbose > 0 {
        say::err(format_args!("portolan: checkpoint: {}", path.display()));
    }
    Some(checkpoint::Checkpointer::new(path, base, counters))
}

/// The path of the checkpoint being resumed, for messages.
pub fn resumed_path(resumed: &Option<(std::path::PathBuf, checkpoint::Checkpoint)>) -> String {
    resumed
        .as_ref()
        .map_or(String::new(), |(p, _)| p.display().to_string())
}
