//! Every built-in payload is a well-formed message of its protocol:
//! decoded here with small independent readers (DNS header and names, BER
//! lengths, ISAKMP payload chain, ...), so a mistyped byte fails a test
//! rather than a scan.

use super::payloads::{Payload, PayloadTable};

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads an uncompressed DNS name at `at`; returns its labels and the
/// offset after it.
fn dns_name(b: &[u8], mut at: usize) -> (Vec<Vec<u8>>, usize) {
    let mut labels = Vec::new();
    loop {
        let len = usize::from(b[at]);
        assert!(len < 64, "label length {len} (no compression in a query)");
        at += 1;
        if len == 0 {
            return (labels, at);
        }
        labels.push(b[at..at + len].to_vec());
        at += len;
    }
}

/// Checks a one-question DNS query (RFC 1035 4.1) and returns its name,
/// type and class.
fn dns_query(b: &[u8]) -> (Vec<Vec<u8>>, usize, usize) {
    assert!(b.len() >= 12);
    assert_eq!(b[2] & 0x80, 0, "QR=0: a query");
    assert_eq!((b[2] >> 3) & 0x0f, 0, "OPCODE=0");
    assert_eq!(be16(b, 4), 1, "QDCOUNT");
    assert_eq!((be16(b, 6), be16(b, 8), be16(b, 10)), (0, 0, 0));
    let (name, at) = dns_name(b, 12);
    assert_eq!(at + 4, b.len(), "nothing after the question");
    (name, be16(b, at), be16(b, at + 2))
}

/// Reads one BER TLV (short or long definite length) at `at`; returns
/// (tag, content range end, content start).
fn ber(b: &[u8], at: usize) -> (u8, usize, usize) {
    let tag = b[at];
    let (len, start) = if b[at + 1] < 0x80 {
        (usize::from(b[at + 1]), at + 2)
    } else {
        let n = usize::from(b[at + 1] & 0x7f);
        let len = b[at + 2..at + 2 + n]
            .iter()
            .fold(0usize, |a, &x| a << 8 | usize::from(x));
        (len, at + 2 + n)
    };
    assert!(start + len <= b.len(), "BER length overruns at {at}");
    (tag, start + len, start)
}

/// Checks an SNMP GetRequest for sysDescr.0 with community "public";
/// returns its version field.
fn snmp_get(b: &[u8]) -> u8 {
    let (tag, end, mut at) = ber(b, 0);
    assert_eq!((tag, end), (0x30, b.len()), "message SEQUENCE spans all");
    let (tag, e, s) = ber(b, at);
    assert_eq!((tag, e - s), (0x02, 1));
    let version = b[s];
    at = e;
    let (tag, e, s) = ber(b, at);
    assert_eq!((tag, &b[s..e]), (0x04, &b"public"[..]));
    let (tag, pdu_end, s) = ber(b, e);
    assert_eq!(
        (tag, pdu_end),
        (0xa0, b.len()),
        "GetRequest-PDU spans the rest"
    );
    let mut at = s;
    for _ in 0..3 {
        let (tag, e, _) = ber(b, at);
        assert_eq!(tag, 0x02, "request-id, error-status, error-index");
        at = e;
    }
    let (tag, list_end, s) = ber(b, at);
    assert_eq!((tag, list_end), (0x30, pdu_end));
    let (tag, vb_end, s) = ber(b, s);
    assert_eq!((tag, vb_end), (0x30, list_end));
    let (tag, e, os) = ber(b, s);
    assert_eq!(
        (tag, &b[os..e]),
        (0x06, &[0x2b, 6, 1, 2, 1, 1, 1, 0][..]),
        "OID 1.3.6.1.2.1.1.1.0"
    );
    let (tag, e, s) = ber(b, e);
    assert_eq!((tag, e, s), (0x05, vb_end, vb_end), "NULL value ends it");
    version
}

/// Checks an ISAKMP message (RFC 2408 3.1-3.6) offering one proposal.
fn isakmp(b: &[u8]) {
    assert_eq!(be32(b, 24) as usize, b.len(), "header length");
    assert_ne!(&b[0..8], &[0; 8], "initiator cookie");
    assert_eq!(&b[8..16], &[0; 8], "responder cookie");
    assert_eq!((b[16], b[17], b[18]), (1, 0x10, 2), "SA, v1.0, main mode");
    let sa = 28;
    assert_eq!(b[sa], 0, "SA is the last payload");
    assert_eq!(sa + be16(b, sa + 2), b.len(), "SA length");
    assert_eq!((be32(b, sa + 4), be32(b, sa + 8)), (1, 1), "DOI, situation");
    let prop = sa + 12;
    assert_eq!(prop + be16(b, prop + 2), b.len(), "proposal length");
    assert_eq!((b[prop + 5], b[prop + 6], b[prop + 7]), (1, 0, 1));
    let tr = prop + 8;
    assert_eq!(tr + be16(b, tr + 2), b.len(), "transform length");
    let attrs = &b[tr + 8..];
    assert_eq!(attrs.len() % 4, 0);
    for a in attrs.chunks(4) {
        assert_eq!(a[0] & 0x80, 0x80, "basic (TV) attributes");
    }
}

fn text_request(b: &[u8], start: &str, headers: &[&str]) {
    let s = std::str::from_utf8(b).expect("ASCII");
    assert!(s.starts_with(start), "{s}");
    assert!(s.ends_with("\r\n\r\n"));
    assert!(!s.replace("\r\n", "").contains('\n'), "CRLF line ends");
    for h in headers {
        assert!(s.contains(&format!("\r\n{h}: ")), "{h}");
    }
}

fn check(p: &Payload) {
    let b = p.bytes.as_slice();
    match p.name.as_str() {
        "dns-root-ns" => assert_eq!(dns_query(b), (vec![], 2, 1)),
        "dns-version-bind" => assert_eq!(
            dns_query(b),
            (vec![b"version".to_vec(), b"bind".to_vec()], 16, 3)
        ),
        "mdns-services" => {
            let want: Vec<Vec<u8>> = ["_services", "_dns-sd", "_udp", "local"]
                .iter()
                .map(|l| l.as_bytes().to_vec())
                .collect();
            assert_eq!(dns_query(b), (want, 12, 1));
        }
        "netbios-ns-node-status" => {
            let (name, t, c) = dns_query(b);
            assert_eq!((name.len(), t, c), (1, 0x21, 1));
            let enc = &name[0];
            assert_eq!(enc.len(), 32);
            let decoded: Vec<u8> = enc
                .chunks(2)
                .map(|h| ((h[0] - b'A') << 4) | (h[1] - b'A'))
                .collect();
            let mut want = vec![b'*'];
            want.resize(16, 0);
            assert_eq!(decoded, want);
        }
        "ntp-v4-client" => {
            assert_eq!(b.len(), 48);
            assert_eq!((b[0] >> 3) & 7, 4, "version 4");
            assert_eq!(b[0] & 7, 3, "client mode");
            assert_ne!(&b[40..48], &[0; 8], "transmit timestamp");
        }
        "snmp-v2c-get-sysdescr" => assert_eq!(snmp_get(b), 1),
        "snmp-v1-get-sysdescr" => assert_eq!(snmp_get(b), 0),
        "ssdp-msearch" => {
            text_request(b, "M-SEARCH * HTTP/1.1\r\n", &["MAN", "MX", "ST"]);
            assert!(b.starts_with(b"M-SEARCH * HTTP/1.1\r\nHOST: "));
        }
        "ike-main-mode" => isakmp(b),
        "ike-nat-t" => {
            assert_eq!(&b[..4], &[0; 4], "non-ESP marker");
            isakmp(&b[4..]);
        }
        "sip-options" => text_request(
            b,
            "OPTIONS sip:",
            &[
                "Via",
                "Max-Forwards",
                "To",
                "From",
                "Call-ID",
                "CSeq",
                "Content-Length",
            ],
        ),
        "memcached-stats" => {
            assert_eq!(be16(b, 4), 1, "one datagram");
            assert_eq!(be16(b, 6), 0, "reserved");
            assert_eq!(&b[8..], b"stats\r\n");
        }
        "tftp-rrq" => {
            assert_eq!(be16(b, 0), 1, "RRQ");
            let parts: Vec<&[u8]> = b[2..].split(|&c| c == 0).collect();
            assert_eq!(parts.len(), 3, "filename NUL mode NUL");
            assert!(!parts[0].is_empty());
            assert_eq!(parts[1], b"octet");
            assert!(p.reply_from_any_port);
        }
        "dhcp-discover" => {
            assert!(b.len() >= 300, "BOOTP minimum");
            assert_eq!(&b[..4], &[1, 1, 6, 0]);
            assert_eq!(&b[236..240], &[0x63, 0x82, 0x53, 0x63], "magic cookie");
            let mut at = 240;
            let mut kinds = Vec::new();
            while b[at] != 0xff {
                let (code, len) = (b[at], usize::from(b[at + 1]));
                if code == 53 {
                    kinds.push(b[at + 2]);
                }
                at += 2 + len;
            }
            assert_eq!(kinds, [1], "one DHCPDISCOVER message type");
            assert!(b[at + 1..].iter().all(|&x| x == 0), "padding");
        }
        "sunrpc-portmap-null" => {
            assert_eq!(b.len(), 40);
            let words: Vec<u32> = (0..10).map(|i| be32(b, 4 * i)).collect();
            assert_eq!(&words[1..], &[0, 2, 100_000, 2, 0, 0, 0, 0, 0]);
        }
        "openvpn-hard-reset" => {
            assert_eq!(b.len(), 14);
            assert_eq!((b[0] >> 3, b[0] & 7), (7, 0));
            assert_eq!(b[9], 0, "empty ACK array");
        }
        "coap-well-known-core" => {
            assert_eq!((b[0] >> 6, (b[0] >> 4) & 3, b[0] & 0x0f), (1, 0, 0));
            assert_eq!(b[1], 1, "GET");
            let mut at = 4;
            let (mut number, mut path) = (0, Vec::new());
            while at < b.len() {
                let (delta, len) = (b[at] >> 4, usize::from(b[at] & 0x0f));
                assert!(delta < 13 && len < 13, "short option forms only");
                number += delta;
                assert_eq!(number, 11, "Uri-Path");
                path.push(String::from_utf8(b[at + 1..at + 1 + len].to_vec()).unwrap());
                at += 1 + len;
            }
            assert_eq!(at, b.len());
            assert_eq!(path, [".well-known", "core"]);
        }
        "stun-binding" => {
            assert_eq!(be16(b, 0), 1, "Binding request");
            assert_eq!(be16(b, 2), b.len() - 20, "message length");
            assert_eq!(be32(b, 4), 0x2112_a442, "magic cookie");
        }
        "nat-pmp-external-address" => assert_eq!(b, [0, 0]),
        other => panic!("payload `{other}` has no well-formedness check"),
    }
}

#[test]
fn every_builtin_payload_is_well_formed() {
    let t = PayloadTable::builtin();
    assert!(!t.payloads().is_empty());
    for p in t.payloads() {
        assert!(!p.source.is_empty(), "{}", p.name);
        check(p);
    }
}

#[test]
fn the_issues_services_have_payloads_on_their_ports() {
    let t = PayloadTable::builtin();
    for (port, n) in [
        (53, 2),
        (123, 1),
        (161, 2),
        (137, 1),
        (1900, 1),
        (5353, 1),
        (500, 1),
        (4500, 1),
        (5060, 1),
        (11211, 1),
        (69, 1),
        (67, 1),
        (111, 1),
        (1194, 1),
        (5683, 1),
        (3478, 1),
    ] {
        assert_eq!(t.for_port(port).count(), n, "port {port}");
    }
    assert!(t.bytes_for(9, 0).is_empty());
}
