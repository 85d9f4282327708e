//! The spec as inventory and intent (`airguard audit --spec`): one synthetic endpoint per
//! topology endpoint, and the check that what the policies allow between them is exactly what
//! the spec declares.
//!
//! Endpoints are named `namespace/<endpoint id>` with the chart's real pod labels and container
//! ports. A pair is checked when at least one end is owned by airguard (unowned ends such as the
//! DNS pods or the ingress controller have no airguard policy). Allowed-but-undeclared
//! connections and declared-but-blocked ones become findings; external networks are compared
//! range by range, each allowed range against the union of the source's declared networks (per
//! port), so adjacent declared CIDRs cover their merged range together. This module does no IO.

use super::engine::Analysis;
use super::engine::Segment;
use super::intervals::{Conns, Family, IpSet};
use super::inventory::{ContainerPort, Endpoint, Inventory, Loc, Suppression};
use super::policy::Dir;
use crate::diag::{Code, Diagnostic, FileId};
use crate::spec::Document;
use crate::topology::{FlowPort, Target, Topology};
use std::collections::{BTreeMap, HashMap};

/// The kind given to synthetic endpoints.
pub const SPEC_KIND: &str = "spec component";

fn conns_of(ports: &[FlowPort]) -> Conns {
    if ports.is_empty() {
        return Conns::all();
    }
    let mut c = Conns::none();
    for p in ports {
        match p.range {
            None => c.add(&Conns::protocol(p.protocol)),
            Some(r) => c.add(&Conns::ports(p.protocol, r.start as u128, r.end as u128)),
        }
    }
    c
}

/// Add one endpoint per topology endpoint to the inventory; `loc` is where the spec starts.
pub fn add_endpoints(inv: &mut Inventory, topo: &Topology, loc: Loc) {
    for e in &topo.endpoints {
        inv.touch_namespace(&e.namespace);
        let mut ports: Vec<ContainerPort> = e
            .ports
            .iter()
            .map(|p| ContainerPort {
                name: Some(p.name.clone()),
                port: p.port,
                protocol: p.protocol,
            })
            .collect();
        ports.sort();
        // Pods of systems airguard does not manage (DNS, the ingress controller) are outside
        // its policies: say so as suppressions with a reason rather than dropping findings.
        let mut suppress = Vec::new();
        if !e.owned {
            let reason = format!("`{}` is not managed by airguard ({})", e.id, e.origin);
            for code in [Code::PodNotIsolatedIngress, Code::PodNotIsolatedEgress] {
                suppress.push(Suppression {
                    code,
                    reason: reason.clone(),
                });
            }
            if !topo
                .endpoints
                .iter()
                .any(|o| o.owned && o.namespace == e.namespace)
            {
                if let Some(ns) = inv.namespaces.get_mut(&e.namespace) {
                    if !ns
                        .suppress
                        .iter()
                        .any(|x| x.code == Code::NamespaceWithoutDefaultDeny)
                    {
                        ns.suppress.push(Suppression {
                            code: Code::NamespaceWithoutDefaultDeny,
                            reason: format!(
                                "namespace `{}` is not managed by airguard",
                                e.namespace
                            ),
                        });
                    }
                }
            }
        }
        inv.endpoints.push(Endpoint {
            kind: SPEC_KIND.into(),
            namespace: e.namespace.clone(),
            name: e.id.clone(),
            labels: e.pod_labels.clone(),
            ports,
            loc,
            suppress,
        });
    }
}

/// Compare the allowed connectivity between spec endpoints with the declared flows.
pub fn check(
    a: &Analysis<'_>,
    topo: &Topology,
    spec: FileId,
    doc: Option<&Document>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let index: HashMap<&str, usize> = a
        .inv
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == SPEC_KIND)
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    let allowed: HashMap<(u32, u32), u32> =
        a.map.pods.iter().map(|&(s, d, c)| ((s, d), c)).collect();
    let mut declared: BTreeMap<(&str, &str), (Conns, Vec<&str>)> = BTreeMap::new();
    let mut declared_ext: BTreeMap<&str, Vec<(IpSet, Conns, &str)>> = BTreeMap::new();
    for f in &topo.flows {
        match &f.to {
            Target::Endpoint(to) => {
                let e = declared
                    .entry((f.from.as_str(), to.as_str()))
                    .or_insert((Conns::none(), Vec::new()));
                e.0.add(&conns_of(&f.ports));
                e.1.push(f.origin.as_str());
            }
            Target::External(x) => {
                let mut set = IpSet::default();
                for c in &x.cidrs {
                    set = set.union(&IpSet::net(c));
                }
                for c in &x.except {
                    set = set.subtract(&IpSet::net(c));
                }
                declared_ext.entry(f.from.as_str()).or_default().push((
                    set,
                    conns_of(&f.ports),
                    f.origin.as_str(),
                ));
            }
        }
    }
    let at_spec = |origin: &str| -> std::ops::Range<usize> {
        let ptr = origin.split("; ").find(|o| o.starts_with('/'));
        match (doc, ptr) {
            (Some(d), Some(p)) => d.locate(p),
            _ => 0..0,
        }
    };
    for src in &topo.endpoints {
        for dst in &topo.endpoints {
            if src.id == dst.id || !(src.owned || dst.owned) {
                continue;
            }
            let (Some(&si), Some(&di)) = (index.get(src.id.as_str()), index.get(dst.id.as_str()))
            else {
                continue;
            };
            let (sc, dc) = (a.class_of[si], a.class_of[di]);
            let got = allowed
                .get(&(sc, dc))
                .map_or(Conns::none(), |&id| a.map.conns(id).clone());
            let (want, origins) = declared
                .get(&(src.id.as_str(), dst.id.as_str()))
                .cloned()
                .unwrap_or((Conns::none(), Vec::new()));
            let (s_id, d_id) = (a.inv.endpoints[si].id(), a.inv.endpoints[di].id());
            let extra = got.subtract(&want);
            if !extra.is_empty() {
                let mut d = Diagnostic::new(
                    Code::UndeclaredFlow,
                    format!("`{s_id}` -> `{d_id}` is allowed on {extra}, which the spec does not declare"),
                )
                .with_help("narrow the policy that allows it, or declare the flow in the spec");
                d = match culprit(a, sc, dc) {
                    Some((file, range, ptr)) => {
                        d.with_label(file, range, "allows it").with_path(ptr)
                    }
                    None => d.with_label(spec, 0..0, "").with_note(format!(
                        "`{d_id}` is not isolated for ingress and `{s_id}` not for egress"
                    )),
                };
                out.push(d);
            }
            let missing = want.subtract(&got);
            if !missing.is_empty() {
                let origin = origins.join("; ");
                out.push(
                    Diagnostic::new(
                        Code::BlockedDeclaredFlow,
                        format!("the spec declares `{s_id}` -> `{d_id}` on {missing}, but the policies block it"),
                    )
                    .with_label(spec, at_spec(&origin), "declared here")
                    .with_note(format!("declared by: {origin}"))
                    .with_help(format!("run `airguard audit --explain \"{s_id} {d_id} PORT/PROTO\"` to see which side denies it")),
                );
            }
        }
    }
    // External networks: compare, for each owned source, what it may reach outside the cluster.
    for src in topo.endpoints.iter().filter(|e| e.owned) {
        let Some(&si) = index.get(src.id.as_str()) else {
            continue;
        };
        let sc = a.class_of[si];
        let s_id = a.inv.endpoints[si].id();
        let decl = declared_ext
            .get(src.id.as_str())
            .cloned()
            .unwrap_or_default();
        let pieces = declared_pieces(&decl);
        for (seg, cid) in a
            .map
            .to_ext
            .iter()
            .filter(|x| x.0 == sc)
            .map(|x| (x.1, x.2))
        {
            let got = a.map.conns(cid);
            // Compare with the union of the declared sets: two adjacent declared networks
            // together declare a run that neither covers alone.
            for (lo, hi, extra) in undeclared_parts(&pieces, seg, got) {
                let label = super::intervals::range_to_string(seg.family, lo, hi);
                out.push(
                    Diagnostic::new(
                        Code::UndeclaredFlow,
                        format!(
                            "`{s_id}` -> {label} is allowed on {extra}, which the spec does not declare"
                        ),
                    )
                    .with_label(spec, 0..0, "")
                    .with_help("narrow the egress ipBlock, or declare the network in the spec"),
                );
            }
        }
        for (set, c, origin) in &decl {
            for fam in [Family::V4, Family::V6] {
                for &(lo, hi) in set.family(fam).ranges() {
                    let probe = Segment {
                        family: fam,
                        lo,
                        hi,
                    };
                    // Walk the allowed runs across the declared range: whatever part of
                    // it is uncovered, or covered with fewer ports, is blocked.
                    let mut runs: Vec<(u128, u128, &Conns)> = a
                        .map
                        .to_ext
                        .iter()
                        .filter(|x| x.0 == sc && x.1.family == fam && x.1.hi >= lo && x.1.lo <= hi)
                        .map(|x| (x.1.lo, x.1.hi, a.map.conns(x.2)))
                        .collect();
                    runs.sort_by_key(|r| r.0);
                    let mut missing = Conns::none();
                    let mut cur = Some(lo);
                    for (rlo, rhi, rc) in runs {
                        let Some(at) = cur else { break };
                        if rlo > at {
                            missing.add(c);
                        }
                        missing.add(&c.subtract(rc));
                        cur = if rhi >= hi { None } else { Some(rhi + 1) };
                    }
                    if cur.is_some() {
                        missing.add(c);
                    }
                    if !missing.is_empty() {
                        out.push(
                            Diagnostic::new(
                                Code::BlockedDeclaredFlow,
                                format!("the spec declares `{s_id}` -> {} on {missing}, but the policies block it", probe.label()),
                            )
                            .with_label(spec, at_spec(origin), "declared here")
                            .with_note(format!("declared by: {origin}")),
                        );
                    }
                }
            }
        }
    }
    out
}

/// The flow an `undeclared-flow` or `blocked-declared-flow` finding of [`check`] is about, read
/// back from its message: (source id, destination id or address range, connections). `None`
/// for any other finding.
pub fn flow_of(d: &Diagnostic) -> Option<(&str, &str, &str)> {
    let (ends, conns) = match d.code {
        Code::UndeclaredFlow => d
            .message
            .strip_suffix(", which the spec does not declare")?
            .split_once(" is allowed on ")?,
        Code::BlockedDeclaredFlow => d
            .message
            .strip_prefix("the spec declares ")?
            .strip_suffix(", but the policies block it")?
            .split_once(" on ")?,
        _ => return None,
    };
    let (src, dst) = ends.split_once(" -> ")?;
    Some((src.trim_matches('`'), dst.trim_matches('`'), conns))
}

/// The external space a source is declared to reach: sorted, disjoint `(family, first, last,
/// connections)` pieces, each with the union of the connections of every declared set covering
/// it. Addresses outside every piece are not declared at all.
fn declared_pieces(decl: &[(IpSet, Conns, &str)]) -> Vec<(Family, u128, u128, Conns)> {
    let mut out = Vec::new();
    for fam in [Family::V4, Family::V6] {
        // Every first address and every address after a last one starts a piece.
        let mut cuts: Vec<u128> = Vec::new();
        for (set, _, _) in decl {
            for &(lo, hi) in set.family(fam).ranges() {
                cuts.push(lo);
                if hi < fam.max() {
                    cuts.push(hi + 1);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut want = vec![Conns::none(); cuts.len()];
        for (set, c, _) in decl {
            for &(lo, hi) in set.family(fam).ranges() {
                let mut i = cuts.partition_point(|&x| x < lo);
                while i < cuts.len() && cuts[i] <= hi {
                    want[i].add(c);
                    i += 1;
                }
            }
        }
        for (i, w) in want.into_iter().enumerate() {
            if w.is_empty() {
                continue;
            }
            let hi = cuts.get(i + 1).map_or(fam.max(), |&next| next - 1);
            out.push((fam, cuts[i], hi, w));
        }
    }
    out
}

/// The parts of an allowed run `seg` (allowed on `got`) that the declared `pieces` do not
/// cover, with the connections left over; adjacent parts with the same leftover are merged.
fn undeclared_parts(
    pieces: &[(Family, u128, u128, Conns)],
    seg: Segment,
    got: &Conns,
) -> Vec<(u128, u128, Conns)> {
    let mut out: Vec<(u128, u128, Conns)> = Vec::new();
    let mut push = |lo: u128, hi: u128, extra: Conns| {
        if extra.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((_, last_hi, last)) if last_hi.checked_add(1) == Some(lo) && *last == extra => {
                *last_hi = hi
            }
            _ => out.push((lo, hi, extra)),
        }
    };
    let first = pieces.partition_point(|p| (p.0, p.2) < (seg.family, seg.lo));
    let mut cur = Some(seg.lo);
    for &(fam, lo, hi, ref want) in &pieces[first..] {
        let Some(at) = cur else { break };
        if fam != seg.family || lo > seg.hi {
            break;
        }
        if lo > at {
            push(at, lo - 1, got.clone());
        }
        let end = hi.min(seg.hi);
        push(lo.max(at), end, got.subtract(want));
        cur = if end >= seg.hi { None } else { Some(end + 1) };
    }
    if let Some(at) = cur {
        push(at, seg.hi, got.clone());
    }
    out
}

/// The first policy rule that allows `src` -> `dst`: the destination's ingress rule when it is
/// isolated, else the source's egress rule. Returns (file, range, JSON pointer).
fn culprit(
    a: &Analysis<'_>,
    src: u32,
    dst: u32,
) -> Option<(FileId, std::ops::Range<usize>, String)> {
    let pick = |c: u32, other: u32, dir: Dir| {
        a.rules_of(c, dir)
            .find(|(_, _, res)| res.has_class(other))
            .map(|(rr, r, _)| {
                let obj = &a.inv.policies[a.policies[rr.policy as usize].obj];
                (obj.doc.file, obj.doc.locate(&r.ptr), r.ptr.clone())
            })
    };
    if a.isolated(dst, Dir::Ingress) {
        pick(dst, src, Dir::Ingress)
    } else if a.isolated(src, Dir::Egress) {
        pick(src, dst, Dir::Egress)
    } else {
        None
    }
}
