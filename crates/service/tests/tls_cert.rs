//! A TLS service with a self-signed certificate made in the test (the
//! `openssl` command line): the prober names the service inside the tunnel
//! and records the certificate's subject, issuer, validity and alternative
//! names. Skips, with a notice, when `openssl` is not installed.

use portolan_model::Protocol;
use portolan_service::{parse_certificate, Database, ProbeOptions, Prober, Target};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A self-signed certificate for `CN=portolan-test, O=Portolan` with the
/// alternative names `portolan.test` and 198.18.0.1, valid for 2 days.
fn make_cert(dir: &Path) -> bool {
    Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .arg("-keyout")
        .arg(dir.join("tls.key"))
        .arg("-out")
        .arg(dir.join("tls.crt"))
        .args(["-days", "2", "-subj", "/CN=portolan-test/O=Portolan"])
        .args(["-addext", "subjectAltName=DNS:portolan.test,IP:198.18.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `openssl s_server -www` (answers HTTP GETs inside TLS) on a free
/// loopback port.
fn start() -> Option<(Server, u16)> {
    let dir = std::env::temp_dir().join(format!("portolan-tls-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    if !make_cert(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
        return None;
    }
    let port = TcpListener::bind((LO, 0)).ok()?.local_addr().ok()?.port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www"])
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.join("tls.crt"))
        .arg("-key")
        .arg(dir.join("tls.key"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server { child, dir };
    let end = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect((LO, port)).is_err() {
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((server, port))
}

#[test]
fn tls_service_certificate_is_recorded() {
    let Some((server, port)) = start() else {
        eprintln!("NOTICE: skipping TLS certificate test: openssl not available");
        return;
    };
    let db = Arc::new(Database::builtin().unwrap());
    let prober = Prober::new(db, ProbeOptions::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Target {
        addr: LO,
        port,
        protocol: Protocol::Tcp,
    };
    let d = rt.block_on(prober.detect_one(t));
    drop(server);
    let s = d.service.expect("service found");
    assert_eq!(s.tunnel.as_deref(), Some("ssl"), "{s:?}");
    let c = s.certificate.expect("certificate in the service");
    assert_eq!(Some(c.as_ref()), d.certificate.as_ref());
    let keys: Vec<(&str, &str)> = c
        .subject
        .iter()
        .map(|a| (a.key.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("commonName", "portolan-test"),
            ("organizationName", "Portolan")
        ]
    );
    assert_eq!(c.issuer, c.subject, "self-signed");
    assert_eq!(c.alt_names, ["DNS:portolan.test", "IP Address:198.18.0.1"]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        c.not_before <= now + 60 && c.not_before >= now - 3600,
        "{c:?}"
    );
    assert_eq!(c.not_after - c.not_before, 2 * 86_400);
}

#[test]
fn garbage_is_not_a_certificate() {
    assert!(parse_certificate(b"").is_none());
    assert!(parse_certificate(&[0x30, 0x82, 0xff, 0xff, 0x00]).is_none());
    assert!(parse_certificate(&[0u8; 300]).is_none());
}
