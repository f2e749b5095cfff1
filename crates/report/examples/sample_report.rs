//! Writes the report of a synthetic scan: `cargo run -p portolan-report
//! --example sample_report -- OUT.html [HOSTS PORTS OPEN]`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.first().map_or("report.html", String::as_str);
    let num = |i: usize, d: u32| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let doc = portolan_report::sample::scan(num(1, 50), num(2, 1000) as u16, num(3, 5) as u16);
    let scan = portolan_report::ReportScan::from_document(&doc, None);
    let html = portolan_report::render(&[scan]).expect("report renders");
    portolan_report::write_atomic(std::path::Path::new(out), html.as_bytes()).expect("written");
}
