//! YAML with locations: a small node tree whose every key and value knows its byte range.
//!
//! The spec is parsed once into [`Node`]s with serde-saphyr's `Spanned`, then converted to JSON
//! for schema validation and typed deserialization. The [`Document`] keeps an index from JSON
//! pointer (`/airbyte/egress/0/cidr`) to source range, so any later check can point a diagnostic
//! at the exact line and column of the value it complains about.
//!
//! The parser reads plain scalars the YAML 1.1 way (`yes`, `on`, `y` are booleans, `012` is
//! octal, `1_000` a number), while the published JSON Schema, and every YAML 1.2 tool, read them
//! as strings or other numbers. The document keeps the source text of every plain non-string
//! scalar so that [`Document::yaml11_diagnostics`] can reject the readings that differ, and
//! schema errors can say to quote them.

use crate::diag::{Code, Diagnostic, FileId, Files};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// A YAML node with spans on children.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null` or `~` or empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (or an integer too large for `i64`).
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Spanned<Node>>),
    /// A mapping, in document order.
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            out.push(item);
        }
        Ok(Node::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out: Vec<(Spanned<String>, Spanned<Node>)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyString>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            if out.iter().any(|(k, _)| k.value == key.value.0) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{}`",
                    key.value.0
                )));
            }
            out.push((
                Spanned::new(key.value.0, key.referenced, key.defined),
                value,
            ));
        }
        Ok(Node::Map(out))
    }
}

/// A mapping key read as text, whatever its YAML scalar type.
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Node::deserialize(d)? {
            Node::Str(s) => Ok(KeyString(s)),
            Node::Int(i) => Ok(KeyString(i.to_string())),
            Node::Bool(b) => Ok(KeyString(b.to_string())),
            Node::Float(f) => Ok(KeyString(f.to_string())),
            Node::Null => Ok(KeyString("null".into())),
            _ => Err(de::Error::custom("mapping keys must be scalars")),
        }
    }
}

/// Source ranges of one value in the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Range of the key that holds the value (absent for list items and the root).
    pub key: Option<Range<usize>>,
    /// Range of the value.
    pub value: Range<usize>,
}

/// A parsed YAML document with a pointer → location index.
#[derive(Debug)]
pub struct Document {
    /// The file.
    pub file: FileId,
    /// The document as JSON.
    pub json: serde_json::Value,
    index: HashMap<String, Place>,
    /// Source text of every plain scalar read as a boolean or a number, by pointer.
    literals: HashMap<String, String>,
    /// Mapping keys the parser read as a boolean, number or null: pointer and source text.
    coerced_keys: Vec<(String, String)>,
}

impl Document {
    /// Build a document from a parsed root.
    pub fn new(files: &Files, file: FileId, root: &Spanned<Node>) -> Self {
        let mut w = Walk {
            files,
            file,
            index: HashMap::new(),
            literals: HashMap::new(),
            coerced_keys: Vec::new(),
        };
        let range = range_of(files, file, &root.defined);
        let json = w.walk(&root.value, String::new(), None, range);
        Self {
            file,
            json,
            index: w.index,
            literals: w.literals,
            coerced_keys: w.coerced_keys,
        }
    }

    /// The source text of the plain scalar at `pointer`, when YAML read it as a boolean or a
    /// number (so a schema error there can say how to write it as text).
    pub fn literal(&self, pointer: &str) -> Option<&str> {
        self.literals.get(pointer).map(String::as_str)
    }

    /// Errors for plain scalars that YAML 1.1 (this parser) and YAML 1.2 (the JSON Schema,
    /// editors) read differently, except at pointers `reported` already holds a diagnostic for:
    /// keys read as booleans or numbers (`on:`), booleans YAML 1.2 reads as strings (`yes`,
    /// `off`, `y`) and numbers it reads otherwise (`012`, `1_000`, `0b11`, `1:30`).
    pub fn yaml11_diagnostics(&self, reported: &[Diagnostic]) -> Vec<Diagnostic> {
        let done = |p: &str| reported.iter().any(|d| d.path.as_deref() == Some(p));
        let mut out = Vec::new();
        for (pointer, text) in &self.coerced_keys {
            if done(pointer) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    Code::WrongType,
                    format!(
                        "the key `{text}` is not read as text: YAML 1.1 reads it as a {}",
                        yaml11_kind(text)
                    ),
                )
                .with_label(self.file, self.locate_key(pointer), "quote this key")
                .with_path(pointer.clone())
                .with_help(format!("write it quoted: `\"{text}\":`")),
            );
        }
        let mut values: Vec<(&String, &String)> = self.literals.iter().collect();
        values.sort();
        for (pointer, text) in values {
            if done(pointer) {
                continue;
            }
            let (message, help) = if is_yaml11_bool(text) {
                (
                    format!("`{text}` is a boolean only in YAML 1.1; YAML 1.2 and the spec's JSON Schema read it as a string"),
                    format!(
                        "write `{}` for a boolean, or quote it (`\"{text}\"`) for text",
                        yaml11_bool_value(text)
                    ),
                )
            } else if is_ambiguous_number(text) {
                (
                    format!("`{text}` is a different value in YAML 1.1 and YAML 1.2 (leading zero, `_`, `:` or a `0b`/`0o` prefix)"),
                    format!("write the number in plain decimal, or quote it (`\"{text}\"`) for text"),
                )
            } else {
                continue;
            };
            out.push(
                Diagnostic::new(Code::WrongType, message)
                    .with_label(
                        self.file,
                        self.locate(pointer),
                        "read differently by YAML 1.1 and 1.2",
                    )
                    .with_path(pointer.clone())
                    .with_help(help),
            );
        }
        out
    }

    /// Source ranges of the value at `pointer`, if it exists in the document.
    pub fn place(&self, pointer: &str) -> Option<&Place> {
        self.index.get(pointer)
    }

    /// Best range to point at for `pointer`: the value if present, else the nearest existing
    /// ancestor's key (or value).
    pub fn locate(&self, pointer: &str) -> Range<usize> {
        let mut p = pointer.to_string();
        loop {
            if let Some(place) = self.index.get(&p) {
                return if p == pointer {
                    place.value.clone()
                } else {
                    place.key.clone().unwrap_or(place.value.clone())
                };
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return 0..0,
            }
        }
    }

    /// Range of the key holding `pointer`'s value (falls back to [`Document::locate`]).
    pub fn locate_key(&self, pointer: &str) -> Range<usize> {
        match self.index.get(pointer) {
            Some(Place { key: Some(k), .. }) => k.clone(),
            _ => self.locate(pointer),
        }
    }
}

/// Escape one JSON pointer segment (RFC 6901).
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn range_of(files: &Files, file: FileId, loc: &Location) -> Range<usize> {
    if *loc == Location::UNKNOWN {
        return 0..0;
    }
    let span = loc.span();
    let start = match span.byte_offset() {
        Some(b) => b as usize,
        None => files.offset_of(file, loc.line() as usize, loc.column() as usize),
    };
    let len = span.byte_len().unwrap_or(span.len()) as usize;
    let src_len = files.source(file).len();
    let start = start.min(src_len);
    start..(start + len).min(src_len)
}

/// Plain-scalar booleans of YAML 1.2's core schema; every other boolean spelling is YAML 1.1's.
const CORE_BOOLS: &[&str] = &["true", "True", "TRUE", "false", "False", "FALSE"];

fn is_yaml11_bool(text: &str) -> bool {
    const ALL: &[&str] = &["y", "yes", "n", "no", "on", "off", "true", "false"];
    ALL.contains(&text.to_ascii_lowercase().as_str()) && !CORE_BOOLS.contains(&text)
}

fn yaml11_bool_value(text: &str) -> &'static str {
    match text.to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "true" => "true",
        _ => "false",
    }
}

/// A number literal that YAML 1.1 and YAML 1.2 read as different values (or one of them as a
/// string): `012` (octal in 1.1), `0o12`, `0b11`, `1_000`, `1:30` (base 60 in 1.1).
fn is_ambiguous_number(text: &str) -> bool {
    let t = text.trim_start_matches(['-', '+']);
    let b = t.as_bytes();
    t.contains(['_', ':'])
        || (b.len() > 1 && b[0] == b'0' && (b[1].is_ascii_digit() || matches!(b[1], b'o' | b'b')))
}

fn yaml11_kind(text: &str) -> &'static str {
    if is_yaml11_bool(text) || CORE_BOOLS.contains(&text) {
        "boolean"
    } else if matches!(text, "~" | "null" | "Null" | "NULL" | "") {
        "null"
    } else {
        "number"
    }
}

struct Walk<'a> {
    files: &'a Files,
    file: FileId,
    index: HashMap<String, Place>,
    literals: HashMap<String, String>,
    coerced_keys: Vec<(String, String)>,
}

impl Walk<'_> {
    /// The source text of a plain scalar at `range` (`None` when it is quoted or a block).
    fn plain(&self, range: &Range<usize>) -> Option<String> {
        let text = self.files.source(self.file).get(range.clone())?.trim();
        (!text.starts_with(['"', '\'', '|', '>', '!', '&', '*'])).then(|| text.to_string())
    }

    fn walk(
        &mut self,
        node: &Node,
        pointer: String,
        key: Option<Range<usize>>,
        value: Range<usize>,
    ) -> serde_json::Value {
        use serde_json::Value;
        let out = match node {
            Node::Null => Value::Null,
            Node::Bool(b) => {
                self.literal(&pointer, &value);
                Value::Bool(*b)
            }
            Node::Int(i) => {
                self.literal(&pointer, &value);
                Value::from(*i)
            }
            Node::Float(f) => {
                self.literal(&pointer, &value);
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let r = range_of(self.files, self.file, &item.defined);
                        self.walk(&item.value, format!("{pointer}/{i}"), None, r)
                    })
                    .collect(),
            ),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let kr = range_of(self.files, self.file, &k.defined);
                        let vr = range_of(self.files, self.file, &v.defined);
                        let vr = if vr.is_empty() && vr.start == 0 {
                            kr.clone()
                        } else {
                            vr
                        };
                        let p = format!("{pointer}/{}", escape_segment(&k.value));
                        // A key the parser turned into text from a boolean, number or null
                        // (`on:` became `true`) no longer says what was written.
                        if let Some(text) = self.plain(&kr) {
                            if text != k.value
                                && (matches!(k.value.as_str(), "true" | "false" | "null")
                                    || k.value.parse::<f64>().is_ok())
                            {
                                self.coerced_keys.push((p.clone(), text));
                            }
                        }
                        (k.value.clone(), self.walk(&v.value, p, Some(kr), vr))
                    })
                    .collect(),
            ),
        };
        self.index.insert(pointer, Place { key, value });
        out
    }

    fn literal(&mut self, pointer: &str, range: &Range<usize>) {
        if let Some(text) = self.plain(range) {
            self.literals.insert(pointer.to_string(), text);
        }
    }
}
