//! Strict JSON: parse a server body into a [`Value`], refusing duplicate object keys.
//!
//! `serde_json` keeps the last of two equal keys, so `{"status":"failed","status":"succeeded"}`
//! would read as succeeded; a server that sends that is either broken or hostile, and different
//! parsers disagree on it. This parser fails closed instead, naming the key. Nesting depth stays
//! bounded by serde_json's recursion limit.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;

/// Why a body is not strict JSON.
#[derive(Debug)]
pub enum StrictError {
    /// Not JSON (or truncated).
    Syntax(serde_json::Error),
    /// An object repeats a key (the key, at most 100 characters).
    DuplicateKey(String),
}

/// Parse `bytes` as one JSON value whose objects have distinct keys.
pub fn parse(bytes: &[u8]) -> Result<Value, StrictError> {
    let dup = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Seed(&dup).deserialize(&mut de);
    let v = v.and_then(|v| de.end().map(|()| v));
    match (v, dup.into_inner()) {
        (_, Some(key)) => Err(StrictError::DuplicateKey(key)),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(StrictError::Syntax(e)),
    }
}

#[derive(Clone, Copy)]
struct Seed<'a>(&'a RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                *self.0.borrow_mut() = Some(k.chars().take(100).collect());
                return Err(A::Error::custom("duplicate key"));
            }
            let v = map.next_value_seed(self)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert_eq!(
            parse(br#"{"a":[1,{"b":null}],"c":1.5}"#).unwrap(),
            serde_json::json!({"a":[1,{"b":null}],"c":1.5})
        );
        for body in [
            &br#"{"status":"failed","status":"succeeded"}"#[..],
            br#"{"data":[{"jobId":1,"status":"x","status":"y"}]}"#,
        ] {
            assert!(
                matches!(parse(body), Err(StrictError::DuplicateKey(k)) if k == "status"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(parse(b"{} x"), Err(StrictError::Syntax(_))));
        assert!(matches!(parse(b"{\"a\":"), Err(StrictError::Syntax(_))));
    }
}
