//! The page's templates, stylesheet and script, compiled in.
//!
//! Why minijinja with its auto-escaping: every value a template prints
//! is HTML-escaped unless marked safe, and only three things are: the
//! sections' bodies (rendered by these same templates), the SVG charts
//! (escaped by [`crate::escape`]) and the embedded JSON (escaped for its
//! `<script>` element). The stylesheet and script are the crate's own
//! files; the page's content security policy allows exactly them, by
//! hash, and no other script, style or fetch.

use crate::ReportError;
use base64::Engine;
use minijinja::{AutoEscape, Environment, Value};
use sha2::{Digest, Sha256};

/// The stylesheet, inlined into every report.
pub const CSS: &str = include_str!("../templates/report.css");
/// The script, inlined into every report.
pub const JS: &str = include_str!("../templates/report.js");

const FILES: [(&str, &str); 7] = [
    ("page.html", include_str!("../templates/page.html")),
    ("scans.html", include_str!("../templates/scans.html")),
    ("summary.html", include_str!("../templates/summary.html")),
    ("charts.html", include_str!("../templates/charts.html")),
    ("table.html", include_str!("../templates/table.html")),
    ("changes.html", include_str!("../templates/changes.html")),
    ("findings.html", include_str!("../templates/findings.html")),
];

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Compiles every template, HTML auto-escaping on.
    pub fn new() -> Result<Self, ReportError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, text) in FILES {
            env.add_template(name, text)?;
        }
        Ok(Templates { env })
    }

    /// Renders template `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String, ReportError> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }
}

/// The content security policy: no fetch of any kind, and only the
/// report's own stylesheet and script (by hash) may apply or run.
pub fn csp() -> String {
    format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; img-src data:; base-uri 'none'; form-action 'none'",
        hash(JS),
        hash(CSS)
    )
}

fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}
