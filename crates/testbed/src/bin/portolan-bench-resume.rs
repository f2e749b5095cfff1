//! `portolan-bench-resume`: what an interruption costs. A scan of the
//! sweep /16 (three ports, paced) is run whole, then interrupted at half
//! its median time (by SIGINT, or SIGKILL) and continued with `--resume`;
//! the medians of the whole runs and of the interrupted-plus-resumed
//! pairs are compared (the issue asks for at most 1.1x). With `--one-host`
//! the scan is instead one host's 65,535 ports (31 open, paced at 10,000
//! probes/s), which resumes at port granularity.
//!
//!   portolan-bench-resume [--runs N] [--portolan PATH] [--signal INT|KILL] [--one-host] [--extra ARG]...
//!
//! Needs root (network namespaces). Run it through `scripts/bench.sh
//! resume`-style: build portolan in release mode first.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use portolan_testbed::Testbed;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn scan_args(dir: &Path, extra: &[String], one_host: Option<&str>) -> Vec<String> {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let (ports, rate, target) = match one_host {
        Some(addr) => ("-p-", "10000", addr),
        None => ("-p79-81", "20000", "198.19.0.0/16"),
    };
    [
        "-sS",
        "-Pn",
        "-n",
        ports,
        "--max-rate",
        rate,
        "--seed",
        "7",
        "--no-history",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(extra.iter().cloned())
    .chain([
        "-oX".into(),
        p("scan.xml"),
        "-oJ".into(),
        p("scan.json"),
        target.into(),
    ])
    .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run(tb: &Testbed, bin: &Path, args: &[String], stop_after: Option<(Duration, Signal)>) -> f64 {
    let mut cmd = tb.scanner_command(&bin.to_string_lossy());
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("portolan starts");
    if let Some((after, signal)) = stop_after {
        std::thread::sleep(after);
        let _ = kill(Pid::from_raw(child.id() as i32), signal);
    }
    child.wait().expect("portolan ends");
    started.elapsed().as_secs_f64()
}

fn main() {
    let mut runs = 5usize;
    let mut bin = PathBuf::from("target/release/portolan");
    let mut signal = Signal::SIGINT;
    let mut extra = Vec::new();
    let mut one_host = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--one-host" {
            one_host = true;
            continue;
        }
        match (a.as_str(), args.next()) {
            ("--runs", Some(n)) => runs = n.parse().expect("--runs N"),
            ("--portolan", Some(p)) => bin = p.into(),
            ("--extra", Some(a)) => extra.push(a),
            ("--signal", Some(s)) if s == "KILL" => signal = Signal::SIGKILL,
            ("--signal", Some(s)) if s == "INT" => signal = Signal::SIGINT,
            _ => {
                eprintln!(
                    "usage: portolan-bench-resume [--runs N] [--portolan PATH] [--signal INT|KILL] [--one-host] [--extra ARG]..."
                );
                std::process::exit(2);
            }
        }
    }
    let bin = std::fs::canonicalize(&bin).expect("the portolan binary");
    let mut tb = Testbed::new("bresume").expect("testbed (needs root)");
    let addr = tb.target_addr(0).to_string();
    if one_host {
        let ports = portolan_testbed::bench::random_ports(31);
        tb.target(0)
            .and_then(|t| t.tcp_listen(&ports).map(drop))
            .expect("listeners");
    } else {
        tb.sweep16(0).expect("sweep /16");
    }
    let dir = std::env::temp_dir().join(format!("portolan-bench-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let args = scan_args(&dir, &extra, one_host.then_some(addr.as_str()));
    let mut whole: Vec<f64> = (0..runs).map(|_| run(&tb, &bin, &args, None)).collect();
    let whole_median = median(&mut whole);
    let half = Duration::from_secs_f64(whole_median / 2.0);
    let resume = vec![
        "--resume".to_string(),
        dir.join("scan.xml").to_string_lossy().into_owned(),
    ];
    let mut pairs = Vec::new();
    for _ in 0..runs {
        let first = run(&tb, &bin, &args, Some((half, signal)));
        let second = run(&tb, &bin, &resume, None);
        pairs.push(first + second);
    }
    let pair_median = median(&mut pairs);
    println!("whole scan: median {whole_median:.2} s of {runs} ({whole:.2?})");
    println!(
        "interrupted at 50% by {signal} + resumed: median {pair_median:.2} s of {runs} ({pairs:.2?})"
    );
    println!(
        "ratio: {:.3} (goal: at most 1.1)",
        pair_median / whole_median
    );
    let _ = std::fs::remove_dir_all(&dir);
}
