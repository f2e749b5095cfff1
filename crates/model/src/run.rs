//! The scan as a whole: what was asked for and how it ended.

use crate::port::Protocol;
use serde::{Deserialize, Serialize};

/// A scan technique, named as in nmap's XML `scaninfo type=""`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanType {
    /// `-sT`: full TCP connect.
    Connect,
    /// `-sS`: TCP SYN.
    Syn,
    /// `-sA`: TCP ACK.
    Ack,
    /// `-sW`: TCP window.
    Window,
    /// `-sM`: TCP Maimon (FIN/ACK).
    Maimon,
    /// `-sN`: TCP with no flags.
    Null,
    /// `-sF`: TCP FIN.
    Fin,
    /// `-sX`: TCP FIN/PSH/URG.
    Xmas,
    /// `--scanflags`: TCP with user-chosen flags.
    Custom,
    /// `-sU`: UDP.
    Udp,
    /// `-sY`: SCTP INIT (nmap's XML name `sctpinit`).
    SctpInit,
}

impl ScanType {
    /// Every technique a user can pick with `-s<letter>`, in the order
    /// nmap's help lists them (`--scanflags` scans, `Custom`, come from
    /// their own flag).
    pub const ALL: [ScanType; 10] = [
        ScanType::Syn,
        ScanType::Connect,
        ScanType::Ack,
        ScanType::Window,
        ScanType::Maimon,
        ScanType::Udp,
        ScanType::Null,
        ScanType::Fin,
        ScanType::Xmas,
        ScanType::SctpInit,
    ];

    /// The flag that selects it, e.g. `-sS`.
    pub fn flag(self) -> &'static str {
        match self {
            ScanType::Connect => "-sT",
            ScanType::Syn => "-sS",
            ScanType::Ack => "-sA",
            ScanType::Window => "-sW",
            ScanType::Maimon => "-sM",
            ScanType::Null => "-sN",
            ScanType::Fin => "-sF",
            ScanType::Xmas => "-sX",
            ScanType::Custom => "--scanflags",
            ScanType::Udp => "-sU",
            ScanType::SctpInit => "-sY",
        }
    }

    /// Whether it scans TCP (nmap allows one TCP technique per scan).
    pub fn is_tcp(self) -> bool {
        self.protocol() == Protocol::Tcp
    }

    /// Whether it needs raw sockets (everything but the connect scan).
    pub fn is_raw(self) -> bool {
        self != ScanType::Connect
    }

    /// nmap's XML name (`--scanflags` scans report as `syn`, like nmap's
    /// custom scans that keep SYN rules).
    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Connect => "connect",
            ScanType::Syn | ScanType::Custom => "syn",
            ScanType::Ack => "ack",
            ScanType::Window => "window",
            ScanType::Maimon => "maimon",
            ScanType::Null => "null",
            ScanType::Fin => "fin",
            ScanType::Xmas => "xmas",
            ScanType::Udp => "udp",
            ScanType::SctpInit => "sctpinit",
        }
    }

    /// The protocol the technique scans.
    pub fn protocol(self) -> Protocol {
        match self {
            ScanType::Udp => Protocol::Udp,
            ScanType::SctpInit => Protocol::Sctp,
            _ => Protocol::Tcp,
        }
    }

    /// The name used in nmap's normal-output timing lines ("Connect Scan").
    pub fn title(self) -> &'static str {
        match self {
            ScanType::Connect => "Connect Scan",
            ScanType::Syn => "SYN Stealth Scan",
            ScanType::Ack => "ACK Scan",
            ScanType::Window => "Window Scan",
            ScanType::Maimon => "Maimon Scan",
            ScanType::Null => "NULL Scan",
            ScanType::Fin => "FIN Scan",
            ScanType::Xmas => "XMAS Scan",
            ScanType::Custom => "Custom Scan",
            ScanType::Udp => "UDP Scan",
            ScanType::SctpInit => "SCTP INIT Scan",
        }
    }
}

/// One technique of the scan and the ports it covers (nmap's `scaninfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanTypeInfo {
    /// The technique.
    pub scan_type: ScanType,
    /// Its protocol.
    pub protocol: Protocol,
    /// How many ports it scans per host.
    pub num_services: u32,
    /// Those ports as compact ranges: `1-1024,3306`.
    pub services: String,
}

/// What the scan was asked to do; written at the start of every output
/// (JSON: the `scan` line).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "crate::shape::ScanShape")]
pub struct ScanInfo {
    /// Portolan's version.
    pub version: String,
    /// The command line, as typed.
    pub args: String,
    /// Start time, seconds since the Unix epoch.
    pub start_time: u64,
    /// The techniques and their ports.
    pub scans: Vec<ScanTypeInfo>,
    /// `-v` level.
    pub verbose: u8,
    /// `-d` level.
    pub debugging: u8,
}

/// How the scan ended; written at the end of every output (JSON: the
/// `end` line).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "crate::shape::EndShape")]
pub struct RunStats {
    /// End time, seconds since the Unix epoch.
    pub end_time: u64,
    /// Seconds from start to end.
    pub elapsed: f64,
    /// Hosts found up.
    pub hosts_up: u64,
    /// Hosts found down.
    pub hosts_down: u64,
    /// Whether the scan was cut short (Ctrl-C, SIGTERM).
    pub interrupted: bool,
    /// Hosts written partly scanned because of the interrupt (counted in
    /// `hosts_up`; each is marked [`HostResult::incomplete`]).
    ///
    /// [`HostResult::incomplete`]: crate::HostResult::incomplete
    pub hosts_incomplete: u64,
    /// The error that ended the scan, if one did.
    pub error: Option<String>,
}

impl RunStats {
    /// All hosts accounted for.
    pub fn hosts_total(&self) -> u64 {
        self.hosts_up + self.hosts_down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sctp_init_is_named_as_nmap_names_it() {
        let t = ScanType::SctpInit;
        assert_eq!(t.flag(), "-sY");
        assert_eq!(t.as_str(), "sctpinit");
        assert_eq!(t.protocol(), Protocol::Sctp);
        assert!(t.is_raw() && !t.is_tcp());
        assert!(ScanType::ALL.contains(&t));
    }
}
