//! `http-ls`: the web server lists a directory (nginx `autoindex`,
//! Apache `Options Indexes`), which hands out every file name in it.
//!
//! A listing is recognised by the heading the common servers write
//! (`Index of /`) together with links; the first few entries are shown.

use crate::checks::http_title::title;
use crate::io::{clean, http_get};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct HttpLs;

static INFO: CheckInfo = CheckInfo {
    id: "http-ls",
    description: "the web server lists a directory",
    category: Category::Safe,
    severity: Severity::Medium,
    references: &["CWE-548"],
    services: &["http", "http-proxy", "http-alt"],
    ports: &[80, 8000, 8008, 8080, 8081, 8888, 9090],
    protocol: Protocol::Tcp,
    plain_only: true,
};

/// The most entries shown.
const SHOWN: usize = 10;

impl Check for HttpLs {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let r = http_get(ctx, "/", 64 * 1024).await?;
            if r.status != 200 {
                return None;
            }
            let html = String::from_utf8_lossy(&r.body);
            let entries = listing(&html)?;
            let mut items = vec![ScriptItem::elem("path", "/")];
            let shown = entries
                .iter()
                .take(SHOWN)
                .map(|e| ScriptItem::value(clean(e, 100)));
            items.push(ScriptItem::table("entries", shown.collect()));
            items.push(ScriptItem::elem("count", entries.len().to_string()));
            Some(Finding::new("directory listing at /", items))
        })
    }
}

/// The link targets of a directory listing page, `None` if it is not one.
fn listing(html: &str) -> Option<Vec<String>> {
    if !title(html)?.starts_with("Index of /") {
        return None;
    }
    let entries = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| !h.starts_with("../") && !h.starts_with('?') && !h.is_empty())
        .map(str::to_string)
        .collect();
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::listing;

    #[test]
    fn listings_are_recognised_and_other_pages_are_not() {
        let page = "<html><head><title>Index of /</title></head><body><h1>Index of /</h1>\
                    <a href=\"../\">../</a>\n<a href=\"secret.txt\">secret.txt</a></body>";
        assert_eq!(listing(page).unwrap(), vec!["secret.txt".to_string()]);
        assert!(listing("<title>Welcome to nginx!</title>").is_none());
    }
}
