//! The spec's JSON Schema: generated from [`crate::spec::raw`], and used to check documents.
//!
//! [`json_schema`] is what `airguard schema` prints and what `schemas/airguard.schema.json`
//! holds (a test fails when the committed file is stale). [`check`] validates a parsed document
//! against it and turns every schema error into a located [`Diagnostic`] with a stable code.

use super::raw::RawSpec;
use super::yaml::Document;
use crate::diag::{Code, Diagnostic};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;
use std::sync::LazyLock;

/// The spec schema as a JSON value.
pub fn json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RawSpec)).expect("schema serializes")
}

/// The spec schema as pretty JSON text with a trailing newline (the committed file's content).
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("schema serializes");
    s.push('\n');
    s
}

static SCHEMA: LazyLock<Value> = LazyLock::new(json_schema);
static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    jsonschema::validator_for(&SCHEMA).expect("the generated spec schema is valid")
});

/// Check a document against the spec schema; push one diagnostic per problem.
pub fn check(doc: &Document, diags: &mut Vec<Diagnostic>) {
    let mut out = Vec::new();
    for err in VALIDATOR.iter_errors(&doc.json) {
        report(doc, &err, &mut out);
    }
    // A oneOf may report the same problem through several branches; keep one of each.
    out.sort_by(|a: &Diagnostic, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    out.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    diags.extend(out);
}

fn report(doc: &Document, err: &ValidationError<'_>, out: &mut Vec<Diagnostic>) {
    let path = err.instance_path().as_str().to_string();
    let at = |code: Code, msg: String| {
        Diagnostic::new(code, msg)
            .with_label(doc.file, doc.locate(&path), "")
            .with_path(path.clone())
    };
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(err.schema_path().as_str());
            for key in unexpected {
                out.push(unknown_key(doc, &path, key, &allowed));
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let d = Diagnostic::new(
                Code::MissingKey,
                format!("missing required key `{name}`{}", context(&path)),
            )
            .with_label(
                doc.file,
                doc.locate_key(&path),
                format!("`{name}` is required here"),
            )
            .with_path(path.clone())
            .with_help(format!(
                "add `{name}:` here; see `airguard schema` for its type"
            ));
            out.push(d);
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let found = json_type(err.instance());
            // An unquoted `yes`, `on`, `1.10` or `012` where text belongs: YAML read it as a
            // boolean or number; quoting keeps it text.
            let help = match doc.literal(&path) {
                Some(text) if expected.contains("string") => format!(
                    "quote it to keep it text: `\"{text}\"` (unquoted, YAML reads it as {found})"
                ),
                _ => format!("write a {expected} here"),
            };
            out.push(
                at(
                    Code::WrongType,
                    format!("expected {expected}, found {found}{}", context(&path)),
                )
                .with_help(help),
            );
        }
        ValidationErrorKind::Enum { options } => {
            let opts = render_options(options);
            out.push(
                at(
                    Code::InvalidValue,
                    format!(
                        "{} is not an allowed value{}",
                        short(err.instance()),
                        context(&path)
                    ),
                )
                .with_help(format!("use one of: {opts}")),
            );
        }
        ValidationErrorKind::Constant { expected_value } => {
            out.push(
                at(
                    Code::InvalidValue,
                    format!("{} is not allowed{}", short(err.instance()), context(&path)),
                )
                .with_help(format!("use {}", short(expected_value))),
            );
        }
        ValidationErrorKind::OneOfNotValid { context: branches }
        | ValidationErrorKind::AnyOf { context: branches } => match best_branch(&path, branches) {
            Some(branch) => {
                for e in branch {
                    report(doc, e, out);
                }
            }
            None => {
                let keyword = err.schema_path().as_str();
                if let Some(consts) = const_branches(keyword) {
                    out.push(
                        at(
                            Code::InvalidValue,
                            format!(
                                "{} is not an allowed value{}",
                                short(err.instance()),
                                context(&path)
                            ),
                        )
                        .with_help(format!("use one of: {}", consts.join(", "))),
                    );
                    return;
                }
                if let (Some(obj), Some(keys)) =
                    (err.instance().as_object(), object_branch_keys(keyword))
                {
                    let unknown: Vec<&String> = obj.keys().filter(|k| !keys.contains(k)).collect();
                    for key in &unknown {
                        out.push(unknown_key(doc, &path, key, &keys));
                    }
                    if unknown.is_empty() && obj.len() != 1 {
                        out.push(
                            at(
                                Code::InvalidValue,
                                format!("set exactly one of {}{}", keys.join(", "), context(&path)),
                            )
                            .with_help("keep one of these keys and remove the others"),
                        );
                    }
                    if !out.is_empty() {
                        return;
                    }
                }
                let forms = forms_of(keyword);
                let mut d = at(
                    Code::WrongType,
                    format!(
                        "{} does not match any allowed form{}",
                        short(err.instance()),
                        context(&path)
                    ),
                );
                if !forms.is_empty() {
                    d = d.with_help(format!("write one of: {}", forms.join("; ")));
                }
                out.push(d);
            }
        },
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => out.push(
            at(
                Code::InvalidValue,
                format!("{} is too small{}", short(err.instance()), context(&path)),
            )
            .with_help(format!("the minimum is {limit}")),
        ),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => out.push(
            at(
                Code::InvalidValue,
                format!("{} is too large{}", short(err.instance()), context(&path)),
            )
            .with_help(format!("the maximum is {limit}")),
        ),
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. } => {
            out.push(
                at(
                    Code::InvalidValue,
                    format!("wrong number of keys{}", context(&path)),
                )
                .with_help("set exactly one of the allowed keys"),
            )
        }
        _ => out.push(at(Code::InvalidValue, format!("{err}{}", context(&path)))),
    }
}

/// An unknown key at `parent`, with a did-you-mean when one allowed key is close.
fn unknown_key(doc: &Document, parent: &str, key: &str, allowed: &[String]) -> Diagnostic {
    let p = format!("{parent}/{}", super::yaml::escape_segment(key));
    let help = match closest(key, allowed) {
        Some(best) => format!(
            "did you mean `{best}`? allowed keys here: {}",
            allowed.join(", ")
        ),
        None if allowed.is_empty() => "remove this key".to_string(),
        None => format!("allowed keys here: {}", allowed.join(", ")),
    };
    Diagnostic::new(
        Code::UnknownKey,
        format!("unknown key `{key}`{}", context(parent)),
    )
    .with_label(doc.file, doc.locate_key(&p), "not a key of the spec here")
    .with_path(p)
    .with_help(help)
}

/// Choose the oneOf/anyOf branch that explains the failure best: one that accepted the value's
/// type (no type error at the value itself), with the fewest errors.
fn best_branch<'e>(
    path: &str,
    branches: &'e [Vec<ValidationError<'static>>],
) -> Option<&'e Vec<ValidationError<'static>>> {
    branches
        .iter()
        .filter(|b| {
            !b.is_empty()
                && !b.iter().any(|e| {
                    e.instance_path().as_str() == path
                        && matches!(
                            e.kind(),
                            ValidationErrorKind::Type { .. }
                                | ValidationErrorKind::Enum { .. }
                                | ValidationErrorKind::Constant { .. }
                        )
                })
                // an object branch that rejects every key is not a good explanation either
                && !b.iter().any(|e| {
                    e.instance_path().as_str() == path
                        && matches!(e.kind(), ValidationErrorKind::Required { .. })
                        && b.iter().any(|o| matches!(o.kind(), ValidationErrorKind::AdditionalProperties { .. }) && o.instance_path().as_str() == path)
                })
        })
        .min_by_key(|b| b.len())
}

fn context(path: &str) -> String {
    if path.is_empty() {
        " at the top level".into()
    } else {
        format!(" at `{}`", dotted(path))
    }
}

/// `/airbyte/egress/0/cidr` → `airbyte.egress[0].cidr`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        let cut = (0..=57).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

fn render_options(options: &Value) -> String {
    match options {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or(i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Resolve a schema pointer (no `$ref` traversal) in the root schema.
fn schema_at(pointer: &str) -> Option<&'static Value> {
    SCHEMA.pointer(pointer)
}

fn deref(v: &'static Value) -> &'static Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(p) => schema_at(p).map_or(v, deref),
        None => v,
    }
}

/// Keys allowed by the object schema whose `additionalProperties` keyword is at `keyword_path`.
fn allowed_keys(keyword_path: &str) -> Vec<String> {
    let parent = keyword_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(keyword_path);
    schema_at(parent)
        .map(deref)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Short descriptions of the branches of the oneOf/anyOf at `keyword_path`.
fn forms_of(keyword_path: &str) -> Vec<String> {
    let Some(branches) = schema_at(keyword_path).and_then(Value::as_array) else {
        return Vec::new();
    };
    branches
        .iter()
        .map(|b| {
            let b = deref(b);
            if let Some(props) = b.get("properties").and_then(Value::as_object) {
                let keys: Vec<&str> = props.keys().map(String::as_str).collect();
                format!("a mapping with {}", keys.join("/"))
            } else if let Some(e) = b.get("enum") {
                render_options(e)
            } else if let Some(c) = b.get("const") {
                c.to_string()
            } else if let Some(t) = b.get("type") {
                t.as_str().unwrap_or("value").to_string()
            } else {
                "a value".into()
            }
        })
        .collect()
}

/// The values of a oneOf whose branches are all constants (a documented string enum).
fn const_branches(keyword_path: &str) -> Option<Vec<String>> {
    let branches = schema_at(keyword_path)?.as_array()?;
    let mut out = Vec::new();
    for b in branches {
        let b = deref(b);
        if let Some(c) = b.get("const") {
            out.push(c.as_str().map_or(c.to_string(), str::to_string));
        } else if let Some(Value::Array(e)) = b.get("enum") {
            out.extend(
                e.iter()
                    .map(|c| c.as_str().map_or(c.to_string(), str::to_string)),
            );
        } else {
            return None;
        }
    }
    Some(out)
}

/// The union of keys of a oneOf whose branches are all object schemas (an externally tagged enum).
fn object_branch_keys(keyword_path: &str) -> Option<Vec<String>> {
    let branches = schema_at(keyword_path)?.as_array()?;
    let mut out = Vec::new();
    for b in branches {
        let props = deref(b).get("properties")?.as_object()?;
        out.extend(props.keys().cloned());
    }
    out.dedup();
    Some(out)
}

/// The allowed key closest to `key` by edit distance, if close enough to be a typo.
pub(crate) fn closest(key: &str, allowed: &[String]) -> Option<String> {
    allowed
        .iter()
        .map(|a| (edit_distance(key, a), a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min()
        .map(|(_, a)| a.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths() {
        assert_eq!(dotted("/airbyte/egress/0/cidr"), "airbyte.egress[0].cidr");
        assert_eq!(dotted(""), "");
    }

    #[test]
    fn typo_suggestions() {
        let allowed = vec!["namespace".to_string(), "release".to_string()];
        assert_eq!(closest("namespce", &allowed).as_deref(), Some("namespace"));
        assert_eq!(closest("zzz", &allowed), None);
    }
}
