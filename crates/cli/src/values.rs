//! The value syntaxes nmap users type after a flag.
//!
//! Each parser takes the flag as typed so its error names both the flag
//! and the rejected value. Numbers are plain ASCII digits: Rust's `FromStr`
//! would also accept a leading `+`, which nmap does not.

use super::CliError;
use std::time::Duration;

/// The value of a flag that requires one (the parser guarantees `Some`;
/// this keeps a table mistake an error instead of a panic).
pub(crate) fn required<'a>(flag: &str, value: Option<&'a str>) -> Result<&'a str, CliError> {
    value.ok_or_else(|| CliError::MissingValue(flag.to_owned()))
}

/// An unsigned decimal integer of type `T`.
pub(crate) fn uint<T: std::str::FromStr>(
    flag: &str,
    value: &str,
    expected: &'static str,
) -> Result<T, CliError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::invalid(flag, value, expected));
    }
    value
        .parse()
        .map_err(|_| CliError::invalid(flag, value, expected))
}

/// An unsigned decimal integer of at least 1.
pub(crate) fn positive<T: std::str::FromStr + PartialEq + From<u8>>(
    flag: &str,
    value: &str,
    expected: &'static str,
) -> Result<T, CliError> {
    let n: T = uint(flag, value, expected)?;
    if n == T::from(0) {
        return Err(CliError::invalid(flag, value, expected));
    }
    Ok(n)
}

/// A `u64` in decimal or `0x` hexadecimal (`--seed`).
pub(crate) fn u64_dec_or_hex(flag: &str, value: &str) -> Result<u64, CliError> {
    const EXPECTED: &str = "an unsigned 64-bit number (decimal or 0x hex)";
    match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).map_err(|_| CliError::invalid(flag, value, EXPECTED))
        }
        Some(_) => Err(CliError::invalid(flag, value, EXPECTED)),
        None => uint(flag, value, EXPECTED),
    }
}

/// A positive, finite rate in packets per second (`--min-rate 1.5`).
pub(crate) fn rate(flag: &str, value: &str) -> Result<f64, CliError> {
    const EXPECTED: &str = "a positive number of packets per second";
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-'));
    match value.parse::<f64>() {
        Ok(r) if ok_chars && r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(CliError::invalid(flag, value, EXPECTED)),
    }
}

/// An nmap `<time>`: a number (fractions allowed) with an optional unit
/// `ms`, `s`, `m` or `h`; a bare number is seconds.
pub(crate) fn duration(flag: &str, value: &str) -> Result<Duration, CliError> {
    parse_duration(value).ok_or_else(|| CliError::InvalidDuration {
        flag: flag.to_owned(),
        value: value.to_owned(),
    })
}

/// [`duration`] without the error: exact integer arithmetic in
/// nanoseconds, so `0.1s` is exactly 100ms.
fn parse_duration(s: &str) -> Option<Duration> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let unit_nanos: u128 = match unit {
        "" | "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if (int.is_empty() && frac.is_empty()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: u128 = if int.is_empty() {
        0
    } else {
        int.parse::<u128>().ok()?.checked_mul(unit_nanos)?
    };
    // Beyond 18 fractional digits there is nothing left to represent.
    let frac = &frac[..frac.len().min(18)];
    if !frac.is_empty() {
        let f: u128 = frac.parse().ok()?;
        nanos = nanos.checked_add(f * unit_nanos / 10u128.pow(frac.len() as u32))?;
    }
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// A timing template: `0`-`5` or its name, case-insensitive.
pub(crate) fn timing_template(flag: &str, value: &str) -> Result<u8, CliError> {
    const NAMES: [&str; 6] = [
        "paranoid",
        "sneaky",
        "polite",
        "normal",
        "aggressive",
        "insane",
    ];
    if let Ok(n) = uint::<u8>(flag, value, "") {
        if n <= 5 {
            return Ok(n);
        }
    }
    NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(value))
        .map(|i| i as u8)
        .ok_or_else(|| CliError::invalid(flag, value, "0-5 or a template name"))
}

/// The TCP flag names `--scanflags` accepts, with their bits.
pub(crate) const TCP_FLAG_NAMES: [(&str, u8); 8] = [
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ECE", 0x40),
    ("CWR", 0x80),
];

/// `--scanflags`: three-letter flag names run together in any order and
/// case (`SYNfinURG`), or a number 0-255 in decimal or `0x` hex.
pub(crate) fn scanflags(flag: &str, value: &str) -> Result<u8, CliError> {
    const EXPECTED: &str = "TCP flag names (URG ACK PSH RST SYN FIN ECE CWR) or a number 0-255";
    let bad = || CliError::invalid(flag, value, EXPECTED);
    if let Some(hex) = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        return u8::from_str_radix(hex, 16).map_err(|_| bad());
    }
    if value.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return uint(flag, value, EXPECTED);
    }
    if value.is_empty() || !value.is_ascii() || value.len() % 3 != 0 {
        return Err(bad());
    }
    let mut bits = 0u8;
    for chunk in value.as_bytes().chunks(3) {
        let (_, bit) = TCP_FLAG_NAMES
            .iter()
            .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(chunk))
            .ok_or_else(bad)?;
        bits |= bit;
    }
    Ok(bits)
}

/// `--shard K/N` with `1 <= K <= N`.
pub(crate) fn shard(flag: &str, value: &str) -> Result<(u32, u32), CliError> {
    const EXPECTED: &str = "K/N with 1 <= K <= N";
    let bad = || CliError::invalid(flag, value, EXPECTED);
    let (k, n) = value.split_once('/').ok_or_else(bad)?;
    let k: u32 = uint(flag, k, EXPECTED).map_err(|_| bad())?;
    let n: u32 = uint(flag, n, EXPECTED).map_err(|_| bad())?;
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// `--dns-servers`: IP addresses separated by commas (nmap takes no
/// port; servers are asked on port 53).
pub(crate) fn addr_list(flag: &str, value: &str) -> Result<Vec<std::net::IpAddr>, CliError> {
    const EXPECTED: &str = "IP addresses separated by commas (e.g. 198.18.0.53,2001:2::53)";
    value
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| CliError::invalid(flag, s, EXPECTED))
        })
        .collect()
}

/// A discovery port list as nmap's `-PS22,80,8000-8010` takes it: ports
/// and ranges separated by commas, each 0-65535 (`0` is allowed, as
/// nmap does for these probes); repeats dropped, order kept.
pub(crate) fn port_list(flag: &str, value: &str) -> Result<Vec<u16>, CliError> {
    const EXPECTED: &str = "ports or ranges 0-65535 separated by commas (e.g. 22,80,8000-8010)";
    let bad = || CliError::invalid(flag, value, EXPECTED);
    let port = |s: &str| s.parse::<u16>().map_err(|_| bad());
    let mut out: Vec<u16> = Vec::new();
    let mut seen = vec![false; 65_536];
    for item in value.split(',') {
        let (lo, hi) = match item.split_once('-') {
            Some((lo, hi)) => (port(lo)?, port(hi)?),
            None => (port(item)?, port(item)?),
        };
        if lo > hi {
            return Err(bad());
        }
        for p in lo..=hi {
            if !std::mem::replace(&mut seen[usize::from(p)], true) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<Duration> {
        parse_duration(s)
    }

    #[test]
    fn durations_follow_nmap_units() {
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("2s"), Some(Duration::from_secs(2)));
        assert_eq!(d("5m"), Some(Duration::from_secs(300)));
        assert_eq!(d("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(d("30"), Some(Duration::from_secs(30)));
        assert_eq!(d("0.1s"), Some(Duration::from_millis(100)));
        assert_eq!(d("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(d(".25"), Some(Duration::from_millis(250)));
        assert_eq!(d("2.5ms"), Some(Duration::from_micros(2500)));
        assert_eq!(d("0"), Some(Duration::ZERO));
    }

    #[test]
    fn bad_durations_are_rejected() {
        for bad in [
            "",
            "5x",
            "s",
            ".",
            "1..2",
            "-1",
            "+1",
            "1 s",
            "1S",
            "1e3",
            "inf",
            "nan",
            "1sm",
            "99999999999999999999999999999999999999999h",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
        let err = duration("--host-timeout", "5x").unwrap_err().to_string();
        assert!(
            err.starts_with("invalid duration \"5x\" for --host-timeout"),
            "{err}"
        );
    }

    #[test]
    fn templates_by_number_or_name() {
        for (s, n) in [
            ("0", 0),
            ("5", 5),
            ("paranoid", 0),
            ("Sneaky", 1),
            ("polite", 2),
            ("NORMAL", 3),
            ("aggressive", 4),
            ("insane", 5),
        ] {
            assert_eq!(timing_template("-T", s), Ok(n), "{s}");
        }
        for bad in ["6", "9", "-1", "", "fast", "+3", "03x"] {
            assert!(timing_template("-T", bad).is_err(), "{bad}");
        }
        assert_eq!(
            timing_template("-T", "9").unwrap_err().to_string(),
            "invalid value \"9\" for -T: expected 0-5 or a template name"
        );
    }

    #[test]
    fn scanflags_names_and_numbers() {
        assert_eq!(scanflags("--scanflags", "URGACKPSHRSTSYNFIN"), Ok(0x3f));
        assert_eq!(scanflags("--scanflags", "synfin"), Ok(0x03));
        assert_eq!(scanflags("--scanflags", "FinSyn"), Ok(0x03));
        assert_eq!(scanflags("--scanflags", "ECECWR"), Ok(0xc0));
        assert_eq!(scanflags("--scanflags", "SYNSYN"), Ok(0x02));
        assert_eq!(scanflags("--scanflags", "18"), Ok(18));
        assert_eq!(scanflags("--scanflags", "0"), Ok(0));
        assert_eq!(scanflags("--scanflags", "255"), Ok(255));
        assert_eq!(scanflags("--scanflags", "0x12"), Ok(0x12));
        assert_eq!(scanflags("--scanflags", "0XfF"), Ok(0xff));
        for bad in [
            "", "256", "0x", "0x100", "SY", "SYNX", "FOO", "SYN,FIN", "1a", "ÄBC", "-1", "0xg",
        ] {
            let err = scanflags("--scanflags", bad).unwrap_err().to_string();
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
        }
    }

    #[test]
    fn shards() {
        assert_eq!(shard("--shard", "1/1"), Ok((1, 1)));
        assert_eq!(shard("--shard", "2/3"), Ok((2, 3)));
        for bad in ["3/2", "0/2", "1/0", "1", "/", "a/b", "1/2/3", "-1/2", ""] {
            let err = shard("--shard", bad).unwrap_err().to_string();
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(uint::<u32>("-x", "42", "n"), Ok(42));
        assert!(uint::<u32>("-x", "+42", "n").is_err());
        assert!(uint::<u8>("-x", "256", "n").is_err());
        assert!(positive::<u32>("-x", "0", "n").is_err());
        assert_eq!(u64_dec_or_hex("--seed", "0xFF"), Ok(255));
        assert_eq!(
            u64_dec_or_hex("--seed", "18446744073709551615"),
            Ok(u64::MAX)
        );
        assert!(u64_dec_or_hex("--seed", "18446744073709551616").is_err());
        assert!(u64_dec_or_hex("--seed", "0x").is_err());
        assert_eq!(rate("--min-rate", "1.5"), Ok(1.5));
        assert_eq!(rate("--min-rate", "1e3"), Ok(1000.0));
        for bad in ["0", "-1", "inf", "NaN", "", "abc", "1e999", "+5"] {
            assert!(rate("--min-rate", bad).is_err(), "{bad}");
        }
    }
}
