//! Escaping for the three contexts the report writes untrusted text
//! into: HTML text and attributes (the SVG charts, built here rather
//! than by the template), and JSON inside a `<script>` element.
//!
//! Why by hand: each is a few characters, and the rules are exact. The
//! template's own text goes through minijinja's auto-escaping instead.

use serde::Serialize;

/// `text` safe inside HTML or SVG text and double- or single-quoted
/// attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` as JSON that can sit inside `<script type="application/json">`:
/// `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026` (so neither
/// `</script>` nor `<!--` can appear), and U+2028/U+2029 their escapes.
/// Those characters only occur inside JSON strings, where the escapes
/// mean the same text, so `JSON.parse` reads back exactly `value`.
pub fn script_json<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let raw = serde_json::to_string(value)?;
    let mut out = String::with_capacity(raw.len() + raw.len() / 64);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_for_html() {
        assert_eq!(
            html(r#"<script>alert('x')</script>&"#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
    }

    #[test]
    fn script_json_cannot_close_its_element_and_reads_back() {
        let hostile = vec![
            "</script><script>document.title='x'</script>",
            "<!--",
            "a\u{2028}b&c",
        ];
        let s = script_json(&hostile).unwrap();
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(!s.contains('\u{2028}'));
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, hostile);
    }
}
