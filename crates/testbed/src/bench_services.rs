//! The service-detection (`-sV`) scenarios: `sv9`, real daemons from
//! Debian's packages on their well-known ports, `sv-debian`, every daemon
//! of that script (about 45), and `sv1000`, a thousand banner services over
//! a hundred addresses.
//!
//! `sv9` starts the daemons with the real-daemon test's own script
//! (`crates/service/tests/daemons.sh`, embedded here so the two cannot
//! drift apart) inside the target namespace, and expects each product with
//! the installed package's upstream version, so a fast scan that names
//! less does not pass.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use super::banner::BannerServer;
use super::{args, service_text, HostPort, Prepared};
use crate::error::{Result, TestbedError};
use crate::testbed::Testbed;

/// The real-daemon script of the service crate's tests.
const DAEMONS_SH: &str = include_str!("../../service/tests/daemons.sh");

/// What each of the script's daemons must be identified as (the same file
/// the service crate's real-daemon test reads).
const DAEMONS_EXPECT: &str = include_str!("../../service/tests/daemons.expect");

/// The /24 that is local on `sv1000`'s target; its first 100 addresses
/// are scanned.
const SV1000_NET: &str = "198.19.3.0/24";

/// Services a scenario runs; stopped when dropped (before the testbed's
/// namespaces are deleted, which would not stop processes inside them).
#[derive(Debug)]
pub enum Services {
    /// Daemons started by `daemons.sh` with their state in `dir`.
    Daemons {
        /// State directory (holds the script, the PIDs and the logs).
        dir: PathBuf,
    },
    /// In-process banner services.
    Banners(BannerServer),
}

impl Drop for Services {
    fn drop(&mut self) {
        if let Services::Daemons { dir } = self {
            let _ = Command::new("bash")
                .arg(dir.join("daemons.sh"))
                .arg("stop")
                .arg(&*dir)
                .status();
            let _ = std::fs::remove_dir_all(&*dir);
        }
    }
}

/// The upstream part of an installed package's version (no epoch, no
/// Debian revision): the first of `pkgs` that is installed.
fn upstream(pkgs: &[&str]) -> Option<String> {
    pkgs.iter().find_map(|pkg| {
        let out = Command::new("dpkg-query")
            .args(["-W", "-f=${Version}", pkg])
            .output()
            .ok()?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || v.is_empty() {
            return None;
        }
        let v = v.split_once(':').map_or(v.as_str(), |(_, r)| r);
        let v = v.rsplit_once('-').map_or(v, |(u, _)| u);
        // Debian's repack marks (`+dfsg`, `+ds`, `~rc`) are not in what
        // the daemon says of itself.
        Some(v.split(['+', '~']).next().unwrap_or(v).to_string())
    })
}

/// The installed PostgreSQL's package name (`postgresql-15`).
fn postgres_pkg() -> Option<String> {
    let major = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max()?;
    Some(format!("postgresql-{major}"))
}

/// `sv9`: the 9 daemons on their well-known ports of target 0.
pub(super) fn sv9() -> Result<Prepared> {
    let needed = [
        ("/usr/sbin/sshd", "openssh-server"),
        ("/usr/sbin/nginx", "nginx-light"),
        ("/usr/sbin/vsftpd", "vsftpd"),
        ("/usr/bin/redis-server", "redis-server"),
        ("/usr/bin/memcached", "memcached"),
        ("/usr/sbin/mariadbd", "mariadb-server"),
        ("/usr/lib/postgresql", "postgresql"),
        ("/usr/sbin/dnsmasq", "dnsmasq-base"),
        ("/usr/sbin/mosquitto", "mosquitto"),
    ];
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        return Err(TestbedError::Config(format!(
            "sv9 skipped: not installed: {} (apt-get install {})",
            missing.join(", "),
            missing.join(" ")
        )));
    }
    let (tb, services, started, stderr) = start_daemons("sv9")?;
    let pg = postgres_pkg().unwrap_or_default();
    let nginx = [
        "nginx",
        "nginx-light",
        "nginx-core",
        "nginx-full",
        "nginx-common",
    ];
    // (daemon, port, protocol/service, product, packages)
    let want: [(&str, u16, &str, &str, &[&str]); 10] = [
        ("ssh", 22, "tcp/ssh", "OpenSSH", &["openssh-server"]),
        ("nginx", 80, "tcp/http", "nginx", &nginx),
        ("vsftpd", 21, "tcp/ftp", "vsftpd", &["vsftpd"]),
        (
            "redis",
            6379,
            "tcp/redis",
            "Redis key-value store",
            &["redis-server"],
        ),
        (
            "memcached",
            11211,
            "tcp/memcached",
            "Memcached",
            &["memcached"],
        ),
        (
            "mariadb",
            3306,
            "tcp/mysql",
            "MariaDB",
            &["mariadb-server-core", "mariadb-server"],
        ),
        ("postgres", 5432, "tcp/postgresql", "PostgreSQL DB", &[&pg]),
        (
            "dnsmasq",
            53,
            "tcp/domain",
            "dnsmasq",
            &["dnsmasq-base", "dnsmasq"],
        ),
        (
            "dnsmasq",
            53,
            "udp/domain",
            "dnsmasq",
            &["dnsmasq-base", "dnsmasq"],
        ),
        ("mosquitto", 1883, "tcp/mqtt", "Mosquitto", &["mosquitto"]),
    ];
    let not_started: Vec<&str> = want
        .iter()
        .map(|w| w.0)
        .filter(|d| !started.iter().any(|(name, _)| name == d))
        .collect();
    if !not_started.is_empty() {
        return Err(TestbedError::Config(format!(
            "sv9: daemons did not start: {}: {stderr}",
            not_started.join(", ")
        )));
    }
    let host = tb.target_addr(0).to_string();
    let expected = want
        .iter()
        .map(|(_, port, svc, product, pkgs)| {
            let version = upstream(pkgs).unwrap_or_default();
            let (proto, name) = svc.split_once('/').unwrap_or(("tcp", svc));
            (
                service_text(&host, proto, name, &format!("{product} {version}")),
                *port,
            )
        })
        .collect();
    Ok(Prepared {
        services: Some(services),
        testbed: tb,
        args: args(&[
            "-sS",
            "-sU",
            "-sV",
            "-n",
            "-Pn",
            "-p",
            "T:21,22,53,80,1883,3306,5432,6379,11211,U:53",
            &host,
        ]),
        expected: Some(expected),
        stop_after: None,
    })
}

/// Daemons started in a testbed: the testbed, their state, the
/// (name, port) lines the script printed, and its stderr with where the
/// logs are.
type Started = (Testbed, Services, Vec<(String, u16)>, String);

/// Starts every daemon of `daemons.sh` that is installed in target 0's
/// namespace on its well-known port.
fn start_daemons(hint: &str) -> Result<Started> {
    let mut tb = Testbed::new(hint)?;
    let addr = tb.target_addr(0);
    let dir = std::env::temp_dir().join(format!("portolan-bench-{hint}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| TestbedError::io(dir.display().to_string(), e))?;
    let script = dir.join("daemons.sh");
    std::fs::write(&script, DAEMONS_SH)
        .map_err(|e| TestbedError::io(script.display().to_string(), e))?;
    let services = Services::Daemons { dir: dir.clone() };
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg("start")
        .arg(&dir)
        .env("ADDR", addr.to_string())
        .env("STD_PORTS", "1");
    let out = tb.target(0)?.run(&mut cmd)?;
    let started = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, port) = l.split_once(' ')?;
            Some((name.to_string(), port.trim().parse().ok()?))
        })
        .collect();
    Ok((
        tb,
        services,
        started,
        format!(
            "{} (logs in {})",
            String::from_utf8_lossy(&out.stderr).trim(),
            dir.display()
        ),
    ))
}

/// `sv-debian`: every daemon of `daemons.sh` (web servers and proxies,
/// mail, DNS, directory, file sharing, print, databases and queues, chat,
/// remote desktop, monitoring) on target 0, well-known ports; each must be
/// named with the version its replies show (`daemons.expect`).
pub(super) fn sv_debian() -> Result<Prepared> {
    let (tb, services, started, stderr) = start_daemons("svdeb")?;
    if started.len() < 30 {
        return Err(TestbedError::Config(format!(
            "sv-debian: only {} daemons started (need 30; see .ci/run's list): {stderr}",
            started.len()
        )));
    }
    let host = tb.target_addr(0).to_string();
    let pg = postgres_pkg().unwrap_or_default();
    let (mut tcp, mut udp, mut expected) = (Vec::new(), Vec::new(), BTreeSet::new());
    for line in DAEMONS_EXPECT.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('|').collect();
        let [name, proto, service, product, pkgs, shown] = f[..] else {
            return Err(TestbedError::Config(format!(
                "daemons.expect: bad line {line:?}"
            )));
        };
        let Some(&(_, port)) = started.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let pkgs: Vec<&str> = pkgs
            .split(',')
            .map(|p| if p == "postgresql-N" { pg.as_str() } else { p })
            .collect();
        let version = match shown {
            "full" => upstream(&pkgs).unwrap_or_default(),
            "major-minor" => upstream(&pkgs)
                .unwrap_or_default()
                .split('.')
                .take(2)
                .collect::<Vec<_>>()
                .join("."),
            "major" => upstream(&pkgs)
                .unwrap_or_default()
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        };
        if proto == "udp" {
            udp.push(port.to_string());
        } else {
            tcp.push(port.to_string());
        }
        // The TLS daemon's port is reported as a tunnel (`ssl|http`).
        let tunneled;
        let service = if name.ends_with("-tls") {
            tunneled = format!("ssl|{service}");
            tunneled.as_str()
        } else {
            service
        };
        let field = format!("{product} {version}");
        expected.insert((service_text(&host, proto, service, field.trim()), port));
    }
    let ports = format!("T:{},U:{}", tcp.join(","), udp.join(","));
    Ok(Prepared {
        services: Some(services),
        testbed: tb,
        args: args(&["-sS", "-sU", "-sV", "-n", "-Pn", "-p", &ports, &host]),
        expected: Some(expected),
        stop_after: None,
    })
}

/// `sc20`'s daemons (as `daemons.sh` names them) and their TCP ports.
const SC20: [(&str, u16); 20] = [
    ("vsftpd", 21),
    ("ssh", 22),
    ("telnetd", 23),
    ("postfix", 25),
    ("nginx", 80),
    ("dovecot", 143),
    ("slapd", 389),
    ("samba", 445),
    ("rsync", 873),
    ("mosquitto", 1883),
    ("etcd", 2379),
    ("squid", 3128),
    ("mariadb", 3306),
    ("xrdp", 3389),
    ("postgres", 5432),
    ("redis", 6379),
    ("ngircd", 6667),
    ("lighttpd", 8000),
    ("apache", 8080),
    ("memcached", 11211),
];

/// `sc20`: `-sS -sV -sC` of the 20 [`SC20`] daemons of target 0, started
/// by the service tests' `daemons.sh` on their well-known ports. Only the
/// time is judged (`sv-debian` judges the names): every daemon must be up.
pub(super) fn sc20() -> Result<Prepared> {
    let (tb, services, started, stderr) = start_daemons("sc20")?;
    let missing: Vec<&str> = SC20
        .iter()
        .map(|d| d.0)
        .filter(|d| !started.iter().any(|(name, _)| name == d))
        .collect();
    if !missing.is_empty() {
        return Err(TestbedError::Config(format!(
            "sc20: daemons did not start: {}: {stderr}",
            missing.join(", ")
        )));
    }
    let host = tb.target_addr(0).to_string();
    let ports = SC20
        .iter()
        .map(|d| d.1.to_string())
        .collect::<Vec<_>>()
        .join(",");
    Ok(Prepared {
        services: Some(services),
        testbed: tb,
        args: args(&["-sS", "-sV", "-sC", "-n", "-Pn", "-p", &ports, &host]),
        expected: None,
        stop_after: None,
    })
}

/// The MySQL protocol-10 handshake of a server of `version`.
fn mysql_greeting(version: &str) -> Vec<u8> {
    let mut body = vec![0x0a];
    body.extend_from_slice(version.as_bytes());
    body.extend_from_slice(b"\0\x04\0\0\0abcdefgh\0\xff\xf7\x08\x02\0");
    let mut p = vec![body.len() as u8, 0, 0, 0];
    p.extend(body);
    p
}

/// `sv1000`'s banner services: (port, greeting, protocol/service and
/// version field a correct `-sV` reports).
fn sv1000_services() -> Vec<(u16, Vec<u8>, &'static str, &'static str)> {
    let b = |s: &str| s.as_bytes().to_vec();
    vec![
        (
            21,
            b("220 ProFTPD 1.3.8 Server (Debian) [::ffff:198.18.0.1]\r\n"),
            "ftp",
            "ProFTPD 1.3.8",
        ),
        (
            22,
            b("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
            "ssh",
            "OpenSSH 9.2p1",
        ),
        (
            25,
            b("220 mx.example.test ESMTP Exim 4.96 Sun, 22 Nov 2026 11:00:00 +0000\r\n"),
            "smtp",
            "Exim smtpd 4.96",
        ),
        (
            110,
            b("+OK Dovecot (Debian) ready.\r\n"),
            "pop3",
            "Dovecot pop3d",
        ),
        (
            119,
            b("200 news.example.test InterNetNews server INN 2.7.1 ready (posting ok)\r\n"),
            "nntp",
            "INN 2.7.1",
        ),
        (
            143,
            b("* OK mail.example.test Cyrus IMAP v3.6.1-Debian server ready\r\n"),
            "imap",
            "Cyrus imapd 3.6.1-Debian",
        ),
        (
            2628,
            b("220 dict.example.test dictd 1.12.1/rf on Linux 6.1.0-13-amd64 <auth.mime> <100.2.1700000000@dict.example.test>\r\n"),
            "dict",
            "dictd 1.12.1",
        ),
        (
            3306,
            mysql_greeting("8.0.35-0ubuntu0.22.04.1"),
            "mysql",
            "MySQL 8.0.35",
        ),
        (
            4222,
            b("INFO {\"server_id\":\"NABC\",\"server_name\":\"n1\",\"version\":\"2.10.7\",\"proto\":1,\"go\":\"go1.21\"}\r\n"),
            "nats",
            "NATS Server 2.10.7",
        ),
        (5900, b("RFB 003.008\n"), "vnc", ""),
    ]
}

/// `sv1000`: 10 banner services on each of 100 addresses of target 0.
pub(super) fn sv1000() -> Result<Prepared> {
    let mut tb = Testbed::new("sv1k")?;
    let mut cmd = Command::new("ip");
    cmd.args(["route", "add", "local", SV1000_NET, "dev", "lo"]);
    let out = tb.target(0)?.run(&mut cmd)?;
    if !out.status.success() {
        return Err(TestbedError::io(
            format!("ip route add local {SV1000_NET}"),
            std::io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
        ));
    }
    tb.route_via_target(0, SV1000_NET)?;
    let list = sv1000_services();
    let banners: Vec<(u16, Vec<u8>)> = list.iter().map(|(p, b, _, _)| (*p, b.clone())).collect();
    let ns = tb.target(0)?.ns().to_string();
    let server = BannerServer::start(&ns, &banners)?;
    let expected: BTreeSet<HostPort> = (1..=100u8)
        .flat_map(|i| {
            let host = Ipv4Addr::new(198, 19, 3, i).to_string();
            list.iter()
                .map(move |(port, _, svc, ver)| (service_text(&host, "tcp", svc, ver), *port))
        })
        .collect();
    let ports: Vec<String> = list.iter().map(|(p, ..)| p.to_string()).collect();
    Ok(Prepared {
        services: Some(Services::Banners(server)),
        testbed: tb,
        args: args(&[
            "-sS",
            "-sV",
            "-n",
            "-Pn",
            "-p",
            &ports.join(","),
            "198.19.3.1-100",
        ]),
        expected: Some(expected),
        stop_after: None,
    })
}
