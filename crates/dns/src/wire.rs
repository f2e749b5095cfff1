//! The DNS message format, only as far as reverse lookups need it.
//!
//! A PTR query is tiny and its answer simple, so this is written out here
//! rather than pulled in from a general DNS library: encoding one question,
//! and decoding the header, the question echoed back and the answer records
//! (following CNAMEs, as RFC 2317's classless delegation uses them).
//!
//! Answers come from the network, so decoding treats every byte as hostile:
//! every read is bounds-checked, compression pointers must point strictly
//! backwards (which rules out loops), names stay within 255 bytes, and any
//! inconsistency is an error value, never a panic.

use std::net::IpAddr;

use thiserror::Error;

/// Resource record type PTR.
const TYPE_PTR: u16 = 12;
/// Resource record type CNAME.
const TYPE_CNAME: u16 = 5;
/// Class IN.
const CLASS_IN: u16 = 1;
/// The longest name on the wire (RFC 1035 §2.3.4).
const MAX_NAME: usize = 255;
/// Length of the fixed header.
const HEADER_LEN: usize = 12;

/// Why a datagram is not an acceptable answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The datagram ends inside a field.
    #[error("message truncated")]
    Short,
    /// The QR bit is clear or the opcode is not QUERY.
    #[error("not a response to a standard query")]
    NotResponse,
    /// The question is not the one asked.
    #[error("question does not match the query")]
    QuestionMismatch,
    /// A label type other than a plain label or a compression pointer.
    #[error("unsupported label type {0:#04x}")]
    BadLabel(u8),
    /// A compression pointer that does not point backwards.
    #[error("compression pointer to offset {0} does not point backwards")]
    BadPointer(usize),
    /// A name longer than 255 bytes.
    #[error("name longer than 255 bytes")]
    NameTooLong,
}

/// What a valid response says about the name of an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The PTR record's target, without the trailing dot.
    Name(String),
    /// No such name (NXDOMAIN), or an answer without a PTR record.
    NoName,
    /// The server failed (SERVFAIL, REFUSED, ...): the response code.
    Failure(u8),
}

/// The reverse-lookup name of `addr` in wire form: `4.3.2.1.in-addr.arpa`
/// for IPv4, 32 nibbles then `ip6.arpa` for IPv6.
pub fn reverse_name(addr: IpAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(74);
    match addr {
        IpAddr::V4(a) => {
            for o in a.octets().iter().rev() {
                let s = o.to_string();
                out.push(s.len() as u8);
                out.extend_from_slice(s.as_bytes());
            }
            push_labels(&mut out, &[b"in-addr", b"arpa"]);
        }
        IpAddr::V6(a) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for o in a.octets().iter().rev() {
                out.extend_from_slice(&[1, HEX[usize::from(o & 0xf)]]);
                out.extend_from_slice(&[1, HEX[usize::from(o >> 4)]]);
            }
            push_labels(&mut out, &[b"ip6", b"arpa"]);
        }
    }
    out.push(0);
    out
}

fn push_labels(out: &mut Vec<u8>, labels: &[&[u8]]) {
    for l in labels {
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
}

/// A recursive PTR query for `qname` (a wire-form name from
/// [`reverse_name`]) with message ID `id`.
pub fn encode_query(id: u16, qname: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER_LEN + qname.len() + 4);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00]); // RD
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD=1, AN=NS=AR=0
    m.extend_from_slice(qname);
    m.extend_from_slice(&TYPE_PTR.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
    m
}

/// The message ID of a datagram, if it is long enough to have a header.
pub fn message_id(msg: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.first()?, *msg.get(1)?]))
}

/// Decodes a response to the PTR query for `qname`. The caller has matched
/// the message ID and the source; this checks that it is a response and
/// that its question is `qname` PTR IN (case-insensitively), then reads
/// the answer.
pub fn decode_response(msg: &[u8], qname: &[u8]) -> Result<Reply, WireError> {
    if msg.len() < HEADER_LEN {
        return Err(WireError::Short);
    }
    let flags = u16::from_be_bytes([msg[2], msg[3]]);
    let is_response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    if !is_response || opcode != 0 {
        return Err(WireError::NotResponse);
    }
    let rcode = (flags & 0xf) as u8;
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    let ancount = u16::from_be_bytes([msg[6], msg[7]]);
    if qdcount != 1 {
        return Err(WireError::QuestionMismatch);
    }
    let mut r = Reader {
        msg,
        pos: HEADER_LEN,
    };
    let asked = r.name()?;
    let (qtype, qclass) = (r.u16()?, r.u16()?);
    if !names_equal(&asked, qname) || qtype != TYPE_PTR || qclass != CLASS_IN {
        return Err(WireError::QuestionMismatch);
    }
    match rcode {
        0 => {}
        3 => return Ok(Reply::NoName),
        other => return Ok(Reply::Failure(other)),
    }
    // Owners whose PTR answers the question: the name asked and the
    // targets of CNAMEs from it (RFC 2317).
    let mut owners: Vec<Vec<u8>> = vec![qname.to_vec()];
    for _ in 0..ancount {
        let owner = r.name()?;
        let (rtype, rclass) = (r.u16()?, r.u16()?);
        r.skip(4)?; // TTL
        let rdlen = usize::from(r.u16()?);
        let rdata_end = r.pos.checked_add(rdlen).ok_or(WireError::Short)?;
        if rdata_end > msg.len() {
            return Err(WireError::Short);
        }
        let relevant = rclass == CLASS_IN && owners.iter().any(|o| names_equal(o, &owner));
        if relevant && (rtype == TYPE_PTR || rtype == TYPE_CNAME) {
            let target = r.name()?;
            if rtype == TYPE_PTR {
                return Ok(match display_name(&target) {
                    Some(name) => Reply::Name(name),
                    None => Reply::NoName,
                });
            }
            if owners.len() < 8 {
                owners.push(target);
            }
        }
        r.pos = rdata_end;
    }
    Ok(Reply::NoName)
}

/// Whether two wire-form uncompressed names are equal, ignoring ASCII case
/// (resolvers may echo the question in another case, RFC 4343).
fn names_equal(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The presentation form of a wire-form uncompressed name, without the
/// trailing dot; `None` for the root. Bytes that are not printable ASCII,
/// and dots or backslashes inside a label, are written as `\DDD`, so a
/// hostile name cannot smuggle control characters into a terminal.
pub fn display_name(wire: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let label = wire.get(pos + 1..pos + 1 + usize::from(len))?;
        if !out.is_empty() {
            out.push('.');
        }
        for &b in label {
            if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("\\{b:03}"));
            }
        }
        pos += 1 + usize::from(len);
    }
    (!out.is_empty()).then_some(out)
}

/// The address a PTR query asks about, if `query` is one (for fake
/// servers in tests; the resolver itself never needs it).
pub fn query_address(query: &[u8]) -> Option<IpAddr> {
    let mut r = Reader {
        msg: query,
        pos: HEADER_LEN,
    };
    let name = r.name().ok()?;
    let name = display_name(&name)?.to_ascii_lowercase();
    if let Some(v4) = name.strip_suffix(".in-addr.arpa") {
        let mut o: Vec<u8> = v4
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        o.reverse();
        let o: [u8; 4] = o.try_into().ok()?;
        return Some(IpAddr::from(o));
    }
    let v6 = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = v6
        .split('.')
        .map(|p| u8::from_str_radix(p, 16).ok().filter(|_| p.len() == 1))
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut o = [0u8; 16];
    for (i, pair) in nibbles.chunks(2).enumerate() {
        o[15 - i] = pair[0] | (pair[1] << 4);
    }
    Some(IpAddr::from(o))
}

/// The response a server gives to the PTR query `query`: `name` as the
/// PTR record (compressed against the question), or NXDOMAIN for `None`.
/// `None` when `query` is too short to answer. For fake servers in tests.
pub fn ptr_response(query: &[u8], name: Option<&str>) -> Option<Vec<u8>> {
    let mut r = Reader {
        msg: query,
        pos: HEADER_LEN,
    };
    r.name().ok()?;
    r.skip(4).ok()?;
    let question = &query[HEADER_LEN..r.pos];
    let mut m = Vec::with_capacity(r.pos + 64);
    m.extend_from_slice(&query[..2]);
    let rcode = if name.is_some() { 0 } else { 3 };
    m.extend_from_slice(&[0x81, 0x80 | rcode]); // QR, RD, RA
    m.extend_from_slice(&[0, 1, 0, u8::from(name.is_some()), 0, 0, 0, 0]);
    m.extend_from_slice(question);
    if let Some(name) = name {
        m.extend_from_slice(&[0xc0, HEADER_LEN as u8]); // owner: the question
        m.extend_from_slice(&TYPE_PTR.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        m.extend_from_slice(&3600u32.to_be_bytes());
        let mut rdata = Vec::new();
        for label in name.split('.').filter(|l| !l.is_empty()) {
            let label = &label.as_bytes()[..label.len().min(63)];
            rdata.push(label.len() as u8);
            rdata.extend_from_slice(label);
        }
        rdata.push(0);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&rdata);
    }
    Some(m)
}

/// A bounds-checked cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self
            .msg
            .get(self.pos..self.pos + 2)
            .ok_or(WireError::Short)?;
        self.pos += 2;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn skip(&mut self, n: usize) -> Result<(), WireError> {
        if self.pos + n > self.msg.len() {
            return Err(WireError::Short);
        }
        self.pos += n;
        Ok(())
    }

    /// Reads a possibly compressed name at the cursor and returns it
    /// uncompressed, in wire form; the cursor moves past the name as it
    /// appears here (up to and including the first pointer).
    fn name(&mut self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::with_capacity(64);
        let mut pos = self.pos;
        let mut resume: Option<usize> = None;
        // Where the current run of labels began: a pointer must go below it.
        let mut floor = pos;
        loop {
            let len = *self.msg.get(pos).ok_or(WireError::Short)?;
            match len & 0xc0 {
                0x00 => {
                    let len = usize::from(len);
                    let label = self.msg.get(pos..pos + 1 + len).ok_or(WireError::Short)?;
                    out.extend_from_slice(label);
                    if out.len() > MAX_NAME {
                        return Err(WireError::NameTooLong);
                    }
                    pos += 1 + len;
                    if len == 0 {
                        break;
                    }
                }
                0xc0 => {
                    let lo = *self.msg.get(pos + 1).ok_or(WireError::Short)?;
                    let target = (usize::from(len & 0x3f) << 8) | usize::from(lo);
                    if target >= floor {
                        return Err(WireError::BadPointer(target));
                    }
                    resume.get_or_insert(pos + 2);
                    pos = target;
                    floor = target;
                }
                _ => return Err(WireError::BadLabel(len)),
            }
        }
        self.pos = resume.unwrap_or(pos);
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
