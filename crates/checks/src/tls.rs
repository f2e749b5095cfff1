//! A TLS client for the checks that speak HTTPS (kubelet) or read the
//! server's certificate key (`ssl-cert-weak-key`): rustls (a well-kept
//! crate, already the prober's) with a verifier that accepts every
//! certificate and signature, because a scanner reports certificates, it
//! does not authenticate them. The same approach as portolan-service's
//! `tls` module, kept here so checks do not depend on the prober.

use crate::io::{HttpResponse, MAX_REPLY};
use crate::Ctx;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

#[derive(Debug)]
struct AcceptAny(Vec<SignatureScheme>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

/// Completes a TLS handshake with the check's port (no SNI).
pub(crate) async fn connect(ctx: &Ctx) -> Option<TlsStream<TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(schemes)))
        .with_no_client_auth();
    ctx.paced().await;
    let tcp = TcpStream::connect(SocketAddr::new(ctx.addr, ctx.port))
        .await
        .ok()?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::IpAddress(ctx.addr.into()), tcp)
        .await
        .ok()
}

/// The DER of the server's own certificate.
pub(crate) async fn peer_certificate(ctx: &Ctx) -> Option<Vec<u8>> {
    let s = connect(ctx).await?;
    let der = s.get_ref().1.peer_certificates()?.first()?.to_vec();
    Some(der)
}

/// `GET path` over HTTPS (HTTP/1.0, `Connection: close`); reads at most
/// `cap` bytes.
pub(crate) async fn https_get(ctx: &Ctx, path: &str, cap: usize) -> Option<HttpResponse> {
    let mut s = connect(ctx).await?;
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {}\r\nUser-Agent: portolan\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        SocketAddr::new(ctx.addr, ctx.port)
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let cap = cap.min(MAX_REPLY);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < cap {
        let want = chunk.len().min(cap - buf.len());
        match s.read(&mut chunk[..want]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    HttpResponse::parse(&buf)
}
