//! Phase one of spec loading: read the file, parse YAML with locations, check the schema.
//!
//! Every problem becomes a [`Diagnostic`]: a missing file, a directory, a device or other
//! non-regular file and a file over 16 MiB (both refused before reading, see [`crate::input`]),
//! an empty file, a YAML syntax error (with line and column), and every schema violation
//! (unknown keys, wrong types, missing keys). The typed [`RawSpec`] is produced only when the schema check passed.

use super::raw::RawSpec;
use super::yaml::{Document, Node};
use crate::diag::{Code, Diagnostic, Files};
use crate::input::InputError;
use camino::Utf8Path;

/// Result of phase one.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The parsed document, when the YAML parsed.
    pub document: Option<Document>,
    /// The typed spec, when the schema check passed.
    pub raw: Option<RawSpec>,
    /// Every problem found.
    pub diagnostics: Vec<Diagnostic>,
}

/// Read and load a spec file.
pub fn load_file(files: &mut Files, path: &Utf8Path) -> Loaded {
    match read(path) {
        Ok(bytes) => load_bytes(files, path.as_str(), &bytes),
        Err(d) => Loaded {
            diagnostics: vec![*d],
            ..Loaded::default()
        },
    }
}

fn read(path: &Utf8Path) -> Result<Vec<u8>, Box<Diagnostic>> {
    let io = |msg: String, help: &str| {
        Err(Box::new(
            Diagnostic::new(Code::IoError, msg).with_help(help.to_string()),
        ))
    };
    match crate::input::read(path.as_std_path(), crate::input::SPEC_LIMIT) {
        Err(InputError::NotFound { .. }) => io(
            format!("spec file `{path}` does not exist"),
            "pass the spec with --spec PATH, or create one with `airguard init`",
        ),
        Err(InputError::NotARegularFile {
            kind: "a directory",
            ..
        }) => io(
            format!("`{path}` is a directory, not a spec file"),
            "pass the spec file itself, e.g. --spec airguard.yaml",
        ),
        Err(e @ (InputError::NotARegularFile { .. } | InputError::TooLarge { .. })) => {
            Err(Box::new(e.diagnostic().with_help(
                "pass the spec file itself, e.g. --spec airguard.yaml (at most 16 MiB)",
            )))
        }
        Ok(bytes) => Ok(bytes),
        Err(InputError::Io { source, .. }) => io(
            format!("cannot read spec file `{path}`: {source}"),
            "check the path and its permissions",
        ),
    }
}

/// Load a spec from raw bytes; `name` is what diagnostics call the file. Bytes that are not
/// UTF-8 are a located error: the file is kept (invalid sequences shown as U+FFFD) so the
/// diagnostic names the line and column of the first bad byte.
pub fn load_bytes(files: &mut Files, name: &str, bytes: &[u8]) -> Loaded {
    match std::str::from_utf8(bytes) {
        Ok(text) => load_str(files, name, text),
        Err(e) => {
            let at = e.valid_up_to();
            let text = String::from_utf8_lossy(bytes);
            // The text before `at` is unchanged, so `at` points at the first U+FFFD.
            let file = files.add(name, text.as_ref());
            let d = Diagnostic::new(
                Code::YamlSyntax,
                format!(
                    "spec file `{name}` is not UTF-8 (invalid byte 0x{:02x} at offset {at})",
                    bytes[at]
                ),
            )
            .with_label(file, at..at + '\u{FFFD}'.len_utf8(), "not UTF-8")
            .with_help("save the file as UTF-8");
            Loaded {
                diagnostics: vec![d],
                ..Loaded::default()
            }
        }
    }
}

/// Load a spec from text; `name` is what diagnostics call the file.
pub fn load_str(files: &mut Files, name: &str, text: &str) -> Loaded {
    let file = files.add(name, text);
    let mut out = Loaded::default();
    let is_blank = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    });
    if is_blank {
        out.diagnostics.push(
            Diagnostic::new(Code::EmptySpec, format!("spec file `{name}` is empty"))
                .with_label(file, 0..0, "")
                .with_help("run `airguard init` to write a documented starter spec"),
        );
        return out;
    }
    let root = match serde_saphyr::from_str::<serde_saphyr::Spanned<Node>>(text) {
        Ok(root) => root,
        Err(e) => {
            out.diagnostics.push(syntax_error(files, file, &e));
            return out;
        }
    };
    let doc = Document::new(files, file, &root);
    if !doc.json.is_object() {
        out.diagnostics.push(
            Diagnostic::new(
                Code::WrongType,
                "the spec must be a mapping at the top level",
            )
            .with_label(
                file,
                doc.locate(""),
                "expected `version: 1` and the other top-level keys",
            )
            .with_help("start from `airguard init`"),
        );
        out.document = Some(doc);
        return out;
    }
    // Check the version first: a spec of another version would drown in schema errors.
    match doc.json.get("version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) => {
            out.diagnostics.push(
                Diagnostic::new(
                    Code::UnsupportedVersion,
                    format!("unsupported spec version {v}"),
                )
                .with_label(
                    file,
                    doc.locate("/version"),
                    "this airguard reads version 1",
                )
                .with_path("/version")
                .with_help("set `version: 1`"),
            );
            out.document = Some(doc);
            return out;
        }
        None => {}
    }
    super::schema::check(&doc, &mut out.diagnostics);
    let yaml11 = doc.yaml11_diagnostics(&out.diagnostics);
    out.diagnostics.extend(yaml11);
    if out.diagnostics.is_empty() {
        match serde_json::from_value::<RawSpec>(doc.json.clone()) {
            Ok(raw) => out.raw = Some(raw),
            Err(e) => out
                .diagnostics
                .push(match oversized_number(&doc.json, String::new()) {
                    // The schema accepts integral floats as integers; the types do not.
                    Some((pointer, n)) => {
                        Diagnostic::new(Code::InvalidValue, format!("the number {n} is too large"))
                            .with_label(file, doc.locate(&pointer), "does not fit a 64-bit integer")
                            .with_path(pointer)
                            .with_help("use a smaller number (ports are 1–65535)")
                    }
                    None => Diagnostic::new(
                        Code::WrongType,
                        format!("the spec does not match its types: {e}"),
                    )
                    .with_label(file, 0..0, "")
                    .with_help("see `airguard schema` for the expected shape"),
                }),
        }
    }
    out.document = Some(doc);
    out
}

/// The first number in the document that is integral but too large for 64-bit integers.
fn oversized_number(v: &serde_json::Value, pointer: String) -> Option<(String, String)> {
    match v {
        serde_json::Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => {
            Some((pointer, n.to_string()))
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| oversized_number(x, format!("{pointer}/{i}"))),
        serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| {
            oversized_number(x, format!("{pointer}/{}", super::yaml::escape_segment(k)))
        }),
        _ => None,
    }
}

fn syntax_error(files: &Files, file: crate::diag::FileId, e: &serde_saphyr::Error) -> Diagnostic {
    // serde-saphyr's Display includes a snippet; we render our own, so keep the first line.
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let msg = strip_location_suffix(first);
    // Say what the parser's messages mean for a spec, not how to configure the parser.
    let (msg, help) = if let Some(rest) = msg.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        (
            format!("invalid YAML: key `{key}` appears twice in the same mapping"),
            "keep one of them: YAML mappings cannot repeat a key".to_string(),
        )
    } else if let Some(rest) = msg.strip_prefix("budget breached: ") {
        (
            format!("invalid YAML: the spec is larger than airguard reads ({rest})"),
            "a spec may hold up to 250 000 YAML nodes (about 30 000 egress rules), nest 64 levels deep and have 1 000 000 parser events; these limits keep loading bounded".to_string(),
        )
    } else if msg.starts_with("multiple YAML documents") {
        (
            "invalid YAML: the file holds several documents (`---`)".to_string(),
            "a spec is one document: remove the `---` separator and merge or split the files"
                .to_string(),
        )
    } else {
        (
            format!("invalid YAML: {msg}"),
            "fix the YAML syntax at the marked place (indentation, quotes, `:` after keys)"
                .to_string(),
        )
    };
    let mut d = Diagnostic::new(Code::YamlSyntax, msg).with_help(help);
    if let Some(loc) = e.location() {
        let start = match loc.span().byte_offset() {
            Some(b) => b as usize,
            None => files.offset_of(file, loc.line() as usize, loc.column() as usize),
        };
        let start = start.min(files.source(file).len());
        d = d.with_label(file, start..start, "here");
    } else {
        d = d.with_label(file, 0..0, "");
    }
    d
}

fn strip_location_suffix(msg: &str) -> String {
    // "line 3 column 5: ..." and "... at line 3 column 5" duplicate what the label shows.
    let mut msg = msg;
    if msg.starts_with("line ") {
        if let Some(i) = msg.find(": ") {
            msg = &msg[i + 2..];
        }
    }
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
