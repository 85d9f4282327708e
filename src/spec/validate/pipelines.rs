//! Rules of `connections` and `pipelines`: connection ids and names, step kinds and their
//! connections, timeouts and conditions, and the `after` dependencies (order and cycles).
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::{is_uuid, Cx};
use crate::diag::Code;
use crate::spec::model::{self, StepKind};
use crate::spec::raw;
use crate::spec::schema::dotted;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

impl Cx<'_> {
    pub(super) fn connections(&mut self, conns: &[raw::Connection]) -> Vec<model::Connection> {
        self.unique_names(
            "/connections",
            conns.iter().map(|c| c.name.as_str()),
            "connection",
        );
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (i, c) in conns.iter().enumerate() {
            self.dns_label(&format!("/connections/{i}/name"), &c.name);
            let id = c.id.to_ascii_lowercase();
            if !is_uuid(&c.id) {
                self.push(
                    Code::InvalidUuid,
                    &format!("/connections/{i}/id"),
                    format!("connection id `{}` is not a UUID", c.id),
                    "expected 8-4-4-4-12 hex digits",
                    "copy the connection id from the Airbyte UI URL (`.../connections/<uuid>`)"
                        .into(),
                );
            } else if let Some(first) = ids.get(&id) {
                self.push(
                    Code::DuplicateName,
                    &format!("/connections/{i}/id"),
                    format!("connection id `{}` is declared twice", c.id),
                    "second use",
                    format!("each Airbyte connection is declared once; the first is `connections[{first}]`"),
                );
                self.also(&format!("/connections/{first}/id"), "first declared here");
            } else {
                ids.insert(id.clone(), i);
            }
            out.push(model::Connection {
                name: c.name.clone(),
                id,
                min_records: c.min_records,
            });
        }
        out
    }

    pub(super) fn pipelines(
        &mut self,
        pipes: &[raw::Pipeline],
        conns: &[model::Connection],
    ) -> Vec<model::Pipeline> {
        self.unique_names(
            "/pipelines",
            pipes.iter().map(|p| p.name.as_str()),
            "pipeline",
        );
        // name → min-records, built once: steps look connections up by name.
        let names: BTreeMap<&str, Option<u64>> = conns
            .iter()
            .map(|c| (c.name.as_str(), c.min_records))
            .collect();
        let mut out = Vec::new();
        for (pi, p) in pipes.iter().enumerate() {
            let base = format!("/pipelines/{pi}");
            self.dns_label(&format!("{base}/name"), &p.name);
            let mut steps = Vec::new();
            for (si, s) in p.steps.iter().enumerate() {
                let sp = format!("{base}/steps/{si}");
                if let Some(step) = self.step(&sp, s, &names) {
                    steps.push((si, step));
                }
            }
            self.check_dependencies(&base, &steps);
            out.push(model::Pipeline {
                name: p.name.clone(),
                steps: steps.into_iter().map(|(_, s)| s).collect(),
            });
        }
        out
    }

    fn step(
        &mut self,
        pointer: &str,
        s: &raw::Step,
        names: &BTreeMap<&str, Option<u64>>,
    ) -> Option<model::Step> {
        let default_timeout = Duration::from_secs(3600);
        let a = match s {
            raw::Step::Keyword(raw::StepKeyword::Health) => {
                return Some(model::Step {
                    kind: StepKind::Health,
                    after: None,
                    when: None,
                    on_running: raw::OnRunning::Attach,
                    min_records: None,
                    timeout: default_timeout,
                })
            }
            raw::Step::Action(a) => a,
        };
        let actions: Vec<(&str, &String)> = [
            ("sync", a.sync.as_ref()),
            ("reset", a.reset.as_ref()),
            ("clear", a.clear.as_ref()),
            ("validate", a.validate.as_ref()),
            ("check", a.check.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let (verb, conn) = match actions.as_slice() {
            [one] => *one,
            [] => {
                self.push(
                    Code::InvalidValue,
                    pointer,
                    format!("step at `{}` does nothing", dotted(pointer)),
                    "no action",
                    "give the step one of `sync`, `reset`, `clear`, `validate`, `check` with a connection name".into(),
                );
                return None;
            }
            many => {
                let verbs: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
                self.push(
                    Code::InvalidValue,
                    pointer,
                    format!(
                        "step at `{}` has several actions ({})",
                        dotted(pointer),
                        verbs.join(", ")
                    ),
                    "one action per step",
                    "split it into one step per action".into(),
                );
                return None;
            }
        };
        if !names.contains_key(conn.as_str()) {
            self.unknown_connection(&format!("{pointer}/{verb}"), conn, names);
        }
        if let Some(after) = &a.after {
            if !names.contains_key(after.as_str()) {
                self.unknown_connection(&format!("{pointer}/after"), after, names);
            }
        }
        let when = a.when.as_ref().map(|w| model::Condition {
            last_sync_older_than: w
                .last_sync_older_than
                .as_ref()
                .and_then(|d| self.duration(&format!("{pointer}/when/last-sync-older-than"), d)),
            previous: w.previous,
        });
        let timeout = a
            .timeout
            .as_ref()
            .and_then(|t| self.duration(&format!("{pointer}/timeout"), t))
            .unwrap_or(default_timeout);
        let kind = match verb {
            "sync" => StepKind::Sync(conn.clone()),
            "reset" => StepKind::Reset(conn.clone()),
            "clear" => StepKind::Clear(conn.clone()),
            "validate" => StepKind::Validate(conn.clone()),
            _ => StepKind::Check(conn.clone()),
        };
        let min_records = a
            .min_records
            .or_else(|| names.get(conn.as_str()).copied().flatten());
        Some(model::Step {
            kind,
            after: a.after.clone(),
            when,
            on_running: a.on_running.unwrap_or_default(),
            min_records,
            timeout,
        })
    }

    fn unknown_connection(
        &mut self,
        pointer: &str,
        name: &str,
        names: &BTreeMap<&str, Option<u64>>,
    ) {
        let mut known: Vec<&str> = names.keys().copied().take(10).collect();
        if names.len() > known.len() {
            known.push("…");
        }
        let help = if known.is_empty() {
            "declare it under `connections:` with its name and UUID".to_string()
        } else {
            format!(
                "declare it under `connections:`, or use one of: {}",
                known.join(", ")
            )
        };
        self.push(
            Code::UnknownConnection,
            pointer,
            format!("connection `{name}` is not declared"),
            "no such connection",
            help,
        );
        if let Some(last) = self.diags.last_mut() {
            last.path = Some(pointer.into());
        }
    }

    /// `after` must name a connection that an *earlier* step of the pipeline runs (sync, reset
    /// or clear): steps run in order, so a step that runs later has no outcome yet and the step
    /// would only ever be skipped. `after` edges that close a cycle are reported as one cycle.
    fn check_dependencies(&mut self, base: &str, steps: &[(usize, model::Step)]) {
        let runs = |s: &model::Step| {
            matches!(
                s.kind,
                StepKind::Sync(_) | StepKind::Reset(_) | StepKind::Clear(_)
            )
        };
        let producers = |conn: &str| -> Vec<usize> {
            steps
                .iter()
                .enumerate()
                .filter(|(_, (_, s))| runs(s) && s.kind.connection() == Some(conn))
                .map(|(i, _)| i)
                .collect()
        };
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, (_, s)) in steps.iter().enumerate() {
            if let Some(after) = &s.after {
                // A step never waits for itself: `{sync: a, after: a}` waits for an earlier `a`.
                edges[i] = producers(after).into_iter().filter(|&j| j != i).collect();
            }
        }
        let cycle_at = self.check_cycle(base, steps, &edges);
        for (i, (si, s)) in steps.iter().enumerate() {
            let Some(after) = &s.after else { continue };
            if edges[i].iter().any(|&j| j < i) || cycle_at == Some(i) {
                continue;
            }
            let p = format!("{base}/steps/{si}/after");
            let (message, help) = if producers(after).is_empty() {
                (
                    format!("`after: {after}` but no step of this pipeline syncs, resets or clears `{after}`"),
                    format!("add a step `{{sync: {after}}}` to the pipeline, or remove `after`"),
                )
            } else {
                (
                    format!("`after: {after}` names no earlier step: the steps on `{after}` run at or after this one, so it would never run"),
                    format!("move the step on `{after}` before this one, or remove `after`"),
                )
            };
            self.push(
                Code::UnknownDependency,
                &p,
                message,
                "nothing earlier to wait for",
                help,
            );
        }
    }

    /// Report the first cycle of `after` edges, at the first step on it; return that step.
    fn check_cycle(
        &mut self,
        base: &str,
        steps: &[(usize, model::Step)],
        edges: &[Vec<usize>],
    ) -> Option<usize> {
        // Depth-first search for a cycle; report it once, at the first step on it.
        let mut state = vec![0u8; steps.len()]; // 0 new, 1 on stack, 2 done
        let mut stack = Vec::new();
        for start in 0..steps.len() {
            if let Some(cycle) = find_cycle(start, edges, &mut state, &mut stack) {
                let first = *cycle.iter().min().expect("non-empty cycle");
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&i| steps[i].1.kind.connection().unwrap_or("health").to_string())
                    .collect();
                let (si, _) = steps[first];
                self.push(
                    Code::DependencyCycle,
                    &format!("{base}/steps/{si}/after"),
                    format!(
                        "steps wait for each other in a cycle: {} → {}",
                        names.join(" → "),
                        names[0]
                    ),
                    "part of a cycle",
                    "remove one of the `after:` references so the steps can run in some order"
                        .into(),
                );
                return Some(first);
            }
        }
        None
    }
}

fn find_cycle(
    n: usize,
    edges: &[Vec<usize>],
    state: &mut [u8],
    stack: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    match state[n] {
        2 => return None,
        1 => {
            let pos = stack.iter().position(|&s| s == n).expect("on stack");
            return Some(stack[pos..].to_vec());
        }
        _ => {}
    }
    state[n] = 1;
    stack.push(n);
    for &m in &edges[n] {
        if let Some(c) = find_cycle(m, edges, state, stack) {
            return Some(c);
        }
    }
    stack.pop();
    state[n] = 2;
    None
}
