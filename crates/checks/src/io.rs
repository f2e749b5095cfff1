//! The few ways checks talk to services, each bounded: every read has a
//! byte cap, and the caller's deadline (the runner's timeout) bounds the
//! time. Nothing here trusts a length the peer sent.

use crate::Ctx;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// The most any one reply may hold; checks read less.
pub const MAX_REPLY: usize = 64 * 1024;

/// Connects to the check's port.
pub async fn connect(ctx: &Ctx) -> io::Result<TcpStream> {
    ctx.paced().await;
    TcpStream::connect(SocketAddr::new(ctx.addr, ctx.port)).await
}

/// Reads into `buf` until `done(buf)` holds, the peer closes, or `cap`
/// bytes are in. Returns whether `done` held.
pub async fn read_until(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    cap: usize,
    done: impl Fn(&[u8]) -> bool,
) -> io::Result<bool> {
    let cap = cap.min(MAX_REPLY);
    let mut chunk = [0u8; 4096];
    while !done(buf) {
        if buf.len() >= cap {
            return Ok(false);
        }
        let want = chunk.len().min(cap - buf.len());
        let n = s.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Ok(done(buf));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(true)
}

/// Reads one CRLF- or LF-terminated line (at most `cap` bytes), without
/// its terminator; `None` at end of stream or past the cap.
pub async fn read_line(s: &mut TcpStream, pending: &mut Vec<u8>, cap: usize) -> Option<String> {
    let have_line = |b: &[u8]| b.contains(&b'\n');
    if !read_until(s, pending, cap, have_line).await.ok()? {
        return None;
    }
    let end = pending.iter().position(|&b| b == b'\n')?;
    let line: Vec<u8> = pending.drain(..=end).collect();
    let text = String::from_utf8_lossy(&line);
    Some(text.trim_end_matches(['\r', '\n']).to_string())
}

/// Sends `req` and reads until `done` or `cap`: a one-shot exchange.
pub async fn exchange(
    ctx: &Ctx,
    req: &[u8],
    cap: usize,
    done: impl Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    let mut s = connect(ctx).await.ok()?;
    s.write_all(req).await.ok()?;
    let mut buf = Vec::new();
    read_until(&mut s, &mut buf, cap, done).await.ok()?;
    Some(buf)
}

/// Sends one datagram and returns the first reply from the port (at most
/// `cap` bytes). Only one datagram is ever sent.
pub async fn udp_exchange(ctx: &Ctx, req: &[u8], cap: usize) -> Option<Vec<u8>> {
    let peer = SocketAddr::new(ctx.addr, ctx.port);
    let local: SocketAddr = if ctx.addr.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    ctx.paced().await;
    let sock = UdpSocket::bind(local).await.ok()?;
    sock.connect(peer).await.ok()?;
    sock.send(req).await.ok()?;
    let mut buf = vec![0u8; cap.min(MAX_REPLY)];
    let n = sock.recv(&mut buf).await.ok()?;
    buf.truncate(n);
    Some(buf)
}

/// A parsed HTTP/1.x response (headers lower-cased, body capped).
#[derive(Debug, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body as far as read.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses a response from raw bytes; `None` when it is not HTTP.
    pub fn parse(raw: &[u8]) -> Option<HttpResponse> {
        let split = find(raw, b"\r\n\r\n").map(|i| (i, 4));
        let split = split.or_else(|| find(raw, b"\n\n").map(|i| (i, 2)));
        let (head, body) = match split {
            Some((i, n)) => (&raw[..i], raw[i + n..].to_vec()),
            None => (raw, Vec::new()),
        };
        let head = String::from_utf8_lossy(head);
        let mut lines = head.lines();
        let status_line = lines.next()?;
        let mut parts = status_line.split_whitespace();
        if !parts.next()?.starts_with("HTTP/") {
            return None;
        }
        let status = parts.next()?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// `GET path` over plain HTTP/1.0 with `Connection: close`; reads at most
/// `cap` bytes.
pub async fn http_get(ctx: &Ctx, path: &str, cap: usize) -> Option<HttpResponse> {
    let host = match ctx.addr {
        std::net::IpAddr::V4(a) => a.to_string(),
        std::net::IpAddr::V6(a) => format!("[{a}]"),
    };
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}:{}\r\nUser-Agent: portolan\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        ctx.port
    );
    let raw = exchange(ctx, req.as_bytes(), cap, |_| false).await?;
    HttpResponse::parse(&raw)
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Text from the network made safe for one output line: control
/// characters become `?`, and it is cut to `max` characters.
pub fn clean(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_responses_parse_and_garbage_does_not() {
        let r = HttpResponse::parse(b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("server"), Some("x"));
        assert_eq!(r.body, b"body");
        assert!(HttpResponse::parse(b"SSH-2.0-x\r\n").is_none());
        assert!(HttpResponse::parse(b"").is_none());
        assert!(HttpResponse::parse(b"HTTP/1.1 abc").is_none());
    }

    #[test]
    fn clean_replaces_controls_and_cuts() {
        assert_eq!(clean("a\x1b[2Jb\n", 100), "a?[2Jb?");
        assert_eq!(clean("abcdef", 3), "abc");
    }
}
