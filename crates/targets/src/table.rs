//! The port table: which service usually listens on a port, and how common
//! each port is.
//!
//! One table serves three needs: names for the SERVICE column, name patterns
//! in `-p` (`-p ssh,http*`), and the "top N" port lists behind the default
//! scan, `-F` and `--top-ports`. It is a small text file compiled into the
//! binary, so a scan never depends on files installed beside it.

use crate::error::TableError;
use portolan_model::Protocol;
use std::collections::HashSet;
use std::sync::OnceLock;

/// The text of the built-in table (see `data/services.tsv`).
const BUILTIN: &str = include_str!("../data/services.tsv");

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    name: Box<str>,
    port: u16,
    proto: Protocol,
    rank: Option<u32>,
}

/// Service names and port frequency ranks, by protocol and port.
#[derive(Clone, Debug, Default)]
pub struct ServiceTable {
    /// Every entry, sorted by (protocol, port); the first entry of a
    /// (protocol, port) pair names it.
    entries: Vec<Entry>,
    /// Ranked ports per protocol (index `proto_index`), most common first.
    ranked: [Vec<u16>; 3],
}

fn proto_index(p: Protocol) -> usize {
    match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl ServiceTable {
    /// The table compiled into portolan, parsed on first use.
    pub fn builtin() -> &'static ServiceTable {
        static TABLE: OnceLock<ServiceTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The data file is part of the source and a unit test parses it,
            // so a failure here is a build defect, not bad user input.
            ServiceTable::parse(BUILTIN).expect("built-in port table must parse")
        })
    }

    /// Parses the table format: `#` comments and blank lines are skipped;
    /// data lines are `name<TAB>port/proto<TAB>rank[<TAB>comment]`, where
    /// `proto` is `tcp`, `udp` or `sctp` and `rank` is a positive integer
    /// unique per protocol (1 = most common) or `-` for unranked.
    pub fn parse(text: &str) -> Result<ServiceTable, TableError> {
        let mut entries = Vec::new();
        let mut ranks: [Vec<(u32, u16)>; 3] = Default::default();
        let mut seen_ranks: HashSet<(usize, u32)> = HashSet::new();
        let mut seen_ports: HashSet<(usize, u16, Box<str>)> = HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |reason: String| TableError { line, reason };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut cols = raw.split('\t').map(str::trim);
            let name = cols.next().unwrap_or("");
            let port_proto = cols
                .next()
                .ok_or_else(|| err("missing port/proto column".into()))?;
            let rank_text = cols
                .next()
                .ok_or_else(|| err("missing rank column".into()))?;
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == ',') {
                return Err(err(format!("invalid service name \"{name}\"")));
            }
            let (port_text, proto_text) = port_proto
                .split_once('/')
                .ok_or_else(|| err(format!("expected port/proto, found \"{port_proto}\"")))?;
            let port: u16 = port_text
                .parse()
                .map_err(|_| err(format!("invalid port \"{port_text}\"")))?;
            let proto = match proto_text {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                "sctp" => Protocol::Sctp,
                other => return Err(err(format!("unknown protocol \"{other}\""))),
            };
            let pi = proto_index(proto);
            let rank = match rank_text {
                "-" => None,
                t => match t.parse::<u32>() {
                    Ok(r) if r >= 1 => Some(r),
                    _ => return Err(err(format!("invalid rank \"{t}\""))),
                },
            };
            if !seen_ports.insert((pi, port, name.to_ascii_lowercase().into())) {
                return Err(err(format!("duplicate entry {name} {port}/{proto}")));
            }
            if let Some(r) = rank {
                if !seen_ranks.insert((pi, r)) {
                    return Err(err(format!("rank {r} used twice for {proto}")));
                }
                ranks[pi].push((r, port));
            }
            entries.push(Entry {
                name: name.into(),
                port,
                proto,
                rank,
            });
        }
        // Stable sort: the first line for a (protocol, port) stays first.
        entries.sort_by_key(|e| (proto_index(e.proto), e.port));
        let ranked = ranks.map(|mut v| {
            v.sort_unstable();
            let mut seen = HashSet::new();
            v.into_iter()
                .map(|(_, p)| p)
                .filter(|p| seen.insert(*p))
                .collect()
        });
        Ok(ServiceTable { entries, ranked })
    }

    /// The service usually found on `port`/`proto`, if the table knows one.
    pub fn name(&self, port: u16, proto: Protocol) -> Option<&str> {
        let key = (proto_index(proto), port);
        let at = self
            .entries
            .partition_point(|e| (proto_index(e.proto), e.port) < key);
        self.entries
            .get(at)
            .filter(|e| e.port == port && e.proto == proto)
            .map(|e| &*e.name)
    }

    /// Every (protocol, port) whose service name matches `pattern`, where
    /// `*` matches any run of characters and `?` any one character; case is
    /// ignored. Sorted by protocol then port, without duplicates.
    pub fn ports_matching(&self, pattern: &str) -> Vec<(Protocol, u16)> {
        let mut out: Vec<(Protocol, u16)> = self
            .entries
            .iter()
            .filter(|e| glob_match(pattern.as_bytes(), e.name.as_bytes()))
            .map(|e| (e.proto, e.port))
            .collect();
        out.dedup();
        out
    }

    /// The `n` most common ports of `proto`, most common first (fewer if
    /// the table ranks fewer).
    pub fn top(&self, proto: Protocol, n: usize) -> Vec<u16> {
        self.ranked[proto_index(proto)]
            .iter()
            .take(n)
            .copied()
            .collect()
    }

    /// How many ports of `proto` have a rank.
    pub fn ranked_len(&self, proto: Protocol) -> usize {
        self.ranked[proto_index(proto)].len()
    }

    /// The frequency rank of `port`/`proto` (1 = most common), if ranked.
    pub fn rank(&self, port: u16, proto: Protocol) -> Option<u32> {
        let key = (proto_index(proto), port);
        let at = self
            .entries
            .partition_point(|e| (proto_index(e.proto), e.port) < key);
        self.entries[at..]
            .iter()
            .take_while(|e| e.port == port && e.proto == proto)
            .filter_map(|e| e.rank)
            .min()
    }
}

/// Case-insensitive glob match with `*` and `?`, in O(len(p) * len(s))
/// worst case (no exponential backtracking).
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p].eq_ignore_ascii_case(&text[t])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\n\
        ftp\t21/tcp\t5\n\
        ssh\t22/tcp\t2\n\
        ssh\t22/udp\t-\n\
        ssh\t22/sctp\t-\n\
        domain\t53/udp\t1\tthe DNS\n\
        http\t80/tcp\t1\n\
        http-alt\t8080/tcp\t3\n\
        \n\
        https\t443/tcp\t4\n";

    #[test]
    fn parses_sample_and_looks_up_names() {
        let t = ServiceTable::parse(SAMPLE).unwrap();
        assert_eq!(t.name(22, Protocol::Tcp), Some("ssh"));
        assert_eq!(t.name(22, Protocol::Sctp), Some("ssh"));
        assert_eq!(t.name(53, Protocol::Udp), Some("domain"));
        assert_eq!(t.name(53, Protocol::Tcp), None);
        assert_eq!(t.name(9, Protocol::Tcp), None);
        assert_eq!(t.top(Protocol::Tcp, 3), vec![80, 22, 8080]);
        assert_eq!(t.top(Protocol::Tcp, 100), vec![80, 22, 8080, 443, 21]);
        assert_eq!(t.top(Protocol::Udp, 5), vec![53]);
        assert_eq!(t.rank(443, Protocol::Tcp), Some(4));
        assert_eq!(t.rank(22, Protocol::Udp), None);
    }

    #[test]
    fn wildcards_match_names_on_every_protocol() {
        let t = ServiceTable::parse(SAMPLE).unwrap();
        assert_eq!(
            t.ports_matching("ssh"),
            vec![
                (Protocol::Tcp, 22),
                (Protocol::Udp, 22),
                (Protocol::Sctp, 22)
            ]
        );
        assert_eq!(
            t.ports_matching("http*"),
            vec![
                (Protocol::Tcp, 80),
                (Protocol::Tcp, 443),
                (Protocol::Tcp, 8080)
            ]
        );
        assert_eq!(t.ports_matching("*TT*-?lt"), vec![(Protocol::Tcp, 8080)]);
        assert!(t.ports_matching("nope").is_empty());
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"", b""));
        assert!(!glob_match(b"", b"a"));
        assert!(glob_match(b"a*b*c", b"aXXbYYc"));
        assert!(!glob_match(b"a*b*c", b"aXXbYY"));
        assert!(glob_match(b"*sql*", b"mysql"));
        assert!(glob_match(b"*sql*", b"ms-sql-s"));
        assert!(!glob_match(b"?", b""));
        // Long pathological input stays fast.
        let text = vec![b'a'; 5000];
        assert!(!glob_match(b"*a*a*a*a*a*b", &text));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("ssh\t22/tcp\n", "port table line 1: missing rank column"),
            (
                "ssh\t22\t1\n",
                "port table line 1: expected port/proto, found \"22\"",
            ),
            (
                "# c\nssh\t70000/tcp\t1\n",
                "port table line 2: invalid port \"70000\"",
            ),
            (
                "ssh\t22/icmp\t1\n",
                "port table line 1: unknown protocol \"icmp\"",
            ),
            ("ssh\t22/tcp\t0\n", "port table line 1: invalid rank \"0\""),
            ("ssh\t22/tcp\tx\n", "port table line 1: invalid rank \"x\""),
            (
                "a\t1/tcp\t1\nb\t2/tcp\t1\n",
                "port table line 2: rank 1 used twice for tcp",
            ),
            (
                "a\t1/tcp\t1\na\t1/tcp\t2\n",
                "port table line 2: duplicate entry a 1/tcp",
            ),
            (
                "\t1/tcp\t1\n",
                "port table line 1: invalid service name \"\"",
            ),
            ("justname\n", "port table line 1: missing port/proto column"),
        ];
        for (text, want) in cases {
            let err = ServiceTable::parse(text).unwrap_err();
            assert_eq!(err.to_string(), want, "input {text:?}");
        }
    }

    #[test]
    fn builtin_table_parses_and_ranks_enough_ports() {
        let t = ServiceTable::parse(BUILTIN).expect("builtin table parses");
        assert!(
            t.ranked_len(Protocol::Tcp) >= 1000,
            "tcp ranked: {}",
            t.ranked_len(Protocol::Tcp)
        );
        assert!(
            t.ranked_len(Protocol::Udp) >= 1000,
            "udp ranked: {}",
            t.ranked_len(Protocol::Udp)
        );
        // The data file promises ranks 1..N with no gaps, per protocol.
        for proto in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
            for (i, port) in t.top(proto, usize::MAX).into_iter().enumerate() {
                assert_eq!(t.rank(port, proto), Some(i as u32 + 1), "{port}/{proto}");
            }
        }
        let b = ServiceTable::builtin();
        assert_eq!(b.top(Protocol::Tcp, 1000).len(), 1000);
        assert_eq!(b.name(22, Protocol::Tcp), Some("ssh"));
    }
}
