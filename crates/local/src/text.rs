//! Writing cells without the formatting machinery: numbers, IPv4
//! addresses and escaped names appended straight to a reused buffer.
//!
//! Why by hand: a table of 100,000 sockets is 1.1 million cells, and
//! `write!` with `Display` for integers and socket addresses (padding,
//! flags, a temporary buffer per address) was most of the listing's user
//! time. IPv6 addresses keep the standard formatting (its `::`
//! compression rules are not worth repeating).

use std::fmt::Write as _;
use std::net::SocketAddr;

/// Appends `n` in decimal.
pub(crate) fn push_u32(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Appends `a` as `Display` writes it (`1.2.3.4:80`, `[::1]:80`).
pub(crate) fn push_addr(out: &mut String, a: SocketAddr) {
    match a {
        SocketAddr::V4(v4) => {
            for (i, o) in v4.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u32(out, u32::from(o));
            }
            out.push(':');
            push_u32(out, u32::from(a.port()));
        }
        SocketAddr::V6(_) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// Appends `s` escaped as [`crate::escape`] does; with `plain`, spaces
/// too (`\x20`), so a name never splits a column.
pub(crate) fn push_escaped(out: &mut String, s: &str, plain: bool) {
    let clean = |c: char| c != '\\' && !c.is_control() && !(plain && c == ' ');
    if s.chars().all(clean) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' ' if plain => out.push_str("\\x20"),
            c if c.is_control() && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_match_display() {
        for n in [0u32, 7, 10, 65535, u32::MAX] {
            let mut s = String::new();
            push_u32(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for a in [
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.0.0.1:22",
            "[::1]:80",
            "[2001:db8::1]:443",
        ] {
            let a: SocketAddr = a.parse().unwrap();
            let mut s = String::new();
            push_addr(&mut s, a);
            assert_eq!(s, a.to_string());
        }
    }

    #[test]
    fn escaping_matches_escape() {
        for t in ["plain", "a b", "ev\u{1b}il\\", "x\u{85}y", "né"] {
            let mut s = String::new();
            push_escaped(&mut s, t, false);
            assert_eq!(s, crate::escape(t));
            let mut p = String::new();
            push_escaped(&mut p, t, true);
            assert_eq!(p, crate::escape(t).replace(' ', "\\x20"));
        }
    }
}
