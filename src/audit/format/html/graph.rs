//! The connectivity graph as inline SVG, laid out here (no script, no server): one column per
//! group (namespaces in order, then classes spanning several, then external ranges), classes as
//! boxes stacked in their column, flows as curved edges from the right side of the source to
//! the left side of the destination (or back, or looping within a column). Coordinates are
//! integers computed from the model's order alone, so the same input gives the same bytes. The
//! drawing shrinks to the page's width down to 70 % of its size, then scrolls.
//! Above [`NODE_LIMIT`] nodes or [`EDGE_LIMIT`] edges the graph is left out with a note (the
//! matrix and the flow table still show everything).

use super::model::{Group, Model};
use crate::text::html_escape as esc;
use std::fmt::Write;

/// The most nodes drawn.
pub const NODE_LIMIT: usize = 150;
/// The most edges drawn.
pub const EDGE_LIMIT: usize = 1500;

const W: i64 = 168;
const H: i64 = 24;
const VGAP: i64 = 8;
const INSET: i64 = 10;
const HEAD: i64 = 30;
const GAP: i64 = 84;
const PAD: i64 = 12;

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

/// The graph section's body.
pub fn graph(m: &Model, out: &mut String) {
    if m.nodes.is_empty() {
        out.push_str("<p class=\"muted\">No endpoints.</p>\n");
        return;
    }
    if m.nodes.len() > NODE_LIMIT || m.cells.len() > EDGE_LIMIT {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{} classes and ranges with {} flows are too many to draw \
             legibly (limits: {NODE_LIMIT} and {EDGE_LIMIT}); the matrix and the flow table \
             show them all, and <code>--format dot</code> writes a Graphviz graph.</p>",
            m.nodes.len(),
            m.cells.len()
        );
        return;
    }
    // Column and row of every node; groups in node order.
    let mut groups: Vec<(&Group, Vec<usize>)> = Vec::new();
    for (i, n) in m.nodes.iter().enumerate() {
        match groups.last_mut() {
            Some((g, v)) if *g == &n.group => v.push(i),
            _ => groups.push((&n.group, vec![i])),
        }
    }
    let col_w = W + 2 * INSET + GAP;
    let mut pos = vec![(0i64, 0i64, 0usize); m.nodes.len()];
    let mut tallest = 0;
    for (c, (_, members)) in groups.iter().enumerate() {
        for (k, &i) in members.iter().enumerate() {
            pos[i] = (
                PAD + c as i64 * col_w + INSET,
                PAD + HEAD + k as i64 * (H + VGAP),
                c,
            );
        }
        tallest = tallest.max(members.len() as i64);
    }
    let width = PAD * 2 + groups.len() as i64 * col_w - GAP;
    let group_h = HEAD + tallest * (H + VGAP) + INSET - VGAP;
    let height = PAD * 2 + group_h;
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><svg id=\"graph-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" style=\"width:100%;max-width:{width}px;min-width:{}px;height:auto\" role=\"img\" aria-label=\"connectivity graph\">",
        width * 7 / 10
    );
    out.push_str("<defs>");
    for (id, colour) in [("a", "#64748b"), ("u", "#d97706"), ("b", "#dc2626")] {
        let _ = write!(
            out,
            "<marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"{colour}\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
    for (c, (g, members)) in groups.iter().enumerate() {
        let x = PAD + c as i64 * col_w;
        let ns = match g {
            Group::Ns(n) => esc(n),
            _ => String::new(),
        };
        let kind = match g {
            Group::External => "grp ext",
            _ => "grp",
        };
        let h = HEAD + members.len() as i64 * (H + VGAP) + INSET - VGAP;
        let _ = writeln!(
            out,
            "<g class=\"{kind}\" data-ns=\"{ns}\"><rect x=\"{x}\" y=\"{PAD}\" width=\"{}\" height=\"{h}\" rx=\"8\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            W + 2 * INSET,
            x + INSET,
            PAD + 19,
            esc(&short(g.title(), 26))
        );
    }
    for (&(s, d), cell) in &m.cells {
        let (sx, sy, sc) = pos[s];
        let (dx, dy, dc) = pos[d];
        let (sy, dy) = (sy + H / 2, dy + H / 2);
        let path = if s == d {
            let x = sx + W;
            format!(
                "M{x},{} C{},{} {},{} {x},{}",
                sy - 6,
                x + 30,
                sy - 20,
                x + 30,
                sy + 20,
                sy + 6
            )
        } else if sc < dc {
            let (x1, x2) = (sx + W, dx);
            let k = ((x2 - x1) / 2).max(40);
            format!("M{x1},{sy} C{},{sy} {},{dy} {x2},{dy}", x1 + k, x2 - k)
        } else if sc > dc {
            let (x1, x2) = (sx, dx + W);
            let k = ((x1 - x2) / 2).max(40);
            format!("M{x1},{sy} C{},{sy} {},{dy} {x2},{dy}", x1 - k, x2 + k)
        } else {
            let x = sx + W;
            let k = 24 + (dy - sy).abs() / 5;
            format!("M{x},{sy} C{},{sy} {},{dy} {x},{dy}", x + k, x + k)
        };
        let (class, marker) = if !cell.blocked.is_empty() {
            ("edge b", "b")
        } else if !cell.undeclared.is_empty() {
            ("edge u", "u")
        } else {
            ("edge", "a")
        };
        let mut ns = m.nodes[s].namespaces.clone();
        ns.extend(m.nodes[d].namespaces.iter().cloned());
        ns.sort();
        ns.dedup();
        let what = match (&cell.allowed, cell.blocked.is_empty()) {
            (Some(a), true) => a.clone(),
            (Some(a), false) => format!("{a}; blocked: {}", cell.blocked.join(", ")),
            (None, _) => format!("blocked: {}", cell.blocked.join(", ")),
        };
        let _ = writeln!(
            out,
            "<path class=\"{class}\" data-ns=\"{}\" d=\"{path}\" marker-end=\"url(#arrow-{marker})\"><title>{} → {}: {}</title></path>",
            esc(&ns.join(" ")),
            esc(&m.nodes[s].short),
            esc(&m.nodes[d].short),
            esc(&what)
        );
    }
    for (i, n) in m.nodes.iter().enumerate() {
        let (x, y, _) = pos[i];
        let name = match &n.group {
            Group::Ns(ns) => n
                .short
                .strip_prefix(ns.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(&n.short),
            _ => &n.short,
        };
        let kind = if n.group == Group::External {
            "node ext"
        } else {
            "node"
        };
        let _ = writeln!(
            out,
            "<g class=\"{kind}\" data-ns=\"{}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"5\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            esc(&n.ns_attr()),
            esc(&n.title()),
            x + 8,
            y + 16,
            esc(&short(name, 25))
        );
    }
    out.push_str("</svg></div>\n");
}
