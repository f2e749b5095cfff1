//! The fallback source: `/proc/net/{tcp,tcp6,udp,udp6}`, for kernels
//! without `inet_diag` (or where netlink is blocked). It reads the files of
//! the calling *thread*'s namespace (`/proc/thread-self/net`), so it works
//! inside `--netns` too. Every state is read and filtered here. One
//! difference from netlink: a listener's send queue reads 0 (the file has
//! no backlog field), where `sock_diag` gives the backlog.

use crate::error::LocalError;
use crate::model::{Family, Proto, RawSocket, State};
use crate::source::SocketSource;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Lists sockets from `/proc/net`.
pub struct ProcNet;

impl SocketSource for ProcNet {
    fn name(&self) -> &'static str {
        "procfs"
    }

    fn dump(
        &self,
        proto: Proto,
        family: Family,
        states: u32,
        _ports: Option<&[(u16, u16)]>,
        out: &mut dyn FnMut(RawSocket),
    ) -> Result<(), LocalError> {
        let file = match (proto, family) {
            (Proto::Tcp, Family::V4) => "tcp",
            (Proto::Tcp, Family::V6) => "tcp6",
            (Proto::Udp, Family::V4) => "udp",
            (Proto::Udp, Family::V6) => "udp6",
        };
        let path = format!("/proc/thread-self/net/{file}");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            // No IPv6 in this kernel: no IPv6 sockets.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(LocalError::source(format!("reading {path}"), e)),
        };
        for line in text.lines().skip(1) {
            if let Some(s) = parse_line(proto, line) {
                if states & s.state.bit() != 0 {
                    out(s);
                }
            }
        }
        Ok(())
    }
}

fn hex_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
        // The kernel prints each 32-bit word in host order.
        Some(w.to_ne_bytes())
    };
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut a = [0u8; 16];
            for i in 0..4 {
                a[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Parses one data line:
/// `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn parse_line(proto: Proto, line: &str) -> Option<RawSocket> {
    let mut f = line.split_ascii_whitespace();
    let _sl = f.next()?;
    let local = hex_addr(f.next()?)?;
    let remote = hex_addr(f.next()?)?;
    let state = State::from_kernel(u8::from_str_radix(f.next()?, 16).ok()?)?;
    let (tx, rx) = f.next()?.split_once(':')?;
    let _timer = f.next()?;
    let _retr = f.next()?;
    let uid = f.next()?.parse().ok()?;
    let _timeout = f.next()?;
    let inode = f.next()?.parse().ok()?;
    Some(RawSocket {
        proto,
        local,
        remote,
        state,
        recv_q: u32::from_str_radix(rx, 16).ok()?,
        send_q: u32::from_str_radix(tx, 16).ok()?,
        uid,
        inode,
        v6only: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse() {
        let l = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000  1000        0 31337 1 0000000000000000 100 0 0 10 0";
        let s = parse_line(Proto::Tcp, l).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(s.local, "127.0.0.1:8080".parse().unwrap());
        }
        assert_eq!(s.state, State::Listen);
        assert_eq!((s.recv_q, s.send_q, s.uid, s.inode), (2, 0, 1000, 31337));
        let l6 = "   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2";
        let s = parse_line(Proto::Udp, l6).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(s.local, "[::1]:22".parse().unwrap());
        }
        assert_eq!(s.state, State::Close);
        assert!(parse_line(Proto::Tcp, "garbage").is_none());
    }
}
