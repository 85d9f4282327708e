//! Escaping of untrusted text (server responses, file contents) before it reaches a terminal, a
//! log or an XML document.
//!
//! [`escape_control`] makes every control character visible as a Rust-style `\u{..}` escape:
//! C0 (ESC, BEL, newline, …), DEL, C1, the Unicode line and paragraph separators (U+2028,
//! U+2029, and U+0085, which is C1) and the bidirectional overrides and isolates that can
//! reorder what a terminal shows; [`visible`] does the same but keeps newline and tab, for
//! multi-line reports; [`same_width`] replaces them by placeholders of the same UTF-8 length, for
//! source text that byte offsets point into. [`xml_escape`], the one XML escaper, escapes markup and keeps only characters XML 1.0
//! allows (tab and newline stay, as character references where needed; anything else XML 1.0
//! forbids, even as a reference, is written as the same visible escape); [`html_escape`], the one
//! HTML escaper, escapes markup for text and quoted attributes and strips control characters.
//! [`base64`] is the
//! standard encoding (RFC 4648, padded) of HTTP Basic credentials. Pure functions.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a one-line message raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

fn push_escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// `s` with every character of [`is_unsafe`] written as `\u{1b}` (hex code point), so the
/// result is one line of printable text. Borrowed when nothing needed escaping.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

fn escape_where(s: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`escape_control`], but keeps newline and tab: for multi-line text (reports, snippets).
pub fn visible(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| is_unsafe(c) && c != '\n' && c != '\t')
}

/// `s` with every character of [`is_unsafe`] but newline and tab replaced by `?` (one byte) or
/// as many `?` as its UTF-8 length: same byte offsets, nothing a terminal acts on. A carriage
/// return right before a newline is kept (it ends a line; a lone one rewinds the terminal line).
pub fn same_width(s: &str) -> Cow<'_, str> {
    let bad = |i: usize, c: char| {
        is_unsafe(c)
            && c != '\n'
            && c != '\t'
            && !(c == '\r' && s.as_bytes().get(i + 1) == Some(&b'\n'))
    };
    if !s.char_indices().any(|(i, c)| bad(i, c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if bad(i, c) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escape `s` for XML 1.0 attribute values and text: `& < > " '` as entities, newline as
/// `&#10;`, tab kept, and every other character of [`is_unsafe`] as a visible `\u{..}` escape
/// (XML 1.0 forbids most C0 characters even as character references).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push('\t'),
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Escape `s` for HTML text and double- or single-quoted attribute values: `& < > " '` as
/// entities, newline and tab kept, and every other character of [`is_unsafe`] stripped (HTML
/// forbids most of them even as references, and a bidirectional override would reorder the page).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648 alphabet, `=` padding), as HTTP Basic auth encodes `user:password`.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_text_keeps_newlines_and_offsets() {
        let hostile = "a\u{1b}[31mred\u{7}\u{0}\u{85}\u{9b}\u{202e}\r\nb\tc\rd";
        assert_eq!(
            visible(hostile),
            "a\\u{1b}[31mred\\u{7}\\u{0}\\u{85}\\u{9b}\\u{202e}\\u{d}\nb\tc\\u{d}d"
        );
        let w = same_width(hostile);
        assert_eq!(w.len(), hostile.len());
        assert!(w.contains("\r\n"), "a CRLF line end stays");
        assert!(!w.contains("\rd"), "a lone carriage return does not");
        assert!(!w.chars().any(|c| is_unsafe(c) && !"\r\n\t".contains(c)));
        assert_eq!(visible("plain"), "plain");
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(escape_control("plain"), Cow::Borrowed("plain"));
        assert_eq!(
            escape_control("a\u{1b}[31mb\u{7}\n\u{2028}\u{85}\u{202e}"),
            "a\\u{1b}[31mb\\u{7}\\u{a}\\u{2028}\\u{85}\\u{202e}"
        );
    }

    #[test]
    fn html_escapes_markup_and_strips_control_characters() {
        assert_eq!(
            html_escape("<script>alert('x')</script>&\"\u{1b}[2J\u{0}\u{202e}\tb\nc\u{85}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;[2J\tb\nc"
        );
        assert_eq!(html_escape("plain ü"), "plain ü");
    }

    #[test]
    fn xml_keeps_only_what_xml_allows() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{1b}\u{0}\tb\nc\u{fffe}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\\u{1b}\\u{0}\tb&#10;c\\u{fffe}"
        );
    }
}
