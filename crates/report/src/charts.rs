//! Bar charts as inline SVG, drawn here in Rust.
//!
//! Why not a JavaScript chart library: the report must open offline and
//! print, and a chart drawn once at generation time costs the browser
//! nothing, works without scripts and prints as vectors. Every label
//! comes from the network (service names, product strings) and is
//! escaped; bars carry no inline style, so the report's content security
//! policy can forbid style attributes.

use crate::escape::html;
use std::fmt::Write;

/// Bars drawn at most; the rest are summed into one "others" bar.
pub const MAX_BARS: usize = 12;
/// Longest label drawn, in characters (the full text is in the tooltip).
const MAX_LABEL: usize = 26;
const WIDTH: u32 = 480;
const BAR_H: u32 = 18;
const GAP: u32 = 6;
const LABEL_W: u32 = 190;
const COUNT_W: u32 = 60;

/// One chart: a title and an SVG of horizontal bars.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Chart {
    /// Stable key (`top-ports`), the figure's `data-chart` attribute.
    pub key: &'static str,
    /// Caption.
    pub title: &'static str,
    /// The `<svg>` element, escaped and ready to embed.
    pub svg: String,
}

/// A chart of `items` (label, count), most first; `class` names each
/// bar's stylesheet class (its colour) from its label.
pub fn bars(
    key: &'static str,
    title: &'static str,
    items: &[(String, u64)],
    class: impl Fn(&str) -> &'static str,
) -> Chart {
    let shown = top(items);
    let max = shown.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = (shown.len().max(1) as u32) * (BAR_H + GAP) + GAP;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}"><title>{}</title>"#,
        html(title),
        html(title)
    );
    if shown.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="empty" x="{}" y="{}">nothing to show</text>"#,
            WIDTH / 2,
            BAR_H
        );
    }
    let span = WIDTH - LABEL_W - COUNT_W;
    for (i, (label, n)) in shown.iter().enumerate() {
        let y = GAP + i as u32 * (BAR_H + GAP);
        let w = ((*n as f64 / max as f64) * f64::from(span))
            .round()
            .max(1.0) as u32;
        let _ = write!(
            svg,
            r#"<g><title>{full}: {n}</title><text class="label" x="{lx}" y="{ty}">{short}</text><rect class="bar {cls}" x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}"></rect><text class="count" x="{cx}" y="{ty}">{n}</text></g>"#,
            full = html(label),
            short = html(&truncate(label)),
            lx = LABEL_W - 6,
            ty = y + BAR_H - 5,
            cls = class(label),
            cx = LABEL_W + w + 4,
        );
    }
    svg.push_str("</svg>");
    Chart { key, title, svg }
}

/// The first [`MAX_BARS`] - 1 items and one "others" bar summing the
/// rest; all of them when they fit.
fn top(items: &[(String, u64)]) -> Vec<(String, u64)> {
    let items: Vec<&(String, u64)> = items.iter().filter(|(_, n)| *n > 0).collect();
    if items.len() <= MAX_BARS {
        return items.into_iter().cloned().collect();
    }
    let mut v: Vec<(String, u64)> = items[..MAX_BARS - 1].iter().map(|&x| x.clone()).collect();
    let rest: u64 = items[MAX_BARS - 1..].iter().map(|(_, n)| n).sum();
    v.push((format!("{} others", items.len() - (MAX_BARS - 1)), rest));
    v
}

fn truncate(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label.to_owned();
    }
    let mut s: String = label.chars().take(MAX_LABEL - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_long_lists_summed() {
        let mut items: Vec<(String, u64)> = (0..20).map(|i| (format!("svc{i}"), 20 - i)).collect();
        items[0].0 = "<script>x</script>".into();
        let c = bars("services", "Services", &items, |_| "open");
        assert!(!c.svg.contains("<script>"), "{}", c.svg);
        assert!(c.svg.contains("&lt;script&gt;"));
        assert_eq!(c.svg.matches("<rect").count(), MAX_BARS);
        assert!(c.svg.contains("9 others"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let c = bars("products", "Products", &[], |_| "open");
        assert!(c.svg.contains("nothing to show"));
    }
}
