//! TLS for the checks that speak HTTPS (kubelet) or read the server's
//! certificate key (`ssl-cert-weak-key`), over the prober's client
//! ([`portolan_service::tls::Tls`]: rustls, accepting every certificate).

use crate::io::{HttpResponse, MAX_REPLY};
use crate::Ctx;
use portolan_service::tls::Tls;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Completes a TLS handshake with the check's port (no SNI).
pub(crate) async fn connect(ctx: &Ctx) -> Option<TlsStream<TcpStream>> {
    let tls = Tls::new()?;
    ctx.paced().await;
    let tcp = TcpStream::connect(SocketAddr::new(ctx.addr, ctx.port))
        .await
        .ok()?;
    tls.connect(tcp, ctx.addr).await.ok()
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
