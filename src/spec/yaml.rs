//! YAML with locations: a small node tree whose every key and value knows its byte range.
//!
//! The spec is parsed once into [`Node`]s with serde-saphyr's `Spanned`, then converted to JSON
//! for schema validation and typed deserialization. The [`Document`] keeps an index from JSON
//! pointer (`/airbyte/egress/0/cidr`) to source range, so any later check can point a diagnostic
//! at the exact line and column of the value it complains about.

use crate::diag::{FileId, Files};
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
}

impl Document {
    /// Build a document from a parsed root.
    pub fn new(files: &Files, file: FileId, root: &Spanned<Node>) -> Self {
        let mut index = HashMap::new();
        let range = range_of(files, file, &root.defined);
        let json = walk(
            files,
            file,
            &root.value,
            String::new(),
            None,
            range,
            &mut index,
        );
        Self { file, json, index }
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

fn walk(
    files: &Files,
    file: FileId,
    node: &Node,
    pointer: String,
    key: Option<Range<usize>>,
    value: Range<usize>,
    index: &mut HashMap<String, Place>,
) -> serde_json::Value {
    use serde_json::Value;
    let out = match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::from(*i),
        Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let r = range_of(files, file, &item.defined);
                    walk(
                        files,
                        file,
                        &item.value,
                        format!("{pointer}/{i}"),
                        None,
                        r,
                        index,
                    )
                })
                .collect(),
        ),
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let kr = range_of(files, file, &k.defined);
                    let vr = range_of(files, file, &v.defined);
                    let vr = if vr.is_empty() && vr.start == 0 {
                        kr.clone()
                    } else {
                        vr
                    };
                    let p = format!("{pointer}/{}", escape_segment(&k.value));
                    (
                        k.value.clone(),
                        walk(files, file, &v.value, p, Some(kr), vr, index),
                    )
                })
                .collect(),
        ),
    };
    index.insert(pointer, Place { key, value });
    out
}
