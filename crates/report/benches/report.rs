//! The report of a large scan: how long it takes to make, how big it is,
//! and how long Chromium takes to open it (issue target: 2 s).
//!
//! `cargo bench -p portolan-report` (5,000 hosts × 1,000 ports, 10 open
//! per host); `PORTOLAN_BENCH_HOSTS`, `_PORTS` and `_OPEN` change the
//! shape. Figures are printed, never asserted: speed depends on the
//! machine.

use portolan_report::{render, sample, write_atomic, ReportScan};
use std::time::Instant;

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let hosts = env("PORTOLAN_BENCH_HOSTS", 5_000);
    let ports = env("PORTOLAN_BENCH_PORTS", 1_000).min(65_535) as u16;
    let open = env("PORTOLAN_BENCH_OPEN", 10).min(u32::from(ports)) as u16;
    println!("report of {hosts} hosts × {ports} ports ({open} open per host)");
    let doc = sample::scan(hosts, ports, open);

    let t = Instant::now();
    let scan = ReportScan::from_document(&doc, None);
    let reduce = t.elapsed();
    let t = Instant::now();
    let html = render(std::slice::from_ref(&scan)).expect("report renders");
    let rendered = t.elapsed();
    println!(
        "generation: {:.3} s (reduce {:.3} s, render {:.3} s); size {:.2} MiB",
        (reduce + rendered).as_secs_f64(),
        reduce.as_secs_f64(),
        rendered.as_secs_f64(),
        html.len() as f64 / (1024.0 * 1024.0)
    );

    let dir = std::env::temp_dir().join(format!("portolan-report-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let page = dir.join("report.html");
    write_atomic(&page, html.as_bytes()).expect("report written");
    let blank = dir.join("blank.html");
    std::fs::write(
        &blank,
        "<!DOCTYPE html><title>blank</title><body>blank</body>",
    )
    .unwrap();

    if portolan_testbed::chromium::find().is_none() {
        println!("chromium: not installed, open time not measured");
    } else {
        let base = portolan_testbed::chromium::run(&blank, &["--dump-dom"]).expect("chromium runs");
        let run = portolan_testbed::chromium::run(&page, &["--dump-dom"]).expect("chromium runs");
        let dom = run.stdout();
        let ready = attr(&dom, "data-ready-ms");
        println!(
            "chromium: page ready (HTML parsed, data read, first page drawn) {} ms after navigation; \
             whole headless run {:.2} s, of which browser start-up {:.2} s (blank page)",
            ready.unwrap_or("?"),
            run.elapsed.as_secs_f64(),
            base.elapsed.as_secs_f64()
        );
        if ready.is_none() {
            println!(
                "chromium: the page's script did not finish:\n{}",
                String::from_utf8_lossy(&run.output.stderr)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The value of attribute `name` in `dom`'s first element that has it.
fn attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = dom.find(&key)? + key.len();
    let len = dom[start..].find('"')?;
    Some(&dom[start..start + len])
}
