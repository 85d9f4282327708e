//! What the HTML report draws, computed once from the [`Report`]: the nodes (endpoint classes
//! and external address ranges, in a fixed order), the cells of the class-level connectivity
//! matrix with their intent state (flows the spec does not declare, declared flows the policies
//! block, read from the `--spec` findings), and the namespaces each finding concerns (for the
//! page's namespace filter). Pure and deterministic: every collection is ordered.

use super::super::Report;
use crate::audit::intent;
use crate::diag::Diagnostic;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where a node is drawn: in its namespace, among classes spanning several, or outside.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Every member is in this namespace.
    Ns(String),
    /// A class whose members are in several namespaces.
    Mixed,
    /// An external address range.
    External,
}

impl Group {
    /// The group's heading.
    pub fn title(&self) -> &str {
        match self {
            Group::Ns(n) => n,
            Group::Mixed => "several namespaces",
            Group::External => "external",
        }
    }
}

/// One row and column of the matrix: an endpoint class or an external range.
pub struct Node {
    /// As the class-level map writes it (`ns/name`, `{ns/a ns/b}`, or a range).
    pub label: String,
    /// Short display name: `ns/name`, `ns/first +N`, or the range. Unique, as classes do not
    /// share members.
    pub short: String,
    /// Where it is drawn.
    pub group: Group,
    /// Namespaces of its members, sorted (empty for a range).
    pub namespaces: Vec<String>,
    /// Member ids, sorted (empty for a range).
    pub members: Vec<String>,
}

impl Node {
    /// A tooltip naming it: the label, or the first members of a large class.
    pub fn title(&self) -> String {
        const SHOWN: usize = 12;
        if self.members.len() <= SHOWN {
            return self.label.clone();
        }
        format!(
            "{} … and {} more",
            self.members[..SHOWN].join(" "),
            self.members.len() - SHOWN
        )
    }

    /// The namespaces as one `data-ns` attribute value.
    pub fn ns_attr(&self) -> String {
        self.namespaces.join(" ")
    }
}

/// One (source, destination) cell.
#[derive(Default)]
pub struct Cell {
    /// What the policies allow, when anything.
    pub allowed: Option<String>,
    /// Connections allowed that the spec does not declare (one entry per finding).
    pub undeclared: Vec<String>,
    /// Declared connections the policies block (one entry per finding).
    pub blocked: Vec<String>,
}

/// The report's drawable data.
pub struct Model {
    /// Nodes: namespaces in order, then classes spanning several, then external ranges.
    pub nodes: Vec<Node>,
    /// Non-empty cells by (source node, destination node).
    pub cells: BTreeMap<(usize, usize), Cell>,
    /// Every namespace, sorted.
    pub namespaces: Vec<String>,
}

impl Model {
    /// Build the model.
    pub fn new(r: &Report<'_>) -> Self {
        let a = r.analysis;
        let mut nodes: Vec<Node> = (0..a.classes.len() as u32)
            .map(|c| {
                let mut members: Vec<String> = a.classes[c as usize]
                    .members
                    .iter()
                    .map(|&m| a.inv.endpoints[m].id())
                    .collect();
                members.sort();
                let namespaces: BTreeSet<&str> = a.classes[c as usize]
                    .members
                    .iter()
                    .map(|&m| a.inv.endpoints[m].namespace.as_str())
                    .collect();
                let group = match namespaces.iter().collect::<Vec<_>>().as_slice() {
                    [one] => Group::Ns(one.to_string()),
                    _ => Group::Mixed,
                };
                let short = match members.as_slice() {
                    [one] => one.clone(),
                    [first, rest @ ..] => format!("{first} +{}", rest.len()),
                    [] => String::new(),
                };
                Node {
                    label: a.class_label(c),
                    short,
                    group,
                    namespaces: namespaces.into_iter().map(str::to_string).collect(),
                    members,
                }
            })
            .collect();
        let mut known: BTreeSet<String> = nodes.iter().map(|n| n.label.clone()).collect();
        let flows: Vec<(&Diagnostic, (&str, &str, &str))> = r
            .findings
            .active
            .iter()
            .filter_map(|d| intent::flow_of(d).map(|f| (d, f)))
            .collect();
        // Endpoint id -> its class's label, for the intent findings (which name endpoints).
        let class_of: HashMap<String, String> = if flows.is_empty() {
            HashMap::new()
        } else {
            a.inv
                .endpoints
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id(), nodes[a.class_of[i] as usize].label.clone()))
                .collect()
        };
        let end = |id: &str| class_of.get(id).cloned().unwrap_or_else(|| id.to_string());
        let external: BTreeSet<String> = r
            .rows
            .iter()
            .flat_map(|x| [&*x.src, &*x.dst])
            .map(str::to_string)
            .chain(flows.iter().flat_map(|(_, f)| [end(f.0), end(f.1)]))
            .filter(|l| !known.contains(l))
            .collect();
        for l in external {
            known.insert(l.clone());
            nodes.push(Node {
                short: l.clone(),
                label: l,
                group: Group::External,
                namespaces: Vec::new(),
                members: Vec::new(),
            });
        }
        nodes.sort_by(|x, y| (&x.group, &x.short, &x.label).cmp(&(&y.group, &y.short, &y.label)));
        let index: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.label.as_str(), i))
            .collect();
        let mut cells: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
        for x in r.rows {
            if let (Some(&s), Some(&d)) = (index.get(&*x.src), index.get(&*x.dst)) {
                cells.entry((s, d)).or_default().allowed = Some(x.conns.to_string());
            }
        }
        for (d, (src, dst, conns)) in &flows {
            let (Some(&s), Some(&t)) = (index.get(end(src).as_str()), index.get(end(dst).as_str()))
            else {
                continue;
            };
            let cell = cells.entry((s, t)).or_default();
            if d.code == crate::diag::Code::UndeclaredFlow {
                cell.undeclared.push(conns.to_string());
            } else {
                cell.blocked.push(conns.to_string());
            }
        }
        for c in cells.values_mut() {
            c.undeclared.sort();
            c.undeclared.dedup();
            c.blocked.sort();
            c.blocked.dedup();
        }
        let namespaces: BTreeSet<String> = a
            .inv
            .namespaces
            .keys()
            .cloned()
            .chain(a.inv.endpoints.iter().map(|e| e.namespace.clone()))
            .collect();
        Model {
            nodes,
            cells,
            namespaces: namespaces.into_iter().collect(),
        }
    }

    /// The namespaces a finding concerns: those of the ends of its flow, else of the
    /// `namespace/name` ids and namespace names its message quotes. Sorted, without repeats.
    pub fn namespaces_of(&self, d: &Diagnostic) -> Vec<String> {
        let quoted: Vec<&str> = match intent::flow_of(d) {
            Some((s, t, _)) => vec![s, t],
            None => d.message.split('`').skip(1).step_by(2).collect(),
        };
        let mut out: Vec<String> = quoted
            .into_iter()
            .filter_map(|q| {
                let ns = q.split_once('/').map_or(q, |x| x.0);
                self.namespaces
                    .binary_search_by(|n| n.as_str().cmp(ns))
                    .ok()
                    .map(|i| self.namespaces[i].clone())
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
