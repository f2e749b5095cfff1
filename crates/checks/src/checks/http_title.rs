//! `http-title`: the title of a web server's front page, which names most
//! admin consoles (on 8000-9090 and elsewhere). Info only: a title proves
//! exposure, not a weakness. Only a page served (2xx) counts: the title
//! of an error page (`403 Forbidden`) says nothing of what runs there.

use crate::io::{clean, http_get};
use crate::{Category, Check, CheckFuture, CheckInfo, Ctx, Finding, ScriptItem, Severity};
use portolan_model::Protocol;

pub(crate) struct HttpTitle;

static INFO: CheckInfo = CheckInfo {
    id: "http-title",
    description: "the title of the front page (names admin consoles)",
    category: Category::Safe,
    severity: Severity::Info,
    references: &[],
    services: &["http", "http-proxy", "http-alt"],
    ports: &[80, 8000, 8008, 8080, 8081, 8443, 8888, 9090],
    protocol: Protocol::Tcp,
    plain_only: true,
};

impl Check for HttpTitle {
    fn info(&self) -> &'static CheckInfo {
        &INFO
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> CheckFuture<'a> {
        Box::pin(async move {
            let r = http_get(ctx, "/", 32 * 1024).await?;
            if !(200..300).contains(&r.status) {
                return None;
            }
            let t = title(&String::from_utf8_lossy(&r.body))?;
            let mut items = vec![ScriptItem::elem("title", t.clone())];
            if let Some(server) = r.header("server") {
                items.push(ScriptItem::elem("server", clean(server, 80)));
            }
            Some(Finding::new(format!("web page titled \"{t}\""), items))
        })
    }
}

/// The text of the first `<title>`, whitespace collapsed, cut to 100
/// characters; `None` when there is none or it is empty.
pub(crate) fn title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let text = html[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then(|| clean(&text, 100))
}

#[cfg(test)]
mod tests {
    use super::title;

    #[test]
    fn titles_are_found_and_cleaned() {
        assert_eq!(
            title("<html><TITLE lang=x>\n Admin\tPanel </title>").unwrap(),
            "Admin Panel"
        );
        assert!(title("<title></title>").is_none());
        assert!(title("<title>never closed").is_none());
        assert!(title("no title").is_none());
    }
}
