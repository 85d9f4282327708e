//! The connectivity matrix (sources × destinations, ports in the cells, flows the spec does not
//! declare highlighted, declared flows the policies block marked) and the flow table (one row
//! per matrix cell). Up to [`CLASS_LIMIT`] nodes the matrix is class by class; above it, group
//! by group (each cell counts the class pairs), while the flow table always lists every pair.

use super::model::{Cell, Group, Model, Node};
use crate::text::html_escape as esc;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The most nodes drawn as a class-by-class matrix.
pub const CLASS_LIMIT: usize = 80;

fn state(c: &Cell) -> &'static str {
    match (c.blocked.is_empty(), c.undeclared.is_empty()) {
        (false, _) => "c b",
        (true, false) => "c u",
        (true, true) => "c",
    }
}

fn tooltip(src: &str, dst: &str, c: &Cell) -> String {
    let mut t = format!("{src} → {dst}: ");
    t.push_str(c.allowed.as_deref().map_or("nothing allowed", |a| a));
    if !c.undeclared.is_empty() {
        let _ = write!(t, "; not declared: {}", c.undeclared.join(", "));
    }
    if !c.blocked.is_empty() {
        let _ = write!(t, "; declared but blocked: {}", c.blocked.join(", "));
    }
    t
}

fn cell_text(c: &Cell) -> String {
    let mut s = c.allowed.as_deref().map(esc).unwrap_or_default();
    for b in &c.blocked {
        if !s.is_empty() {
            s.push_str("<br>");
        }
        let _ = write!(s, "✕ {}", esc(b));
    }
    s
}

/// The matrix section's body.
pub fn matrix(m: &Model, out: &mut String) {
    if m.nodes.is_empty() {
        out.push_str("<p class=\"muted\">No endpoints.</p>\n");
        return;
    }
    if m.nodes.len() <= CLASS_LIMIT {
        class_matrix(m, out);
    } else {
        group_matrix(m, out);
    }
    out.push_str(
        "<p class=\"legend\"><span class=\"sw c\"></span> allowed (ports in the cell) \
         <span class=\"sw u\"></span> allowed, not declared by the spec \
         <span class=\"sw b\"></span> ✕ declared by the spec, blocked by the policies</p>\n",
    );
}

fn class_matrix(m: &Model, out: &mut String) {
    out.push_str("<div class=\"scroll\"><table id=\"mx\" class=\"mx\">\n<thead><tr><th class=\"corner\">from ↓ to →</th>");
    for n in &m.nodes {
        let _ = write!(
            out,
            "<th class=\"col\" data-ns=\"{}\" title=\"{}\"><span>{}</span></th>",
            esc(&n.ns_attr()),
            esc(&n.title()),
            esc(&n.short)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (i, n) in m.nodes.iter().enumerate() {
        let _ = write!(
            out,
            "<tr data-ns=\"{}\"><th class=\"row\" title=\"{}\">{}</th>",
            esc(&n.ns_attr()),
            esc(&n.title()),
            esc(&n.short)
        );
        for (j, d) in m.nodes.iter().enumerate() {
            match m.cells.get(&(i, j)) {
                Some(c) => {
                    let _ = write!(
                        out,
                        "<td class=\"{}\" data-src=\"{}\" data-dst=\"{}\" title=\"{}\">{}</td>",
                        state(c),
                        esc(&n.short),
                        esc(&d.short),
                        esc(&tooltip(&n.short, &d.short, c)),
                        cell_text(c)
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

fn group_matrix(m: &Model, out: &mut String) {
    let groups: Vec<&Group> = {
        let mut g: Vec<&Group> = m.nodes.iter().map(|n| &n.group).collect();
        g.dedup();
        g
    };
    let at: BTreeMap<&Group, usize> = groups.iter().enumerate().map(|(i, g)| (*g, i)).collect();
    // (pairs, undeclared, blocked) per group pair.
    let mut agg: BTreeMap<(usize, usize), (usize, usize, usize)> = BTreeMap::new();
    for (&(s, d), c) in &m.cells {
        let key = (at[&m.nodes[s].group], at[&m.nodes[d].group]);
        let e = agg.entry(key).or_default();
        e.0 += usize::from(c.allowed.is_some());
        e.1 += usize::from(!c.undeclared.is_empty());
        e.2 += usize::from(!c.blocked.is_empty());
    }
    let ns = |g: &Group| match g {
        Group::Ns(n) => esc(n),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} classes and ranges are too many for one class-by-class matrix: \
         rows and columns are namespaces, each cell counts the allowed class pairs. The flow \
         table below lists every pair.</p>",
        m.nodes.len()
    );
    out.push_str("<div class=\"scroll\"><table id=\"mx\" class=\"mx\">\n<thead><tr><th class=\"corner\">from ↓ to →</th>");
    for g in &groups {
        let _ = write!(
            out,
            "<th class=\"col\" data-ns=\"{}\"><span>{}</span></th>",
            ns(g),
            esc(g.title())
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (i, g) in groups.iter().enumerate() {
        let _ = write!(
            out,
            "<tr data-ns=\"{}\"><th class=\"row\">{}</th>",
            ns(g),
            esc(g.title())
        );
        for (j, h) in groups.iter().enumerate() {
            match agg.get(&(i, j)) {
                Some(&(n, u, b)) => {
                    let class = if b > 0 {
                        "c b"
                    } else if u > 0 {
                        "c u"
                    } else {
                        "c"
                    };
                    let _ = write!(
                        out,
                        "<td class=\"{class}\" title=\"{} → {}: {n} allowed class pairs, {u} not declared, {b} blocked\">{n}{}</td>",
                        esc(g.title()),
                        esc(h.title()),
                        if b > 0 { format!("<br>✕ {b}") } else { String::new() }
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// A `title` attribute listing a class's members, when its short name does not say them all.
fn title_attr(n: &Node) -> String {
    if n.members.len() > 1 {
        format!(" title=\"{}\"", esc(&n.title()))
    } else {
        String::new()
    }
}

/// The flow table: one row per cell, in matrix order.
pub fn flows(m: &Model, out: &mut String) {
    if m.cells.is_empty() {
        out.push_str("<p class=\"muted\">No connection is allowed.</p>\n");
        return;
    }
    out.push_str("<div class=\"scroll tall\"><table id=\"flows\" class=\"flows\">\n<thead><tr><th>from</th><th>to</th><th>allowed</th><th>spec</th></tr></thead>\n<tbody>\n");
    for (&(s, d), c) in &m.cells {
        let (src, dst) = (&m.nodes[s], &m.nodes[d]);
        let mut ns = src.namespaces.clone();
        ns.extend(dst.namespaces.iter().cloned());
        ns.sort();
        ns.dedup();
        let mut spec = String::new();
        if !c.undeclared.is_empty() {
            let _ = write!(
                spec,
                "<span class=\"tag u\">not declared: {}</span>",
                esc(&c.undeclared.join(", "))
            );
        }
        if !c.blocked.is_empty() {
            let _ = write!(
                spec,
                "<span class=\"tag b\">✕ blocked: {}</span>",
                esc(&c.blocked.join(", "))
            );
        }
        let _ = writeln!(
            out,
            "<tr data-ns=\"{}\"><td{}>{}</td><td{}>{}</td><td>{}</td><td>{spec}</td></tr>",
            esc(&ns.join(" ")),
            title_attr(src),
            esc(&src.short),
            title_attr(dst),
            esc(&dst.short),
            c.allowed.as_deref().map_or(String::from("—"), esc),
        );
    }
    out.push_str("</tbody></table></div>\n");
}
