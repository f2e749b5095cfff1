//! A stand-in for `portolan local` until the CLI wires the library in:
//! `local [-a] [-t] [-u] [-4] [-6] [-p PORTS] [--state S] [--pid N]
//! [--process NAME] [-n] [--netns NAME|all] [--json|--xml|--plain]
//! [--summary] [--procfs] [--watch SECS [--count N]]`.

use portolan_local::{
    diff, ephemeral_range, list, summarize, write_to, Backend, Format, LocalError, LocalQuery,
};
use std::io::Write;

fn usage(msg: &str) -> ! {
    eprintln!("local: {msg}");
    std::process::exit(2);
}

fn main() {
    let mut q = LocalQuery::default();
    let mut format = Format::Table;
    let mut summary = false;
    let mut watch: Option<u64> = None;
    let mut count: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("option \"{name}\" needs a value")))
        };
        match a.as_str() {
            "-a" | "--all" => q.all = true,
            "-t" | "--tcp" => q.tcp = true,
            "-u" | "--udp" => q.udp = true,
            "-4" => q.ipv4 = true,
            "-6" => q.ipv6 = true,
            "-n" | "--no-owners" => q.no_owners = true,
            "-p" => q.ports = Some(val("-p")),
            "--state" => q.states.push(val("--state")),
            "--pid" => {
                let v = val("--pid");
                q.pid = Some(
                    v.parse()
                        .unwrap_or_else(|_| usage(&format!("invalid pid \"{v}\""))),
                );
            }
            "--process" => q.process = Some(val("--process")),
            "--netns" => q.netns = Some(val("--netns")),
            "--json" => format = Format::Json,
            "--xml" => format = Format::Xml,
            "--plain" | "-H" => format = Format::Plain,
            "--summary" => summary = true,
            "--procfs" => q.backend = Backend::ProcNet,
            "--watch" => {
                let v = val("--watch");
                watch = Some(
                    v.parse()
                        .unwrap_or_else(|_| usage(&format!("invalid interval \"{v}\""))),
                );
            }
            "--count" => {
                let v = val("--count");
                count = Some(
                    v.parse()
                        .unwrap_or_else(|_| usage(&format!("invalid count \"{v}\""))),
                );
            }
            other => usage(&format!("unknown option \"{other}\"")),
        }
    }
    if summary && q.states.is_empty() {
        q.all = true;
    }
    if let Err(e) = run(&q, format, summary, watch, count) {
        usage(&e.to_string());
    }
}

fn run(
    q: &LocalQuery,
    format: Format,
    summary: bool,
    watch: Option<u64>,
    count: Option<u64>,
) -> Result<(), LocalError> {
    let snap = list(q)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let sum = summary.then(|| summarize(&snap, ephemeral_range()));
    let _ = write_to(&mut out, &snap, sum.as_ref(), format);
    let _ = out.flush();
    if snap.owners_hidden {
        eprintln!("local: owners of other users' sockets are hidden (run as root to see them)");
    }
    let Some(secs) = watch else { return Ok(()) };
    let mut old = snap;
    let mut n = 0;
    while count.is_none_or(|c| n < c) {
        std::thread::sleep(std::time::Duration::from_secs(secs));
        let new = list(q)?;
        let d = diff(&old, &new);
        for e in &d.opened {
            let _ = writeln!(
                out,
                "+ {} {} {}",
                e.raw.proto.name(),
                e.raw.local,
                e.state_name()
            );
        }
        for e in &d.closed {
            let _ = writeln!(
                out,
                "- {} {} {}",
                e.raw.proto.name(),
                e.raw.local,
                e.state_name()
            );
        }
        for (p, st, a, b) in &d.state_changes {
            let _ = writeln!(out, "~ {} {} {a} -> {b}", p.name(), st.name(*p));
        }
        let _ = out.flush();
        old = new;
        n += 1;
    }
    Ok(())
}
