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
//! Hosts whose scan shows no SYN/ACK or RST+ACK (a connect, FIN, ACK or
//! UDP scan) get OS detection's own two SYN probes first, on a thread of
//! the stage's ([`crate::os_probe`]); the scan never waits for them.
//!
//! `--osscan-limit` keeps nmap's meaning: only hosts with at least one
//! open and one closed TCP port are classified; the others get no OS
//! answer at all. Without it every up host gets one, "not enough
//! evidence" included.

use crate::os_probe::{self, Job, ProbeNet};
use crate::stage::HostStage;
use portolan_model::traits::SampleKind;
use portolan_model::{HostResult, PortState, Protocol};
use portolan_os::{
    uptime_meaningful, Database, Evidence, Observation, Options, Sequence, SynVariant,
};
use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

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
#[derive(Clone, Debug, Default)]
pub struct OsStageOptions {
    /// `--osscan-limit`.
    pub limit: bool,
    /// `--osscan-guess`.
    pub guess: bool,
    /// `--max-os-tries`: rounds of OS detection's own probes; 0 sends
    /// none (the stage then only reads the scan's replies).
    pub tries: u32,
    /// Where those probes leave from.
    pub net: ProbeNet,
    /// `--os-rto`: time the SYN/ACK retransmissions of hosts still not
    /// sure after everything else.
    pub rto: bool,
}

/// nmap's `--max-os-tries` default is 5, lowered to 2 when conditions
/// are good; portolan's two probes per host are cheap, so 2 rounds.
pub const DEFAULT_TRIES: u32 = 2;

/// The prober thread and its channels, started on first need.
struct Prober {
    jobs: Sender<Job>,
    done: Receiver<Job>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// OS detection on hosts as they finish (see the module docs).
pub struct OsStage {
    db: Arc<Database>,
    opts: OsStageOptions,
    done: VecDeque<HostResult>,
    prober: Option<Prober>,
    probing: usize,
}

impl OsStage {
    /// A stage classifying against `db`.
    pub fn new(db: Arc<Database>, opts: OsStageOptions) -> OsStage {
        OsStage {
            db,
            opts,
            done: VecDeque::new(),
            prober: None,
            probing: 0,
        }
    }

    /// Classifies the job's host from its samples (and burst, if one was
    /// sent) and queues it; or, when the answer is not sure or an uptime
    /// could be read, sends it back to the prober for the timed burst
    /// first (once per host).
    fn settle(&mut self, mut job: Job) {
        let options = Options {
            guess: self.opts.guess,
        };
        let evidence = Evidence {
            samples: job.samples,
            more: Vec::new(),
        };
        let mut observation = Observation::from_evidence(&evidence);
        let seq = job.burst.as_ref().map(|replies| Sequence {
            echo: job.icmp[0],
            unreach: job.icmp[1],
            ..Sequence::from_replies(replies)
        });
        if let Some(seq) = &seq {
            // The burst's evidence ranks the entries that record it.
            observation.add_sequence(seq);
        }
        for (o, t) in observation.variants.iter_mut().zip(&job.variants) {
            *o = t.as_ref().map(|t| SynVariant {
                options: t.options.to_string(),
                window: t.window,
                mss: t.mss,
            });
        }
        observation.rto = job.rto.clone();
        observation.giveup = job.giveup;
        let mut report = self.db.classify_observation(&observation, &options);
        // A job back with `want_burst` still set was not served (an
        // interrupt): it goes out with what it has, never round again.
        if job.burst.is_none()
            && !job.want_burst
            && self.opts.tries > 0
            && burst_wanted(&job, &report)
        {
            job.want_burst = true;
            match self.prober().jobs.send(job) {
                Ok(()) => {
                    self.probing += 1;
                    return;
                }
                Err(unsent) => job = unsent.0,
            }
        }
        // Still not sure after the burst: with --os-rto, the
        // retransmission timing (once per host; a job back unserved after
        // an interrupt goes out as it is).
        if self.opts.rto
            && job.burst.is_some()
            && job.rto.is_none()
            && !job.want_rto
            && !job.rto_tried
            && !report.is_sure()
            && os_probe::burst_port(&job.host).is_some()
        {
            job.want_rto = true;
            job.rto_tried = true;
            match self.prober().jobs.send(job) {
                Ok(()) => {
                    self.probing += 1;
                    return;
                }
                Err(unsent) => job = unsent.0,
            }
        }
        if let Some(seq) = &seq {
            if uptime_meaningful(&report) {
                report.uptime = seq.uptime;
            }
        }
        let mut host = job.host;
        // nmap's distance to this machine itself is 0 hops.
        if host.addr.is_loopback() && report.distance.is_some() {
            report.distance = Some(0);
        }
        host.os = Some(report);
        self.done.push_back(host);
    }

    /// The prober, started if it is not yet.
    fn prober(&mut self) -> &mut Prober {
        let opts = &self.opts;
        self.prober.get_or_insert_with(|| {
            let (jobs_tx, jobs_rx) = mpsc::channel();
            let (done_tx, done_rx) = mpsc::channel();
            let stop = Arc::new(AtomicBool::new(false));
            let (net, tries, flag) = (opts.net.clone(), opts.tries, Arc::clone(&stop));
            let thread = std::thread::Builder::new()
                .name("portolan-os".into())
                .spawn(move || os_probe::run(jobs_rx, done_tx, net, tries, flag))
                .ok();
            Prober {
                jobs: jobs_tx,
                done: done_rx,
                stop,
                thread,
            }
        })
    }

    /// Classifies the jobs the prober has handed back.
    fn take_probed(&mut self, block: bool) {
        loop {
            let Some(p) = self.prober.as_mut() else {
                return;
            };
            let job = if block && self.probing > 0 {
                p.done.recv().ok()
            } else {
                p.done.try_recv().ok()
            };
            let Some(job) = job else {
                return;
            };
            self.probing -= 1;
            self.settle(job);
        }
    }
}

/// Whether a classified host is worth the timed burst: it has an open TCP
/// port, and either its SYN/ACK did not decide (no sure match) or it
/// carried timestamps from a stack whose clock gives an uptime. A sure
/// Linux host (the common case) costs nothing more.
fn burst_wanted(job: &Job, report: &portolan_model::OsReport) -> bool {
    if os_probe::burst_port(&job.host).is_none() {
        return false;
    }
    let stamped = job
        .samples
        .get(SampleKind::SynAck)
        .is_some_and(|t| t.timestamps.is_some());
    !report.is_sure() || (stamped && uptime_meaningful(report))
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
        let samples = host.stack.take().map(|s| *s).unwrap_or_default();
        if self.opts.limit && !promising(&host) {
            // nmap skips unpromising hosts: no answer at all.
            self.done.push_back(host);
            return;
        }
        let job = Job::new(host, samples);
        if self.opts.tries > 0 && !os_probe::wanted(&job.host, &job.samples).is_empty() {
            match self.prober().jobs.send(job) {
                Ok(()) => self.probing += 1,
                // The thread is gone: classify what the scan showed.
                Err(unsent) => self.settle(unsent.0),
            }
            return;
        }
        self.settle(job);
    }

    fn try_next(&mut self) -> Option<HostResult> {
        self.take_probed(false);
        self.done.pop_front()
    }

    fn in_progress(&self) -> usize {
        self.done.len() + self.probing
    }

    fn finish(&mut self, interrupted: bool) -> Vec<HostResult> {
        if let Some(p) = self.prober.as_mut() {
            if interrupted {
                // Hosts come back at once with what the scan showed.
                p.stop.store(true, Ordering::Relaxed);
            }
        }
        self.take_probed(true);
        if let Some(p) = self.prober.take() {
            drop(p.jobs);
            if let Some(t) = p.thread {
                let _ = t.join();
            }
        }
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
    use portolan_model::traits::TraitSamples;
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
        // (Tries 0 by default here: nothing is sent.)
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
            // No probes of its own: this unit test sends nothing.
            tries: 0,
            ..OsStageOptions::default()
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
    fn the_burst_goes_only_to_undecided_or_uptime_worthy_hosts() {
        use portolan_model::traits::{StackTraits, Timestamps};
        use portolan_model::{OsClass, OsMatch, OsReport};
        let report = |family: &str, accuracy: u8| OsReport {
            matches: vec![OsMatch {
                name: family.into(),
                accuracy,
                classes: vec![OsClass {
                    family: family.into(),
                    accuracy,
                    ..OsClass::default()
                }],
            }],
            ..OsReport::default()
        };
        let mut samples = TraitSamples::new();
        samples.offer(StackTraits {
            flags: 0x12,
            timestamps: Some(Timestamps { tsval: 5, tsecr: 0 }),
            ..StackTraits::default()
        });
        let open = Job::new(host(&[PortState::Open]), samples);
        // A sure Linux host: nothing more (its clock says nothing).
        assert!(!burst_wanted(&open, &report("Linux", 100)));
        // Unsure: the burst. Sure but not Linux, with timestamps: the
        // burst, for the uptime.
        assert!(burst_wanted(&open, &report("Linux", 80)));
        assert!(burst_wanted(&open, &report("Windows", 100)));
        assert!(burst_wanted(&open, &OsReport::not_enough("none")));
        // No timestamps: a sure answer needs nothing more.
        let plain = Job::new(host(&[PortState::Open]), TraitSamples::new());
        assert!(!burst_wanted(&plain, &report("Windows", 100)));
        // No open port: nowhere to send it.
        let closed = Job::new(host(&[PortState::Closed]), TraitSamples::new());
        assert!(!burst_wanted(&closed, &OsReport::not_enough("none")));
    }

    #[test]
    fn a_job_back_unserved_is_not_sent_round_again() {
        // As the prober hands jobs back after an interrupt: burst asked,
        // none sent. The stage must answer with what it has (this sends
        // nothing: no prober is started).
        let opts = OsStageOptions {
            tries: 2,
            ..OsStageOptions::default()
        };
        let mut stage = OsStage::new(Arc::new(Database::builtin()), opts);
        let mut job = Job::new(host(&[PortState::Open]), TraitSamples::new());
        job.want_burst = true;
        stage.settle(job);
        assert!(stage.prober.is_none());
        assert!(stage.try_next().is_some_and(|h| h.os.is_some()));
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
