//! `rsync-list-modules`: the rsync daemon lists its modules to anyone
//! (rsync's daemon protocol, rsyncd.conf(5)).
//!
//! The daemon greets with `@RSYNCD: <version>`; the client answers with
//! its own greeting and then an empty module name, which asks for the
//! list. Lines follow until `@RSYNCD: EXIT`. Modules with `list = false`
//! are not shown, so an empty list proves nothing.

use crate::io::{clean, connect, read_line};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;
use tokio::io::AsyncWriteExt;

pub(crate) struct RsyncList;

static INFO: CheckInfo = CheckInfo {
    id: "rsync-list-modules",
    description: "the rsync daemon lists its modules without authentication",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &[
        "https://download.samba.org/pub/rsync/rsyncd.conf.5",
        "CVE-2024-12084",
    ],
    services: &["rsync"],
    ports: &[873],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// The most module lines read.
const MAX_MODULES: usize = 200;

impl Check for RsyncList {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let mut s = connect(ctx).await.ok()?;
            let mut pending = Vec::new();
            let greeting = read_line(&mut s, &mut pending, 1024).await?;
            let version = greeting.strip_prefix("@RSYNCD: ")?.to_string();
            s.write_all(b"@RSYNCD: 31.0\n\n").await.ok()?;
            let mut modules = Vec::new();
            for _ in 0..MAX_MODULES {
                let Some(line) = read_line(&mut s, &mut pending, 4096).await else {
                    break;
                };
                if line.starts_with("@RSYNCD: EXIT") || line.starts_with("@ERROR") {
                    break;
                }
                if line.starts_with("@RSYNCD:") || line.trim().is_empty() {
                    continue;
                }
                let (name, comment) = line.split_once('\t').unwrap_or((&line, ""));
                let name = clean(name.trim(), 64);
                let comment = clean(comment.trim(), 100);
                modules.push(if comment.is_empty() {
                    name
                } else {
                    format!("{name}\t{comment}")
                });
            }
            if modules.is_empty() {
                return None;
            }
            let items = vec![
                ScriptItem::elem("protocol", clean(&version, 20)),
                ScriptItem::table("modules", modules.iter().map(ScriptItem::value).collect()),
            ];
            Some(Finding::new(
                format!("rsync lists {} module(s)", modules.len()),
                items,
            ))
        })
    }
}
