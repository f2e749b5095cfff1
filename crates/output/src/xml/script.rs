//! Check results as nmap's `<script id output>` elements, with the
//! structured output as `<elem key>` and `<table key>` children; a host's
//! own results go in `<hostscript>`. Beyond nmap's `id` and `output`,
//! portolan writes the finding's `severity` and one-line `summary` as
//! attributes, so the XML reader gets the same check result back.

use super::Xml;
use crate::common::clean;
use portolan_model::{ScriptItem, ScriptResult};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use std::io;

impl Xml {
    /// One `<script>` element.
    pub(super) fn script(&mut self, r: &ScriptResult) -> io::Result<()> {
        // As for ssl-cert: line breaks kept as `&#xa;` in the attribute.
        let output = r
            .output
            .lines()
            .map(|l| quick_xml::escape::escape(clean(l).as_ref()).into_owned())
            .collect::<Vec<_>>()
            .join("&#xa;");
        let mut start = BytesStart::new("script");
        start.push_attribute(("id", clean(&r.id).as_ref()));
        start.push_attribute(Attribute::from((&b"output"[..], output.as_bytes())));
        start.push_attribute(("severity", r.severity.as_str()));
        start.push_attribute(("summary", clean(&r.summary).as_ref()));
        self.w.write_event(Event::Start(start))?;
        self.script_items(&r.items)?;
        self.close("script")
    }

    fn script_items(&mut self, items: &[ScriptItem]) -> io::Result<()> {
        for item in items {
            match item {
                ScriptItem::Elem { key, value } => {
                    let key = key.as_deref().map(clean);
                    let attrs: Vec<(&str, &str)> =
                        key.iter().map(|k| ("key", k.as_ref())).collect();
                    self.open("elem", &attrs)?;
                    self.text(&clean(value))?;
                    self.close("elem")?;
                }
                ScriptItem::Table { key, items } => {
                    let key = key.as_deref().map(clean);
                    let attrs: Vec<(&str, &str)> =
                        key.iter().map(|k| ("key", k.as_ref())).collect();
                    self.open("table", &attrs)?;
                    self.script_items(items)?;
                    self.close("table")?;
                }
            }
        }
        Ok(())
    }
}
