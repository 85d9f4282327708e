//! The mock's configuration objects: workspaces, sources and destinations as a scenario declares
//! them (closed types, like the rest of the scenario), how connections point at them and which
//! streams they carry, and the public API bodies built from them.
//!
//! A source or destination holds a `configuration` with secrets in it. The real server masks the
//! fields its connector spec marks secret as `**********`; here `secret-fields` names those keys
//! (at any depth) and `unmasked: true` turns the mask off, so tests can prove a client keeps the
//! mask and masks what a careless server returns in the clear. Everything not declared falls back
//! to one default workspace, source and destination, which is what the mock served before it knew
//! about them. This module never does IO.

use super::body::{DESTINATION_ID, SOURCE_ID, WORKSPACE_ID};
use super::scenario::{is_uuid, ConnectionSpec, Scenario};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the real server writes instead of a secret value.
pub const MASK: &str = "**********";

/// A workspace.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WorkspaceSpec {
    /// Workspace UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Fault: every request about this workspace answers 403 (it is still listed).
    #[serde(default)]
    pub forbidden: bool,
}

/// A source or a destination.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ActorSpec {
    /// UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Workspace id (default: the default workspace).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Connector type (`postgres`, `faker`, …).
    #[serde(default = "default_type", rename = "type")]
    pub kind: String,
    /// The connector's configuration, as the API returns it (before masking).
    #[serde(default)]
    pub configuration: BTreeMap<String, Value>,
    /// Keys (at any depth) the connector spec marks secret: answered as `**********`.
    #[serde(default)]
    pub secret_fields: Vec<String>,
    /// Fault: answer the secret fields in the clear.
    #[serde(default)]
    pub unmasked: bool,
}

fn default_type() -> String {
    "faker".to_owned()
}

/// How Airbyte itself schedules a connection.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Schedule {
    /// Only when asked (an orchestrator triggers it).
    #[default]
    Manual,
    /// On a Quartz cron expression.
    Cron(String),
    /// Every so often (`every 24 hours`).
    Basic(String),
}

/// A configured stream of a connection.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StreamSpec {
    /// Stream name.
    pub name: String,
    /// Stream namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Sync mode.
    #[serde(default)]
    pub sync_mode: SyncMode,
    /// Cursor field path.
    #[serde(default)]
    pub cursor_field: Vec<String>,
    /// Primary key paths.
    #[serde(default)]
    pub primary_key: Vec<Vec<String>>,
}

/// The public API's `ConnectionSyncModeEnum`, spelt as it is.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[allow(missing_docs, reason = "the API's own values")]
pub enum SyncMode {
    #[default]
    FullRefreshOverwrite,
    FullRefreshOverwriteDeduped,
    FullRefreshAppend,
    FullRefreshUpdate,
    FullRefreshSoftDelete,
    IncrementalAppend,
    IncrementalDedupedHistory,
    IncrementalUpdate,
    IncrementalSoftDelete,
}

/// Many generated connections in the default workspace (appended after the listed ones), each
/// with the same streams: half incremental with a cursor and a key, half full refresh.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Bulk {
    /// How many connections.
    pub connections: u32,
    /// Streams per connection.
    #[serde(default)]
    pub streams: u32,
}

/// The id of the `i`-th bulk connection.
pub fn bulk_id(i: u32) -> String {
    format!("b{:07x}-0000-4000-8000-{:012x}", i, u64::from(i))
}

impl Bulk {
    /// The connections it stands for (sharing one stream list).
    pub fn expand(self) -> impl Iterator<Item = (ConnectionSpec, Arc<Vec<StreamSpec>>)> {
        let streams: Arc<Vec<StreamSpec>> = Arc::new(
            (0..self.streams)
                .map(|j| {
                    let incremental = j % 2 == 0;
                    StreamSpec {
                        name: format!("stream_{j:03}"),
                        namespace: None,
                        sync_mode: if incremental {
                            SyncMode::IncrementalAppend
                        } else {
                            SyncMode::FullRefreshOverwrite
                        },
                        cursor_field: if incremental {
                            vec!["updated_at".to_owned()]
                        } else {
                            Vec::new()
                        },
                        primary_key: if incremental {
                            vec![vec!["id".to_owned()]]
                        } else {
                            Vec::new()
                        },
                    }
                })
                .collect(),
        );
        (0..self.connections).map(move |i| {
            (
                ConnectionSpec::new(bulk_id(i), format!("bulk-{i:05}")),
                streams.clone(),
            )
        })
    }
}

/// Report every workspace, source and destination id that is not a UUID or is listed twice
/// (pointer, message).
pub(super) fn check_ids(s: &Scenario, report: &mut dyn FnMut(String, String)) {
    let lists: [(&str, Vec<&str>); 3] = [
        (
            "workspaces",
            s.workspaces.iter().map(|w| w.id.as_str()).collect(),
        ),
        ("sources", s.sources.iter().map(|a| a.id.as_str()).collect()),
        (
            "destinations",
            s.destinations.iter().map(|a| a.id.as_str()).collect(),
        ),
    ];
    for (list, ids) in lists {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.into_iter().enumerate() {
            if !is_uuid(id) {
                report(
                    format!("/{list}/{i}/id"),
                    format!("id `{id}` is not a UUID"),
                );
            } else if !seen.insert(id.to_ascii_lowercase()) {
                report(
                    format!("/{list}/{i}/id"),
                    format!("id `{id}` is listed twice"),
                );
            }
        }
    }
}

/// A workspace as the mock serves it.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Lowercase UUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Every request about it answers 403.
    pub forbidden: bool,
}

/// A source or destination as the mock serves it: configuration already masked as asked.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Lowercase UUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Lowercase workspace UUID.
    pub workspace: String,
    /// Connector type.
    pub kind: String,
    /// Configuration as answered.
    pub configuration: Value,
}

/// Every workspace, source and destination.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Workspaces, in scenario order (the default one first when it is used).
    pub workspaces: Vec<Workspace>,
    /// Sources.
    pub sources: Vec<Actor>,
    /// Destinations.
    pub destinations: Vec<Actor>,
}

fn lower(id: Option<&String>, default: &str) -> String {
    id.map_or_else(|| default.to_owned(), |s| s.to_ascii_lowercase())
}

/// `configuration` with every value under one of `keys` replaced by [`MASK`].
fn masked(v: &Value, keys: &[String]) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = if keys.iter().any(|s| s == k) && !v.is_null() {
                        json!(MASK)
                    } else {
                        masked(v, keys)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| masked(v, keys)).collect()),
        other => other.clone(),
    }
}

impl Catalog {
    /// The catalog of a scenario whose connections (bulk ones included) are `connections`.
    pub fn new(s: &Scenario, connections: &[ConnectionSpec]) -> Self {
        let actor = |a: &ActorSpec| {
            let configuration = Value::Object(a.configuration.clone().into_iter().collect());
            Actor {
                id: a.id.to_ascii_lowercase(),
                name: a.name.clone(),
                workspace: lower(a.workspace.as_ref(), WORKSPACE_ID),
                kind: a.kind.clone(),
                configuration: if a.unmasked {
                    configuration
                } else {
                    masked(&configuration, &a.secret_fields)
                },
            }
        };
        let mut c = Catalog {
            workspaces: s
                .workspaces
                .iter()
                .map(|w| Workspace {
                    id: w.id.to_ascii_lowercase(),
                    name: w.name.clone(),
                    forbidden: w.forbidden,
                })
                .collect(),
            sources: s.sources.iter().map(actor).collect(),
            destinations: s.destinations.iter().map(actor).collect(),
        };
        let uses = |id: &str, of: &dyn Fn(&ConnectionSpec) -> Option<&String>| {
            connections.iter().any(|c| lower(of(c), id) == id)
        };
        if !c.sources.iter().any(|a| a.id == SOURCE_ID) && uses(SOURCE_ID, &|c| c.source.as_ref()) {
            c.sources
                .insert(0, default_actor(SOURCE_ID, "mock-source", "faker"));
        }
        if !c.destinations.iter().any(|a| a.id == DESTINATION_ID)
            && uses(DESTINATION_ID, &|c| c.destination.as_ref())
        {
            c.destinations.insert(
                0,
                default_actor(DESTINATION_ID, "mock-destination", "dev-null"),
            );
        }
        let default_used = s.workspaces.is_empty()
            || uses(WORKSPACE_ID, &|c| c.workspace.as_ref())
            || c.sources
                .iter()
                .chain(&c.destinations)
                .any(|a| a.workspace == WORKSPACE_ID);
        if default_used && !c.workspaces.iter().any(|w| w.id == WORKSPACE_ID) {
            c.workspaces.insert(
                0,
                Workspace {
                    id: WORKSPACE_ID.to_owned(),
                    name: "Default Workspace".to_owned(),
                    forbidden: false,
                },
            );
        }
        c
    }

    /// A workspace by id (case-insensitive).
    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces
            .iter()
            .find(|w| w.id.eq_ignore_ascii_case(id))
    }

    /// Whether requests about workspace `id` are refused.
    pub fn forbidden(&self, id: &str) -> bool {
        self.workspace(id).is_some_and(|w| w.forbidden)
    }
}

/// The default source or destination. A destination's configuration carries its
/// `destinationType`, as the ones created through the public API do (the SDK's models are a
/// union keyed by it).
fn default_actor(id: &str, name: &str, kind: &str) -> Actor {
    let configuration = if kind == "dev-null" {
        json!({ "destinationType": "dev-null", "test_destination": { "test_destination_type": "SILENT" } })
    } else {
        json!({})
    };
    Actor {
        id: id.to_owned(),
        name: name.to_owned(),
        workspace: WORKSPACE_ID.to_owned(),
        kind: kind.to_owned(),
        configuration,
    }
}

/// A stable definition id per connector type (the mock has no registry).
fn definition_id(kind: &str) -> String {
    let h = kind.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xffff_ffff_ffff
    )
}

/// Public `WorkspaceResponse`.
pub fn public_workspace(w: &Workspace) -> Value {
    json!({
        "workspaceId": w.id,
        "name": w.name,
        "dataResidency": "auto",
        "notifications": {},
    })
}

/// Public `SourceResponse` (`source`) or `DestinationResponse`.
pub fn public_actor(a: &Actor, source: bool, created_at: i64) -> Value {
    let (id, kind) = if source {
        ("sourceId", "sourceType")
    } else {
        ("destinationId", "destinationType")
    };
    let mut o = Map::new();
    o.insert(id.into(), json!(a.id));
    o.insert("name".into(), json!(a.name));
    o.insert(kind.into(), json!(a.kind));
    o.insert("definitionId".into(), json!(definition_id(&a.kind)));
    o.insert("workspaceId".into(), json!(a.workspace));
    o.insert("configuration".into(), a.configuration.clone());
    o.insert("createdAt".into(), json!(created_at));
    Value::Object(o)
}

/// Public `ConnectionScheduleResponse`.
pub fn public_schedule(s: &Schedule) -> Value {
    match s {
        Schedule::Manual => json!({ "scheduleType": "manual" }),
        Schedule::Cron(e) => json!({ "scheduleType": "cron", "cronExpression": e }),
        Schedule::Basic(t) => json!({ "scheduleType": "basic", "basicTiming": t }),
    }
}

/// Public `StreamConfiguration`.
pub fn public_stream(s: &StreamSpec) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(s.name));
    if let Some(n) = &s.namespace {
        o.insert("namespace".into(), json!(n));
    }
    o.insert("syncMode".into(), json!(<&'static str>::from(s.sync_mode)));
    if !s.cursor_field.is_empty() {
        o.insert("cursorField".into(), json!(s.cursor_field));
    }
    if !s.primary_key.is_empty() {
        o.insert("primaryKey".into(), json!(s.primary_key));
    }
    Value::Object(o)
}

/// Public `StreamProperties` of a stream.
pub fn public_stream_properties(s: &StreamSpec) -> Value {
    let mut o = Map::new();
    o.insert("streamName".into(), json!(s.name));
    if let Some(n) = &s.namespace {
        o.insert("streamnamespace".into(), json!(n));
    }
    o.insert(
        "syncModes".into(),
        json!([
            "full_refresh_overwrite",
            "full_refresh_append",
            "incremental_append"
        ]),
    );
    o.insert("defaultCursorField".into(), json!(s.cursor_field));
    o.insert("sourceDefinedCursorField".into(), json!(false));
    o.insert("sourceDefinedPrimaryKey".into(), json!(s.primary_key));
    o.insert("propertyFields".into(), json!([["id"], ["updated_at"]]));
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_secret_fields_are_masked_at_any_depth_unless_unmasked() {
        let s = Scenario::from_str(
            "t",
            "sources:\n  - id: 00000000-0000-4000-8000-0000000000a1\n    name: pg\n    type: postgres\n    configuration: { host: db, password: hunter2, tunnel: { password: t0p } }\n    secret-fields: [password]\n  - id: 00000000-0000-4000-8000-0000000000a2\n    name: clear\n    configuration: { password: hunter2 }\n    secret-fields: [password]\n    unmasked: true\n",
        )
        .unwrap();
        let c = Catalog::new(&s, &s.connections);
        assert_eq!(
            c.sources[0].configuration,
            json!({ "host": "db", "password": MASK, "tunnel": { "password": MASK } })
        );
        assert_eq!(c.sources[1].configuration, json!({ "password": "hunter2" }));
        assert_eq!(
            c.workspaces.len(),
            1,
            "objects without a workspace use the default"
        );
    }

    #[test]
    fn schedules_and_streams_parse() {
        let s = Scenario::from_str(
            "t",
            "connections:\n  - id: 00000000-0000-4000-8000-0000000000c1\n    name: a\n    schedule: { cron: '0 0 * * * ?' }\n    streams: [{ name: users, sync-mode: incremental_append, cursor-field: [updated_at] }]\n  - id: 00000000-0000-4000-8000-0000000000c2\n    name: b\n    schedule: manual\n",
        )
        .unwrap();
        assert_eq!(
            s.connections[0].schedule,
            Schedule::Cron("0 0 * * * ?".into())
        );
        assert_eq!(s.connections[1].schedule, Schedule::Manual);
        assert_eq!(
            s.connections[0].streams[0].sync_mode,
            SyncMode::IncrementalAppend
        );
        assert!(Scenario::from_str("t", "workspaces: [{ id: nope, name: w }]\n").is_err());
    }

    #[test]
    fn bulk_ids_are_uuids_and_distinct() {
        let all: BTreeSet<String> = Bulk {
            connections: 300,
            streams: 2,
        }
        .expand()
        .map(|(c, _)| c.id)
        .collect();
        assert_eq!(all.len(), 300);
        assert!(all.iter().all(|id| is_uuid(id)));
    }
}
