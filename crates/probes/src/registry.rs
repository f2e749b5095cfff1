//! Every port-scan technique, one row each.
//!
//! The binary asks this table, not a `match` of its own, which module a
//! technique runs, what it needs and what silence means, so adding a
//! technique is one module file and one row here (zmap's `probe_modules`
//! list is the model). [`TECHNIQUES`] lists the rows in nmap's help
//! order; [`lookup`] finds the row of a [`ScanType`] (every scan type has
//! one, which the tests check).

use crate::sctp::SctpInitScan;
use crate::tcp::{TcpFlagScan, TcpScanKind};
use crate::udp::UdpScan;
use portolan_engine::ProbeModule;
use portolan_model::{PortState, Protocol, Reason, ScanType};

/// What a technique needs from the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Privilege {
    /// Ordinary sockets (the connect scan).
    None,
    /// Raw packets: CAP_NET_RAW.
    Raw,
}

/// Builds a technique's probe module; the argument is `--scanflags`,
/// which only the TCP flag scans use.
pub type Constructor = fn(Option<u8>) -> Box<dyn ProbeModule>;

/// One port-scan technique.
#[derive(Clone, Copy, Debug)]
pub struct Technique {
    /// The technique, as the model and output name it.
    pub scan_type: ScanType,
    /// The flag that selects it (`-sS`, `--scanflags`).
    pub flag: &'static str,
    /// Its name in nmap's help ("TCP SYN scan").
    pub name: &'static str,
    /// The protocol whose ports it scans.
    pub protocol: Protocol,
    /// What it needs to run.
    pub privilege: Privilege,
    /// Its raw-packet probe module; `None` for the connect scan, whose
    /// driver has no packets of its own.
    pub module: Option<Constructor>,
    /// The state and reason of a port that never answered.
    pub no_reply: (PortState, Reason),
}

impl Technique {
    /// Its probe module with `scanflags` (`None` for the connect scan).
    pub fn module(&self, scanflags: Option<u8>) -> Option<Box<dyn ProbeModule>> {
        self.module.map(|new| new(scanflags))
    }
}

const FILTERED: (PortState, Reason) = (PortState::Filtered, Reason::NoResponse);
const OPEN_FILTERED: (PortState, Reason) = (PortState::OpenFiltered, Reason::NoResponse);

fn syn(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Syn, f))
}
fn ack(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Ack, f))
}
fn window(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Window, f))
}
fn maimon(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Maimon, f))
}
fn null(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Null, f))
}
fn fin(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Fin, f))
}
fn xmas(f: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(TcpFlagScan::new(TcpScanKind::Xmas, f))
}
/// `--scanflags` alone: the user's flags, read with SYN's rules (nmap's
/// default base); without flags, a plain SYN scan.
fn custom(f: Option<u8>) -> Box<dyn ProbeModule> {
    let flags = f.unwrap_or(TcpScanKind::Syn.flags().0);
    Box::new(TcpFlagScan::new(TcpScanKind::Syn, Some(flags)))
}
fn udp(_: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(UdpScan::default())
}
fn sctp_init(_: Option<u8>) -> Box<dyn ProbeModule> {
    Box::new(SctpInitScan::new())
}

/// A row, briefly.
const fn row(
    scan_type: ScanType,
    flag: &'static str,
    name: &'static str,
    protocol: Protocol,
    module: Option<Constructor>,
    no_reply: (PortState, Reason),
) -> Technique {
    Technique {
        scan_type,
        flag,
        name,
        protocol,
        privilege: if module.is_some() {
            Privilege::Raw
        } else {
            Privilege::None
        },
        module,
        no_reply,
    }
}

use Protocol::{Sctp, Tcp, Udp};

/// Every port-scan technique, in nmap's help order.
pub const TECHNIQUES: &[Technique] = &[
    row(
        ScanType::Syn,
        "-sS",
        "TCP SYN scan",
        Tcp,
        Some(syn),
        FILTERED,
    ),
    row(
        ScanType::Connect,
        "-sT",
        "TCP connect() scan",
        Tcp,
        None,
        FILTERED,
    ),
    row(
        ScanType::Ack,
        "-sA",
        "TCP ACK scan",
        Tcp,
        Some(ack),
        FILTERED,
    ),
    row(
        ScanType::Window,
        "-sW",
        "TCP Window scan",
        Tcp,
        Some(window),
        FILTERED,
    ),
    row(
        ScanType::Maimon,
        "-sM",
        "TCP Maimon scan",
        Tcp,
        Some(maimon),
        OPEN_FILTERED,
    ),
    row(
        ScanType::Udp,
        "-sU",
        "UDP scan",
        Udp,
        Some(udp),
        OPEN_FILTERED,
    ),
    row(
        ScanType::Null,
        "-sN",
        "TCP Null scan",
        Tcp,
        Some(null),
        OPEN_FILTERED,
    ),
    row(
        ScanType::Fin,
        "-sF",
        "TCP FIN scan",
        Tcp,
        Some(fin),
        OPEN_FILTERED,
    ),
    row(
        ScanType::Xmas,
        "-sX",
        "TCP Xmas scan",
        Tcp,
        Some(xmas),
        OPEN_FILTERED,
    ),
    row(
        ScanType::Custom,
        "--scanflags",
        "TCP scan with custom flags",
        Tcp,
        Some(custom),
        FILTERED,
    ),
    row(
        ScanType::SctpInit,
        "-sY",
        "SCTP INIT scan",
        Sctp,
        Some(sctp_init),
        FILTERED,
    ),
];

/// The row of `t`.
pub fn lookup(t: ScanType) -> &'static Technique {
    TECHNIQUES
        .iter()
        .find(|r| r.scan_type == t)
        .expect("every scan type has a registry row (tested)")
}

/// The row selected by `flag` (`-sS`, `--scanflags`), if any.
pub fn by_flag(flag: &str) -> Option<&'static Technique> {
    TECHNIQUES.iter().find(|r| r.flag == flag)
}

/// The probe module of `t` with `scanflags`; `None` for the connect scan.
pub fn module(t: ScanType, scanflags: Option<u8>) -> Option<Box<dyn ProbeModule>> {
    lookup(t).module(scanflags)
}
