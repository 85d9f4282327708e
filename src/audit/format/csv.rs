//! The canonical connectivity map: `src,dst,conns`, one row per allowed pair, sorted.
//!
//! Fields are quoted only when they contain a comma (conns lists such as `TCP 80,443` do);
//! control characters are written as visible `\u{..}` escapes.
//! This renderer never reorders by anything but (src, dst), so the same input gives the same bytes.

use crate::audit::Row;

/// Render rows as CSV with a header line.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::from("src,dst,conns\n");
    for r in rows {
        s.push_str(&field(&r.src));
        s.push(',');
        s.push_str(&field(&r.dst));
        s.push(',');
        s.push_str(&field(&r.conns.to_string()));
        s.push('\n');
    }
    s
}

fn field(s: &str) -> String {
    let s = crate::text::visible(s);
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
