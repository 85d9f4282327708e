//! The connectivity map as a Graphviz digraph: one cluster per namespace, external ranges as
//! boxes, one edge per allowed pair labelled with its connections.

use super::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

fn quote(s: &str) -> String {
    let s = crate::text::visible(s);
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Render the map as DOT.
pub fn render(r: &Report<'_>) -> String {
    let mut s =
        String::from("digraph airguard {\n  rankdir=LR;\n  node [shape=ellipse, fontsize=10];\n");
    let mut by_ns: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for e in &r.analysis.inv.endpoints {
        by_ns.entry(e.namespace.as_str()).or_default().push(e.id());
    }
    for (i, (ns, ids)) in by_ns.iter_mut().enumerate() {
        ids.sort();
        ids.dedup();
        let _ = writeln!(s, "  subgraph cluster_{i} {{\n    label={};", quote(ns));
        for id in ids.iter() {
            let short = id.split_once('/').map_or(id.as_str(), |x| x.1);
            let _ = writeln!(s, "    {} [label={}];", quote(id), quote(short));
        }
        s.push_str("  }\n");
    }
    let ids: std::collections::BTreeSet<String> =
        r.analysis.inv.endpoints.iter().map(|e| e.id()).collect();
    let mut ext: Vec<&str> = r
        .rows
        .iter()
        .flat_map(|x| [&*x.src, &*x.dst])
        .filter(|n| !ids.contains(*n))
        .collect();
    ext.sort();
    ext.dedup();
    for n in ext {
        // A class of several endpoints (`{a b}`) or an external address range.
        let style = if n.starts_with('{') {
            "shape=box, style=rounded"
        } else {
            "shape=box, style=dashed"
        };
        let _ = writeln!(s, "  {} [{style}];", quote(n));
    }
    for x in r.rows {
        let _ = writeln!(
            s,
            "  {} -> {} [label={}];",
            quote(&x.src),
            quote(&x.dst),
            quote(&x.conns.to_string())
        );
    }
    s.push_str("}\n");
    s
}
