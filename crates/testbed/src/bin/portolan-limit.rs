//! `portolan-limit`: the physical limit of a SYN scan on a testbed (see
//! `portolan_testbed::limit`). Run it in the scanner namespace, as root:
//!
//! `portolan-limit [--senders N] [--expect N] [--idle MS] [--warm ADDR:PORT]
//! NET[/PREFIX] PORTS` — PORTS as `1-65535` or `80,443`. Every address must
//! be in 198.18.0.0/15. Prints a human line and the `LIMIT ...` line
//! `portolan-bench` reads. Exits 2 on bad usage, 1 on failure.

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use portolan_testbed::limit::{run, LimitPlan};

const USAGE: &str = "usage: portolan-limit [--senders N] [--expect N] [--idle MS] \
[--warm ADDR:PORT] NET[/PREFIX] PORTS";

fn ports(text: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    let mut seen = vec![false; 65536];
    for part in text.split(',') {
        let bad = || format!("bad port {part:?}");
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let a: u16 = a.parse().map_err(|_| bad())?;
        let b: u16 = b.parse().map_err(|_| bad())?;
        if a == 0 || b < a {
            return Err(bad());
        }
        for p in a..=b {
            if !seen[usize::from(p)] {
                seen[usize::from(p)] = true;
                out.push(p);
            }
        }
    }
    Ok(out)
}

fn parse(args: &[String]) -> Result<Option<LimitPlan>, String> {
    let mut plan = LimitPlan {
        net: Ipv4Addr::UNSPECIFIED,
        prefix: 32,
        ports: Vec::new(),
        senders: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        expect: None,
        idle: Duration::from_millis(300),
        warm: None,
    };
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--senders" => {
                let v = value()?;
                plan.senders = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or(format!("bad --senders value {v:?}"))?;
            }
            "--expect" => {
                let v = value()?;
                plan.expect = Some(v.parse().map_err(|_| format!("bad --expect value {v:?}"))?);
            }
            "--idle" => {
                let v = value()?;
                let ms: u64 = v.parse().map_err(|_| format!("bad --idle value {v:?}"))?;
                plan.idle = Duration::from_millis(ms);
            }
            "--warm" => {
                let v = value()?;
                plan.warm = Some(v.parse().map_err(|_| format!("bad --warm value {v:?}"))?);
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s:?}")),
            s => positional.push(s.to_string()),
        }
    }
    let [net, p] = positional.as_slice() else {
        return Err("needs NET[/PREFIX] and PORTS".into());
    };
    let (addr, prefix) = net.split_once('/').unwrap_or((net, "32"));
    plan.net = addr.parse().map_err(|_| format!("bad address {addr:?}"))?;
    plan.prefix = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or(format!("bad prefix {prefix:?}"))?;
    plan.ports = ports(p)?;
    Ok(Some(plan))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = match parse(&args) {
        Ok(Some(p)) => p,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portolan-limit: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&plan) {
        Ok(o) => {
            println!(
                "portolan-limit: {} SYNs sent in {:.3} s ({:.0}/s, {} refused), {} answered \
                 ({} SYN/ACK, {} RST); first send to last reply {:.3} s",
                o.sent,
                o.send_time.as_secs_f64(),
                o.sent as f64 / o.send_time.as_secs_f64().max(1e-9),
                o.failed,
                o.replies,
                o.synack,
                o.rst,
                o.last_reply.as_secs_f64()
            );
            println!("{}", o.line());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portolan-limit: {e}");
            ExitCode::FAILURE
        }
    }
}
