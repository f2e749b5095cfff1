//! Dates and durations written the way nmap writes them, in UTC.
//!
//! nmap prints local time; portolan prints UTC so that outputs from
//! scanners in different zones compare, and says "UTC" wherever nmap would
//! print a zone name. The conversion is the proleptic Gregorian calendar
//! done by hand (a few lines) rather than pulling a date crate into every
//! consumer of the output formats.

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment broken into calendar fields (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: usize,
}

/// Splits seconds since the Unix epoch into UTC calendar fields.
pub(crate) fn civil(unix: u64) -> Civil {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    // Days-to-civil after Howard Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4).rem_euclid(7)) as usize,
    }
}

/// C's `ctime` layout without the newline: `Sun Nov 22 10:15:00 2026`.
/// nmap uses it in grepable comments and in XML `startstr`/`timestr`.
pub(crate) fn ctime(unix: u64) -> String {
    let c = civil(unix);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[c.weekday],
        MONTHS[(c.month - 1) as usize],
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// `2026-11-22 10:15 UTC`: the "Starting ... at" line of normal output.
pub(crate) fn short_utc(unix: u64) -> String {
    let c = civil(unix);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        c.year, c.month, c.day, c.hour, c.minute
    )
}

/// `2026-11-22 10:15:00 UTC`: the "Scanned at" line of verbose output.
pub(crate) fn long_utc(unix: u64) -> String {
    let c = civil(unix);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// A number with `digits` significant digits in plain decimal notation,
/// keeping trailing zeros: nmap's latency style (`0.000084`, `0.0010`,
/// `0.12`, `1.5`, `12`).
pub(crate) fn sig_digits(value: f64, digits: i32) -> String {
    if !value.is_finite() || value <= 0.0 {
        return format!("{:.*}", (digits - 1).max(0) as usize, 0.0);
    }
    let decimals = |v: f64| (digits - 1 - v.log10().floor() as i32).max(0) as usize;
    let mut places = decimals(value);
    // Rounding can carry into a new leading digit (0.0999 -> 0.10): then
    // one decimal fewer keeps the count of significant digits right.
    let rounded: f64 = format!("{value:.places$}").parse().unwrap_or(value);
    if rounded > 0.0 && decimals(rounded) < places {
        places = decimals(rounded);
    }
    format!("{value:.places$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_a_known_date_convert() {
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        // 2026-11-22 10:15:00 UTC, a Sunday.
        assert_eq!(ctime(1_795_342_500), "Sun Nov 22 10:15:00 2026");
        assert_eq!(short_utc(1_795_342_500), "2026-11-22 10:15 UTC");
        assert_eq!(long_utc(1_795_342_500), "2026-11-22 10:15:00 UTC");
    }

    #[test]
    fn extreme_values_do_not_panic() {
        for t in [u64::MAX, u64::MAX / 2, 1 << 40] {
            let _ = (ctime(t), short_utc(t), long_utc(t));
        }
        for v in [
            f64::NAN,
            f64::INFINITY,
            -1.0,
            1e300,
            1e-300,
            f64::MIN_POSITIVE,
        ] {
            let _ = sig_digits(v, 2);
        }
    }

    #[test]
    fn latency_keeps_two_significant_digits_like_nmap() {
        assert_eq!(sig_digits(0.000084, 2), "0.000084");
        assert_eq!(sig_digits(0.000123, 2), "0.00012");
        assert_eq!(sig_digits(0.001, 2), "0.0010");
        assert_eq!(sig_digits(0.12, 2), "0.12");
        assert_eq!(sig_digits(0.2, 2), "0.20");
        assert_eq!(sig_digits(1.5, 2), "1.5");
        assert_eq!(sig_digits(12.3, 2), "12");
        assert_eq!(sig_digits(0.0999, 2), "0.10");
        assert_eq!(sig_digits(0.0, 2), "0.0");
    }
}
