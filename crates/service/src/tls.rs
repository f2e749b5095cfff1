//! TLS for probing wrapped services: a client that accepts any certificate
//! (a scanner must talk to self-signed and expired servers, and only
//! *reports* the certificate), and the certificate facts worth reporting.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Subject and validity of a service's TLS certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject distinguished name (`CN=example, O=…`).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
    /// DNS names and addresses of the subject-alternative-name extension.
    pub alt_names: Vec<String>,
}

impl CertInfo {
    /// Reads a DER certificate; `None` if it does not parse.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let alt_names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|ext| {
                ext.value
                    .general_names
                    .iter()
                    .map(|n| n.to_string())
                    .collect()
            })
            .unwrap_or_default();
        Some(CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            alt_names,
        })
    }
}

/// Accepts every certificate and signature: the prober identifies
/// services, it does not authenticate them.
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

/// A TLS client for probing.
#[derive(Clone)]
pub(crate) struct Tls {
    connector: TlsConnector,
}

impl Tls {
    pub(crate) fn new() -> Option<Self> {
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
        Some(Tls {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Completes a handshake over `tcp` (no SNI: the target is an address).
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        addr: IpAddr,
    ) -> std::io::Result<(TlsStream<TcpStream>, Option<CertInfo>)> {
        let stream = self
            .connector
            .connect(ServerName::IpAddress(addr.into()), tcp)
            .await?;
        let cert = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| CertInfo::from_der(c.as_ref()));
        Ok((stream, cert))
    }
}

/// Whether a reply starts like a TLS record (handshake or alert, any
/// SSL 3.0 – TLS 1.3 record version).
pub fn looks_like_tls(reply: &[u8]) -> bool {
    matches!(reply, [0x15 | 0x16, 0x03, 0x00..=0x04, ..])
}
