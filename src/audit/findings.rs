//! Least-privilege findings over an analysed inventory, each with a stable code, a location
//! (file, line and JSON pointer of the policy or object at fault) and a fix.
//!
//! Findings are computed from the [`Analysis`] only: isolation gaps, missing default deny,
//! allow-all rules, internet egress, all-namespace selectors, selectors and peers that match
//! nothing, egress without DNS, redundant rules and policies, and named ports that resolve
//! nowhere. Findings on an object that carries an `airguard.io/suppress` entry for their code (with
//! a reason) are moved to the suppressed list, never dropped silently. This module does no IO.

use super::engine::{Analysis, RuleRef};
use super::intervals::{Conns, Protocol};
use super::inventory::{Loc, Suppression};
use super::policy::{Dir, NsScope, PeerKind, Rule};
use crate::diag::{Code, Diagnostic};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A suppressed finding and the reason given.
#[derive(Clone, Debug)]
pub struct Suppressed {
    /// The finding.
    pub finding: Diagnostic,
    /// The reason written in the annotation.
    pub reason: String,
}

/// The findings of an audit.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Active findings, sorted.
    pub active: Vec<Diagnostic>,
    /// Findings silenced by an annotation.
    pub suppressed: Vec<Suppressed>,
}

/// What a finding is about, for suppression.
#[derive(Clone, Copy)]
enum Subject<'s> {
    Policy(usize),
    Endpoint(usize),
    Namespace(&'s str),
}

struct Sink<'a, 'b> {
    a: &'b Analysis<'a>,
    out: Findings,
}

impl Sink<'_, '_> {
    fn suppressions(&self, s: Subject<'_>) -> &[Suppression] {
        let inv = self.a.inv;
        match s {
            Subject::Policy(i) => &inv.policies[self.a.policies[i].obj].suppress,
            Subject::Endpoint(i) => &inv.endpoints[i].suppress,
            Subject::Namespace(n) => inv
                .namespaces
                .get(n)
                .map_or(&[], |ns| ns.suppress.as_slice()),
        }
    }

    fn push(&mut self, subjects: &[Subject<'_>], d: Diagnostic) {
        for s in subjects {
            if let Some(sup) = self.suppressions(*s).iter().find(|x| x.code == d.code) {
                let reason = sup.reason.clone();
                self.out.suppressed.push(Suppressed { finding: d, reason });
                return;
            }
        }
        self.out.active.push(d);
    }

    /// A diagnostic pointing at `ptr` inside policy `pi`.
    fn at_policy(&self, pi: usize, ptr: &str, code: Code, msg: String) -> Diagnostic {
        let obj = &self.a.inv.policies[self.a.policies[pi].obj];
        Diagnostic::new(code, msg)
            .with_label(obj.doc.file, obj.doc.locate(ptr), "")
            .with_path(ptr.to_string())
    }
}

fn at_loc(loc: Loc, code: Code, msg: String) -> Diagnostic {
    Diagnostic::new(code, msg)
        .with_label(loc.file, loc.offset..loc.offset, "")
        .with_path("")
}

/// Compute every finding.
pub fn findings(a: &Analysis<'_>) -> Findings {
    let mut sink = Sink {
        a,
        out: Findings::default(),
    };
    isolation(&mut sink);
    default_deny(&mut sink);
    rules(&mut sink);
    dns(&mut sink);
    redundancy(&mut sink);
    let mut out = sink.out;
    crate::diag::sort(&mut out.active);
    let mut sup = std::mem::take(&mut out.suppressed);
    sup.sort_by(|x, y| {
        let k = |d: &Diagnostic| {
            (
                d.label.as_ref().map(|l| (l.file, l.range.start)),
                d.code,
                d.message.clone(),
            )
        };
        k(&x.finding).cmp(&k(&y.finding))
    });
    out.suppressed = sup;
    out
}

fn isolation(s: &mut Sink<'_, '_>) {
    let a = s.a;
    for (i, e) in a.inv.endpoints.iter().enumerate() {
        let c = a.class_of[i];
        for (dir, code) in [
            (Dir::Ingress, Code::PodNotIsolatedIngress),
            (Dir::Egress, Code::PodNotIsolatedEgress),
        ] {
            if a.isolated(c, dir) {
                continue;
            }
            let d = at_loc(
                e.loc,
                code,
                format!("{} `{}` is not isolated for {}", e.kind, e.id(), dir.key()),
            )
            .with_help(format!(
                "add a default-deny policy to namespace `{}`: podSelector: {{}}, policyTypes: [{}]",
                e.namespace,
                if dir == Dir::Ingress {
                    "Ingress"
                } else {
                    "Egress"
                }
            ));
            s.push(&[Subject::Endpoint(i), Subject::Namespace(&e.namespace)], d);
        }
    }
}

fn default_deny(s: &mut Sink<'_, '_>) {
    let a = s.a;
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, e) in a.inv.endpoints.iter().enumerate() {
        first.entry(e.namespace.as_str()).or_insert(i);
    }
    for (ns, &ep) in &first {
        let mut missing = Vec::new();
        for dir in [Dir::Ingress, Dir::Egress] {
            let has = a.policies.iter().any(|p| {
                p.namespace == *ns
                    && p.selector.is_everything()
                    && p.rules(dir).is_some_and(|r| r.is_empty())
            });
            if !has {
                missing.push(if dir == Dir::Ingress {
                    "Ingress"
                } else {
                    "Egress"
                });
            }
        }
        if missing.is_empty() {
            continue;
        }
        let loc = a
            .inv
            .namespaces
            .get(*ns)
            .and_then(|n| n.loc)
            .unwrap_or(a.inv.endpoints[ep].loc);
        let d = at_loc(
            loc,
            Code::NamespaceWithoutDefaultDeny,
            format!("namespace `{ns}` has no default-deny policy for {}", missing.join(" and ").to_lowercase()),
        )
        .with_help(format!(
            "add a NetworkPolicy in `{ns}` with podSelector: {{}} and policyTypes: [{}] and no rules",
            missing.join(", ")
        ));
        s.push(&[Subject::Namespace(ns)], d);
    }
}

fn rules(s: &mut Sink<'_, '_>) {
    let a = s.a;
    for (pi, p) in a.policies.iter().enumerate() {
        let id = p.id();
        if a.selected[pi].is_empty() {
            let d = s
                .at_policy(
                    pi,
                    "/spec/podSelector",
                    Code::SelectorMatchesNothing,
                    format!("podSelector `{}` of policy `{id}` matches no endpoint", p.selector),
                )
                .with_help("fix the labels, or move the policy to the namespace of the pods it is meant for");
            s.push(&[Subject::Policy(pi)], d);
        }
        for dir in [Dir::Ingress, Dir::Egress] {
            for (ri, r) in p.rules(dir).into_iter().flatten().enumerate() {
                let rr = RuleRef {
                    policy: pi as u32,
                    dir,
                    rule: ri as u32,
                };
                rule_findings(s, pi, &id, rr, r);
            }
        }
    }
}

fn rule_findings(s: &mut Sink<'_, '_>, pi: usize, id: &str, rr: RuleRef, r: &Rule) {
    let a = s.a;
    let res = &a.resolved[&rr];
    if r.is_allow_all() {
        let d = s
            .at_policy(
                pi,
                &r.ptr,
                Code::AllowAllRule,
                format!(
                    "{} rule {} of policy `{id}` allows every peer on every port",
                    rr.dir.key(),
                    rr.rule
                ),
            )
            .with_help(format!(
                "list the peers in `{}` and the ports the pods need",
                rr.dir.peer_key()
            ));
        s.push(&[Subject::Policy(pi)], d);
    }
    for (k, peer) in r.peers.iter().flatten().enumerate() {
        match &peer.kind {
            PeerKind::Ip {
                cidr,
                whole_family: true,
                ..
            } if rr.dir == Dir::Egress => {
                let d = s
                    .at_policy(
                        pi,
                        &format!("{}/ipBlock/cidr", peer.ptr),
                        Code::InternetEgress,
                        format!("policy `{id}` allows egress to the whole internet ({cidr})"),
                    )
                    .with_help("narrow the ipBlock to the networks the pods actually call");
                s.push(&[Subject::Policy(pi)], d);
            }
            PeerKind::Pods { ns, .. } => {
                if matches!(ns, NsScope::Selector(sel) if sel.is_everything()) {
                    let d = s
                        .at_policy(
                            pi,
                            &format!("{}/namespaceSelector", peer.ptr),
                            Code::AllNamespacesSelector,
                            format!("policy `{id}` selects peers in every namespace (namespaceSelector: {{}})"),
                        )
                        .with_help("select namespaces by name: matchLabels: {kubernetes.io/metadata.name: <ns>}");
                    s.push(&[Subject::Policy(pi)], d);
                }
                if res.per_peer.get(k).is_some_and(|m| m.is_empty()) {
                    let d = s
                        .at_policy(
                            pi,
                            &peer.ptr,
                            Code::PeerMatchesNothing,
                            format!(
                                "a peer of {} rule {} of policy `{id}` matches no endpoint",
                                rr.dir.key(),
                                rr.rule
                            ),
                        )
                        .with_help(
                            "check the labels of the pods and namespaces it is meant to select",
                        );
                    s.push(&[Subject::Policy(pi)], d);
                }
            }
            _ => {}
        }
    }
    // Named ports resolve on the destination: the selected pods for ingress, the peers for egress.
    let dsts: Vec<u32> = match rr.dir {
        Dir::Ingress => a.selected[rr.policy as usize].clone(),
        Dir::Egress if res.all => (0..a.classes.len() as u32).collect(),
        Dir::Egress => res.classes.clone(),
    };
    for port in r.ports.iter().flatten() {
        let Some((name, proto)) = &port.named else {
            continue;
        };
        let found = dsts.iter().any(|&c| {
            a.classes[c as usize]
                .ports
                .iter()
                .any(|cp| cp.protocol == *proto && cp.name.as_deref() == Some(name))
        });
        if !found && !dsts.is_empty() {
            let d = s
                .at_policy(
                    pi,
                    &format!("{}/port", port.ptr),
                    Code::NamedPortUnresolved,
                    format!(
                        "named port `{name}/{}` of policy `{id}` matches no container port of its destinations",
                        proto.as_str()
                    ),
                )
                .with_help("use a port name the destination containers declare (with the same protocol), or a number");
            s.push(&[Subject::Policy(pi)], d);
        }
    }
}

/// Whether a connection set reaches a DNS server port: UDP 53, or UDP 5353 where the DNS pods
/// listen after Service DNAT on OpenShift (research/k8s-eso-airflow-facts.md §1).
fn dns_port(c: &Conns) -> bool {
    c.contains(Protocol::Udp, 53) || c.contains(Protocol::Udp, 5353)
}

fn dns(s: &mut Sink<'_, '_>) {
    let a = s.a;
    // Only the egress side counts: the DNS pods may well not be part of the audited manifests.
    let mut has_dns: HashSet<u32> = HashSet::new();
    for c in 0..a.classes.len() as u32 {
        let ok = a.rules_of(c, Dir::Egress).any(|(_, r, res)| {
            let reaches_something = res.all || !res.classes.is_empty() || !res.ips.is_empty();
            let via_ip = !res.ips.is_empty() && dns_port(&r.conns_to(None));
            let via_pods = if res.all || res.classes.is_empty() {
                dns_port(&r.conns_to(None))
            } else {
                res.classes
                    .iter()
                    .any(|&d| dns_port(&r.conns_to(Some(&a.classes[d as usize].ports))))
            };
            let peers_listed = r.peers.as_ref().is_some_and(|p| !p.is_empty());
            (reaches_something || peers_listed) && (via_ip || via_pods)
        });
        if ok {
            has_dns.insert(c);
        }
    }
    for (i, e) in a.inv.endpoints.iter().enumerate() {
        let c = a.class_of[i];
        // A pod that may call nothing at all (a pure server) needs no DNS.
        let calls_out = a
            .rules_of(c, Dir::Egress)
            .any(|(_, _, res)| res.all || !res.classes.is_empty() || !res.ips.is_empty());
        if !a.isolated(c, Dir::Egress) || has_dns.contains(&c) || !calls_out {
            continue;
        }
        let pi = a.egress_of[c as usize][0] as usize;
        let names: Vec<String> = a.egress_of[c as usize]
            .iter()
            .map(|&p| a.policies[p as usize].id())
            .collect();
        let d = s
            .at_policy(
                pi,
                "/spec/policyTypes",
                Code::EgressWithoutDns,
                format!("{} `{}` is isolated for egress and cannot reach DNS (UDP 53 or 5353)", e.kind, e.id()),
            )
            .with_note(format!("egress is isolated by: {}", names.join(", ")))
            .with_help(
                "add an egress rule to the DNS pods: namespaceSelector kubernetes.io/metadata.name: kube-system, \
                 podSelector k8s-app: kube-dns, ports UDP 53 and TCP 53",
            );
        let mut subjects = vec![Subject::Endpoint(i)];
        subjects.extend(
            a.egress_of[c as usize]
                .iter()
                .map(|&p| Subject::Policy(p as usize)),
        );
        s.push(&subjects, d);
    }
}

/// What rule `rr` contributes from/to class `peer` for the selected class `sel`.
fn contribution(a: &Analysis<'_>, r: &Rule, dir: Dir, sel: u32, peer: u32) -> Conns {
    let dst = if dir == Dir::Ingress { sel } else { peer };
    r.conns_to(Some(&a.classes[dst as usize].ports))
        .into_owned()
}

fn redundancy(s: &mut Sink<'_, '_>) {
    let a = s.a;
    let mut removed: BTreeSet<RuleRef> = BTreeSet::new();
    let all_rules: Vec<RuleRef> = {
        let mut v: Vec<RuleRef> = a.resolved.keys().copied().collect();
        v.sort();
        v
    };
    // Later rules are checked first, so of two equal rules the later one is reported.
    for &rr in all_rules.iter().rev() {
        let r = a.rule(rr);
        let res = &a.resolved[&rr];
        let sel = &a.selected[rr.policy as usize];
        if sel.is_empty() {
            continue;
        }
        let mut contributes = false;
        let mut covered = true;
        'outer: for &x in sel {
            let others: Vec<(RuleRef, &Rule, &super::engine::Resolved)> = a
                .rules_of(x, rr.dir)
                .filter(|(o, _, _)| *o != rr && !removed.contains(o))
                .collect();
            let peers: Box<dyn Iterator<Item = u32>> = if res.all {
                Box::new(0..a.classes.len() as u32)
            } else {
                Box::new(res.classes.iter().copied())
            };
            for y in peers {
                let mine = contribution(a, r, rr.dir, x, y);
                if mine.is_empty() {
                    continue;
                }
                contributes = true;
                let mut theirs = Conns::none();
                for (_, o, ores) in &others {
                    if ores.has_class(y) {
                        theirs.add(&contribution(a, o, rr.dir, x, y));
                    }
                }
                if !mine.is_subset(&theirs) {
                    covered = false;
                    break 'outer;
                }
            }
            for seg in &a.segments {
                if !res.ips.family(seg.family).contains(seg.lo) {
                    continue;
                }
                let dst_ports = if rr.dir == Dir::Ingress {
                    Some(a.classes[x as usize].ports.as_slice())
                } else {
                    None
                };
                let mine = r.conns_to(dst_ports).into_owned();
                if mine.is_empty() {
                    continue;
                }
                contributes = true;
                let mut theirs = Conns::none();
                for (_, o, ores) in &others {
                    if ores.ips.family(seg.family).contains(seg.lo) {
                        theirs.add(&o.conns_to(dst_ports));
                    }
                }
                if !mine.is_subset(&theirs) {
                    covered = false;
                    break 'outer;
                }
            }
        }
        if contributes && covered {
            removed.insert(rr);
            let p = &a.policies[rr.policy as usize];
            let d = s
                .at_policy(
                    rr.policy as usize,
                    &r.ptr,
                    Code::RedundantRule,
                    format!(
                        "{} rule {} of policy `{}` allows nothing that other rules do not already allow",
                        rr.dir.key(),
                        rr.rule,
                        p.id()
                    ),
                )
                .with_help("remove the rule, or fix it if it was meant to allow something else");
            s.push(&[Subject::Policy(rr.policy as usize)], d);
        }
    }
    // A policy is redundant when all its rules are and every pod it isolates is isolated by a
    // policy that stays.
    let mut gone: BTreeSet<u32> = BTreeSet::new();
    for pi in (0..a.policies.len() as u32).rev() {
        let p = &a.policies[pi as usize];
        let sel = &a.selected[pi as usize];
        if sel.is_empty() {
            continue;
        }
        let rules_gone = [Dir::Ingress, Dir::Egress].iter().all(|&dir| {
            (0..p.rules(dir).map_or(0, <[Rule]>::len)).all(|ri| {
                removed.contains(&RuleRef {
                    policy: pi,
                    dir,
                    rule: ri as u32,
                })
            })
        });
        let isolation_kept = sel.iter().all(|&c| {
            [Dir::Ingress, Dir::Egress].iter().all(|&dir| {
                p.rules(dir).is_none() || {
                    let of = if dir == Dir::Ingress {
                        &a.ingress_of
                    } else {
                        &a.egress_of
                    };
                    of[c as usize]
                        .iter()
                        .any(|&o| o != pi && !gone.contains(&o))
                }
            })
        });
        // A default deny (`podSelector: {}`, no rules) also guards pods created later, so it is
        // redundant only next to another default deny of the same directions.
        let is_default_deny = p.selector.is_everything()
            && [Dir::Ingress, Dir::Egress]
                .iter()
                .all(|&d| p.rules(d).is_none_or(<[Rule]>::is_empty));
        let guard_kept = !is_default_deny
            || a.policies.iter().enumerate().any(|(o, q)| {
                o as u32 != pi
                    && !gone.contains(&(o as u32))
                    && q.namespace == p.namespace
                    && q.selector.is_everything()
                    && [Dir::Ingress, Dir::Egress]
                        .iter()
                        .all(|&d| p.rules(d).is_none() || q.rules(d).is_some())
            });
        if rules_gone && isolation_kept && guard_kept {
            gone.insert(pi);
            let d = s
                .at_policy(
                    pi as usize,
                    "/metadata/name",
                    Code::RedundantPolicy,
                    format!(
                        "policy `{}` changes no connection: other policies already do what it does",
                        p.id()
                    ),
                )
                .with_help("delete the policy");
            s.push(&[Subject::Policy(pi as usize)], d);
        }
    }
}
