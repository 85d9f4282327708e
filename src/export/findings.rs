//! With `--spec`: what the export says about the spec. Connections the spec names must exist
//! and be active; a connection a pipeline syncs must not also be scheduled by Airbyte (each run
//! would sync twice); connections no spec names are noted; a pipeline that resets or clears a
//! connection whose streams are all full refresh | overwrite does work the next sync does anyway.
//! Pure: one pass over the snapshot and the model.

use super::fetch::Snapshot;
use crate::diag::{Code, Diagnostic};
use crate::spec::model::StepKind;
use crate::spec::Model;
use serde_json::Value;
use std::collections::BTreeMap;

/// Every finding of `model` against `snap`, unsorted.
pub fn check(model: &Model, snap: &Snapshot) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let live: BTreeMap<String, &Value> = snap
        .workspaces
        .iter()
        .flat_map(|w| &w.connections)
        .filter_map(|c| {
            let id = c.get("connectionId")?.as_str()?.to_ascii_lowercase();
            Some((id, c))
        })
        .collect();
    let text = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let by_name: BTreeMap<&str, &str> = model
        .connections
        .iter()
        .map(|c| (c.name.as_str(), c.id.as_str()))
        .collect();
    for (i, c) in model.connections.iter().enumerate() {
        let at = format!("/connections/{i}");
        match live.get(&c.id.to_ascii_lowercase()) {
            None => out.push(
                Diagnostic::new(
                    Code::ExportConnectionMissing,
                    format!(
                        "connection `{}` ({}) does not exist in Airbyte",
                        c.name, c.id
                    ),
                )
                .with_path(at)
                .with_help("create it in Airbyte, or correct its id in the spec"),
            ),
            Some(v) if text(v, "/status") != "active" => out.push(
                Diagnostic::new(
                    Code::ExportConnectionInactive,
                    format!(
                        "connection `{}` ({}) is `{}` in Airbyte, not `active`: its syncs fail",
                        c.name,
                        c.id,
                        crate::text::escape_control(&text(v, "/status"))
                    ),
                )
                .with_path(at)
                .with_help("enable the connection in Airbyte, or remove it from the spec"),
            ),
            Some(_) => {}
        }
    }
    let mut double = std::collections::BTreeSet::new();
    for (p, pipeline) in model.pipelines.iter().enumerate() {
        for (s, step) in pipeline.steps.iter().enumerate() {
            let at = format!("/pipelines/{p}/steps/{s}");
            let (name, reset) = match &step.kind {
                StepKind::Sync(n) => (n, false),
                StepKind::Reset(n) | StepKind::Clear(n) => (n, true),
                _ => continue,
            };
            let Some(v) = by_name
                .get(name.as_str())
                .and_then(|id| live.get(&id.to_ascii_lowercase()))
            else {
                continue;
            };
            let kind = text(v, "/schedule/scheduleType");
            if !reset && kind != "manual" && !kind.is_empty() && double.insert(name.clone()) {
                let when = match kind.as_str() {
                    "cron" => format!("cron `{}`", text(v, "/schedule/cronExpression")),
                    "basic" => format!("`{}`", text(v, "/schedule/basicTiming")),
                    other => format!("`{other}`"),
                };
                out.push(
                    Diagnostic::new(
                        Code::ExportDoubleSchedule,
                        format!(
                            "pipeline `{}` syncs connection `{name}`, which Airbyte also schedules ({}): it syncs twice",
                            pipeline.name,
                            crate::text::escape_control(&when)
                        ),
                    )
                    .with_path(at)
                    .with_help("set the connection's schedule to `manual` in Airbyte and let the pipeline trigger it"),
                );
            } else if reset {
                let streams = v
                    .pointer("/configurations/streams")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let overwrite = |s: &Value| {
                    s.get("syncMode").and_then(Value::as_str) == Some("full_refresh_overwrite")
                };
                if !streams.is_empty() && streams.iter().all(overwrite) {
                    out.push(
                        Diagnostic::new(
                            Code::ExportNeedlessReset,
                            format!(
                                "pipeline `{}` resets connection `{name}`, whose {} stream(s) are all full refresh | overwrite: every sync replaces the data anyway",
                                pipeline.name,
                                streams.len()
                            ),
                        )
                        .with_path(at)
                        .with_help("drop the reset step, or keep it if the destination must be emptied before the sync"),
                    );
                }
            }
        }
    }
    let named: std::collections::BTreeSet<String> = model
        .connections
        .iter()
        .map(|c| c.id.to_ascii_lowercase())
        .collect();
    for (id, v) in &live {
        if !named.contains(id) {
            out.push(
                Diagnostic::new(
                    Code::ExportUnmanagedConnection,
                    format!(
                        "connection `{}` ({id}) exists in Airbyte but no spec names it",
                        crate::text::escape_control(&text(v, "/name"))
                    ),
                )
                .with_help("add it to the spec's `connections` if a pipeline should own it, or delete it in Airbyte"),
            );
        }
    }
    out
}
