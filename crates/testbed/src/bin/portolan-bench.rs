//! `portolan-bench`: runs portolan against namespace testbeds and reports
//! wall time, accuracy and peak memory per scenario.
//!
//! Usage: `portolan-bench [--runs N] [--portolan PATH] [--extra-args "..."]
//! [--timeout SECS] [--limit PATH] [--limit-args "..."] [--list]
//! [scenario...]` (as root).
//! Exits 1 if any scenario misses its target or has a failed run, 2 on bad
//! usage. With `PORTOLAN_BENCH_STDERR` set, portolan's standard error is
//! shown.
//!
//! Scenarios with a physical limit (`syn-veth`, `sweep16`) also run
//! `portolan-limit` (by default the one beside this program; see
//! `portolan_testbed::limit`) after each of portolan's runs, on the same
//! testbed, and print its median beside portolan's, with the ratio.

use std::process::ExitCode;
use std::time::Duration;

use portolan_testbed::bench::{compare, median, run_measured, Prepared, Scenario};
use portolan_testbed::limit::parse_outcome;
use portolan_testbed::{cleanup_stale, require_root};

struct Options {
    runs: usize,
    portolan: String,
    extra: Vec<String>,
    timeout: Duration,
    limit: String,
    limit_extra: Vec<String>,
    scenarios: Vec<Scenario>,
}

const USAGE: &str = "usage: portolan-bench [--runs N] [--portolan PATH] [--extra-args \"ARGS\"] \
[--timeout SECS] [--limit PATH] [--limit-args \"ARGS\"] [--list] [scenario...]";

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        runs: 5,
        portolan: "target/release/portolan".to_string(),
        extra: Vec::new(),
        timeout: Duration::from_secs(60),
        limit: std::env::current_exe()
            .ok()
            .and_then(|e| Some(e.parent()?.join("portolan-limit")))
            .map_or("portolan-limit".to_string(), |p| {
                p.to_string_lossy().into_owned()
            }),
        limit_extra: Vec::new(),
        scenarios: Vec::new(),
    };
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--runs" => {
                let v = value("--runs")?;
                o.runs = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("bad --runs value {v:?}"))?;
            }
            "--portolan" => o.portolan = value("--portolan")?,
            "--limit" => o.limit = value("--limit")?,
            "--limit-args" => {
                o.limit_extra = value("--limit-args")?
                    .split_whitespace()
                    .map(String::from)
                    .collect();
            }
            "--extra-args" => {
                o.extra = value("--extra-args")?
                    .split_whitespace()
                    .map(String::from)
                    .collect();
            }
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("bad --timeout value {v:?}"))?;
                o.timeout = Duration::from_secs(secs.max(1));
            }
            "--list" => {
                for s in Scenario::ALL {
                    println!("{}", s.name());
                }
                return Ok(None);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            name => o.scenarios.push(
                Scenario::from_name(name)
                    .ok_or(format!("unknown scenario {name:?} (see --list)"))?,
            ),
        }
    }
    if o.scenarios.is_empty() {
        o.scenarios = Scenario::ALL.to_vec();
    }
    if let Ok(abs) = std::fs::canonicalize(&o.portolan) {
        o.portolan = abs.to_string_lossy().into_owned();
    }
    Ok(Some(o))
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    if v.is_empty() {
        return "(empty)".to_string();
    }
    v[v.len().saturating_sub(lines)..].join("\n      ")
}

/// Runs one scenario; returns true if it met its targets.
fn run_scenario(s: Scenario, o: &Options) -> bool {
    println!("== {}", s.name());
    let p = match s.prepare() {
        Ok(p) => p,
        Err(e) => {
            println!("  testbed setup FAILED: {e}");
            return false;
        }
    };
    let mut args = p.args.clone();
    args.extend(o.extra.iter().cloned());
    println!(
        "  ip netns exec {} {} {}",
        p.testbed.scanner_ns(),
        o.portolan,
        args.join(" ")
    );
    let limit_args = s.limit_args(&p).map(|mut a| {
        // Options go before the two positional arguments.
        let at = a.len().saturating_sub(2);
        a.splice(at..at, o.limit_extra.iter().cloned());
        a
    });
    if let Some(a) = &limit_args {
        println!(
            "  limit: ip netns exec {} {} {}",
            p.testbed.scanner_ns(),
            o.limit,
            a.join(" ")
        );
    }
    let mut limits = Vec::new();
    let (mut cpus, mut limit_cpus) = (Vec::new(), Vec::new());
    let (mut times, mut rss, mut all_ok, mut exact) = (Vec::new(), Vec::new(), true, true);
    for run in 1..=o.runs {
        if let Some(a) = &limit_args {
            // Interleaved with portolan's runs, so both see the same load.
            if let Some((secs, cpu)) = run_limit(&p, o, a, run) {
                limits.push(secs);
                limit_cpus.extend(cpu);
            }
        }
        let mut cmd = p.testbed.scanner_command(&o.portolan);
        // Scans are recorded as a user's would be (that cost is part of
        // the figure), but not into the user's own history: into
        // PORTOLAN_BENCH_DATA_HOME's when set (a store of another schema
        // version, or kept apart from other benchmarks), else a shared
        // one in the temporary directory.
        cmd.env(
            "XDG_DATA_HOME",
            std::env::var_os("PORTOLAN_BENCH_DATA_HOME").map_or_else(
                || std::env::temp_dir().join("portolan-bench-history"),
                Into::into,
            ),
        );
        cmd.args(&args);
        let out = match run_measured(&mut cmd, p.stop_after, o.timeout) {
            Ok(out) => out,
            Err(e) => {
                println!("  run {run}/{}: FAILED to start: {e}", o.runs);
                all_ok = false;
                break;
            }
        };
        let secs = out.wall.as_secs_f64();
        if std::env::var_os("PORTOLAN_BENCH_STDERR").is_some() {
            // For diagnosis (e.g. with --extra-args "--stats-every 100ms").
            eprint!("{}", out.stderr);
        }
        let rss_text = out.peak_rss_kb.map_or("peak RSS ?".to_string(), |kb| {
            format!("peak RSS {:.1} MiB", mib(kb))
        });
        if !out.ok() {
            all_ok = false;
            let why = if out.timed_out {
                format!("killed after {:.0} s timeout", o.timeout.as_secs_f64())
            } else {
                out.status
                    .map_or("no exit status".to_string(), |s| s.to_string())
            };
            println!("  run {run}/{}: FAILED ({why}) after {secs:.3} s", o.runs);
            println!("    stderr tail:\n      {}", tail(&out.stderr, 8));
            continue;
        }
        let mut line = format!("  run {run}/{}: {secs:.3} s", o.runs);
        if let Some(expected) = &p.expected {
            let reported = portolan_testbed::bench::parse_grepable(&out.stdout);
            let a = compare(expected, &reported);
            if exact && (a.false_pos > 0 || a.false_neg > 0) {
                // The first inexact run says what differed.
                for (host, port) in expected.difference(&reported) {
                    println!("    missed   {port}: {host}");
                }
                for (host, port) in reported.difference(expected) {
                    println!("    reported {port}: {host}");
                }
            }
            exact &= a.false_pos == 0 && a.false_neg == 0;
            line.push_str(&format!(
                "  found {}/{}  false+ {}  false- {}",
                a.found,
                expected.len(),
                a.false_pos,
                a.false_neg
            ));
        }
        if o.extra.iter().any(|a| a == "-O") {
            // Hosts with an OS answer (grepable `OS:` field) out of the
            // hosts with ports listed.
            let hosts = out
                .stdout
                .lines()
                .filter(|l| l.contains("\tPorts: "))
                .count();
            let answered = out.stdout.lines().filter(|l| l.contains("\tOS: ")).count();
            line.push_str(&format!("  OS named {answered}/{hosts}"));
        }
        if out.interrupted {
            line.push_str("  (stopped with SIGINT)");
        }
        if let Some(c) = out.cpu {
            line.push_str(&format!("  cpu {:.3} s", c.as_secs_f64()));
            cpus.push(c.as_secs_f64());
        }
        println!("{line}  {rss_text}");
        times.push(secs);
        if let Some(kb) = out.peak_rss_kb {
            rss.push(mib(kb));
        }
    }
    let mut pass = all_ok && exact && !times.is_empty();
    if let (Some(target), Some(m)) = (s.target_secs(), median(&times)) {
        pass &= m <= target;
        println!(
            "  median {m:.3} s over {} runs (target <= {target} s)",
            times.len()
        );
    }
    if let (Some(l), Some(m)) = (median(&limits), median(&times)) {
        let ratio = m / l;
        let target = s.target_ratio();
        pass &= target.is_none_or(|t| ratio <= t);
        println!(
            "  limit median {l:.3} s over {} runs (stateless sender, first SYN to last reply); \
             portolan {m:.3} s = {ratio:.2}x the limit{}",
            limits.len(),
            target.map_or(String::new(), |t| format!(" (target <= {t}x)"))
        );
        if let (Some(lc), Some(c)) = (median(&limit_cpus), median(&cpus)) {
            println!(
                "  CPU time median: limit {lc:.3} s, portolan {c:.3} s = {:.2}x (independent of \
                 the machine's load; counts kernel work in each one's threads)",
                c / lc
            );
        }
    } else if limit_args.is_some() {
        println!("  limit: no measurement");
    }
    if let Some(limit) = s.target_rss_mib() {
        let peak = rss.iter().copied().fold(f64::NAN, f64::max);
        pass &= peak <= limit;
        println!(
            "  peak RSS median {:.1} MiB, max {peak:.1} MiB (target <= {limit} MiB)",
            median(&rss).unwrap_or(f64::NAN)
        );
    } else if let Some(m) = median(&rss) {
        println!("  peak RSS median {m:.1} MiB");
    }
    let (fwd, dropped) = p.testbed.relay_stats();
    if fwd + dropped > 0 {
        let (worst, late) = p.testbed.relay_lateness();
        println!(
            "  delay relay: {fwd} frames forwarded, {dropped} dropped, {late} over 1 ms late \
             (worst {:.1} ms)",
            worst.as_secs_f64() * 1000.0
        );
    }
    if p.expected.is_some() && !exact {
        println!("  accuracy: NOT exact in every run");
    }
    println!("  {}: {}", s.name(), if pass { "PASS" } else { "FAIL" });
    pass
}

/// One run of `portolan-limit` on `p`'s testbed: its first-SYN-to-last-
/// reply time in seconds and its CPU time, if it ran and counted every
/// expected reply.
fn run_limit(p: &Prepared, o: &Options, args: &[String], run: usize) -> Option<(f64, Option<f64>)> {
    let mut cmd = p.testbed.scanner_command(&o.limit);
    cmd.args(args);
    let out = match run_measured(&mut cmd, None, o.timeout) {
        Ok(out) => out,
        Err(e) => {
            println!("  limit {run}/{}: FAILED to start: {e}", o.runs);
            return None;
        }
    };
    let want = p.expected.as_ref().map_or(0, |e| e.len());
    match parse_outcome(&out.stdout) {
        Some((replies, secs)) if out.ok() => {
            let cpu = out.cpu.map(|c| c.as_secs_f64());
            println!(
                "  limit {run}/{}: {secs:.3} s  ({replies} replies, {:.3} s wall, cpu {})",
                o.runs,
                out.wall.as_secs_f64(),
                cpu.map_or("?".to_string(), |c| format!("{c:.3} s"))
            );
            // A sweep's expected set is its SYN/ACKs; a port scan's
            // every port answers.
            (replies as usize >= want).then_some((secs, cpu))
        }
        _ => {
            println!(
                "  limit {run}/{}: FAILED\n    stderr tail:\n      {}",
                o.runs,
                tail(&out.stderr, 4)
            );
            None
        }
    }
}

fn main() -> ExitCode {
    let o = match parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portolan-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !require_root() {
        return ExitCode::from(2);
    }
    if let Ok(n @ 1..) = cleanup_stale() {
        println!("(removed {n} stale testbed namespaces)");
    }
    if !std::path::Path::new(&o.portolan).exists() {
        println!(
            "warning: {} does not exist; every run will fail",
            o.portolan
        );
    }
    let mut results = Vec::new();
    for &s in &o.scenarios {
        results.push((s, run_scenario(s, &o)));
    }
    println!("== summary");
    for (s, pass) in &results {
        println!("  {:<12} {}", s.name(), if *pass { "PASS" } else { "FAIL" });
    }
    if results.iter().all(|(_, p)| *p) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
