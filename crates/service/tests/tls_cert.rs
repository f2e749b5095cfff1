//! A TLS web server (rustls) with a self-signed certificate made in the
//! test (the `openssl` command line): the prober finds the tunnel although
//! the server closes silently on plain text, names the service inside it
//! and records the certificate's subject, issuer, validity and alternative
//! names. Skips, with a notice, when `openssl` is not installed.

use portolan_model::Protocol;
use portolan_service::{parse_certificate, Database, ProbeOptions, Prober, Target};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

struct CertDir(PathBuf);

impl Drop for CertDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
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

/// A web server inside TLS on a free loopback port, answering `GET` like
/// nginx; plain text fails its handshake and it closes without a word.
async fn start(dir: &Path) -> Option<u16> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("tls.crt"))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    let key = PrivateKeyDer::from_pem_file(dir.join("tls.key")).ok()?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .ok()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .ok()?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind((LO, 0)).await.ok()?;
    let port = l.local_addr().ok()?.port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                while let Ok(n) = tls.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if buf[..n].starts_with(b"GET ") {
                        let _ = tls
                            .write_all(b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 0\r\n\r\n")
                            .await;
                    }
                }
            });
        }
    });
    Some(port)
}

#[tokio::test]
async fn tls_service_certificate_is_recorded() {
    let dir =
        CertDir(std::env::temp_dir().join(format!("portolan-tls-cert-{}", std::process::id())));
    if std::fs::create_dir_all(&dir.0).is_err() || !make_cert(&dir.0) {
        eprintln!("NOTICE: skipping TLS certificate test: openssl not available");
        return;
    }
    let port = start(&dir.0).await.expect("TLS server starts");
    let db = Arc::new(Database::builtin().unwrap());
    let prober = Prober::new(db, ProbeOptions::default());
    let t = Target {
        addr: LO,
        port,
        protocol: Protocol::Tcp,
    };
    let t0 = Instant::now();
    let d = prober.detect_one(t).await;
    // Plain probes all closed without a word: the prober tried TLS.
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let s = d.service.expect("service found");
    assert_eq!(s.tunnel.as_deref(), Some("ssl"), "{s:?}");
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("http", Some("nginx"), Some("1.22.1"))
    );
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
