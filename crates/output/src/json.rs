//! Portolan's JSON output (`-oJ`): NDJSON, one object per line, so a
//! consumer can read results as hosts finish (`tail -f | jq`) and a file
//! cut short by an interrupt is still valid line by line.
//!
//! Every line has a `type`: `scan` first, then `host` per finished host
//! (and `warning` when there is one), `end` last. The lines are the
//! model's own serde shape ([`ScanEventRef`]): this file only picks the
//! display rule for which ports are listed one by one, so the shape is
//! defined once, in `portolan-model`, and [`crate::read::read_json`] reads
//! it back. `docs/json-schema.md` and `docs/portolan-output.schema.json`
//! document it. Unlike the human formats, JSON lists every host, down ones
//! too: its `status` says which. Strings are written as given (JSON
//! escaping makes any text safe).

use crate::{OutputFormat, OutputOptions};
use portolan_model::{HostListing, HostResult, RunStats, ScanEventRef, ScanInfo};
use std::io::{self, Write};

/// The JSON writer.
pub(crate) struct Json {
    w: Box<dyn Write + Send>,
    opts: OutputOptions,
}

impl Json {
    pub(crate) fn new(w: Box<dyn Write + Send>, opts: OutputOptions) -> Self {
        Json { w, opts }
    }

    fn line(&mut self, event: ScanEventRef<'_>) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(&event).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.w.write_all(&bytes)?;
        self.w.flush()
    }
}

impl OutputFormat for Json {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        self.line(ScanEventRef::Scan(info))
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        self.line(ScanEventRef::Host(HostListing {
            host,
            verbose: self.opts.verbose,
            open_only: self.opts.open_only,
        }))
    }

    fn warning(&mut self, msg: &str) -> io::Result<()> {
        self.line(ScanEventRef::Warning { message: msg })
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.line(ScanEventRef::End(stats))
    }
}

#[cfg(test)]
mod tests {
    use crate::testdata::*;
    use crate::{json, OutputOptions};
    use check_schema as check_lines;
    use portolan_model::{HostResult, RunStats, ScanInfo};
    use serde_json::Value;

    fn run(
        opts: OutputOptions,
        info: &ScanInfo,
        hosts: &[HostResult],
        stats: &RunStats,
    ) -> Vec<Value> {
        let buf = SharedBuf::default();
        let mut out = json(Box::new(buf.clone()), opts);
        out.begin(info).unwrap();
        for h in hosts {
            out.host(h).unwrap();
        }
        out.warning("Failed to resolve \"nohost.invalid\".")
            .unwrap();
        out.end(stats).unwrap();
        let text = buf.text();
        assert!(text.starts_with("{\"type\":\"scan\","), "{text}");
        assert!(
            text.lines().skip(1).all(|l| l.starts_with("{\"type\":")),
            "{text}"
        );
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    #[test]
    fn one_open_port_and_999_closed() {
        let lines = run(
            OutputOptions::default(),
            &scan_info(),
            &[one_open_999_closed()],
            &stats(false),
        );
        check_lines(&lines);
        let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["scan", "host", "warning", "end"]);
        let scan = &lines[0];
        assert_eq!(scan["version"], "0.1.0");
        assert_eq!(scan["start"], "2026-11-22T10:15:00Z");
        assert_eq!(scan["scans"][0]["scan_type"], "connect");
        assert_eq!(scan["scans"][0]["num_services"], 1000);
        let host = &lines[1];
        assert_eq!(host["address"], "127.0.0.1");
        assert_eq!(host["family"], "ipv4");
        assert_eq!(host["status"], "up");
        assert_eq!(host["latency_s"], 0.000084);
        assert_eq!(host["hostnames"][0]["name"], "localhost");
        assert_eq!(host["hostnames"][0]["type"], "user");
        assert!(host["mac"].is_null());
        assert_eq!(host["ports"].as_array().unwrap().len(), 1);
        assert_eq!(host["ports"][0]["port"], 22);
        assert_eq!(host["ports"][0]["service"]["name"], "ssh");
        assert_eq!(host["ports"][0]["service"]["method"], "table");
        assert_eq!(host["extraports"][0]["state"], "closed");
        assert_eq!(host["extraports"][0]["count"], 999);
        assert_eq!(host["extraports"][0]["reasons"]["conn-refused"], 999);
        assert_eq!(host["extraports"][0]["ports"], "1-21,23-1000");
        assert_eq!(lines[2]["message"], "Failed to resolve \"nohost.invalid\".");
        let end = &lines[3];
        assert_eq!(end["hosts_total"], 1);
        assert_eq!(end["interrupted"], false);
        assert!(end["error"].is_null());
    }

    #[test]
    fn mixed_ipv6_down_hostile_and_interrupted() {
        let opts = OutputOptions {
            reason: true,
            open_only: true,
            ..Default::default()
        };
        let mut st = stats(true);
        st.error = Some("send failed".into());
        let lines = run(
            opts,
            &mixed_scan_info(),
            &[
                mixed_tcp_udp(),
                ipv6_host(),
                down_host(),
                hostile_host(),
                timed_out_host(),
            ],
            &st,
        );
        check_lines(&lines);
        let mixed = &lines[1];
        assert_eq!(mixed["mac"]["address"], "02:42:AC:11:00:02");
        assert!(mixed["mac"]["vendor"].is_null());
        let listed: Vec<String> = mixed["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap()))
            .collect();
        assert_eq!(listed, ["22/tcp", "80/tcp", "53/udp", "161/udp"]);
        assert_eq!(
            mixed["ports"][1]["service"]["cpe"][1],
            "cpe:/o:linux:linux_kernel"
        );
        assert_eq!(mixed["ports"][3]["state"], "open|filtered");
        assert_eq!(lines[2]["family"], "ipv6");
        assert_eq!(lines[2]["address"], "2001:2::1");
        assert_eq!(lines[3]["status"], "down");
        assert_eq!(lines[4]["ports"][0]["service"]["product"], HOSTILE);
        assert_eq!(lines[5]["timed_out"], true);
        let end = lines.last().unwrap();
        assert_eq!(end["interrupted"], true);
        assert_eq!(end["error"], "send failed");
    }

    #[test]
    fn icmp_rate_limit_is_an_optional_host_field() {
        let lines = run(
            OutputOptions::default(),
            &mixed_scan_info(),
            &[udp_rate_limited(), one_open_999_closed()],
            &stats(false),
        );
        check_lines(&lines);
        let rl = &lines[1]["icmp_rate_limit"];
        assert_eq!(rl["protocol"], "udp");
        assert_eq!(rl["observed_per_sec"], 1.0);
        assert_eq!(rl["unresolved"], 992);
        assert_eq!(rl["exact"], false);
        assert!(lines[2].get("icmp_rate_limit").is_none());
    }

    #[test]
    fn tls_certificate_is_an_object_of_the_service() {
        let lines = run(
            OutputOptions::default(),
            &scan_info(),
            &[tls_host()],
            &stats(false),
        );
        let host = lines.iter().find(|l| l["type"] == "host").unwrap();
        let c = &host["ports"][0]["service"]["certificate"];
        assert_eq!(c["subject"][0]["key"], "commonName");
        assert_eq!(c["subject"][0]["value"], "portolan-test");
        assert_eq!(c["issuer"][0]["value"], "Portolan CA");
        assert_eq!(c["not_before"], "2026-11-22T10:15:00Z");
        assert_eq!(c["not_after_time"], T0 + 2 * 86_400);
        assert_eq!(c["alt_names"][0], "DNS:portolan.test");
    }
}
