//! `ftp-anon`: the FTP server lets anyone log in as `anonymous` (RFC 959
//! USER/PASS; RFC 1635 for the anonymous convention).
//!
//! A login is more than reading, so the check is `auth`, not `safe`: it
//! runs with `--script auth` or by name, never with `-sC`. `230` after
//! `PASS` proves the login; it then says `QUIT` and lists nothing.

use crate::io::{clean, connect, read_line};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub(crate) struct FtpAnon;

static INFO: CheckInfo = CheckInfo {
    id: "ftp-anon",
    description: "the FTP server accepts an anonymous login",
    category: Category::Auth,
    severity: Severity::Medium,
    references: &["RFC 1635", "CVE-1999-0497"],
    services: &["ftp"],
    ports: &[21],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for FtpAnon {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let mut pending = Vec::new();
            let banner = reply(&mut s, &mut pending).await?;
            if banner.0 != 220 {
                return None;
            }
            s.write_all(b"USER anonymous\r\n").await.ok()?;
            let mut code = reply(&mut s, &mut pending).await?;
            if code.0 == 331 {
                s.write_all(b"PASS anonymous@\r\n").await.ok()?;
                code = reply(&mut s, &mut pending).await?;
            }
            let _ = s.write_all(b"QUIT\r\n").await;
            (code.0 == 230).then(|| {
                Finding::new(
                    "FTP accepts anonymous logins",
                    vec![
                        ScriptItem::elem("Login", "anonymous allowed"),
                        ScriptItem::elem("Reply", clean(&code.1, 100)),
                    ],
                )
            })
        })
    }
}

/// One FTP reply: its code and last line, after any continuation lines
/// (`230-...` up to `230 ...`). At most 50 lines are read.
async fn reply(s: &mut TcpStream, pending: &mut Vec<u8>) -> Option<(u16, String)> {
    for _ in 0..50 {
        let line = read_line(s, pending, 4096).await?;
        if line.len() >= 4 && line.as_bytes()[3] == b' ' {
            return Some((line[..3].parse().ok()?, line));
        }
        if line.len() == 3 {
            return Some((line.parse().ok()?, line));
        }
    }
    None
}
