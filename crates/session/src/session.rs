//! A scan from start to end: [`Session::new`] plans it (nothing is sent
//! yet, so a bad configuration fails before any file is created), and
//! [`Session::run`] runs it, handing every event to the caller's observer.
//!
//! Why two steps: the caller may want the plan first (its warnings, its
//! scan information for output headers, whether any target is left), and
//! may open its outputs only once the scan is known to be possible.

use crate::checks::{check_options, ChecksStage};
use crate::config::ScanConfig;
use crate::modes;
use crate::observer::ScanObserver;
use crate::order::TargetOrder;
use crate::os::{OsStage, OsStageOptions};
use crate::plan::{unix_now, Discovery, Plan};
use crate::rdns::ReverseDnsStage;
use crate::sink::Sink;
use crate::stop::StopHandle;
use crate::version::{load_database, VersionOptions, VersionStage};
use crate::SessionError;
use portolan_checks::CheckOptions;
use portolan_engine::SharedRateLimiter;
use portolan_model::RunStats;
use portolan_service::Database;
use portolan_targets::ServiceTable;
use std::sync::Arc;
use std::time::Instant;

/// One scan, planned and ready to run (see the module docs).
pub struct Session {
    config: ScanConfig,
    plan: Plan,
    version: Option<(VersionOptions, Arc<Database>)>,
    checks: Option<CheckOptions>,
    os: Option<(OsStageOptions, Arc<portolan_os::Database>)>,
    stop: StopHandle,
}

impl Session {
    /// Plans `config`: targets expanded, ports resolved, privileges
    /// checked (unless `config.privileged` says), the service database
    /// loaded when service detection is on. Sends nothing.
    pub fn new(config: ScanConfig) -> Result<Session, SessionError> {
        let privileged = config
            .privileged
            .unwrap_or_else(portolan_netio::has_raw_privilege);
        let plan = Plan::build(&config, privileged)?;
        // Loaded before scanning, so a bad --service-db fails at once.
        let version = match version_options(&config, &plan) {
            Some(v) => {
                let db = load_database(&v)?;
                Some((v, db))
            }
            None => None,
        };
        // Checked before scanning too: a misspelt --script fails at once.
        let parallelism = plan.timing.max_parallelism.min(1024) as usize;
        let checks = check_options(&config.checks, parallelism).map_err(SessionError::Checks)?;
        // And a bad --os-db.
        let os = match config.os.enabled && plan.port_scan {
            true => {
                let db = crate::os::load_database(config.os.db_file.as_deref())
                    .map_err(SessionError::OsDb)?;
                let opts = OsStageOptions {
                    limit: config.os.limit,
                    guess: config.os.guess,
                    tries: config.os.max_tries.unwrap_or(crate::os::DEFAULT_TRIES),
                    rto: config.os.rto,
                    net: crate::os_probe::ProbeNet {
                        interface: config.net.interface.clone(),
                        source: config.net.source_addr,
                        source_port: config.net.source_port,
                        ttl: config.net.ttl,
                    },
                };
                Some((opts, db))
            }
            false => None,
        };
        Ok(Session {
            config,
            plan,
            version,
            checks,
            os,
            stop: StopHandle::new(),
        })
    }

    /// What the scan will do: techniques, ports, targets, timing, the
    /// warnings planning produced, and the scan information for headers.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The configuration the session was built from.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// Makes `stop` this session's stop switch (one made before planning,
    /// say, so a signal during planning stops the run at its start).
    pub fn with_stop(mut self, stop: StopHandle) -> Self {
        self.stop = stop;
        self
    }

    /// A handle that stops this session's run from another thread or a
    /// signal handler.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Runs the scan to its end (or until stopped), giving `observer`
    /// every event, and returns the run's statistics (also given to
    /// [`ScanObserver::end`]). An error still ends the observer first, so
    /// outputs are closed properly; `stats.interrupted` says whether the
    /// run was stopped.
    pub fn run(self, observer: &mut dyn ScanObserver) -> Result<RunStats, SessionError> {
        let started = Instant::now();
        let Session {
            config,
            plan,
            version,
            checks,
            os,
            stop,
        } = self;
        observer.begin(&plan.info).map_err(SessionError::Output)?;
        let mut sink = Sink::new(observer, ServiceTable::builtin());
        sink.name_down = config.always_dns && !config.no_dns;
        sink.host_timeout = plan.timing.host_timeout;
        // One --max-rate budget for the scans and -sV together.
        sink.budget = plan
            .timing
            .max_rate
            .and_then(|r| SharedRateLimiter::per_second(r, Instant::now()));
        // nmap lists a host group's hosts in target order; -sL already is.
        if !matches!(plan.discovery, Discovery::List) {
            sink.order = TargetOrder::new(&plan.targets);
        }
        // OS detection first: it only reads what the scan received, and
        // drops those samples before the host waits for slower stages.
        if let Some((opts, db)) = os {
            sink.stages.push(Box::new(OsStage::new(db, opts)));
        }
        // Service detection next, so probing starts the moment a host's
        // ports are known (a slow name server delays only the writing);
        // then the host's reverse name.
        if let Some((v, db)) = &version {
            let parallelism = plan.timing.max_parallelism.min(1024) as usize;
            let rate = plan.timing.max_rate;
            let budget = sink.budget.clone();
            let stage = VersionStage::start_shared(Arc::clone(db), v, parallelism, rate, budget)?;
            sink.stages.push(Box::new(stage));
        }
        // Checks next: they read what -sV found (service names, TLS
        // certificates).
        if let Some(opts) = checks {
            let budget = sink.budget.clone();
            sink.stages
                .push(Box::new(ChecksStage::start(opts, budget)?));
        }
        if !config.no_dns && !matches!(plan.discovery, Discovery::List) {
            match ReverseDnsStage::start(&config.dns_servers, config.system_dns) {
                Ok(stage) => sink.stages.push(Box::new(stage)),
                Err(e) => sink.warning(&format!("reverse DNS unavailable: {e}")),
            }
        }
        let mut hosts_down = 0;
        let result = modes::run(&plan, &config, stop.flag(), &mut sink, &mut hosts_down);
        sink.probing_done();
        // A stop while the stages finish their work abandons it too.
        let interrupted = sink.drain_stages(stop.flag());
        sink.flush();
        let hosts_up = sink.hosts_up;
        let discovered = !matches!(plan.discovery, Discovery::Skip | Discovery::List);
        let seen_down = hosts_down > sink.discovery_timed_out;
        if discovered && hosts_up == 0 && seen_down && !interrupted && result.is_ok() {
            sink.note(
                "Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn",
            );
        }
        let write_error = sink.error.take();
        let stats = RunStats {
            end_time: unix_now(),
            elapsed: started.elapsed().as_secs_f64(),
            hosts_up,
            hosts_down,
            interrupted,
            hosts_incomplete: sink.hosts_incomplete,
            error: result.as_ref().err().map(|e| e.to_string()),
        };
        drop(sink);
        observer.end(&stats).map_err(SessionError::Output)?;
        result?;
        if let Some(e) = write_error {
            return Err(SessionError::Output(e));
        }
        Ok(stats)
    }
}

/// The version flags, when -sV is on.
fn version_options(config: &ScanConfig, plan: &Plan) -> Option<VersionOptions> {
    let v = &config.version;
    let host_timeout = plan.timing.host_timeout;
    v.enabled.then(|| VersionOptions {
        intensity: v.intensity.unwrap_or(7),
        all_ports: v.all_ports,
        trace: v.trace,
        db_file: v.db_file.clone(),
        host_timeout,
    })
}
