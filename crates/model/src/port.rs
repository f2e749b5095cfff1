//! Ports: protocol, state, the reason for the state, and the service.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A transport protocol whose ports portolan scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// nmap's lowercase name: `tcp`, `udp`, `sctp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// nmap's six port states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PortState {
    /// An application accepts connections or datagrams on the port.
    #[serde(rename = "open")]
    Open,
    /// The port is reachable but nothing listens.
    #[serde(rename = "closed")]
    Closed,
    /// A filter prevents probes from reaching the port, or the reply from coming back.
    #[serde(rename = "filtered")]
    Filtered,
    /// Reachable, but open or closed cannot be told (ACK scan).
    #[serde(rename = "unfiltered")]
    Unfiltered,
    /// Open or filtered: no reply, which either explains.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    /// Closed or filtered (IP ID idle scan).
    #[serde(rename = "closed|filtered")]
    ClosedFiltered,
}

impl PortState {
    /// Every state, in nmap's order of interest (open first).
    pub const ALL: [PortState; 6] = [
        PortState::Open,
        PortState::OpenFiltered,
        PortState::Unfiltered,
        PortState::Filtered,
        PortState::Closed,
        PortState::ClosedFiltered,
    ];

    /// nmap's name of the state: `open`, `open|filtered`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::Unfiltered => "unfiltered",
            PortState::OpenFiltered => "open|filtered",
            PortState::ClosedFiltered => "closed|filtered",
        }
    }

    /// Whether `--open` shows ports in this state (nmap shows open,
    /// open|filtered and unfiltered ports).
    pub fn shown_with_open_only(self) -> bool {
        matches!(
            self,
            PortState::Open | PortState::OpenFiltered | PortState::Unfiltered
        )
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a port or host got its state: the reply (or its absence) that decided.
///
/// Names are nmap's, as printed with `--reason` and in XML `reason=""`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// TCP SYN/ACK.
    SynAck,
    /// A bare TCP SYN (split handshake).
    Syn,
    /// TCP RST.
    Reset,
    /// `connect()` was refused.
    ConnRefused,
    /// Nothing came back after every retry.
    NoResponse,
    /// ICMP host unreachable.
    HostUnreach,
    /// ICMP network unreachable.
    NetUnreach,
    /// ICMP protocol unreachable.
    ProtoUnreach,
    /// ICMP port unreachable.
    PortUnreach,
    /// ICMP communication administratively prohibited (code 13).
    AdminProhibited,
    /// ICMP host administratively prohibited (code 10).
    HostProhibited,
    /// ICMP network administratively prohibited (code 9).
    NetProhibited,
    /// A UDP datagram came back.
    UdpResponse,
    /// ICMP echo reply.
    EchoReply,
    /// ICMP timestamp reply.
    TimestampReply,
    /// ICMP address mask reply.
    #[serde(rename = "addressmask-reply")]
    MaskReply,
    /// ARP reply.
    ArpResponse,
    /// IPv6 neighbour advertisement.
    NdResponse,
    /// The target is this machine.
    #[serde(rename = "localhost-response")]
    Localhost,
    /// The user said so (`-Pn`).
    UserSet,
    /// Some other ICMP unreachable code.
    IcmpUnreach,
    /// ICMP time exceeded.
    TimeExceeded,
    /// SCTP INIT ACK.
    InitAck,
    /// SCTP ABORT.
    Abort,
    /// No reply and no scan: state carried over or unknown.
    #[serde(rename = "unknown-response")]
    Unknown,
}

impl Reason {
    /// nmap's name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::Syn => "syn",
            Reason::Reset => "reset",
            Reason::ConnRefused => "conn-refused",
            Reason::NoResponse => "no-response",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::ProtoUnreach => "proto-unreach",
            Reason::PortUnreach => "port-unreach",
            Reason::AdminProhibited => "admin-prohibited",
            Reason::HostProhibited => "host-prohibited",
            Reason::NetProhibited => "net-prohibited",
            Reason::UdpResponse => "udp-response",
            Reason::EchoReply => "echo-reply",
            Reason::TimestampReply => "timestamp-reply",
            Reason::MaskReply => "addressmask-reply",
            Reason::ArpResponse => "arp-response",
            Reason::NdResponse => "nd-response",
            Reason::Localhost => "localhost-response",
            Reason::UserSet => "user-set",
            Reason::IcmpUnreach => "icmp-unreach",
            Reason::TimeExceeded => "time-exceeded",
            Reason::InitAck => "init-ack",
            Reason::Abort => "abort",
            Reason::Unknown => "unknown-response",
        }
    }

    /// The plural nmap uses in "Not shown" lines and `extrareasons`
    /// (`conn-refused` stays, `reset` becomes `resets`, `no-response` stays).
    pub fn plural(self) -> String {
        match self {
            Reason::Reset => "resets".into(),
            Reason::NoResponse | Reason::ConnRefused | Reason::UserSet | Reason::Localhost => {
                self.as_str().into()
            }
            other => format!("{}s", other.as_str()),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the service name was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceMethod {
    /// From the port table: a guess by port number.
    Table,
    /// From probing the service (`-sV`).
    Probed,
}

impl ServiceMethod {
    /// `table` or `probed`, as in nmap's XML.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMethod::Table => "table",
            ServiceMethod::Probed => "probed",
        }
    }
}

/// What listens on a port, as far as portolan knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// Service name (`http`, `ssh`); `unknown` when the table has none.
    pub name: String,
    /// Product (`OpenSSH`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product: Option<String>,
    /// Version (`9.2p1`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// Extra information (`protocol 2.0`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub extrainfo: Option<String>,
    /// Host name the service announced.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hostname: Option<String>,
    /// Operating system the service revealed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ostype: Option<String>,
    /// Device type the service revealed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub devicetype: Option<String>,
    /// `ssl` when the service runs inside TLS.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tunnel: Option<String>,
    /// How the name was found.
    pub method: ServiceMethod,
    /// Confidence 0-10 (nmap: 3 for a table guess, 10 for a probe match).
    pub conf: u8,
    /// CPE names (`cpe:/a:openbsd:openssh:9.2p1`).
    #[serde(default)]
    pub cpe: Vec<String>,
    /// The TLS certificate the service presented (`-sV` of a TLS service):
    /// nmap shows it as the `ssl-cert` script.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate: Option<Box<Certificate>>,
}

/// One attribute of a distinguished name (`commonName` = `example`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameAttribute {
    /// The attribute's long name as nmap writes it (`commonName`,
    /// `organizationName`, `countryName`), or its dotted OID when unknown.
    pub key: String,
    /// Its value.
    pub value: String,
}

/// What a service's TLS certificate says of itself: enough to see whom it
/// names and whether it has expired, as nmap's `ssl-cert` script shows.
/// JSON writes each time twice: RFC 3339 text and Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "crate::shape::CertShape")]
pub struct Certificate {
    /// Subject distinguished name, in certificate order.
    pub subject: Vec<NameAttribute>,
    /// Issuer distinguished name, in certificate order.
    pub issuer: Vec<NameAttribute>,
    /// Start of validity, seconds since the Unix epoch (UTC).
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch (UTC).
    pub not_after: i64,
    /// Subject alternative names as nmap writes them (`DNS:example.com`,
    /// `IP Address:198.18.0.1`).
    pub alt_names: Vec<String>,
}

impl Certificate {
    /// A distinguished name as nmap's `ssl-cert` writes it:
    /// `commonName=example/organizationName=Example`.
    pub fn name_text(name: &[NameAttribute]) -> String {
        name.iter()
            .map(|a| format!("{}={}", a.key, a.value))
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl ServiceInfo {
    /// A service named from the port table (method `table`, confidence 3).
    pub fn from_table(name: impl Into<String>) -> Self {
        ServiceInfo {
            name: name.into(),
            product: None,
            version: None,
            extrainfo: None,
            hostname: None,
            ostype: None,
            devicetype: None,
            method: ServiceMethod::Table,
            conf: 3,
            tunnel: None,
            cpe: Vec::new(),
            certificate: None,
        }
    }

    /// The text of nmap's VERSION column: product, version and extra info
    /// (in parentheses), joined by spaces; empty when nothing is known.
    pub fn version_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &self.product {
            parts.push(p.clone());
        }
        if let Some(v) = &self.version {
            parts.push(v.clone());
        }
        if let Some(e) = &self.extrainfo {
            parts.push(format!("({e})"));
        }
        parts.join(" ")
    }
}

/// One scanned port and what was learned of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortResult {
    /// Port number.
    pub port: u16,
    /// Transport protocol.
    pub protocol: Protocol,
    /// State.
    pub state: PortState,
    /// The reply, or absence of one, that decided the state.
    pub reason: Reason,
    /// TTL of the deciding reply (0 when there was none).
    pub reason_ttl: u8,
    /// Service, when known (from the port table or from probing).
    #[serde(default)]
    pub service: Option<Box<ServiceInfo>>,
}

/// Ports of one state (and protocol) summarised instead of listed:
/// nmap's "Not shown: 995 closed tcp ports (conn-refused)".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraPorts {
    /// The state the ports share.
    pub state: PortState,
    /// Their protocol.
    pub protocol: Protocol,
    /// How many there are.
    pub count: u32,
    /// How many had each reason, most frequent first.
    pub reasons: Vec<(Reason, u32)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON shape names every enum value as nmap does (`as_str`).
    #[test]
    fn serde_names_are_nmap_names() {
        use Reason::*;
        let reasons = [
            SynAck,
            Syn,
            Reset,
            ConnRefused,
            NoResponse,
            HostUnreach,
            NetUnreach,
            ProtoUnreach,
            PortUnreach,
            AdminProhibited,
            HostProhibited,
            NetProhibited,
            UdpResponse,
            EchoReply,
            TimestampReply,
            MaskReply,
            ArpResponse,
            NdResponse,
            Localhost,
            UserSet,
            IcmpUnreach,
            TimeExceeded,
            InitAck,
            Abort,
            Unknown,
        ];
        let json = |v: String| format!("\"{v}\"");
        for r in reasons {
            assert_eq!(serde_json::to_string(&r).unwrap(), json(r.as_str().into()));
            assert_eq!(
                serde_json::from_str::<Reason>(&json(r.as_str().into())).unwrap(),
                r
            );
        }
        for s in PortState::ALL {
            assert_eq!(serde_json::to_string(&s).unwrap(), json(s.as_str().into()));
        }
        for p in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
            assert_eq!(serde_json::to_string(&p).unwrap(), json(p.as_str().into()));
        }
    }
}
