//! The risk table: why an exposed port matters, as data
//! (`data/risk.txt`, format in its header), with sources per entry.
//!
//! Every open port the table names gets an informational hint, even where
//! no check exists: a reachable Telnet or SMB port matters whatever the
//! checks could prove. Users extend it with `--risk-db FILE`; their
//! entries come first, so they also override the built-in ones.

use portolan_model::{Protocol, ScriptItem, ScriptResult, Severity};
use std::path::Path;

/// The built-in table.
const BUILTIN: &str = include_str!("../data/risk.txt");

/// One entry of the risk table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskEntry {
    /// First and last port.
    pub ports: (u16, u16),
    /// The protocol.
    pub protocol: Protocol,
    /// The `-sV` name that selects the entry on any port, if any.
    pub service: Option<String>,
    /// How bad the exposure is to an untrusted network.
    pub rating: Severity,
    /// Why it matters.
    pub why: String,
    /// Where the facts come from.
    pub sources: Vec<String>,
}

/// The risk table (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct RiskTable {
    entries: Vec<RiskEntry>,
}

impl RiskTable {
    /// The built-in table.
    pub fn builtin() -> RiskTable {
        RiskTable::parse(BUILTIN, "built-in risk table").expect("the built-in risk table parses")
    }

    /// The built-in table with `file`'s entries first.
    pub fn with_file(file: &Path) -> Result<RiskTable, String> {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| format!("{name}: {e}"))?;
        let mut t = RiskTable::parse(&text, &name)?;
        t.entries.extend(RiskTable::builtin().entries);
        Ok(t)
    }

    /// Parses a table; errors name `origin`, the line and the reason.
    pub fn parse(text: &str, origin: &str) -> Result<RiskTable, String> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let e = entry(line).map_err(|why| format!("{origin}:{}: {why}", i + 1))?;
            entries.push(e);
        }
        Ok(RiskTable { entries })
    }

    /// Every entry, in lookup order.
    pub fn entries(&self) -> &[RiskEntry] {
        &self.entries
    }

    /// The entry for an open port: the first whose service name matches,
    /// else the first that names the port by itself, else the first range.
    pub fn lookup(
        &self,
        port: u16,
        protocol: Protocol,
        service: Option<&str>,
    ) -> Option<&RiskEntry> {
        let ours = |e: &&RiskEntry| e.protocol == protocol;
        let within = |e: &&RiskEntry| (e.ports.0..=e.ports.1).contains(&port);
        let named = self
            .entries
            .iter()
            .filter(ours)
            .find(|e| service.is_some() && e.service.as_deref() == service);
        named
            .or_else(|| {
                self.entries
                    .iter()
                    .filter(ours)
                    .filter(within)
                    .find(|e| e.ports.0 == e.ports.1)
            })
            .or_else(|| self.entries.iter().filter(ours).find(within))
    }
}

impl RiskEntry {
    /// The hint for a port, as a script result (`risk-hint`, severity
    /// info: it proves nothing by itself).
    pub fn hint(&self, port: u16, protocol: Protocol) -> ScriptResult {
        let items = vec![
            ScriptItem::elem("rating", self.rating.as_str()),
            ScriptItem::elem("why", self.why.clone()),
            ScriptItem::table(
                "sources",
                self.sources.iter().map(ScriptItem::value).collect(),
            ),
        ];
        ScriptResult {
            id: "risk-hint".into(),
            port: Some(port),
            protocol: Some(protocol),
            severity: Severity::Info,
            summary: format!(
                "exposed ({} if untrusted networks reach it): {}",
                self.rating, self.why
            ),
            output: format!("{} exposure: {}", self.rating, self.why),
            items,
        }
    }
}

fn entry(line: &str) -> Result<RiskEntry, String> {
    let f: Vec<&str> = line.split(" | ").map(str::trim).collect();
    let [ports, service, rating, why, sources] = f[..] else {
        return Err(format!(
            "expected 5 fields separated by \" | \", found {}",
            f.len()
        ));
    };
    let (range, proto) = ports
        .split_once('/')
        .ok_or_else(|| format!("bad port `{ports}`: expected PORTS/PROTO"))?;
    let protocol = match proto {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => return Err(format!("bad protocol `{proto}`")),
    };
    let num = |s: &str| s.parse::<u16>().map_err(|_| format!("bad port `{s}`"));
    let ports = match range.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(range)?, num(range)?),
    };
    if ports.0 > ports.1 {
        return Err(format!("bad port range `{range}`"));
    }
    let rating = Severity::parse(rating).ok_or_else(|| format!("bad rating `{rating}`"))?;
    if why.is_empty() {
        return Err("empty WHY".into());
    }
    let sources: Vec<String> = sources
        .split("; ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if sources.is_empty() {
        return Err("an entry needs at least one source".into());
    }
    Ok(RiskEntry {
        ports,
        protocol,
        service: (service != "-").then(|| service.to_string()),
        rating,
        why: why.to_string(),
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every port the issue lists has an entry with a source.
    #[test]
    fn builtin_covers_every_listed_port() {
        let t = RiskTable::builtin();
        let tcp = [
            8000, 8080, 9090, 3306, 5432, 1433, 1521, 50000, 6379, 11211, 27017, 27018, 9200, 9300,
            873, 2049, 111, 5984, 7001, 7002, 50070, 50030, 445, 135, 139, 23, 3389, 5900, 389,
            512, 513, 514, 2601, 2604, 3128, 1080,
        ];
        for p in tcp {
            let e = t
                .lookup(p, Protocol::Tcp, None)
                .unwrap_or_else(|| panic!("{p}/tcp"));
            assert!(!e.sources.is_empty());
        }
        for p in [161, 1434, 11211, 111] {
            assert!(t.lookup(p, Protocol::Udp, None).is_some(), "{p}/udp");
        }
        assert!(t.lookup(22, Protocol::Tcp, None).is_none());
    }

    #[test]
    fn service_names_select_entries_on_other_ports() {
        let t = RiskTable::builtin();
        assert_eq!(
            t.lookup(26379, Protocol::Tcp, Some("redis")).unwrap().ports,
            (6379, 6379)
        );
        assert_eq!(
            t.lookup(8080, Protocol::Tcp, None).unwrap().ports,
            (8000, 9090)
        );
    }

    #[test]
    fn user_entries_come_first_and_bad_lines_are_named() {
        let mut t = RiskTable::parse("6379/tcp | - | low | ours | here", "x").unwrap();
        t.entries.extend(RiskTable::builtin().entries);
        assert_eq!(t.lookup(6379, Protocol::Tcp, None).unwrap().why, "ours");
        let e = RiskTable::parse("# c\n22/tcp | - | bad | w | s", "f.txt").unwrap_err();
        assert_eq!(e, "f.txt:2: bad rating `bad`");
        assert!(RiskTable::parse("22 | - | low | w | s", "f").is_err());
        assert!(RiskTable::parse("22/tcp | - | low | w | ", "f").is_err());
    }
}
