//! The public API's configuration reads: workspaces, sources, destinations and connections (list
//! with `workspaceIds`, `includeDeleted` and paging; get by id) and `/streams`. A workspace the
//! scenario marks `forbidden` is listed, but every request naming it (or an object in it) answers
//! 403, and unfiltered lists leave its objects out, as for a token without access to it. Lists
//! build bodies only for the page asked for, so paging through thousands of objects stays cheap.

use super::public_api::{bad_request, not_found, page_of, Query};
use super::{Inner, Reply};
use crate::mock::body;
use crate::mock::catalog::{self, Actor};
use crate::mock::scenario::Operation;
use serde_json::{json, Value};

fn forbidden(workspace: &str) -> Reply {
    Reply::json(
        403,
        &body::problem(
            403,
            "forbidden",
            "The request is forbidden.",
            Some(
                json!({ "message": format!("User does not have the required permissions to access workspace {workspace}") }),
            ),
        ),
    )
}

/// The `workspaceIds` filter (repeated or comma-separated), lowercase; empty for all.
fn workspace_filter(q: &Query) -> Vec<String> {
    q.0.iter()
        .filter(|(k, _)| k == "workspaceIds")
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `GET /workspaces`, `/sources`, `/destinations`, `/connections`.
pub(super) fn list(inner: &Inner, op: Operation, q: &Query, host: &str, prefix: &str) -> Reply {
    let (limit, offset) = match q.page() {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(v) = q.get("includeDeleted") {
        if v != "true" && v != "false" {
            return bad_request("includeDeleted must be true or false");
        }
    }
    let wanted = workspace_filter(q);
    let w = inner.world();
    let cat = &w.catalog;
    if let Some(ws) = wanted.iter().find(|id| cat.forbidden(id)) {
        return forbidden(ws);
    }
    let keep = |ws: &str| {
        if wanted.is_empty() {
            !cat.forbidden(ws)
        } else {
            wanted.iter().any(|id| id == ws)
        }
    };
    let window = |total: usize| offset.min(total)..offset.saturating_add(limit).min(total);
    let (resource, total, data): (&str, usize, Vec<Value>) = match op {
        Operation::ListWorkspaces => {
            let all: Vec<_> = cat
                .workspaces
                .iter()
                .filter(|x| wanted.is_empty() || wanted.contains(&x.id))
                .collect();
            let data = all[window(all.len())]
                .iter()
                .map(|x| catalog::public_workspace(x))
                .collect();
            ("/workspaces", all.len(), data)
        }
        Operation::ListSources | Operation::ListDestinations => {
            let source = op == Operation::ListSources;
            let list = if source {
                &cat.sources
            } else {
                &cat.destinations
            };
            let all: Vec<&Actor> = list.iter().filter(|a| keep(&a.workspace)).collect();
            let data = all[window(all.len())]
                .iter()
                .map(|a| catalog::public_actor(a, source, w.connections_created_at))
                .collect();
            let resource = if source { "/sources" } else { "/destinations" };
            (resource, all.len(), data)
        }
        _ => {
            let all: Vec<_> = w
                .connections
                .iter()
                .filter(|c| keep(&c.workspace))
                .collect();
            let data = all[window(all.len())]
                .iter()
                .map(|c| body::public_connection(c, w.connections_created_at))
                .collect();
            ("/connections", all.len(), data)
        }
    };
    Reply::ok(&page_of(
        total, data, limit, offset, host, prefix, resource, q,
    ))
}

/// `GET /workspaces/{id}`, `/sources/{id}`, `/destinations/{id}`.
pub(super) fn get(inner: &Inner, op: Operation, id: &str) -> Reply {
    let w = inner.world();
    let cat = &w.catalog;
    match op {
        Operation::GetWorkspace => match cat.workspace(id) {
            Some(x) if x.forbidden => forbidden(&x.id),
            Some(x) => Reply::ok(&catalog::public_workspace(x)),
            None => not_found("workspace", id),
        },
        _ => {
            let source = op == Operation::GetSource;
            let (list, kind) = if source {
                (&cat.sources, "source")
            } else {
                (&cat.destinations, "destination")
            };
            match list.iter().find(|a| a.id.eq_ignore_ascii_case(id)) {
                Some(a) if cat.forbidden(&a.workspace) => forbidden(&a.workspace),
                Some(a) => Reply::ok(&catalog::public_actor(a, source, w.connections_created_at)),
                None => not_found(kind, id),
            }
        }
    }
}

/// `GET /streams?sourceId=…`: the streams the source's connections configure (each name once).
pub(super) fn streams(inner: &Inner, q: &Query) -> Reply {
    let Some(source) = q.get("sourceId").map(str::to_ascii_lowercase) else {
        return bad_request("sourceId is required");
    };
    let w = inner.world();
    let Some(a) = w.catalog.sources.iter().find(|a| a.id == source) else {
        return not_found("source", &source);
    };
    if w.catalog.forbidden(&a.workspace) {
        return forbidden(&a.workspace);
    }
    let mut seen = std::collections::BTreeSet::new();
    let out: Vec<Value> = w
        .connections
        .iter()
        .filter(|c| *c.source == *source)
        .flat_map(|c| c.streams.iter())
        .filter(|s| seen.insert((s.namespace.clone(), s.name.clone())))
        .map(catalog::public_stream_properties)
        .collect();
    Reply::ok(&Value::Array(out))
}
