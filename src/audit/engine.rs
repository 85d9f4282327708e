//! The connectivity engine: who can reach whom, on which ports, with Kubernetes' semantics.
//!
//! Endpoints are grouped into equivalence classes by what policies can tell apart: the set of
//! distinct (namespace scope, pod selector) pairs of all policies that match them, and their
//! container ports. Two endpoints of a class are indistinguishable to every policy, whatever their
//! labels or namespace. Each selector is resolved once, through an index of label values per
//! namespace, and connectivity is computed per class pair: a connection needs the source's egress AND the destination's ingress; a class
//! selected by no policy in a direction is open in that direction. External addresses are split
//! into segments at every `ipBlock` boundary, so each segment is allowed or denied as a whole.
//! The cost follows classes, rules and allowed pairs, never pods squared; [`Analysis::class_rows`]
//! lists the map by class, [`Analysis::rows`] expands it to endpoints. This module does no IO
//! and produces no diagnostics: it is a pure function of the compiled policies and inventory.

use super::intervals::{range_to_string, Conns, Family, IpSet};
use super::inventory::ContainerPort;
use super::inventory::Inventory;
use super::policy::{Dir, NsScope, PeerKind, Policy, Rule};
use super::selector::{Labels, Requirement, Selector};
use std::collections::HashMap;
use std::rc::Rc;

/// An equivalence class of endpoints: every selector of every policy matches all of them or
/// none, and they have the same container ports, so no policy can tell them apart. Members may
/// differ in namespace and labels.
#[derive(Clone, Debug)]
pub struct Class {
    /// The container ports.
    pub ports: Vec<ContainerPort>,
    /// Indices into `Inventory::endpoints`, in input order.
    pub members: Vec<usize>,
}

/// A segment of external address space: every address in it is treated alike by every rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Segment {
    /// The family.
    pub family: Family,
    /// First address.
    pub lo: u128,
    /// Last address.
    pub hi: u128,
}

impl Segment {
    /// As a CIDR when it is one, else `first-last`.
    pub fn label(&self) -> String {
        range_to_string(self.family, self.lo, self.hi)
    }
}

/// A reference to one rule: policy index, direction, rule index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleRef {
    /// Index into `Analysis::policies`.
    pub policy: u32,
    /// Direction.
    pub dir: Dir,
    /// Index in the direction's rule list.
    pub rule: u32,
}

/// A rule's peers resolved against the inventory.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Whether the rule has no peers (matches everything).
    pub all: bool,
    /// Classes matched by each peer (empty for ipBlock peers), in peer order.
    pub per_peer: Vec<Rc<[u32]>>,
    /// Union of the classes, sorted.
    pub classes: Vec<u32>,
    /// Union of the ipBlock addresses.
    pub ips: IpSet,
}

impl Resolved {
    /// Whether the rule matches class `c`.
    pub fn has_class(&self, c: u32) -> bool {
        self.all || self.classes.binary_search(&c).is_ok()
    }
}

/// The connectivity of classes and external segments. Connection sets are ids into `conns`.
#[derive(Clone, Debug, Default)]
pub struct ClassMap {
    /// (source class, destination class, conns id), sorted, never the empty set.
    pub pods: Vec<(u32, u32, u32)>,
    /// (source class, destination address range, conns id): adjacent segments with equal conns
    /// are merged, so each range is maximal for its class.
    pub to_ext: Vec<(u32, Segment, u32)>,
    /// (source address range, destination class, conns id), merged likewise.
    pub from_ext: Vec<(Segment, u32, u32)>,
    /// The distinct connection sets, by id.
    pub conns: Vec<Conns>,
}

impl ClassMap {
    /// The connection set behind an id.
    pub fn conns(&self, id: u32) -> &Conns {
        &self.conns[id as usize]
    }
}

/// The result of analysing an inventory.
#[derive(Debug)]
pub struct Analysis<'a> {
    /// The inventory analysed.
    pub inv: &'a Inventory,
    /// The compiled policies (those that compiled).
    pub policies: Vec<Policy>,
    /// Endpoint classes.
    pub classes: Vec<Class>,
    /// Class of each endpoint.
    pub class_of: Vec<u32>,
    /// Classes each policy selects, sorted.
    pub selected: Vec<Vec<u32>>,
    /// Per class: policies isolating it for ingress.
    pub ingress_of: Vec<Vec<u32>>,
    /// Per class: policies isolating it for egress.
    pub egress_of: Vec<Vec<u32>>,
    /// Every rule's resolved peers.
    pub resolved: HashMap<RuleRef, Resolved>,
    /// External address segments.
    pub segments: Vec<Segment>,
    /// Class-level connectivity.
    pub map: ClassMap,
}

/// One row of a connectivity map.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    /// Source: `namespace/name`, an address range, or (class-level map) a class of several
    /// endpoints written `{ns/a ns/b ...}`.
    pub src: Rc<str>,
    /// Destination.
    pub dst: Rc<str>,
    /// Allowed connections.
    pub conns: Conns,
}

type SelKey = (NsScope, Selector);

impl<'a> Analysis<'a> {
    /// Analyse an inventory with its compiled policies.
    pub fn new(inv: &'a Inventory, policies: Vec<Policy>) -> Self {
        let mut atoms = Atoms::default();
        for p in &policies {
            atoms.intern((NsScope::Own(p.namespace.clone()), p.selector.clone()));
            for dir in [Dir::Ingress, Dir::Egress] {
                for r in p.rules(dir).into_iter().flatten() {
                    for peer in r.peers.iter().flatten() {
                        if let PeerKind::Pods { ns, pods } = &peer.kind {
                            atoms.intern((ns.clone(), pods.clone()));
                        }
                    }
                }
            }
        }
        let (classes, class_of, matched) = build_classes(inv, &atoms.list);
        let resolve = |key: SelKey| -> Rc<[u32]> { matched[atoms.index[&key] as usize].clone() };
        let n = classes.len();
        let mut selected = Vec::with_capacity(policies.len());
        let mut ingress_of = vec![Vec::new(); n];
        let mut egress_of = vec![Vec::new(); n];
        let mut resolved = HashMap::new();
        for (pi, p) in policies.iter().enumerate() {
            let sel = resolve((NsScope::Own(p.namespace.clone()), p.selector.clone()));
            for &c in sel.iter() {
                if p.ingress.is_some() {
                    ingress_of[c as usize].push(pi as u32);
                }
                if p.egress.is_some() {
                    egress_of[c as usize].push(pi as u32);
                }
            }
            selected.push(sel.to_vec());
            for dir in [Dir::Ingress, Dir::Egress] {
                for (ri, r) in p.rules(dir).into_iter().flatten().enumerate() {
                    let mut res = Resolved::default();
                    match &r.peers {
                        None => {
                            res.all = true;
                            res.ips = IpSet::all();
                        }
                        Some(peers) => {
                            let mut classes_u = Vec::new();
                            for peer in peers {
                                match &peer.kind {
                                    PeerKind::Pods { ns, pods } => {
                                        let m = resolve((ns.clone(), pods.clone()));
                                        classes_u.extend_from_slice(&m);
                                        res.per_peer.push(m);
                                    }
                                    PeerKind::Ip { set, .. } => {
                                        res.ips = res.ips.union(set);
                                        res.per_peer.push(Rc::from(Vec::new()));
                                    }
                                }
                            }
                            classes_u.sort_unstable();
                            classes_u.dedup();
                            res.classes = classes_u;
                        }
                    }
                    resolved.insert(
                        RuleRef {
                            policy: pi as u32,
                            dir,
                            rule: ri as u32,
                        },
                        res,
                    );
                }
            }
        }
        let segments = build_segments(&resolved);
        let mut a = Analysis {
            inv,
            policies,
            classes,
            class_of,
            selected,
            ingress_of,
            egress_of,
            resolved,
            segments,
            map: ClassMap::default(),
        };
        a.map = a.compute();
        a
    }

    /// The rule behind a reference.
    pub fn rule(&self, r: RuleRef) -> &Rule {
        &self.policies[r.policy as usize]
            .rules(r.dir)
            .expect("isolating direction")[r.rule as usize]
    }

    /// Rules (with their resolution) of the policies isolating class `c` in `dir`.
    pub fn rules_of(
        &self,
        c: u32,
        dir: Dir,
    ) -> impl Iterator<Item = (RuleRef, &Rule, &Resolved)> + '_ {
        let pols = match dir {
            Dir::Ingress => &self.ingress_of[c as usize],
            Dir::Egress => &self.egress_of[c as usize],
        };
        pols.iter().flat_map(move |&pi| {
            self.policies[pi as usize]
                .rules(dir)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(ri, r)| {
                    let rr = RuleRef {
                        policy: pi,
                        dir,
                        rule: ri as u32,
                    };
                    (rr, r, &self.resolved[&rr])
                })
        })
    }

    /// Whether class `c` is isolated in `dir`.
    pub fn isolated(&self, c: u32, dir: Dir) -> bool {
        match dir {
            Dir::Ingress => !self.ingress_of[c as usize].is_empty(),
            Dir::Egress => !self.egress_of[c as usize].is_empty(),
        }
    }

    /// What the ingress side of class `dst` allows from class `src`.
    pub fn ingress_allows(&self, src: u32, dst: u32) -> Conns {
        if !self.isolated(dst, Dir::Ingress) {
            return Conns::all();
        }
        let ports = &self.classes[dst as usize].ports;
        let mut c = Conns::none();
        for (_, r, res) in self.rules_of(dst, Dir::Ingress) {
            if res.has_class(src) {
                c.add(&r.conns_to(Some(ports)));
            }
        }
        c
    }

    /// What the egress side of class `src` allows towards class `dst`.
    pub fn egress_allows(&self, src: u32, dst: u32) -> Conns {
        if !self.isolated(src, Dir::Egress) {
            return Conns::all();
        }
        let ports = &self.classes[dst as usize].ports;
        let mut c = Conns::none();
        for (_, r, res) in self.rules_of(src, Dir::Egress) {
            if res.has_class(dst) {
                c.add(&r.conns_to(Some(ports)));
            }
        }
        c
    }

    /// What the egress side of class `src` allows towards an external segment.
    pub fn egress_allows_ext(&self, src: u32, seg: &Segment) -> Conns {
        if !self.isolated(src, Dir::Egress) {
            return Conns::all();
        }
        let mut c = Conns::none();
        for (_, r, res) in self.rules_of(src, Dir::Egress) {
            if res.ips.family(seg.family).contains(seg.lo) {
                c.add(&r.conns_to(None));
            }
        }
        c
    }

    /// What the ingress side of class `dst` allows from an external segment.
    pub fn ingress_allows_ext(&self, seg: &Segment, dst: u32) -> Conns {
        if !self.isolated(dst, Dir::Ingress) {
            return Conns::all();
        }
        let ports = &self.classes[dst as usize].ports;
        let mut c = Conns::none();
        for (_, r, res) in self.rules_of(dst, Dir::Ingress) {
            if res.ips.family(seg.family).contains(seg.lo) {
                c.add(&r.conns_to(Some(ports)));
            }
        }
        c
    }

    fn compute(&self) -> ClassMap {
        let n = self.classes.len();
        let mut t = ConnTable::default();
        // Rules without named ports allow the same set towards every destination: intern once.
        let mut fixed: HashMap<RuleRef, u32> = HashMap::new();
        let mut conn_id = |t: &mut ConnTable, rr: RuleRef, r: &Rule, ports: &[ContainerPort]| {
            if let Some(&id) = fixed.get(&rr) {
                return id;
            }
            let named = r
                .ports
                .as_ref()
                .is_some_and(|p| p.iter().any(|e| e.named.is_some()));
            let id = t.intern(r.conns_to(Some(ports)).into_owned());
            if !named {
                fixed.insert(rr, id);
            }
            id
        };
        // rev[s]: what isolated destinations' ingress rules allow from class s.
        let mut rev: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        for d in 0..n as u32 {
            if !self.isolated(d, Dir::Ingress) {
                continue;
            }
            let ports = &self.classes[d as usize].ports;
            for (rr, r, res) in self.rules_of(d, Dir::Ingress) {
                let c = conn_id(&mut t, rr, r, ports);
                if c == EMPTY {
                    continue;
                }
                if res.all {
                    for list in rev.iter_mut() {
                        list.push((d, c));
                    }
                } else {
                    for &s in &res.classes {
                        rev[s as usize].push((d, c));
                    }
                }
            }
        }
        for list in &mut rev {
            merge_sorted(&mut t, list);
        }
        let mut map = ClassMap::default();
        let lookup = |list: &[(u32, u32)], d: u32| -> Option<u32> {
            list.binary_search_by_key(&d, |e| e.0)
                .ok()
                .map(|i| list[i].1)
        };
        let mut cand: Vec<(u32, u32)> = Vec::new();
        let open_in: Vec<u32> = (0..n as u32)
            .filter(|&d| !self.isolated(d, Dir::Ingress))
            .collect();
        for s in 0..n as u32 {
            let rs = &rev[s as usize];
            if self.isolated(s, Dir::Egress) {
                cand.clear();
                for (rr, r, res) in self.rules_of(s, Dir::Egress) {
                    let dsts: Box<dyn Iterator<Item = u32>> = if res.all {
                        Box::new(0..n as u32)
                    } else {
                        Box::new(res.classes.iter().copied())
                    };
                    for d in dsts {
                        let c = conn_id(&mut t, rr, r, &self.classes[d as usize].ports);
                        if c != EMPTY {
                            cand.push((d, c));
                        }
                    }
                }
                merge_sorted(&mut t, &mut cand);
                for &(d, c) in &cand {
                    let c = if self.isolated(d, Dir::Ingress) {
                        match lookup(rs, d) {
                            Some(i) => t.intersect(c, i),
                            None => continue,
                        }
                    } else {
                        c
                    };
                    if c != EMPTY {
                        map.pods.push((s, d, c));
                    }
                }
            } else {
                // Open egress: every open destination, and what isolated ones admit (`rs` holds
                // only isolated destinations). Merging the two sorted lists costs what it lists.
                let (mut i, mut j) = (0, 0);
                while i < open_in.len() || j < rs.len() {
                    let take_open = j >= rs.len() || (i < open_in.len() && open_in[i] < rs[j].0);
                    if take_open {
                        map.pods.push((s, open_in[i], ALL));
                        i += 1;
                    } else {
                        if rs[j].1 != EMPTY {
                            map.pods.push((s, rs[j].0, rs[j].1));
                        }
                        j += 1;
                    }
                }
            }
            let open = !self.isolated(s, Dir::Egress);
            let uses_ips = open
                || self
                    .rules_of(s, Dir::Egress)
                    .any(|(_, _, res)| !res.ips.is_empty());
            if uses_ips {
                for (seg, c) in self.ext_runs(open, |seg| self.egress_allows_ext(s, seg)) {
                    map.to_ext.push((s, seg, t.intern(c)));
                }
            }
        }
        for d in 0..n as u32 {
            let open = !self.isolated(d, Dir::Ingress);
            let uses_ips = open
                || self
                    .rules_of(d, Dir::Ingress)
                    .any(|(_, _, res)| !res.ips.is_empty());
            if uses_ips {
                for (seg, c) in self.ext_runs(open, |seg| self.ingress_allows_ext(seg, d)) {
                    map.from_ext.push((seg, d, t.intern(c)));
                }
            }
        }
        map.conns = t.list;
        map
    }

    /// Maximal address ranges with the same non-empty conns, in address order. An `open` side
    /// allows everything everywhere: one range per family.
    fn ext_runs(&self, open: bool, f: impl Fn(&Segment) -> Conns) -> Vec<(Segment, Conns)> {
        if open {
            return [Family::V4, Family::V6]
                .into_iter()
                .map(|family| {
                    (
                        Segment {
                            family,
                            lo: 0,
                            hi: family.max(),
                        },
                        Conns::all(),
                    )
                })
                .collect();
        }
        let mut out: Vec<(Segment, Conns)> = Vec::new();
        for seg in &self.segments {
            let c = f(seg);
            if c.is_empty() {
                continue;
            }
            match out.last_mut() {
                Some((last, lc))
                    if last.family == seg.family
                        && last.hi.checked_add(1) == Some(seg.lo)
                        && *lc == c =>
                {
                    last.hi = seg.hi
                }
                _ => out.push((*seg, c)),
            }
        }
        out
    }

    /// The endpoint-level map, sorted by source then destination. An endpoint is never listed as
    /// its own peer. Its size is the product of class sizes: use [`Analysis::class_rows`] to list
    /// large inventories.
    pub fn rows(&self) -> Vec<Row> {
        let ids: Vec<Rc<str>> = self
            .inv
            .endpoints
            .iter()
            .map(|e| Rc::from(e.id()))
            .collect();
        let names: Vec<Vec<Rc<str>>> = self
            .classes
            .iter()
            .map(|c| c.members.iter().map(|&m| ids[m].clone()).collect())
            .collect();
        self.expand(&names, true)
    }

    /// The class-level map, sorted: one row per allowed pair of classes (or of a class and an
    /// address range). A class of one endpoint is written as that endpoint, a larger one as
    /// [`Analysis::class_label`]; a larger class as its own peer means its members reach one
    /// another. Where policies tell every endpoint apart, this is the endpoint-level map.
    pub fn class_rows(&self) -> Vec<Row> {
        let names: Vec<Vec<Rc<str>>> = (0..self.classes.len() as u32)
            .map(|c| vec![Rc::from(self.class_label(c))])
            .collect();
        self.expand(&names, false)
    }

    /// How class `c` is written in the class-level map: `namespace/name` for a class of one
    /// endpoint, else `{ns/a ns/b ...}` with its members' ids sorted.
    pub fn class_label(&self, c: u32) -> String {
        let members = &self.classes[c as usize].members;
        if let [one] = members.as_slice() {
            return self.inv.endpoints[*one].id();
        }
        let mut ids: Vec<String> = members
            .iter()
            .map(|&m| self.inv.endpoints[m].id())
            .collect();
        ids.sort();
        format!("{{{}}}", ids.join(" "))
    }

    /// Rows with each class written as the given names; with `skip_self`, a name is never its
    /// own peer (endpoint level), else a class of several members is its own peer.
    fn expand(&self, names: &[Vec<Rc<str>>], skip_self: bool) -> Vec<Row> {
        let conns: Vec<Rc<Conns>> = self.map.conns.iter().cloned().map(Rc::new).collect();
        let mut rows = Vec::new();
        let mut push = |src: &Rc<str>, dst: &Rc<str>, c: u32| {
            rows.push(Row {
                src: src.clone(),
                dst: dst.clone(),
                conns: (*conns[c as usize]).clone(),
            })
        };
        for &(s, d, c) in &self.map.pods {
            let single = self.classes[s as usize].members.len() == 1;
            if s == d && !skip_self && single {
                continue;
            }
            for (i, a) in names[s as usize].iter().enumerate() {
                for (j, b) in names[d as usize].iter().enumerate() {
                    if !(skip_self && s == d && i == j) {
                        push(a, b, c);
                    }
                }
            }
        }
        for (s, g, c) in &self.map.to_ext {
            let label: Rc<str> = Rc::from(g.label());
            for a in &names[*s as usize] {
                push(a, &label, *c);
            }
        }
        for (g, d, c) in &self.map.from_ext {
            let label: Rc<str> = Rc::from(g.label());
            for b in &names[*d as usize] {
                push(&label, b, *c);
            }
        }
        rows.sort();
        rows
    }

    /// How many endpoint-level rows [`Analysis::rows`] would produce, without building them.
    pub fn row_count(&self) -> u64 {
        let size = |c: u32| self.classes[c as usize].members.len() as u64;
        let pods: u64 = self
            .map
            .pods
            .iter()
            .map(|(s, d, _)| size(*s) * size(*d) - if s == d { size(*s) } else { 0 })
            .sum();
        let ext: u64 = self
            .map
            .to_ext
            .iter()
            .map(|(s, _, _)| size(*s))
            .sum::<u64>()
            + self
                .map
                .from_ext
                .iter()
                .map(|(_, d, _)| size(*d))
                .sum::<u64>();
        pods + ext
    }

    /// The class of the endpoint with id `namespace/name`.
    pub fn class_of_id(&self, id: &str) -> Option<u32> {
        self.inv
            .endpoints
            .iter()
            .position(|e| e.id() == id)
            .map(|i| self.class_of[i])
    }
}

fn merge_sorted(t: &mut ConnTable, list: &mut Vec<(u32, u32)>) {
    list.sort_unstable();
    let mut w = 0;
    for i in 0..list.len() {
        let (d, c) = list[i];
        if w > 0 && list[w - 1].0 == d {
            list[w - 1].1 = t.union(list[w - 1].1, c);
        } else {
            list[w] = (d, c);
            w += 1;
        }
    }
    list.truncate(w);
}

/// Id of the empty connection set in a [`ConnTable`].
const EMPTY: u32 = 0;
/// Id of the full connection set in a [`ConnTable`].
const ALL: u32 = 1;

/// Interned connection sets: the map stores small ids, and unions and intersections of ids are
/// memoised, so a cluster with millions of pairs holds only its few distinct port sets.
struct ConnTable {
    list: Vec<Conns>,
    index: HashMap<Conns, u32>,
    unions: HashMap<(u32, u32), u32>,
    meets: HashMap<(u32, u32), u32>,
}

impl Default for ConnTable {
    fn default() -> Self {
        let mut t = ConnTable {
            list: Vec::new(),
            index: HashMap::new(),
            unions: HashMap::new(),
            meets: HashMap::new(),
        };
        t.intern(Conns::none());
        t.intern(Conns::all());
        t
    }
}

impl ConnTable {
    fn intern(&mut self, c: Conns) -> u32 {
        if let Some(&id) = self.index.get(&c) {
            return id;
        }
        let id = self.list.len() as u32;
        self.list.push(c.clone());
        self.index.insert(c, id);
        id
    }

    fn union(&mut self, a: u32, b: u32) -> u32 {
        if a == b || b == EMPTY || a == ALL {
            return a;
        }
        if a == EMPTY || b == ALL {
            return b;
        }
        let key = (a.min(b), a.max(b));
        if let Some(&id) = self.unions.get(&key) {
            return id;
        }
        let c = self.list[a as usize].union(&self.list[b as usize]);
        let id = self.intern(c);
        self.unions.insert(key, id);
        id
    }

    fn intersect(&mut self, a: u32, b: u32) -> u32 {
        if a == b || b == ALL || a == EMPTY {
            return a;
        }
        if a == ALL || b == EMPTY {
            return b;
        }
        let key = (a.min(b), a.max(b));
        if let Some(&id) = self.meets.get(&key) {
            return id;
        }
        let c = self.list[a as usize].intersect(&self.list[b as usize]);
        let id = self.intern(c);
        self.meets.insert(key, id);
        id
    }
}

/// The distinct (namespace scope, pod selector) pairs of all policies, by id.
#[derive(Default)]
struct Atoms {
    list: Vec<SelKey>,
    index: HashMap<SelKey, u32>,
}

impl Atoms {
    fn intern(&mut self, key: SelKey) {
        if !self.index.contains_key(&key) {
            self.index.insert(key.clone(), self.list.len() as u32);
            self.list.push(key);
        }
    }
}

/// Endpoints with the same namespace, labels and ports: the unit selectors are resolved on.
struct Groups<'i> {
    /// Per group: its namespace, labels and ports.
    keys: Vec<(&'i str, &'i Labels, &'i [ContainerPort])>,
    /// Per endpoint: its group.
    of: Vec<u32>,
    /// Groups by namespace, in order.
    by_ns: HashMap<&'i str, Vec<u32>>,
    /// Groups by (namespace, label key, value), in order.
    by_label: HashMap<(&'i str, &'i str, &'i str), Vec<u32>>,
    /// Groups by (namespace, label key), in order.
    by_key: HashMap<(&'i str, &'i str), Vec<u32>>,
}

impl<'i> Groups<'i> {
    fn new(inv: &'i Inventory) -> Self {
        let mut index: HashMap<(&str, &Labels, &[ContainerPort]), u32> = HashMap::new();
        let mut g = Groups {
            keys: Vec::new(),
            of: Vec::with_capacity(inv.endpoints.len()),
            by_ns: HashMap::new(),
            by_label: HashMap::new(),
            by_key: HashMap::new(),
        };
        for e in &inv.endpoints {
            let key = (e.namespace.as_str(), &e.labels, e.ports.as_slice());
            let id = *index.entry(key).or_insert_with(|| {
                let id = g.keys.len() as u32;
                g.keys.push(key);
                g.by_ns.entry(key.0).or_default().push(id);
                for (k, v) in key.1 {
                    g.by_label.entry((key.0, k, v)).or_default().push(id);
                    g.by_key.entry((key.0, k)).or_default().push(id);
                }
                id
            });
            g.of.push(id);
        }
        g
    }

    /// The groups of namespace `ns` a pod selector matches, sorted. Candidates come from the
    /// narrowest index a requirement allows (a label value, a key), else the whole namespace.
    fn select(&self, ns: &str, sel: &Selector, out: &mut Vec<u32>) {
        let empty: &[u32] = &[];
        let mut best: Option<Vec<&[u32]>> = None;
        let size = |v: &Vec<&[u32]>| v.iter().map(|l| l.len()).sum::<usize>();
        for r in sel.requirements() {
            let lists: Vec<&[u32]> = match r {
                Requirement::In(k, vs) => vs
                    .iter()
                    .map(|v| {
                        self.by_label
                            .get(&(ns, k.as_str(), v.as_str()))
                            .map_or(empty, Vec::as_slice)
                    })
                    .collect(),
                Requirement::Exists(k) => {
                    vec![self
                        .by_key
                        .get(&(ns, k.as_str()))
                        .map_or(empty, Vec::as_slice)]
                }
                _ => continue,
            };
            if best.as_ref().is_none_or(|b| size(&lists) < size(b)) {
                best = Some(lists);
            }
        }
        let all = [self.by_ns.get(ns).map_or(empty, Vec::as_slice)];
        let lists = best.unwrap_or_else(|| all.to_vec());
        let mut found: Vec<u32> = lists
            .into_iter()
            .flatten()
            .copied()
            .filter(|&g| sel.matches(self.keys[g as usize].1))
            .collect();
        // `In` may list a value twice, and so a group.
        found.sort_unstable();
        found.dedup();
        out.extend(found);
    }
}

/// Group endpoints into classes by what the policies can tell apart: the set of selector atoms
/// (namespace scope and pod selector) that match them, and their container ports. Returns the
/// classes (in order of their first member), the class of each endpoint, and per atom the
/// classes it matches (sorted).
fn build_classes(inv: &Inventory, atoms: &[SelKey]) -> (Vec<Class>, Vec<u32>, Vec<Rc<[u32]>>) {
    let groups = Groups::new(inv);
    let mut ns_memo: HashMap<&Selector, Vec<&str>> = HashMap::new();
    let mut atom_groups: Vec<Vec<u32>> = Vec::with_capacity(atoms.len());
    for (scope, pods) in atoms {
        let mut out = Vec::new();
        match scope {
            NsScope::Own(ns) => groups.select(ns, pods, &mut out),
            NsScope::Selector(s) => {
                let names = ns_memo.entry(s).or_insert_with(|| {
                    inv.namespaces
                        .values()
                        .filter(|n| s.matches(&n.labels))
                        .map(|n| n.name.as_str())
                        .collect()
                });
                for ns in names.iter() {
                    groups.select(ns, pods, &mut out);
                }
                out.sort_unstable();
            }
        }
        atom_groups.push(out);
    }
    // The signature of a group: the atoms that match it, ascending.
    let mut sig: Vec<Vec<u32>> = vec![Vec::new(); groups.keys.len()];
    for (a, gs) in atom_groups.iter().enumerate() {
        for &g in gs {
            sig[g as usize].push(a as u32);
        }
    }
    let mut index: HashMap<(&[u32], &[ContainerPort]), u32> = HashMap::new();
    let mut class_of_group: Vec<Option<u32>> = vec![None; groups.keys.len()];
    let mut classes: Vec<Class> = Vec::new();
    let mut class_of = Vec::with_capacity(inv.endpoints.len());
    for (i, &g) in groups.of.iter().enumerate() {
        let c = match class_of_group[g as usize] {
            Some(c) => c,
            None => {
                let ports = groups.keys[g as usize].2;
                let c = *index.entry((&sig[g as usize], ports)).or_insert_with(|| {
                    classes.push(Class {
                        ports: ports.to_vec(),
                        members: Vec::new(),
                    });
                    (classes.len() - 1) as u32
                });
                class_of_group[g as usize] = Some(c);
                c
            }
        };
        classes[c as usize].members.push(i);
        class_of.push(c);
    }
    let matched = atom_groups
        .iter()
        .map(|gs| {
            let mut cs: Vec<u32> = gs
                .iter()
                .filter_map(|&g| class_of_group[g as usize])
                .collect();
            cs.sort_unstable();
            cs.dedup();
            cs.into()
        })
        .collect();
    (classes, class_of, matched)
}

fn build_segments(resolved: &HashMap<RuleRef, Resolved>) -> Vec<Segment> {
    let mut out = Vec::new();
    for fam in [Family::V4, Family::V6] {
        let mut cuts: Vec<u128> = vec![0];
        for r in resolved.values() {
            for &(lo, hi) in r.ips.family(fam).ranges() {
                cuts.push(lo);
                if hi < fam.max() {
                    cuts.push(hi + 1);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for (i, &lo) in cuts.iter().enumerate() {
            let hi = cuts.get(i + 1).map_or(fam.max(), |n| n - 1);
            out.push(Segment {
                family: fam,
                lo,
                hi,
            });
        }
    }
    out
}
