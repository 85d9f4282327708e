//! Reading manifests into an inventory: namespaces, endpoints (pods and workload templates) and
//! NetworkPolicies, each with the file and byte offset it came from.
//!
//! Input is YAML files or directories of them (`*.yaml`, `*.yml`, recursively, in sorted order,
//! or what a `kustomization.yaml` lists; files without any `kind` skipped with a note; directory
//! symlinks never followed), each a multi-document stream; `kind: List` documents are unpacked. Objects of other kinds are
//! counted and skipped. Every problem (unreadable file, YAML syntax, an object that does not parse
//! into its Kubernetes type) becomes a [`Diagnostic`] with a location; loading never stops at the
//! first one. This module does no policy semantics.

use super::intervals::Protocol;
use super::selector::Labels;
use crate::diag::{Code, Diagnostic, FileId, Files};
use crate::spec::{Document, Node};
use camino::{Utf8Path, Utf8PathBuf};
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;

/// The label every namespace carries with its own name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// The annotation that suppresses findings on an object: `"<code>: <reason>"`, one per line.
pub const SUPPRESS_ANNOTATION: &str = "airguard.io/suppress";

/// Where an object starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// Byte offset of the object in the file.
    pub offset: usize,
}

/// A suppression read from an object's annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The code it silences.
    pub code: Code,
    /// Why (never empty).
    pub reason: String,
}

/// A namespace: given as an object, or only referenced.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Its name.
    pub name: String,
    /// Its labels (always including [`NAME_LABEL`]).
    pub labels: Labels,
    /// Where it was declared, when it was.
    pub loc: Option<Loc>,
    /// Suppressions on it.
    pub suppress: Vec<Suppression>,
}

/// A container port of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerPort {
    /// Its name, if any.
    pub name: Option<String>,
    /// The port number.
    pub port: u16,
    /// The protocol.
    pub protocol: Protocol,
}

/// A pod, or the pod template of a workload: one endpoint of the connectivity map.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The object's kind (`Pod`, `Deployment`, ...).
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// The pod's or controller's name.
    pub name: String,
    /// The pod labels.
    pub labels: Labels,
    /// Container ports, sorted.
    pub ports: Vec<ContainerPort>,
    /// Where it was declared.
    pub loc: Loc,
    /// Suppressions on it.
    pub suppress: Vec<Suppression>,
}

impl Endpoint {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A NetworkPolicy with its source.
#[derive(Debug)]
pub struct PolicyObject {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The typed policy.
    pub policy: NetworkPolicy,
    /// The source document with a JSON-pointer index.
    pub doc: Document,
    /// Where it starts.
    pub loc: Loc,
    /// Suppressions on it.
    pub suppress: Vec<Suppression>,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Namespaces by name (declared and referenced).
    pub namespaces: BTreeMap<String, Namespace>,
    /// Endpoints, in input order.
    pub endpoints: Vec<Endpoint>,
    /// Policies, in input order.
    pub policies: Vec<PolicyObject>,
    /// Skipped objects, counted by kind.
    pub skipped: BTreeMap<String, usize>,
    /// Files found in a directory but not read, each with the reason (not a manifest, remote).
    pub skipped_files: Vec<String>,
}

impl Inventory {
    /// Add what another inventory read after this one's (later objects keep their order; a
    /// declared namespace wins over a merely referenced one).
    pub fn merge(&mut self, part: Inventory) {
        for (name, ns) in part.namespaces {
            match self.namespaces.get(&name) {
                Some(old) if old.loc.is_some() && ns.loc.is_none() => {}
                _ => {
                    self.namespaces.insert(name, ns);
                }
            }
        }
        self.endpoints.extend(part.endpoints);
        self.policies.extend(part.policies);
        for (k, n) in part.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
        self.skipped_files.extend(part.skipped_files);
    }

    /// Ensure a namespace exists (a referenced namespace gets only its name label).
    pub fn touch_namespace(&mut self, name: &str) {
        if !self.namespaces.contains_key(name) {
            let labels = Labels::from([(NAME_LABEL.to_string(), name.to_string())]);
            self.namespaces.insert(
                name.to_string(),
                Namespace {
                    name: name.into(),
                    labels,
                    loc: None,
                    suppress: Vec::new(),
                },
            );
        }
    }
}

/// Read files and directories into an inventory, with every problem found.
///
/// A file named on the command line must be a manifest. In a directory, a `kustomization.yaml`
/// (or `.yml`, or `Kustomization`) decides what is read: the files and directories of its
/// `resources:` list, nothing else. Without one, every regular `*.yaml`/`*.yml` file below it is
/// read in sorted order, and a file in which no document has a `kind` (Helm values, configs) is
/// skipped and recorded in [`Inventory::skipped_files`]. Symbolic links to directories are never
/// followed, and no directory is entered twice, so a walk always ends.
pub fn load_paths(files: &mut Files, paths: &[Utf8PathBuf]) -> (Inventory, Vec<Diagnostic>) {
    let mut inv = Inventory::default();
    let mut diags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        let mut list = Vec::new();
        if p.is_dir() {
            walk(files, p, &mut list, &mut seen, &mut inv, &mut diags);
        } else {
            list.push((p.clone(), true));
        }
        for (f, explicit) in list {
            match crate::input::read_to_string(f.as_std_path(), crate::input::MANIFEST_LIMIT) {
                Ok(text) => load_file(files, &mut inv, &mut diags, f.as_str(), &text, explicit),
                Err(e) => diags.push(e.diagnostic()),
            }
        }
    }
    (inv, diags)
}

/// File names kustomize looks for in a directory, in its order.
const KUSTOMIZATION: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The part of a kustomization the audit honours.
#[derive(Deserialize)]
struct Kustomization {
    #[serde(default)]
    resources: Option<Vec<String>>,
}

/// Collect the files to read below `dir` as (path, named explicitly by a kustomization).
fn walk(
    files: &mut Files,
    dir: &Utf8Path,
    out: &mut Vec<(Utf8PathBuf, bool)>,
    seen: &mut std::collections::HashSet<std::path::PathBuf>,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
) {
    // The canonical path identifies a directory however it is reached (`..`, kustomization
    // cycles), so none is entered twice.
    match dir.as_std_path().canonicalize() {
        Ok(c) => {
            if !seen.insert(c) {
                return;
            }
        }
        Err(e) => {
            diags.push(Diagnostic::new(
                Code::IoError,
                format!("cannot read directory `{dir}`: {e}"),
            ));
            return;
        }
    }
    if let Some(k) = KUSTOMIZATION
        .iter()
        .map(|n| dir.join(n))
        .find(|k| k.is_file())
    {
        kustomization(files, &k, dir, out, seen, inv, diags);
        return;
    }
    let entries = match dir.read_dir_utf8() {
        Ok(rd) => rd.collect::<Result<Vec<_>, _>>(),
        Err(e) => Err(e),
    };
    let mut entries = match entries {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::new(
                Code::IoError,
                format!("cannot read directory `{dir}`: {e}"),
            ));
            return;
        }
    };
    entries.sort_by(|a, b| a.file_name().cmp(b.file_name()));
    for e in entries {
        let path = e.path();
        // `file_type` does not follow symbolic links: a link to a directory is not entered.
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(files, path, out, seen, inv, diags);
        } else if matches!(path.extension(), Some("yaml" | "yml")) {
            let regular = if ft.is_symlink() {
                path.metadata().is_ok_and(|m| m.is_file())
            } else {
                ft.is_file()
            };
            if regular {
                out.push((path.to_owned(), false));
            }
        }
    }
}

/// Read a kustomization's `resources:` and collect what it lists (remote resources are noted).
fn kustomization(
    files: &mut Files,
    k: &Utf8Path,
    dir: &Utf8Path,
    out: &mut Vec<(Utf8PathBuf, bool)>,
    seen: &mut std::collections::HashSet<std::path::PathBuf>,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
) {
    let text = match crate::input::read_to_string(k.as_std_path(), crate::input::MANIFEST_LIMIT) {
        Ok(t) => t,
        Err(e) => {
            diags.push(e.diagnostic());
            return;
        }
    };
    let file = files.add(k.as_str(), text.as_str());
    let parsed: Result<Kustomization, _> = serde_saphyr::from_str_with_options(&text, options());
    let resources = match parsed {
        Ok(kz) => kz.resources.unwrap_or_default(),
        Err(e) => {
            let files: &Files = files;
            diags.push(
                syntax_error(files, file, &e)
                    .with_help("fix the kustomization: `resources:` is a list of paths"),
            );
            return;
        }
    };
    for r in resources {
        if r.contains("://") || r.starts_with("github.com/") {
            inv.skipped_files
                .push(format!("{r} (remote resource of `{k}`)"));
            continue;
        }
        let path = dir.join(&r);
        if path.is_dir() {
            walk(files, &path, out, seen, inv, diags);
        } else {
            out.push((path, true));
        }
    }
}

/// Read one file; a file found by walking a directory in which no document has a `kind` is not a
/// manifest and is skipped (recorded in [`Inventory::skipped_files`]) instead of reported.
fn load_file(
    files: &mut Files,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
    name: &str,
    text: &str,
    explicit: bool,
) {
    if explicit {
        load_str(files, inv, diags, name, text);
        return;
    }
    let mut part = Inventory::default();
    let mut d = Vec::new();
    let kinds = load_str_counted(files, &mut part, &mut d, name, text);
    if kinds.with_kind == 0 && kinds.without_kind > 0 {
        inv.skipped_files.push(format!(
            "{name} (not a Kubernetes manifest: no document has a `kind`)"
        ));
        return;
    }
    diags.extend(d);
    inv.merge(part);
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: usize::MAX,
            max_nodes: usize::MAX,
            max_events: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
            max_reader_input_bytes: None,
        },
    }
}

/// Read one multi-document YAML text into the inventory.
pub fn load_str(
    files: &mut Files,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
    name: &str,
    text: &str,
) {
    load_str_counted(files, inv, diags, name, text);
}

/// How many top-level documents of a text have a `kind` and how many (non-empty ones) do not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct KindCount {
    with_kind: usize,
    without_kind: usize,
}

impl KindCount {
    fn add(&mut self, o: KindCount) {
        self.with_kind += o.with_kind;
        self.without_kind += o.without_kind;
    }
}

fn load_str_counted(
    files: &mut Files,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
    name: &str,
    text: &str,
) -> KindCount {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    load_str_split(files, inv, diags, name, text, threads, 1 << 20)
}

/// [`load_str`] with the text cut at document boundaries into up to `parts` pieces when it is at
/// least `min_split` bytes long, each piece parsed on its own thread. A piece is parsed behind a
/// blank copy of everything before it (newlines kept, other bytes as spaces), so every line,
/// column and byte offset is the one of the whole file; results are merged in file order.
fn load_str_split(
    files: &mut Files,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
    name: &str,
    text: &str,
    parts: usize,
    min_split: usize,
) -> KindCount {
    let file = files.add(name, text);
    let files: &Files = files;
    let cuts = if text.len() >= min_split {
        split_points(text, parts)
    } else {
        vec![0]
    };
    if cuts.len() == 1 {
        return load_piece(files, file, text, inv, diags);
    }
    let bounds: Vec<(usize, usize)> = cuts
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, cuts.get(i + 1).copied().unwrap_or(text.len())))
        .collect();
    let results: Vec<(Inventory, Vec<Diagnostic>, KindCount)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .iter()
            .map(|&(a, b)| {
                scope.spawn(move || {
                    let mut padded = String::with_capacity(b);
                    padded.extend(text.as_bytes()[..a].iter().map(|&c| {
                        if c == b'\n' {
                            '\n'
                        } else {
                            ' '
                        }
                    }));
                    padded.push_str(&text[a..b]);
                    let mut part = Inventory::default();
                    let mut d = Vec::new();
                    let k = load_piece(files, file, &padded, &mut part, &mut d);
                    (part, d, k)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("parser thread"))
            .collect()
    });
    let mut kinds = KindCount::default();
    for (part, d, k) in results {
        diags.extend(d);
        inv.merge(part);
        kinds.add(k);
    }
    kinds
}

/// Byte offsets where pieces start: 0, then the `---` line at or after each even share.
fn split_points(text: &str, parts: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    for i in 1..parts.max(1) {
        let target = (text.len() * i / parts).max(cuts[cuts.len() - 1] + 1);
        let mut from = target.min(text.len());
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let Some(rel) = text[from..].find("\n---") else {
            break;
        };
        let at = from + rel + 1;
        let after = text.as_bytes().get(at + 3).copied();
        if matches!(after, None | Some(b' ' | b'\n' | b'\r' | b'\t')) {
            cuts.push(at);
        }
    }
    cuts.dedup();
    cuts
}

fn load_piece(
    files: &Files,
    file: FileId,
    text: &str,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
) -> KindCount {
    let mut kinds = KindCount::default();
    let docs = match serde_saphyr::from_multiple_with_options::<Spanned<Node>>(text, options()) {
        Ok(d) => d,
        Err(e) => {
            diags.push(syntax_error(files, file, &e));
            // Unparsable text may be meant as a manifest: never skip it silently.
            kinds.with_kind += 1;
            return kinds;
        }
    };
    for doc in &docs {
        if str_field(&doc.value, "kind").is_some() {
            kinds.with_kind += 1;
        } else if !matches!(doc.value, Node::Null) {
            kinds.without_kind += 1;
        }
        load_object(files, file, inv, diags, doc, true);
    }
    kinds
}

fn offset(files: &Files, file: FileId, loc: &Location) -> usize {
    if *loc == Location::UNKNOWN {
        return 0;
    }
    let start = match loc.span().byte_offset() {
        Some(b) => b as usize,
        None => files.offset_of(file, loc.line() as usize, loc.column() as usize),
    };
    start.min(files.source(file).len())
}

fn syntax_error(files: &Files, file: FileId, e: &serde_saphyr::Error) -> Diagnostic {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let msg = first.find(" at line ").map_or(first, |i| &first[..i]);
    let at = e.location().map_or(0, |l| offset(files, file, &l));
    Diagnostic::new(Code::YamlSyntax, format!("invalid YAML: {msg}"))
        .with_label(file, at..at, "here")
        .with_help("fix the YAML syntax at the marked place")
}

fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Spanned<Node>> {
    match node {
        Node::Map(entries) => entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v),
        _ => None,
    }
}

fn str_field<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    match field(node, key).map(|v| &v.value) {
        Some(Node::Str(s)) => Some(s),
        _ => None,
    }
}

/// Convert a node to JSON without an index (cheap path for non-policy objects).
fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::from(*i),
        Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(items.iter().map(|i| to_json(&i.value)).collect()),
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.value.clone(), to_json(&v.value)))
                .collect(),
        ),
    }
}

fn load_object(
    files: &Files,
    file: FileId,
    inv: &mut Inventory,
    diags: &mut Vec<Diagnostic>,
    doc: &Spanned<Node>,
    top: bool,
) {
    let at = offset(files, file, &doc.defined);
    let loc = Loc { file, offset: at };
    let invalid = |msg: String| {
        Diagnostic::new(Code::InvalidManifest, msg)
            .with_label(file, at..at, "this object")
            .with_help("fix the object so that it matches its Kubernetes schema")
    };
    if matches!(doc.value, Node::Null) {
        return;
    }
    let Some(kind) = str_field(&doc.value, "kind") else {
        diags.push(invalid("object without a `kind`".into()));
        return;
    };
    if kind == "List" && top {
        match field(&doc.value, "items").map(|v| &v.value) {
            Some(Node::Seq(items)) => {
                for item in items {
                    load_object(files, file, inv, diags, item, false);
                }
            }
            Some(Node::Null) | None => {}
            Some(_) => diags.push(invalid("`items` of a List must be a sequence".into())),
        }
        return;
    }
    let meta = field(&doc.value, "metadata").map(|m| &m.value);
    let name = meta
        .and_then(|m| str_field(m, "name"))
        .unwrap_or("")
        .to_string();
    let namespace = meta
        .and_then(|m| str_field(m, "namespace"))
        .unwrap_or("default")
        .to_string();
    let annotations: Labels = meta
        .and_then(|m| field(m, "annotations"))
        .and_then(|a| serde_json::from_value(to_json(&a.value)).ok())
        .unwrap_or_default();
    let suppress = parse_suppressions(&annotations, kind, &name, loc, diags);
    match kind {
        "NetworkPolicy" => {
            let document = Document::new(files, file, doc);
            match NetworkPolicy::deserialize(&document.json) {
                Ok(policy) => {
                    inv.touch_namespace(&namespace);
                    inv.policies.push(PolicyObject {
                        namespace,
                        name,
                        policy,
                        doc: document,
                        loc,
                        suppress,
                    });
                }
                Err(e) => diags.push(invalid(format!(
                    "NetworkPolicy `{name}` does not parse: {e}"
                ))),
            }
        }
        "Namespace" => {
            let labels: Labels = meta
                .and_then(|m| field(m, "labels"))
                .map(|l| serde_json::from_value(to_json(&l.value)))
                .transpose()
                .unwrap_or_else(|e| {
                    diags.push(invalid(format!(
                        "labels of Namespace `{name}` do not parse: {e}"
                    )));
                    None
                })
                .unwrap_or_default();
            let mut problems: Vec<String> = super::names::dns_label(&name)
                .err()
                .map(|e| format!("Namespace name `{name}` {e}"))
                .into_iter()
                .collect();
            problems.extend(super::names::labels(&labels).into_iter().map(|(_, m)| m));
            if !problems.is_empty() {
                for p in problems {
                    diags.push(invalid(p));
                }
                return;
            }
            let mut labels = labels;
            labels.insert(NAME_LABEL.into(), name.clone());
            inv.namespaces.insert(
                name.clone(),
                Namespace {
                    name,
                    labels,
                    loc: Some(loc),
                    suppress,
                },
            );
        }
        "Pod" | "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" => {
            let json = to_json(&doc.value);
            match pod_template(kind, &json) {
                Ok((labels, spec)) => {
                    let mut problems = Vec::new();
                    if let Err(e) = super::names::dns_label(&namespace) {
                        problems.push(format!("namespace `{namespace}` {e}"));
                    }
                    if let Err(e) = super::names::dns_subdomain(&name) {
                        problems.push(format!("name `{name}` {e}"));
                    }
                    problems.extend(super::names::labels(&labels).into_iter().map(|(_, m)| m));
                    let ports = container_ports(spec.as_ref(), &mut problems);
                    if !problems.is_empty() {
                        for p in problems {
                            diags.push(invalid(format!("{kind} `{name}`: {p}")));
                        }
                        return;
                    }
                    inv.touch_namespace(&namespace);
                    inv.endpoints.push(Endpoint {
                        kind: kind.into(),
                        namespace,
                        name,
                        labels,
                        ports,
                        loc,
                        suppress,
                    });
                }
                Err(e) => diags.push(invalid(format!("{kind} `{name}` does not parse: {e}"))),
            }
        }
        other => *inv.skipped.entry(other.to_string()).or_default() += 1,
    }
}

type Template = (Labels, Option<PodSpec>);

fn pod_template(kind: &str, json: &serde_json::Value) -> Result<Template, serde_json::Error> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    let from_template = |t: PodTemplateSpec| {
        (
            t.metadata.and_then(|m| m.labels).unwrap_or_default(),
            t.spec,
        )
    };
    let v = json;
    Ok(match kind {
        "Pod" => {
            let p = core::Pod::deserialize(v)?;
            (p.metadata.labels.unwrap_or_default(), p.spec)
        }
        "Deployment" => from_template(apps::Deployment::deserialize(v)?.spec.template),
        "StatefulSet" => from_template(apps::StatefulSet::deserialize(v)?.spec.template),
        "DaemonSet" => from_template(apps::DaemonSet::deserialize(v)?.spec.template),
        "ReplicaSet" => from_template(
            apps::ReplicaSet::deserialize(v)?
                .spec
                .template
                .unwrap_or_default(),
        ),
        "Job" => from_template(
            batch::Job::deserialize(v)?
                .spec
                .unwrap_or_default()
                .template,
        ),
        "CronJob" => from_template(
            batch::CronJob::deserialize(v)?
                .spec
                .job_template
                .spec
                .unwrap_or_default()
                .template,
        ),
        _ => unreachable!("caller matched the kind"),
    })
}

/// The container ports (of containers and sidecars); ports the API server would reject are
/// described in `problems` and left out.
fn container_ports(spec: Option<&PodSpec>, problems: &mut Vec<String>) -> Vec<ContainerPort> {
    let mut out = Vec::new();
    let Some(spec) = spec else { return out };
    // Sidecars (init containers with restartPolicy Always) serve ports like containers do.
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    for c in spec.containers.iter().chain(sidecars) {
        for p in c.ports.iter().flatten() {
            let protocol = match super::intervals::protocol_field(p.protocol.as_deref()) {
                Ok(p) => p,
                Err(e) => {
                    problems.push(format!("container `{}`: {e}", c.name));
                    continue;
                }
            };
            if let Some(Err(e)) = p.name.as_deref().map(super::names::port_name) {
                problems.push(format!(
                    "container `{}`: port name `{}` {e}",
                    c.name,
                    p.name.as_deref().unwrap_or_default()
                ));
                continue;
            }
            match u16::try_from(p.container_port) {
                Ok(port) if port > 0 => out.push(ContainerPort {
                    name: p.name.clone(),
                    port,
                    protocol,
                }),
                _ => problems.push(format!(
                    "container `{}`: containerPort {} is outside 1-65535",
                    c.name, p.container_port
                )),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn parse_suppressions(
    annotations: &Labels,
    kind: &str,
    name: &str,
    loc: Loc,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Suppression> {
    let Some(text) = annotations.get(SUPPRESS_ANNOTATION) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // One entry per line; a reason may contain anything, including `;` and `:`.
    for entry in text.lines().map(str::trim).filter(|e| !e.is_empty()) {
        let (code, reason) = entry
            .split_once(':')
            .map_or((entry, ""), |(c, r)| (c.trim(), r.trim()));
        let bad = |msg: String| {
            Diagnostic::new(Code::InvalidSuppression, msg)
                .with_label(loc.file, loc.offset..loc.offset, "on this object")
                .with_help(format!(
                    "write `{SUPPRESS_ANNOTATION}: \"<code>: <reason>\"`, one per line"
                ))
        };
        match code.parse::<Code>() {
            Err(_) => diags.push(bad(format!(
                "{kind} `{name}` suppresses unknown code `{code}`"
            ))),
            Ok(_) if reason.is_empty() => diags.push(bad(format!(
                "{kind} `{name}` suppresses `{code}` without a reason"
            ))),
            Ok(code) => out.push(Suppression {
                code,
                reason: reason.to_string(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Inventory, Vec<Diagnostic>) {
        let mut files = Files::new();
        let mut inv = Inventory::default();
        let mut diags = Vec::new();
        load_str(&mut files, &mut inv, &mut diags, "t.yaml", text);
        (inv, diags)
    }

    #[test]
    fn reads_streams_lists_and_workloads() {
        let (inv, diags) = load(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: x, labels: {app: a}}\n  spec: {containers: [{name: c, ports: [{containerPort: 80, name: http}]}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ya}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(inv.endpoints.len(), 2);
        assert_eq!(inv.endpoints[0].ports[0].name.as_deref(), Some("http"));
        assert_eq!(inv.endpoints[1].ports[0].protocol, Protocol::Udp);
        assert_eq!(inv.skipped.get("Service"), Some(&1));
        assert_eq!(
            inv.namespaces["x"]
                .labels
                .get(NAME_LABEL)
                .map(String::as_str),
            Some("x")
        );
    }

    #[test]
    fn bad_objects_and_suppressions_are_reported() {
        let (_, diags) = load(
            "kind: Pod\nmetadata: {name: a, annotations: {airguard.io/suppress: \"pod-not-isolated-ingress\"}}\nspec: {containers: 3}\n",
        );
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::InvalidSuppression, Code::InvalidManifest]);
    }

    #[test]
    fn split_parsing_gives_the_same_inventory_and_locations() {
        let p = crate::audit::synth::Params {
            namespaces: 5,
            pods: 60,
            policies: 15,
            default_deny_percent: 50,
            apps: 3,
            wide_peers_percent: 50,
            nca_safe: false,
            seed: 3,
        };
        let mut text = crate::audit::synth::generate(&p);
        // A broken object in the middle must be reported at the same place either way.
        let mid = text.len() / 2;
        let at = mid + text[mid..].find("\n---").unwrap() + 1;
        text.insert_str(
            at,
            "---\nkind: Pod\nmetadata: {name: broken}\nspec: {containers: 5}\n",
        );
        let run = |parts| {
            let mut files = Files::new();
            let mut inv = Inventory::default();
            let mut diags = Vec::new();
            load_str_split(&mut files, &mut inv, &mut diags, "t.yaml", &text, parts, 0);
            let eps: Vec<(String, usize)> = inv
                .endpoints
                .iter()
                .map(|e| (e.id(), e.loc.offset))
                .collect();
            let pols: Vec<(String, usize, std::ops::Range<usize>)> = inv
                .policies
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.loc.offset,
                        p.doc.locate("/spec/podSelector"),
                    )
                })
                .collect();
            let ns: Vec<(String, bool)> = inv
                .namespaces
                .values()
                .map(|n| (n.name.clone(), n.loc.is_some()))
                .collect();
            let d: Vec<(Code, Option<std::ops::Range<usize>>)> = diags
                .iter()
                .map(|d| (d.code, d.label.as_ref().map(|l| l.range.clone())))
                .collect();
            (eps, pols, ns, d)
        };
        assert_eq!(split_points(&text, 3).len(), 3, "the text is really split");
        let whole = run(1);
        assert_eq!(whole.3.len(), 1, "the broken pod is reported");
        for parts in [2, 3, 7] {
            assert_eq!(run(parts), whole, "{parts} parts");
        }
    }
}
