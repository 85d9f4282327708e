//! Reading Airbyte's configuration through the public API: every workspace, then per workspace
//! its sources, destinations and connections, each list paged to its end with the API's largest
//! page (`limit=100`, `offset`). The lists carry whole objects, so no object is fetched alone.
//!
//! Paging is bounded: a `next` link is never followed as a URL (it could name another host, and
//! the credentials would go with it); only its `offset` is read, and it must move forward. A
//! `next` seen before, one that does not move, a page that is empty yet announces another, or
//! more than [`MAX_PAGES`] pages end the export with [`ExportError::EndlessList`].

use super::ExportError;
use crate::conform::client::Client;
use serde_json::Value;
use std::collections::BTreeSet;

/// The largest page the public API serves (`limit` maximum in `api.yaml`).
pub const PAGE_SIZE: usize = 100;

/// Pages read from one list at most (a million objects).
pub const MAX_PAGES: usize = 10_000;

/// One workspace and everything in it, as the API returned them (ids lowercase).
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// The workspace object.
    pub workspace: Value,
    /// Its sources.
    pub sources: Vec<Value>,
    /// Its destinations.
    pub destinations: Vec<Value>,
    /// Its connections.
    pub connections: Vec<Value>,
}

/// Everything read, and how many requests it took.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Workspaces in the API's order.
    pub workspaces: Vec<Workspace>,
    /// List requests sent (pages).
    pub pages: u64,
}

/// Read every workspace and its objects.
pub async fn snapshot(client: &Client) -> Result<Snapshot, ExportError> {
    let mut snap = Snapshot::default();
    let workspaces = list(client, "/workspaces", None, &mut snap.pages).await?;
    for ws in workspaces {
        let id = id_of(&ws, "workspaceId", "/workspaces")?;
        let sources = list(client, "/sources", Some(&id), &mut snap.pages).await?;
        let destinations = list(client, "/destinations", Some(&id), &mut snap.pages).await?;
        let connections = list(client, "/connections", Some(&id), &mut snap.pages).await?;
        snap.workspaces.push(Workspace {
            workspace: ws,
            sources,
            destinations,
            connections,
        });
    }
    Ok(snap)
}

/// The string field `field` of an object from `resource`.
pub fn id_of(v: &Value, field: &str, resource: &str) -> Result<String, ExportError> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| ExportError::InvalidList {
            resource: resource.to_owned(),
            problem: format!("an item has no string `{field}`"),
        })
}

/// The `offset` query parameter of a `next` link.
fn next_offset(next: &str) -> Option<usize> {
    let query = next.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "offset")
        .and_then(|(_, v)| v.parse().ok())
}

/// Every item of `resource` (in `workspace`, when given), page after page.
async fn list(
    client: &Client,
    resource: &str,
    workspace: Option<&str>,
    pages: &mut u64,
) -> Result<Vec<Value>, ExportError> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut offset = 0usize;
    let what = match workspace {
        Some(w) => format!("{resource} of workspace {w}"),
        None => resource.to_owned(),
    };
    let endless = |reason: String| ExportError::EndlessList {
        resource: what.clone(),
        reason,
    };
    for page in 0.. {
        if page >= MAX_PAGES {
            return Err(endless(format!("more than {MAX_PAGES} pages")));
        }
        let mut query = vec![
            ("includeDeleted", "false".to_owned()),
            ("limit", PAGE_SIZE.to_string()),
            ("offset", offset.to_string()),
        ];
        if let Some(w) = workspace {
            query.insert(0, ("workspaceIds", w.to_owned()));
        }
        *pages += 1;
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = client
            .get_json(resource, &pairs)
            .await
            .map_err(|e| ExportError::Api {
                what: what.clone(),
                message: client.describe(&e),
                status: e.status(),
            })?;
        let Some(Value::Array(data)) = body.get("data") else {
            return Err(ExportError::InvalidList {
                resource: what.clone(),
                problem: "the answer has no `data` list".into(),
            });
        };
        let n = data.len();
        out.extend(data.iter().cloned());
        let Some(next) = body.get("next") else {
            break;
        };
        let Some(next) = next.as_str() else {
            return Err(ExportError::InvalidList {
                resource: what.clone(),
                problem: "`next` is not a string".into(),
            });
        };
        if !seen.insert(next.to_owned()) {
            return Err(endless(format!(
                "the `next` link of page {} was seen before",
                page + 1
            )));
        }
        match next_offset(next) {
            Some(o) if o > offset && n > 0 => offset = o,
            Some(o) => {
                return Err(endless(format!(
                    "page {} at offset {offset} ({n} items) points to offset {o} next",
                    page + 1
                )))
            }
            None => {
                return Err(ExportError::InvalidList {
                    resource: what.clone(),
                    problem: "the `next` link carries no `offset`".into(),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::next_offset;

    #[test]
    fn next_links_give_their_offset_only() {
        assert_eq!(
            next_offset("http://h/v1/sources?workspaceIds=a&limit=100&offset=200"),
            Some(200)
        );
        assert_eq!(next_offset("http://h/v1/sources?limit=100"), None);
        assert_eq!(next_offset("http://h/v1/sources"), None);
        assert_eq!(next_offset("/x?offset=nope"), None);
    }
}
