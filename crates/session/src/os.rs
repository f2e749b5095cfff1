//! OS detection (`-O`) as a [`HostStage`], first of the stages.
//!
//! The scan itself gathers the evidence: with `-O` the engine keeps the
//! first SYN/ACK, RST+ACK and RST of every host
//! ([`portolan_model::HostResult::stack`], a fixed 224 bytes per host, so
//! memory per host stays bounded), and SYN probes offer the options a real
//! client's SYN does, so the SYN/ACK shows which the stack echoes. When a
//! host is handed over, [`portolan_os::Database::classify`] ranks the
//! stack database against those samples (microseconds, so it runs inline
//! in `submit` rather than on a runtime of its own) and the host goes on
//! to `-sV` with its [`portolan_model::OsReport`] and without the samples.
//!
//! `--osscan-limit` keeps nmap's meaning: only hosts with at least one
//! open and one closed TCP port are classified; the others get no OS
//! answer at all. Without it every up host gets one, "not enough
//! evidence" included.

use crate::stage::HostStage;
use portolan_model::{HostResult, PortState, Protocol};
use portolan_os::{Database, Evidence, Options};
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// The largest `--os-db` file read (the built-in database is well under
/// a megabyte; this bounds `/dev/zero` and mistakes).
const MAX_DB_BYTES: u64 = 16 << 20;

/// The built-in stack database, with the user's `--os-db` file merged in.
/// Errors are one line: the file, the line and the reason.
pub fn load_database(file: Option<&Path>) -> Result<Arc<Database>, String> {
    let mut db = Database::builtin();
    if let Some(path) = file {
        let name = path.display().to_string();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_DB_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| format!("{name}: {e}"))?;
        if bytes.len() as u64 > MAX_DB_BYTES {
            return Err(format!("{name}: larger than {MAX_DB_BYTES} bytes"));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            format!("{name}:{line}: not UTF-8 text")
        })?;
        db.merge(Database::parse(&text, &name).map_err(|e| e.to_string())?);
    }
    Ok(Arc::new(db))
}

/// What the OS flags ask of the stage.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsStageOptions {
    /// `--osscan-limit`.
    pub limit: bool,
    /// `--osscan-guess`.
    pub guess: bool,
}

/// OS detection on hosts as they finish (see the module docs).
pub struct OsStage {
    db: Arc<Database>,
    opts: OsStageOptions,
    done: VecDeque<HostResult>,
}

impl OsStage {
    /// A stage classifying against `db`.
    pub fn new(db: Arc<Database>, opts: OsStageOptions) -> OsStage {
        OsStage {
            db,
            opts,
            done: VecDeque::new(),
        }
    }

    /// Classifies `host` (or, under `--osscan-limit`, leaves an
    /// unpromising one without an answer) and drops its samples.
    fn classify(&self, host: &mut HostResult) {
        let samples = host.stack.take();
        if self.opts.limit && !promising(host) {
            return;
        }
        let evidence = Evidence {
            samples: samples.map(|s| *s).unwrap_or_default(),
            more: Vec::new(),
        };
        let options = Options {
            guess: self.opts.guess,
        };
        host.os = Some(self.db.classify(&evidence, &options));
    }
}

/// nmap's "promising target": one open and one closed TCP port.
fn promising(host: &HostResult) -> bool {
    let tcp = |state: PortState| {
        host.ports
            .iter()
            .any(|p| p.protocol == Protocol::Tcp && p.state == state)
    };
    tcp(PortState::Open) && tcp(PortState::Closed)
}

impl HostStage for OsStage {
    fn submit(&mut self, mut host: HostResult) {
        self.classify(&mut host);
        self.done.push_back(host);
    }

    fn try_next(&mut self) -> Option<HostResult> {
        self.done.pop_front()
    }

    fn in_progress(&self) -> usize {
        self.done.len()
    }

    fn finish(&mut self, _interrupted: bool) -> Vec<HostResult> {
        self.done.drain(..).collect()
    }

    /// Classifying sends nothing and takes microseconds: a host whose time
    /// is up still gets what its scan showed.
    fn bounded_by_host_timeout(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_model::{HostStatus, PortResult, Reason};
    use std::net::{IpAddr, Ipv4Addr};

    fn host(states: &[PortState]) -> HostResult {
        let mut h = HostResult::new(
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            HostStatus::Up,
            Reason::UserSet,
        );
        for (i, &s) in states.iter().enumerate() {
            h.ports.push(PortResult {
                port: 80 + i as u16,
                protocol: Protocol::Tcp,
                state: s,
                reason: Reason::NoResponse,
                reason_ttl: 0,
                service: None,
            });
        }
        h
    }

    #[test]
    fn every_up_host_gets_an_answer_and_loses_its_samples() {
        let mut stage = OsStage::new(Arc::new(Database::builtin()), OsStageOptions::default());
        let mut h = host(&[PortState::Filtered]);
        h.stack = Some(Box::default());
        stage.submit(h);
        assert_eq!(stage.in_progress(), 1);
        let h = stage.try_next().unwrap();
        assert!(h.stack.is_none());
        // No SYN/ACK, no RST: nothing to classify, said plainly.
        let os = h.os.expect("an answer");
        assert!(os.matches.is_empty() && os.no_match.is_some());
        assert!(stage.finish(false).is_empty());
    }

    #[test]
    fn osscan_limit_skips_hosts_without_an_open_and_a_closed_port() {
        let opts = OsStageOptions {
            limit: true,
            guess: false,
        };
        let mut stage = OsStage::new(Arc::new(Database::builtin()), opts);
        stage.submit(host(&[PortState::Open]));
        stage.submit(host(&[PortState::Open, PortState::Closed]));
        let first = stage.try_next().unwrap();
        assert!(first.os.is_none());
        let second = stage.try_next().unwrap();
        assert!(second.os.is_some());
    }

    #[test]
    fn a_bad_os_db_names_the_file() {
        let dir = std::env::temp_dir().join(format!("portolan-osdb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.osdb");
        let e = load_database(Some(&missing)).unwrap_err();
        assert!(e.starts_with(&missing.display().to_string()), "{e}");
        let binary = dir.join("binary.osdb");
        std::fs::write(&binary, b"# ok\n\xff\xfe\n").unwrap();
        let e = load_database(Some(&binary)).unwrap_err();
        assert_eq!(e, format!("{}:2: not UTF-8 text", binary.display()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
