//! `portolan history` and `portolan import`: their options.
//!
//! `history` lists the stored scans, or with a target, `--port` or
//! `--service` shows a timeline per host and port; `--prune AGE` removes
//! old scans and `--tag NAME [SCAN]` names one. `import FILE...` brings
//! nmap's or portolan's XML/JSON into the store. Words stay as typed:
//! which host, scan or file they name is decided against the store.

use crate::CliError;

/// Everything a `portolan history` command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryOptions {
    /// The positional word: a target (address or host name) for the
    /// timeline, or with `--tag` the scan to tag (default `last`).
    pub word: Option<String>,
    /// `--port P`: only this port's timeline.
    pub port: Option<u16>,
    /// `--service S`: only ports where this service was seen.
    pub service: Option<String>,
    /// `--prune AGE`: remove scans older than this many seconds.
    pub prune: Option<u64>,
    /// `--tag NAME`: name a scan.
    pub tag: Option<String>,
    /// `--history`: the store.
    pub history: Option<String>,
}

/// Everything a `portolan import` command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportOptions {
    /// The files to import, in order.
    pub files: Vec<String>,
    /// `--tag NAME`: name the (last) imported scan.
    pub tag: Option<String>,
    /// `--history`: the store.
    pub history: Option<String>,
}

/// `--prune`'s age: a number and a unit, `d` (days), `w` (weeks) or `h`
/// (hours): `90d`.
pub(crate) fn age(flag: &str, value: &str) -> Result<u64, CliError> {
    let bad = || CliError::invalid(flag, value, "an age such as 90d, 12w or 36h");
    let split = value.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = value.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let unit: u64 = match unit {
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(unit).ok_or_else(bad)
}
