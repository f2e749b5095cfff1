//! TLS for probing wrapped services: a client that accepts any certificate
//! (a scanner must talk to self-signed and expired servers, and only
//! *reports* the certificate), and the certificate facts worth reporting.

use portolan_model::{Certificate, NameAttribute};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use x509_parser::extensions::GeneralName;
use x509_parser::x509::X509Name;

/// Subject, issuer and validity of a service's TLS certificate (the
/// model's [`Certificate`], shown as nmap's `ssl-cert` script).
pub type CertInfo = Certificate;

/// Reads the facts worth reporting from a DER certificate; `None` if it
/// does not parse.
pub fn parse_certificate(der: &[u8]) -> Option<Certificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let alt_names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(general_name)
                .collect()
        })
        .unwrap_or_default();
    Some(Certificate {
        subject: name_attributes(cert.subject()),
        issuer: name_attributes(cert.issuer()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        alt_names,
    })
}

/// A distinguished name's attributes in order, with nmap's long names.
fn name_attributes(name: &X509Name<'_>) -> Vec<NameAttribute> {
    name.iter_attributes()
        .map(|a| {
            let oid = a.attr_type().to_id_string();
            let key = attribute_name(&oid).map_or(oid, str::to_string);
            let value = match a.as_str() {
                Ok(v) => v.to_string(),
                Err(_) => String::from_utf8_lossy(a.attr_value().data).into_owned(),
            };
            NameAttribute { key, value }
        })
        .collect()
}

/// The long names (RFC 4519, PKCS #9) nmap prints for the usual
/// distinguished-name attributes.
fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "commonName",
        "2.5.4.4" => "surname",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "countryName",
        "2.5.4.7" => "localityName",
        "2.5.4.8" => "stateOrProvinceName",
        "2.5.4.9" => "streetAddress",
        "2.5.4.10" => "organizationName",
        "2.5.4.11" => "organizationalUnitName",
        "2.5.4.12" => "title",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "givenName",
        "0.9.2342.19200300.100.1.25" => "domainComponent",
        "0.9.2342.19200300.100.1.1" => "userId",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// A subject alternative name as nmap writes it.
fn general_name(n: &GeneralName<'_>) -> Option<String> {
    Some(match n {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::RFC822Name(m) => format!("email:{m}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::IPAddress(b) => {
            let ip: IpAddr = match b.len() {
                4 => <[u8; 4]>::try_from(*b).ok()?.into(),
                16 => <[u8; 16]>::try_from(*b).ok()?.into(),
                _ => return None,
            };
            format!("IP Address:{ip}")
        }
        _ => return None,
    })
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

/// A TLS client for probing (also the checks' TLS client): it accepts
/// every certificate, as a scanner reports certificates rather than
/// authenticating them.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
}

impl Tls {
    /// The client with ring's protocols and signature schemes; `None` if
    /// the provider offers no safe protocol version.
    pub fn new() -> Option<Self> {
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
        let stream = self.connect(tcp, addr).await?;
        let cert = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| parse_certificate(c.as_ref()));
        Ok((stream, cert))
    }

    /// Completes a handshake over `tcp` (no SNI) without reading the
    /// certificate.
    pub async fn connect(
        &self,
        tcp: TcpStream,
        addr: IpAddr,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        self.connector
            .connect(ServerName::IpAddress(addr.into()), tcp)
            .await
    }
}

/// Whether a reply starts like a TLS record (handshake or alert, any
/// SSL 3.0 – TLS 1.3 record version).
pub fn looks_like_tls(reply: &[u8]) -> bool {
    matches!(reply, [0x15 | 0x16, 0x03, 0x00..=0x04, ..])
}
