//! Escaping untrusted text for the places airguard writes it: XML documents and terminals.
//!
//! Input files and servers can carry control characters (ESC, BEL, C0, C1). [`xml`] makes text
//! safe inside XML 1.0 element content and attribute values: markup characters become entities,
//! characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return, U+FFFE,
//! U+FFFF) and the discouraged ones (DEL, C1) become a visible `\u{..}` escape, so the document
//! always parses. [`visible`] does the same for terminal text: every control character but
//! newline and tab becomes `\u{..}`, so nothing from an input moves the cursor or recolours the
//! screen. [`same_width`] replaces control characters by placeholders of the same UTF-8 length,
//! for source text that byte offsets point into. Pure functions; no IO.

use std::borrow::Cow;
use std::fmt::Write;

fn is_unsafe_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Text with every control character but newline and tab written as `\u{..}`.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_control(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text with every control character but newline and tab replaced by `?` (one byte) or `¿`
/// (two bytes, for C1 controls): same byte offsets, nothing a terminal acts on.
pub fn same_width(s: &str) -> Cow<'_, str> {
    // A carriage return before a newline ends a line; a lone one rewinds the terminal line.
    let bad = |s: &str, i: usize, c: char| {
        is_unsafe_control(c) && !(c == '\r' && s.as_bytes().get(i + 1) == Some(&b'\n'))
    };
    if !s.char_indices().any(|(i, c)| bad(s, i, c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if bad(s, i, c) {
            out.push(if c.len_utf8() == 1 { '?' } else { '¿' });
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text safe inside XML 1.0 element content and double-quoted attribute values. Newlines and
/// tabs are kept as they are (an attribute value's newline reads back as a space).
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_pass_raw() {
        let hostile = "a\u{1b}[31mred\u{7}\u{0}\u{85}\u{9b}\r\nb\tc";
        let v = visible(hostile);
        assert_eq!(v, "a\\u{1b}[31mred\\u{7}\\u{0}\\u{85}\\u{9b}\\u{d}\nb\tc");
        let w = same_width(hostile);
        assert_eq!(w.len(), hostile.len());
        assert!(!w.chars().any(|c| c.is_control() && !"\r\n\t".contains(c)));
        assert_eq!(visible("plain"), "plain");
        assert_eq!(
            xml("<a b=\"c\">&'\u{1b}\u{fffe}\r\n"),
            "&lt;a b=&quot;c&quot;&gt;&amp;'\\u{1b}\\u{fffe}&#13;\n"
        );
    }
}
