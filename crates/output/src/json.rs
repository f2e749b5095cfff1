//! Portolan's JSON output (`-oJ`): NDJSON, one object per line, so a
//! consumer can read results as hosts finish (`tail -f | jq`) and a file
//! cut short by an interrupt is still valid line by line.
//!
//! Every line has a `type`: `scan` first, then `host` per finished host
//! (and `warning` when there is one), `end` last. Field names are designed
//! for JSON rather than copied from nmap's XML; `docs/json-schema.md` and
//! `docs/portolan-output.schema.json` document them. Unlike the human
//! formats, JSON lists every host, down ones too: its `status` says which.
//! Strings are written as given (JSON escaping makes any text safe).

use crate::common::{group_ports, port_ranges, summary};
use crate::timefmt::rfc3339;
use crate::{OutputFormat, OutputOptions};
use portolan_model::{
    Certificate, HostResult, NameAttribute, PortResult, RunStats, ScanInfo, ServiceInfo,
};
use serde::Serialize;
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

    fn line(&mut self, value: &impl Serialize) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.w.write_all(&bytes)?;
        self.w.flush()
    }
}

// The lines, as typed records so that keys come out in a fixed,
// readable order with `type` first.

#[derive(Serialize)]
struct ScanLine<'a> {
    r#type: &'static str,
    scanner: &'static str,
    version: &'a str,
    args: &'a str,
    start_time: u64,
    start: String,
    scans: Vec<Technique<'a>>,
    verbose: u8,
    debugging: u8,
}

#[derive(Serialize)]
struct Technique<'a> {
    scan_type: &'static str,
    protocol: &'static str,
    num_services: u32,
    services: &'a str,
}

#[derive(Serialize)]
struct HostLine<'a> {
    r#type: &'static str,
    address: String,
    family: &'static str,
    status: &'static str,
    reason: &'static str,
    reason_ttl: u8,
    latency_s: Option<f64>,
    start_time: u64,
    end_time: u64,
    timed_out: bool,
    hostnames: Vec<Name<'a>>,
    mac: Option<Mac<'a>>,
    ports: Vec<Port<'a>>,
    extraports: Vec<Extra>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_rate_limit: Option<RateLimit>,
}

#[derive(Serialize)]
struct RateLimit {
    protocol: &'static str,
    observed_per_sec: f64,
    unresolved: u32,
    exact: bool,
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
    r#type: &'static str,
}

#[derive(Serialize)]
struct Mac<'a> {
    address: String,
    vendor: Option<&'a str>,
}

#[derive(Serialize)]
struct Port<'a> {
    port: u16,
    protocol: &'static str,
    state: &'static str,
    reason: &'static str,
    reason_ttl: u8,
    service: Option<Service<'a>>,
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extrainfo: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ostype: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    devicetype: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel: Option<&'a str>,
    method: &'static str,
    conf: u8,
    cpe: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<Cert<'a>>,
}

/// A TLS certificate (nmap's `ssl-cert`): times both as RFC 3339 text and
/// as Unix seconds, like the run's `end` and `end_time`.
#[derive(Serialize)]
struct Cert<'a> {
    subject: &'a [NameAttribute],
    issuer: &'a [NameAttribute],
    not_before: String,
    not_before_time: i64,
    not_after: String,
    not_after_time: i64,
    alt_names: &'a [String],
}

fn cert(c: &Certificate) -> Cert<'_> {
    let text = |t: i64| rfc3339(u64::try_from(t).unwrap_or(0));
    Cert {
        subject: &c.subject,
        issuer: &c.issuer,
        not_before: text(c.not_before),
        not_before_time: c.not_before,
        not_after: text(c.not_after),
        not_after_time: c.not_after,
        alt_names: &c.alt_names,
    }
}

#[derive(Serialize)]
struct Extra {
    state: &'static str,
    protocol: &'static str,
    count: u32,
    /// Reason name to count, most frequent first.
    reasons: Reasons,
    ports: String,
}

/// A reason-to-count map written in the given order.
struct Reasons(Vec<(&'static str, u32)>);

impl Serialize for Reasons {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct WarningLine<'a> {
    r#type: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct EndLine<'a> {
    r#type: &'static str,
    end_time: u64,
    end: String,
    elapsed_s: f64,
    hosts_up: u64,
    hosts_down: u64,
    hosts_total: u64,
    interrupted: bool,
    error: Option<&'a str>,
}

fn service(s: &ServiceInfo) -> Service<'_> {
    Service {
        name: &s.name,
        product: s.product.as_deref(),
        version: s.version.as_deref(),
        extrainfo: s.extrainfo.as_deref(),
        hostname: s.hostname.as_deref(),
        ostype: s.ostype.as_deref(),
        devicetype: s.devicetype.as_deref(),
        tunnel: s.tunnel.as_deref(),
        method: s.method.as_str(),
        conf: s.conf,
        cpe: &s.cpe,
        certificate: s.certificate.as_deref().map(cert),
    }
}

fn port(p: &PortResult) -> Port<'_> {
    Port {
        port: p.port,
        protocol: p.protocol.as_str(),
        state: p.state.as_str(),
        reason: p.reason.as_str(),
        reason_ttl: p.reason_ttl,
        service: p.service.as_deref().map(service),
    }
}

fn host_line<'a>(host: &'a HostResult, opts: &OutputOptions) -> HostLine<'a> {
    let s = summary(host, opts.verbose, opts.open_only);
    let extraports = s
        .extra
        .iter()
        .map(|e| {
            let mut all: Vec<u16> = Vec::new();
            for &(r, _) in &e.reasons {
                all.extend(group_ports(host, e.state, e.protocol, r));
            }
            Extra {
                state: e.state.as_str(),
                protocol: e.protocol.as_str(),
                count: e.count,
                reasons: Reasons(e.reasons.iter().map(|&(r, n)| (r.as_str(), n)).collect()),
                ports: port_ranges(&all),
            }
        })
        .collect();
    HostLine {
        r#type: "host",
        address: host.addr.to_string(),
        family: if host.addr.is_ipv4() { "ipv4" } else { "ipv6" },
        status: host.status.as_str(),
        reason: host.reason.as_str(),
        reason_ttl: host.reason_ttl,
        latency_s: host.latency.map(|d| d.as_secs_f64()),
        start_time: host.start_time,
        end_time: host.end_time,
        timed_out: host.timed_out,
        hostnames: host
            .hostnames
            .iter()
            .map(|h| Name {
                name: &h.name,
                r#type: h.kind.as_str(),
            })
            .collect(),
        mac: host.mac.as_ref().map(|m| Mac {
            address: m.to_string(),
            vendor: m.vendor.as_deref(),
        }),
        ports: s.shown.iter().map(|p| port(p)).collect(),
        extraports,
        icmp_rate_limit: host.icmp_rate_limit.map(|r| RateLimit {
            protocol: r.protocol.as_str(),
            observed_per_sec: r.observed_per_sec,
            unresolved: r.unresolved,
            exact: r.exact,
        }),
    }
}

impl OutputFormat for Json {
    fn begin(&mut self, info: &ScanInfo) -> io::Result<()> {
        self.line(&ScanLine {
            r#type: "scan",
            scanner: "portolan",
            version: &info.version,
            args: &info.args,
            start_time: info.start_time,
            start: rfc3339(info.start_time),
            scans: info
                .scans
                .iter()
                .map(|s| Technique {
                    scan_type: s.scan_type.as_str(),
                    protocol: s.protocol.as_str(),
                    num_services: s.num_services,
                    services: &s.services,
                })
                .collect(),
            verbose: self.opts.verbose,
            debugging: self.opts.debugging,
        })
    }

    fn host(&mut self, host: &HostResult) -> io::Result<()> {
        let line = host_line(host, &self.opts);
        self.line(&line)
    }

    fn warning(&mut self, msg: &str) -> io::Result<()> {
        self.line(&WarningLine {
            r#type: "warning",
            message: msg,
        })
    }

    fn end(&mut self, stats: &RunStats) -> io::Result<()> {
        self.line(&EndLine {
            r#type: "end",
            end_time: stats.end_time,
            end: rfc3339(stats.end_time),
            // JSON has no NaN or infinity.
            elapsed_s: if stats.elapsed.is_finite() {
                stats.elapsed.max(0.0)
            } else {
                0.0
            },
            hosts_up: stats.hosts_up,
            hosts_down: stats.hosts_down,
            hosts_total: stats.hosts_total(),
            interrupted: stats.interrupted,
            error: stats.error.as_deref(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testdata::*;
    use crate::{json, OutputOptions};
    use portolan_model::{HostResult, RunStats, ScanInfo};
    use serde_json::Value;
    use std::collections::BTreeSet;

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

    /// The documented schema, read from docs/portolan-output.schema.json:
    /// for each line type, its required and allowed keys.
    struct Schema(Value);

    impl Schema {
        fn load() -> Schema {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../docs/portolan-output.schema.json"
            );
            let text = std::fs::read_to_string(path).expect("schema file");
            Schema(serde_json::from_str(&text).expect("schema is JSON"))
        }

        fn def(&self, name: &str) -> &Value {
            &self.0["$defs"][name]
        }

        /// Checks `v` against definition `name`: every required key is
        /// there, no key is undocumented, types of scalars match, and
        /// nested objects and arrays of objects are checked recursively.
        fn check(&self, name: &str, v: &Value, at: &str) {
            self.check_against(self.def(name), v, at);
        }

        fn check_against(&self, def: &Value, v: &Value, at: &str) {
            if let Some(r) = def.get("$ref").and_then(Value::as_str) {
                let name = r.trim_start_matches("#/$defs/");
                return self.check(name, v, at);
            }
            if let Some(any) = def.get("anyOf").and_then(Value::as_array) {
                let ok = any.iter().any(|d| {
                    let ty = d.get("type").and_then(Value::as_str);
                    ty == Some("null") && v.is_null() || !v.is_null() && ty != Some("null")
                });
                assert!(ok, "{at}: {v} matches no alternative");
                if !v.is_null() {
                    let d = any
                        .iter()
                        .find(|d| d.get("type").and_then(Value::as_str) != Some("null"))
                        .unwrap();
                    self.check_against(d, v, at);
                }
                return;
            }
            let ty = def.get("type").and_then(Value::as_str).unwrap_or("any");
            let type_ok = match ty {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_u64() || v.is_i64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                _ => true,
            };
            assert!(type_ok, "{at}: {v} is not {ty}");
            if let Some(c) = def.get("const") {
                assert_eq!(v, c, "{at}");
            }
            if let Some(e) = def.get("enum").and_then(Value::as_array) {
                assert!(e.contains(v), "{at}: {v} not in {e:?}");
            }
            if let (Some(obj), Some(props)) = (
                v.as_object(),
                def.get("properties").and_then(Value::as_object),
            ) {
                let required: BTreeSet<&str> = def["required"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for k in &required {
                    assert!(obj.contains_key(*k), "{at}: missing {k}");
                }
                for (k, val) in obj {
                    let sub = props
                        .get(k)
                        .unwrap_or_else(|| panic!("{at}: undocumented key {k}"));
                    self.check_against(sub, val, &format!("{at}.{k}"));
                }
            }
            if let (Some(arr), Some(items)) = (v.as_array(), def.get("items")) {
                for (i, item) in arr.iter().enumerate() {
                    self.check_against(items, item, &format!("{at}[{i}]"));
                }
            }
            if let (Some(obj), Some(extra)) = (v.as_object(), def.get("additionalProperties")) {
                if extra.is_object() && def.get("properties").is_none() {
                    for (k, val) in obj {
                        self.check_against(extra, val, &format!("{at}.{k}"));
                    }
                }
            }
        }
    }

    fn check_lines(lines: &[Value]) {
        let schema = Schema::load();
        for (i, l) in lines.iter().enumerate() {
            let ty = l["type"].as_str().unwrap();
            schema.check(&format!("{ty}_line"), l, &format!("line {}", i + 1));
        }
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
