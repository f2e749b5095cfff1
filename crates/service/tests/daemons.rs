//! Real daemons on 127.0.0.1 (started by tests/daemons.sh from Debian's
//! packages): the prober must name each product and the installed
//! package's upstream version. Skips (see `portolan_testbed::skip`) when
//! the daemons are not installed or the test is not run as root.

use portolan_model::{Protocol, ServiceInfo};
use portolan_service::{Database, Detection, ProbeOptions, Prober, Target};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

struct Daemons {
    dir: PathBuf,
    script: PathBuf,
    ports: HashMap<String, u16>,
}

impl Daemons {
    fn start() -> Option<Daemons> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/daemons.sh");
        let dir =
            std::env::temp_dir().join(format!("portolan-service-daemons-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(&dir)
            .output()
            .ok()?;
        let mut d = Daemons {
            dir,
            script,
            ports: HashMap::new(),
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((name, port)) = line.split_once(' ') {
                if let Ok(p) = port.trim().parse() {
                    d.ports.insert(name.to_string(), p);
                }
            }
        }
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        Some(d)
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The upstream part of an installed package's version (no epoch, no
/// Debian revision), or `None` when none of `pkgs` is installed.
fn upstream(pkgs: &[&str]) -> Option<String> {
    for pkg in pkgs {
        let out = Command::new("dpkg-query")
            .args(["-W", "-f=${Version}", pkg])
            .output()
            .ok()?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !v.is_empty() {
            let v = v.split_once(':').map_or(v.as_str(), |(_, r)| r);
            let v = v.rsplit_once('-').map_or(v, |(u, _)| u);
            // Debian's repack marks (`+dfsg`, `+ds`, `~rc`) are not in
            // what the daemon says of itself.
            let v = v.split(['+', '~']).next().unwrap_or(v);
            return Some(v.to_string());
        }
    }
    None
}

fn postgres_pkg() -> String {
    let major = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .max()
        })
        .unwrap_or_default();
    format!("postgresql-{major}")
}

/// How much of the package's version the daemon's replies show.
#[derive(Clone, Copy)]
enum Shown {
    Full,
    MajorMinor,
    Major,
    Not,
}

/// (daemon, protocol, service, product, packages, version shown).
type Expect = (
    &'static str,
    Protocol,
    &'static str,
    &'static str,
    Vec<&'static str>,
    Shown,
);

/// The expectations of tests/daemons.expect (shared with the `sv-debian`
/// benchmark). The package `postgresql-N` is the installed major.
fn expectations() -> Vec<Expect> {
    include_str!("daemons.expect")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&'static str> = l.split('|').collect();
            assert_eq!(f.len(), 6, "daemons.expect: {l}");
            let proto = if f[1] == "udp" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            };
            let shown = match f[5] {
                "full" => Shown::Full,
                "major-minor" => Shown::MajorMinor,
                "major" => Shown::Major,
                "none" => Shown::Not,
                other => panic!("daemons.expect: bad shown {other:?}"),
            };
            (f[0], proto, f[2], f[3], f[4].split(',').collect(), shown)
        })
        .collect()
}

#[test]
fn real_daemons_are_identified_with_their_package_versions() {
    if !portolan_testbed::require_root_only() {
        return;
    }
    let Some(d) = Daemons::start() else {
        portolan_testbed::skip("real-daemon test: tests/daemons.sh did not run");
        return;
    };
    if d.ports.is_empty() {
        portolan_testbed::skip("real-daemon test: no daemon installed");
        return;
    }
    // Each daemon that is missing or did not start goes unchecked here,
    // and fails the run where every test must run (CI).
    let expect = expectations();
    for name in expect.iter().map(|e| e.0) {
        portolan_testbed::skip_unless(
            d.ports.contains_key(name),
            format_args!("daemon {name} is not installed or did not start"),
        );
    }
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    // Each daemon is probed over the protocols its expectations name; a
    // daemon with no expectation (started for recording) over TCP.
    let over = |name: &str, proto: Protocol| {
        let mut lines = expect.iter().filter(|e| e.0 == name).peekable();
        if lines.peek().is_none() {
            return proto == Protocol::Tcp;
        }
        lines.any(|e| e.1 == proto)
    };
    let mut targets: Vec<Target> = Vec::new();
    for proto in [Protocol::Tcp, Protocol::Udp] {
        for (name, &port) in &d.ports {
            if over(name, proto) {
                targets.push(Target {
                    addr: lo,
                    port,
                    protocol: proto,
                });
            }
        }
    }
    let db = Arc::new(Database::builtin().unwrap());
    let start = Instant::now();
    let trace: portolan_service::TraceFn =
        Arc::new(move |ev: &portolan_service::TraceEvent<'_>| {
            if std::env::var_os("PORTOLAN_VERSION_TRACE").is_some() {
                let line = format!("{ev:?}");
                eprintln!(
                    "trace {:>6}ms {}",
                    start.elapsed().as_millis(),
                    &line[..line.len().min(160)]
                );
            }
        });
    let prober = Prober::new(db, ProbeOptions::default()).with_trace(trace.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let t0 = Instant::now();
    let found = rt.block_on(prober.detect(&targets));
    let first_took = t0.elapsed();
    eprintln!("probed {} services in {first_took:?}", targets.len());
    let by = |name: &str, proto: Protocol| -> Option<&Detection> {
        let port = *d.ports.get(name)?;
        found
            .iter()
            .find(|x| x.target.port == port && x.target.protocol == proto)
    };
    let pg = postgres_pkg();
    let mut failures = Vec::new();
    let (mut checked, mut named, mut versioned) = (0, 0, 0);
    for &(name, proto, service, product, ref pkgs, shown) in &expect {
        let Some(det) = by(name, proto) else {
            eprintln!("NOTICE: {name} not running; not checked");
            continue;
        };
        let pkgs: Vec<&str> = pkgs
            .iter()
            .map(|p| if *p == "postgresql-N" { pg.as_str() } else { p })
            .collect();
        let version = match shown {
            Shown::Full => upstream(&pkgs),
            // major.minor of the package's version
            Shown::MajorMinor => {
                upstream(&pkgs).map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."))
            }
            // the major number alone (gdnsd says "gdnsd/3")
            Shown::Major => {
                upstream(&pkgs).map(|v| v.split('.').next().unwrap_or_default().to_string())
            }
            Shown::Not => None,
        };
        let s: Option<&ServiceInfo> = det.service.as_ref();
        let got = s.map(|s| {
            (
                s.name.as_str(),
                s.product.as_deref(),
                s.version.as_deref(),
                s.conf,
            )
        });
        let want = (service, Some(product), version.as_deref(), 10u8);
        eprintln!("{name}/{}: {got:?}", proto.as_str());
        checked += 1;
        if got.is_some_and(|g| g.1 == Some(product) && g.3 == 10) {
            named += 1;
            if version.is_none() || got.is_some_and(|g| g.2 == version.as_deref()) {
                versioned += 1;
            }
        }
        if got != Some(want) {
            failures.push(format!(
                "{name}/{}: got {got:?}, want {want:?}",
                proto.as_str()
            ));
        }
    }
    if let Some(tls) = by("nginx-tls", Protocol::Tcp) {
        let s = tls.service.as_ref().expect("nginx-tls identified");
        assert_eq!(s.tunnel.as_deref(), Some("ssl"));
        let cert = tls.certificate.as_ref().expect("certificate recorded");
        assert!(
            cert.subject
                .iter()
                .any(|a| a.key == "commonName" && a.value == "portolan-test"),
            "{cert:?}"
        );
        assert!(cert.not_after > cert.not_before);
    }
    eprintln!(
        "FIGURE: {named}/{checked} products named, {versioned}/{checked} named with the version \
         where the reply shows it; {} services in {first_took:?}",
        targets.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Without port hints too: probes overlap the banner wait (this took
    // 6.5 s when each probe waited for the one before).
    assert!(
        first_took.as_secs_f64() <= 3.0,
        "without port hints took {first_took:?}"
    );

    // The benchmark's case: daemons on their well-known ports, which the
    // database hints. Simulated by a user file that adds the test ports to
    // the same probes' hints (merge keeps the built-in rules).
    let port = |n: &str| d.ports.get(n).copied().unwrap_or(1);
    let hints = format!(
        "probe NULL tcp \"\"\n wait 1500ms\n rarity 1\n tls-ports {tls}\n\
         probe HttpGet tcp \"GET / HTTP/1.0\\r\\n\\r\\n\"\n wait 5s\n rarity 1\n ports {http}\n tls-ports {tls}\n fallback GenericLines\n\
         probe RedisInfo tcp \"*2\\r\\n$4\\r\\nINFO\\r\\n$6\\r\\nserver\\r\\n\"\n wait 3s\n rarity 2\n ports {redis}\n\
         probe MemcachedVersion tcp \"version\\r\\n\"\n wait 3s\n rarity 2\n ports {mc}\n\
         probe PgStartup tcp \"\\x00\\x00\\x00\\x29\\x00\\x03\\x00\\x00user\\x00postgres\\x00database\\x00postgres\\x00\\x00\"\n wait 3s\n rarity 3\n ports {pg}\n\
         probe DnsVersionBindTcp tcp \"\\x00\\x1e\\x70\\x72\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x07version\\x04bind\\x00\\x00\\x10\\x00\\x03\"\n wait 3s\n rarity 3\n ports {dns}\n\
         probe MqttConnect tcp \"\\x10\\x14\\x00\\x04MQTT\\x04\\x02\\x00\\x3c\\x00\\x08portolan\\x82\\x18\\x00\\x01\\x00\\x13$SYS/broker/version\\x00\"\n wait 3s\n rarity 4\n ports {mqtt}\n",
        tls = port("nginx-tls"),
        http = port("nginx"),
        redis = port("redis"),
        mc = port("memcached"),
        pg = port("postgres"),
        dns = port("dnsmasq"),
        mqtt = port("mosquitto"),
    );
    let mut db = Database::builtin().unwrap();
    db.merge(Database::parse(&hints, "hints.db").unwrap())
        .unwrap();
    let prober = Prober::new(Arc::new(db), ProbeOptions::default()).with_trace(trace);
    let t0 = Instant::now();
    let again = rt.block_on(prober.detect(&targets));
    let took = t0.elapsed();
    eprintln!("with port hints: {} services in {took:?}", targets.len());
    for (a, b) in found.iter().zip(&again) {
        assert_eq!(a.service, b.service, "{:?}", a.target);
    }
    assert!(took.as_secs_f64() <= 3.0, "with port hints took {took:?}");
}
