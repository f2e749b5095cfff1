//! The netlink `sock_diag` source: one `SOCK_DIAG_BY_FAMILY` dump per
//! protocol and family, with the wanted states in `idiag_states` so the
//! kernel skips the rest (a listener query over 100,000 connections reads
//! a few records, not 100,000).
//!
//! The request and reply structs (`inet_diag_req_v2`, `inet_diag_msg`,
//! 56 and 72 bytes of fixed layout, stable kernel ABI) are written and read
//! by hand on top of `nix`'s netlink socket: the crates for it
//! (`netlink-packet-sock-diag` with `netlink-sys`) would add a generic
//! message framework for four fields, and reading the bytes in place keeps
//! the hot loop free of per-message allocations. Everything here is safe
//! code; `nix` does the system calls.

use crate::error::LocalError;
use crate::model::{Family, Proto, RawSocket, State};
use crate::source::SocketSource;
use nix::sys::socket::{
    recv, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
const DIAG_MSG_LEN: usize = 72;
/// `INET_DIAG_SKV6ONLY`: a u8 attribute the kernel adds to every IPv6
/// socket's record.
const INET_DIAG_SKV6ONLY: u16 = 11;
/// Kernel `TCP_NEW_SYN_RECV`: request sockets, dumped only with this bit.
const NEW_SYN_RECV_BIT: u32 = 1 << 12;
/// Receive buffer for one `recv`: the kernel fills up to 32 KiB per dump
/// message batch; a larger buffer costs nothing and takes bigger batches.
const RECV_BUF: usize = 256 * 1024;

/// Lists sockets through netlink `sock_diag`.
pub struct Netlink {
    fd: OwnedFd,
    seq: Cell<u32>,
}

impl Netlink {
    /// Opens the netlink socket (in the calling thread's namespace).
    pub fn open() -> Result<Netlink, LocalError> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )
        .map_err(|e| LocalError::source("netlink sock_diag socket", e))?;
        // A large receive buffer keeps multi-part dumps from stalling;
        // best effort (the forced variant needs CAP_NET_ADMIN).
        if setsockopt(&fd, sockopt::RcvBufForce, &(4 << 20)).is_err() {
            let _ = setsockopt(&fd, sockopt::RcvBuf, &(4 << 20));
        }
        Ok(Netlink {
            fd,
            seq: Cell::new(1),
        })
    }
}

fn request(seq: u32, family: u8, proto: u8, states: u32) -> [u8; NLMSG_HDRLEN + 56] {
    let mut m = [0u8; NLMSG_HDRLEN + 56];
    m[0..4].copy_from_slice(&((NLMSG_HDRLEN + 56) as u32).to_ne_bytes());
    m[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    // inet_diag_req_v2: family, protocol, ext, pad, states, then a zero
    // inet_diag_sockid (no socket selected: dump all).
    m[16] = family;
    m[17] = proto;
    m[20..24].copy_from_slice(&states.to_ne_bytes());
    m
}

fn ne_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn addr(family: u8, raw: &[u8], port: [u8; 2]) -> SocketAddr {
    let port = u16::from_be_bytes(port);
    let ip = if family == nix::libc::AF_INET as u8 {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(&raw[..16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    SocketAddr::new(ip, port)
}

/// Decodes one `inet_diag_msg`.
fn parse_msg(proto: Proto, b: &[u8]) -> Option<RawSocket> {
    if b.len() < DIAG_MSG_LEN {
        return None;
    }
    let family = b[0];
    let state = State::from_kernel(b[1])?;
    // id: sport(4..6) dport(6..8) src(8..24) dst(24..40) if cookie.
    let local = addr(family, &b[8..24], [b[4], b[5]]);
    let remote = addr(family, &b[24..40], [b[6], b[7]]);
    Some(RawSocket {
        proto,
        local,
        remote,
        state,
        recv_q: ne_u32(b, 56),
        send_q: ne_u32(b, 60),
        uid: ne_u32(b, 64),
        inode: u64::from(ne_u32(b, 68)),
        v6only: v6only(&b[DIAG_MSG_LEN..]),
    })
}

/// Whether the attributes after an `inet_diag_msg` hold a true
/// `INET_DIAG_SKV6ONLY`.
fn v6only(mut attrs: &[u8]) -> bool {
    while attrs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([attrs[0], attrs[1]]));
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if len < 4 || len > attrs.len() {
            return false;
        }
        if kind == INET_DIAG_SKV6ONLY {
            return attrs.get(4).is_some_and(|&b| b != 0);
        }
        attrs = &attrs[((len + 3) & !3).min(attrs.len())..];
    }
    false
}

impl SocketSource for Netlink {
    fn name(&self) -> &'static str {
        "netlink"
    }

    fn dump(
        &self,
        proto: Proto,
        family: Family,
        states: u32,
        ports: Option<&[(u16, u16)]>,
        out: &mut dyn FnMut(RawSocket),
    ) -> Result<(), LocalError> {
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let fam = match family {
            Family::V4 => nix::libc::AF_INET as u8,
            Family::V6 => nix::libc::AF_INET6 as u8,
        };
        let mut states = states;
        if states & State::SynRecv.bit() != 0 {
            states |= NEW_SYN_RECV_BIT;
        }
        let mut req = request(seq, fam, proto.ipproto(), states).to_vec();
        if let Some(bc) = ports.and_then(crate::bytecode::port_filter) {
            // nlattr INET_DIAG_REQ_BYTECODE (1) after the request.
            let attr_len = u16::try_from(4 + bc.len()).unwrap_or(u16::MAX);
            req.extend_from_slice(&attr_len.to_ne_bytes());
            req.extend_from_slice(&1u16.to_ne_bytes());
            req.extend_from_slice(&bc);
            let total = u32::try_from(req.len()).unwrap_or(u32::MAX);
            req[0..4].copy_from_slice(&total.to_ne_bytes());
        }
        let what = || format!("sock_diag dump of {} {:?}", proto.name(), family);
        sendto(
            self.fd.as_raw_fd(),
            &req,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(|e| LocalError::source(what(), e))?;
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            let n = recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty())
                .map_err(|e| LocalError::source(what(), e))?;
            if n == 0 {
                return Ok(());
            }
            let mut at = 0;
            while at + NLMSG_HDRLEN <= n {
                let len = ne_u32(&buf, at) as usize;
                let kind = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
                let msg_seq = ne_u32(&buf, at + 8);
                if len < NLMSG_HDRLEN || at + len > n {
                    return Err(LocalError::source(what(), "truncated netlink message"));
                }
                let body = &buf[at + NLMSG_HDRLEN..at + len];
                at += (len + 3) & !3;
                if msg_seq != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let errno = body.get(0..4).map_or(0, |_| ne_u32(body, 0) as i32);
                        if errno == 0 {
                            continue;
                        }
                        let e = nix::errno::Errno::from_raw(-errno);
                        return Err(LocalError::source(what(), e));
                    }
                    SOCK_DIAG_BY_FAMILY => {
                        if let Some(s) = parse_msg(proto, body) {
                            out(s);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let r = request(7, 10, 6, 1 << 10);
        assert_eq!(ne_u32(&r, 0), 72);
        assert_eq!(r[16], 10);
        assert_eq!(r[17], 6);
        assert_eq!(ne_u32(&r, 20), 1024);
        assert_eq!(ne_u32(&r, 8), 7);
    }

    #[test]
    fn message_decodes() {
        let mut m = [0u8; 72];
        m[0] = nix::libc::AF_INET as u8;
        m[1] = 10;
        m[4..6].copy_from_slice(&8080u16.to_be_bytes());
        m[8..12].copy_from_slice(&[127, 0, 0, 1]);
        m[56..60].copy_from_slice(&3u32.to_ne_bytes());
        m[60..64].copy_from_slice(&128u32.to_ne_bytes());
        m[64..68].copy_from_slice(&1000u32.to_ne_bytes());
        m[68..72].copy_from_slice(&4242u32.to_ne_bytes());
        let s = parse_msg(Proto::Tcp, &m).unwrap();
        assert_eq!(s.local, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.remote, "0.0.0.0:0".parse().unwrap());
        assert_eq!(s.state, State::Listen);
        assert_eq!((s.recv_q, s.send_q, s.uid, s.inode), (3, 128, 1000, 4242));
        assert!(parse_msg(Proto::Tcp, &m[..40]).is_none());
        assert!(!s.v6only);
        // An unrelated attribute (5 bytes, padded), then SKV6ONLY = 1.
        let mut v = m.to_vec();
        v.extend_from_slice(&[5, 0, 1, 0, 9, 0, 0, 0, 5, 0, 11, 0, 1, 0, 0, 0]);
        assert!(parse_msg(Proto::Tcp, &v).unwrap().v6only);
        v.truncate(v.len() - 7);
        assert!(!parse_msg(Proto::Tcp, &v).unwrap().v6only, "truncated");
    }

    #[test]
    fn kernel_applies_the_port_filter() {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (pa, pb) = (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        );
        let nl = Netlink::open().unwrap();
        let mut seen = Vec::new();
        let ranges = [(pa, pa)];
        nl.dump(
            Proto::Tcp,
            Family::V4,
            State::Listen.bit(),
            Some(&ranges),
            &mut |r| seen.push(r.local.port()),
        )
        .unwrap();
        assert_eq!(seen, [pa], "only the filtered port, not {pb}");
    }
}
