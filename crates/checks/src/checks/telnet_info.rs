//! `telnet-info`: a Telnet server (RFC 854) answers: a remote login whose
//! password and session cross the network in clear text.
//!
//! Proof is the protocol itself: the server's option negotiation (IAC
//! DO/DONT/WILL/WONT, RFC 854 and RFC 855) or its login prompt. We refuse
//! every option (WONT to each DO, DONT to each WILL), which lets servers
//! that wait for answers go on to their banner and prompt, and read text
//! until a `login:` or `Password:` prompt, the byte cap or a deadline
//! short of the check's timeout. Nothing is typed at the prompt.
//! Written by hand: the negotiation is a few bytes, and a Telnet crate
//! would implement far more than a read-only check may do.

use crate::io::{clean, connect};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) struct TelnetInfo;

static INFO: CheckInfo = CheckInfo {
    id: "telnet-info",
    description: "a Telnet server offers a clear-text remote login",
    category: Category::Safe,
    severity: Severity::High,
    references: &["RFC 854", "CWE-319", "CVE-2020-10188"],
    services: &["telnet"],
    ports: &[23],
    protocol: Protocol::Tcp,
    plain_only: true,
};

const IAC: u8 = 255;
const WILL: u8 = 251;
const WONT: u8 = 252;
const DO: u8 = 253;
const DONT: u8 = 254;
const SB: u8 = 250;
const SE: u8 = 240;
/// The most bytes read from the server.
const CAP: usize = 8 * 1024;

impl Check for TelnetInfo {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let wait = ctx
                .timeout
                .saturating_sub(Duration::from_millis(500))
                .min(Duration::from_secs(5));
            let end = tokio::time::Instant::now() + wait;
            let mut parser = Parser::default();
            let mut chunk = [0u8; 1024];
            let mut total = 0;
            while total < CAP && !parser.prompted() {
                let read = tokio::time::timeout_at(end, s.read(&mut chunk)).await;
                let Ok(Ok(n)) = read else { break };
                if n == 0 {
                    break;
                }
                total += n;
                let answer = parser.feed(&chunk[..n]);
                if !answer.is_empty() && s.write_all(&answer).await.is_err() {
                    break;
                }
            }
            parser.finding()
        })
    }
}

/// The Telnet stream, split into negotiation and text.
#[derive(Default)]
struct Parser {
    /// Options the server asked about, in order, as (verb, option).
    options: Vec<(u8, u8)>,
    /// The text the server sent, outside commands.
    text: Vec<u8>,
    /// Bytes of an unfinished command carried to the next read.
    pending: Vec<u8>,
    /// Inside a subnegotiation (IAC SB ... IAC SE).
    in_sb: bool,
}

impl Parser {
    /// Takes bytes from the server; returns our refusals to send back.
    fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            if b != IAC {
                if !self.in_sb && self.text.len() < CAP {
                    self.text.push(b);
                }
                i += 1;
                continue;
            }
            let Some(&cmd) = data.get(i + 1) else {
                self.pending = data[i..].to_vec();
                break;
            };
            match cmd {
                WILL | WONT | DO | DONT => {
                    let Some(&opt) = data.get(i + 2) else {
                        self.pending = data[i..].to_vec();
                        break;
                    };
                    if self.options.len() < 64 && !self.options.contains(&(cmd, opt)) {
                        self.options.push((cmd, opt));
                        match cmd {
                            DO => out.extend_from_slice(&[IAC, WONT, opt]),
                            WILL => out.extend_from_slice(&[IAC, DONT, opt]),
                            _ => {}
                        }
                    }
                    i += 3;
                }
                SB => {
                    self.in_sb = true;
                    i += 2;
                }
                SE => {
                    self.in_sb = false;
                    i += 2;
                }
                IAC => {
                    if !self.in_sb && self.text.len() < CAP {
                        self.text.push(IAC);
                    }
                    i += 2;
                }
                _ => i += 2,
            }
        }
        out
    }

    /// Whether the server has shown a login or password prompt.
    fn prompted(&self) -> bool {
        let t = String::from_utf8_lossy(&self.text).to_ascii_lowercase();
        let last = t.trim_end();
        last.ends_with("login:") || last.ends_with("password:") || last.ends_with("username:")
    }

    /// The finding, if what was read is Telnet.
    fn finding(&self) -> Option<Finding> {
        if self.options.is_empty() && !self.prompted() {
            return None;
        }
        let text = String::from_utf8_lossy(&self.text);
        let lines: Vec<ScriptItem> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(10)
            .map(|l| ScriptItem::value(clean(l, 100)))
            .collect();
        let options: Vec<ScriptItem> = self
            .options
            .iter()
            .map(|&(verb, opt)| {
                ScriptItem::value(format!("{} {}", verb_name(verb), option_name(opt)))
            })
            .collect();
        let mut items = Vec::new();
        if !options.is_empty() {
            items.push(ScriptItem::table("negotiation", options));
        }
        if !lines.is_empty() {
            items.push(ScriptItem::table("banner", lines));
        }
        items.push(ScriptItem::elem(
            "login prompt",
            if self.prompted() { "yes" } else { "no" },
        ));
        Some(Finding::new("Telnet login exposed (clear text)", items))
    }
}

fn verb_name(v: u8) -> &'static str {
    match v {
        WILL => "WILL",
        WONT => "WONT",
        DO => "DO",
        _ => "DONT",
    }
}

/// Option names from IANA's Telnet options registry.
fn option_name(o: u8) -> String {
    let name = match o {
        0 => "BINARY",
        1 => "ECHO",
        3 => "SUPPRESS-GO-AHEAD",
        5 => "STATUS",
        6 => "TIMING-MARK",
        24 => "TERMINAL-TYPE",
        31 => "NAWS",
        32 => "TERMINAL-SPEED",
        33 => "TOGGLE-FLOW-CONTROL",
        34 => "LINEMODE",
        35 => "X-DISPLAY-LOCATION",
        36 => "ENVIRON",
        37 => "AUTHENTICATION",
        38 => "ENCRYPT",
        39 => "NEW-ENVIRON",
        _ => return o.to_string(),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_is_refused_and_split_commands_carry_over() {
        let mut p = Parser::default();
        assert_eq!(p.feed(&[IAC, DO, 24, IAC]), vec![IAC, WONT, 24]);
        assert_eq!(p.feed(&[WILL, 1, b'h', b'i']), vec![IAC, DONT, 1]);
        assert_eq!(p.feed(&[IAC, SB, 24, 1, b'x', IAC, SE]), Vec::<u8>::new());
        p.feed(b"\r\nDebian GNU/Linux 12\r\nbox login: ");
        assert!(p.prompted());
        let f = p.finding().unwrap();
        assert_eq!(
            f.items[0],
            ScriptItem::table(
                "negotiation",
                vec![
                    ScriptItem::value("DO TERMINAL-TYPE"),
                    ScriptItem::value("WILL ECHO")
                ]
            )
        );
        assert_eq!(f.items[2], ScriptItem::elem("login prompt", "yes"));
    }

    #[test]
    fn other_protocols_and_garbage_are_not_telnet() {
        let mut p = Parser::default();
        p.feed(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
        assert!(p.finding().is_none());
        let mut p = Parser::default();
        for b in 0..=255u8 {
            p.feed(&[IAC, b]);
            p.feed(&[IAC, IAC, b, IAC, SB]);
        }
        let many: Vec<u8> = (0..10_000)
            .map(|i| [IAC, DO, (i % 256) as u8][i % 3])
            .collect();
        p.feed(&many);
        assert!(p.options.len() <= 64 && p.text.len() <= CAP);
    }
}
