//! `dags/`: each spec pipeline as an Airflow 3 DAG file, plus the one runtime module they share.
//!
//! `dags/<pipeline>.py` (`dag_id` = the pipeline name) builds tasks from the operators of
//! `dags/airguard_airbyte.py`, which uses apache-airflow-providers-airbyte's `AirbyteHook` for
//! transport and auth (see `docs/dags.md`). Rust decides which tasks a step becomes, their ids,
//! arguments, dependencies and trigger rules; `templates/dags/` gives the Python its shape. Every
//! spec value reaches Python through [`py_literal`] (the templates' `py` filter), which writes an
//! ASCII-only Python literal, so no spec string can break out of its literal. The files are not
//! Kubernetes objects, so `kustomization.yaml` does not list them.
//!
//! A step becomes: `health` → one task; `check` → one task; `sync` → trigger → wait (a sensor in
//! reschedule mode) → validate (when the step has `min-records` and the next step is not an
//! explicit `validate` of it) → data checks; `reset`/`clear` → trigger → wait; `validate` → one
//! task. `when: last-sync-older-than` adds a gate task first. Steps run in spec order: a step's
//! first task waits for the previous step's last task with trigger rule `none_failed` (a skipped
//! step does not stop the next, a failed one does), `all_success` with `after:` (and an edge from
//! the step it names) or `when.previous: succeeded`, and `all_failed` with
//! `when.previous: failed`.
//!
//! The runtime's `METRICS` table is rendered from [`crate::metrics`]. With `observability`, the
//! trigger, wait and validate tasks of a connection step get a `metrics` argument (its
//! `pipeline`, `connection` and `step` labels) and report the contract through Airflow's statsd
//! client; a sync step with its own validate task reports its outcome from that task
//! (`reports_outcome=False` on the wait).

use super::{env, Artifact, RenderError};
use crate::spec::model::{Model, OnRunning, PipelineDag, PreviousOutcome, StepDag, StepKind};
use minijinja::Value;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Template of a pipeline's DAG file.
pub const PIPELINE_TEMPLATE: &str = "dags/pipeline.py.j2";
/// Template of the shared runtime module.
pub const RUNTIME_TEMPLATE: &str = "dags/airguard_airbyte.py.j2";
/// Path of the shared runtime module.
pub const RUNTIME_PATH: &str = "dags/airguard_airbyte.py";
/// Seconds the wait gives a cancelled job to end before it fails anyway.
pub const CANCEL_CONFIRM_SECS: u64 = 60;

#[derive(Serialize)]
struct Task {
    comment: Option<String>,
    var: String,
    class: &'static str,
    task_id: String,
    /// Keyword arguments whose values are data (rendered through `py`).
    args: Vec<(&'static str, Value)>,
    /// Keyword arguments that are Python expressions written by airguard itself.
    code_args: Vec<(&'static str, String)>,
}

/// Render `dags/` for every pipeline; nothing when the spec has no pipelines.
pub fn render(model: &Model) -> Result<Vec<Artifact>, RenderError> {
    if model.pipelines.is_empty() {
        return Ok(Vec::new());
    }
    let header = python_header();
    let mut out = vec![Artifact {
        path: RUNTIME_PATH.into(),
        content: env::render(
            RUNTIME_TEMPLATE,
            minijinja::context! { header => header, metrics => metric_table() },
        )?,
    }];
    for (i, p) in model.pipelines.iter().enumerate() {
        let fallback;
        let dag = match model.dags.pipelines.get(i) {
            Some(d) if d.name == p.name => d,
            _ => {
                fallback = PipelineDag {
                    name: p.name.clone(),
                    schedule: None,
                    start_date: None,
                    tags: Vec::new(),
                    owner: "airguard".into(),
                    retries: 2,
                    steps: Vec::new(),
                };
                &fallback
            }
        };
        out.push(pipeline(model, p, dag, &header)?);
    }
    Ok(out)
}

#[derive(Serialize)]
struct MetricTemplate {
    name: &'static str,
    template: String,
    kind: &'static str,
}

/// The runtime's `METRICS` table, from the contract: each series' statsd name after Airflow's
/// prefix as a `str.format` template (`<label>` → `{label}`) and its statsd type.
fn metric_table() -> Vec<MetricTemplate> {
    crate::metrics::METRICS
        .iter()
        .map(|m| MetricTemplate {
            name: m.name,
            template: m.statsd.replace('<', "{").replace('>', "}"),
            kind: m.kind.statsd(),
        })
        .collect()
}

/// The `metrics` argument of a connection step's tasks: its labels, only with `observability`.
fn metric_labels(model: &Model, pipeline: &str, connection: &str, step: &str) -> Option<Value> {
    model.observability.as_ref()?;
    Some(Value::from_serialize(std::collections::BTreeMap::from([
        ("connection", connection),
        ("pipeline", pipeline),
        ("step", step),
    ])))
}

/// The generated header: one `#` comment line, which is valid Python as it is.
fn python_header() -> String {
    super::header()
}

fn secs(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        Value::from(d.as_secs())
    } else {
        Value::from(d.as_secs_f64())
    }
}

fn pipeline(
    model: &Model,
    p: &crate::spec::model::Pipeline,
    dag: &PipelineDag,
    header: &str,
) -> Result<Artifact, RenderError> {
    let ids: HashMap<&str, &str> = model
        .connections
        .iter()
        .map(|c| (c.name.as_str(), c.id.as_str()))
        .collect();
    let mut tasks: Vec<Task> = Vec::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut uses_sql = false;
    // Per step: (first task var, last task var).
    let mut ends: Vec<(String, String)> = Vec::new();
    // Connection → the last step (index) on it, and the wait task of its last sync.
    let mut last_on: HashMap<&str, usize> = HashMap::new();
    let mut last_sync_wait: HashMap<&str, String> = HashMap::new();
    let conn_arg = || ("airbyte_conn_id", "AIRBYTE_CONN_ID".to_string());
    for (i, step) in p.steps.iter().enumerate() {
        let n = i + 1;
        let knobs = dag.steps.get(i).cloned().unwrap_or_else(StepDag::default);
        let v = step.kind.action();
        let conn = step.kind.connection();
        let suffix = conn.map(|c| format!("_{c}")).unwrap_or_default();
        let id = |what: &str| format!("step{n}_{what}{suffix}");
        let var = |what: &str| format!("s{n}_{what}");
        let uuid = conn.and_then(|c| ids.get(c)).copied().unwrap_or_default();
        let mut step_tasks: Vec<Task> = Vec::new();
        let comment = Some(match conn {
            Some(c) => format!("step {n}: {v} {c}"),
            None => format!("step {n}: {v}"),
        });
        if let (Some(age), Some(c)) = (
            step.when.as_ref().and_then(|w| w.last_sync_older_than),
            conn,
        ) {
            step_tasks.push(Task {
                comment: None,
                var: var("when"),
                class: "ab.LastSyncOlderThanOperator",
                task_id: id("when"),
                args: vec![("connection_id", Value::from(uuid)), ("max_age", secs(age))],
                code_args: vec![conn_arg()],
            });
            let _ = c;
        }
        match &step.kind {
            StepKind::Health => step_tasks.push(Task {
                comment: None,
                var: var("health"),
                class: "ab.HealthOperator",
                task_id: id("health"),
                args: vec![],
                code_args: vec![conn_arg()],
            }),
            StepKind::Check(_) => step_tasks.push(Task {
                comment: None,
                var: var("connection"),
                class: "ab.ConnectionCheckOperator",
                task_id: id("connection"),
                args: vec![("connection_id", Value::from(uuid))],
                code_args: vec![conn_arg()],
            }),
            StepKind::Sync(c) | StepKind::Reset(c) | StepKind::Clear(c) => {
                let job_type = v;
                let mut args = vec![
                    ("connection_id", Value::from(uuid)),
                    ("job_type", Value::from(job_type)),
                ];
                if matches!(step.kind, StepKind::Sync(_)) {
                    let policy = match step.on_running {
                        OnRunning::Attach => "attach",
                        OnRunning::Skip => "skip",
                        OnRunning::Fail => "fail",
                    };
                    args.push(("on_running", Value::from(policy)));
                }
                let labels = metric_labels(model, &p.name, c, v);
                if let Some(l) = &labels {
                    args.push(("metrics", l.clone()));
                }
                let is_sync = matches!(step.kind, StepKind::Sync(_));
                let validated_next = matches!(
                    p.steps.get(i + 1).map(|s| &s.kind),
                    Some(StepKind::Validate(x)) if x == c
                );
                // A sync step whose minimum its own validate task checks: that task, not the
                // wait, reports the step's outcome.
                let inline_validate = is_sync && step.min_records.is_some() && !validated_next;
                step_tasks.push(Task {
                    comment: None,
                    var: var(v),
                    class: "ab.TriggerJobOperator",
                    task_id: id(v),
                    args,
                    code_args: vec![conn_arg()],
                });
                let wait_id = id("wait");
                let poll = knobs.poll_interval;
                let mut wait_args = vec![
                    ("connection_id", Value::from(uuid)),
                    ("trigger_task_id", Value::from(id(v))),
                    ("job_type", Value::from(job_type)),
                    ("deadline", secs(step.timeout)),
                    ("poke_interval", secs(poll)),
                    ("progress_interval", secs(knobs.progress_interval)),
                    ("cancel_confirm", Value::from(CANCEL_CONFIRM_SECS)),
                ];
                if let Some(l) = &labels {
                    wait_args.push(("metrics", l.clone()));
                    if inline_validate {
                        wait_args.push(("reports_outcome", Value::from(false)));
                    }
                }
                step_tasks.push(Task {
                    comment: None,
                    var: var("wait"),
                    class: "ab.WaitForJobSensor",
                    task_id: wait_id.clone(),
                    args: wait_args,
                    code_args: vec![
                        conn_arg(),
                        (
                            "execution_timeout",
                            format!("datetime.timedelta(seconds={})", CANCEL_CONFIRM_SECS + 120),
                        ),
                    ],
                });
                if is_sync {
                    last_sync_wait.insert(c.as_str(), wait_id.clone());
                    if inline_validate {
                        step_tasks.push(validate_task(
                            var("validate"),
                            id("validate"),
                            uuid,
                            step.min_records,
                            Some(&wait_id),
                            labels,
                        ));
                    }
                    if let Some(checks) = &knobs.checks {
                        uses_sql |= checks.sql.is_some();
                        step_tasks.extend(check_tasks(n, c, checks, &wait_id));
                    }
                } else {
                    last_sync_wait.remove(c.as_str());
                }
            }
            StepKind::Validate(c) => {
                let stats = last_sync_wait.get(c.as_str()).cloned();
                step_tasks.push(validate_task(
                    var("validate"),
                    id("validate"),
                    uuid,
                    step.min_records,
                    stats.as_deref(),
                    metric_labels(model, &p.name, c, v),
                ));
            }
        }
        let first = step_tasks
            .first()
            .map(|t| t.var.clone())
            .unwrap_or_default();
        let last = step_tasks.last().map(|t| t.var.clone()).unwrap_or_default();
        // Dependencies between steps, and the trigger rule of the step's first task.
        let mut rule = None;
        if let Some((_, prev_last)) = ends.last() {
            edges.push((prev_last.clone(), first.clone()));
            rule = Some("none_failed");
            if let Some(after) = &step.after {
                rule = Some("all_success");
                if let Some(&j) = last_on.get(after.as_str()) {
                    let dep = &ends[j].1;
                    if dep != prev_last {
                        edges.push((dep.clone(), first.clone()));
                    }
                }
            }
            match step.when.as_ref().and_then(|w| w.previous) {
                Some(PreviousOutcome::Succeeded) => rule = Some("all_success"),
                Some(PreviousOutcome::Failed) => rule = Some("all_failed"),
                None => {}
            }
        }
        // Dependencies inside the step: a chain.
        for w in step_tasks.windows(2) {
            edges.push((w[0].var.clone(), w[1].var.clone()));
        }
        if let (Some(r), Some(t)) = (rule, step_tasks.first_mut()) {
            if r != "all_success" {
                t.code_args.push(("trigger_rule", format!("{r:?}")));
            }
        }
        if let Some(t) = step_tasks.first_mut() {
            t.comment = comment;
        }
        if let Some(c) = conn {
            last_on.insert(c, i);
        }
        ends.push((first, last));
        tasks.extend(step_tasks);
    }
    let summary = p
        .steps
        .iter()
        .map(|s| match s.kind.connection() {
            Some(c) => format!("{} {c}", s.kind.action()),
            None => s.kind.action().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let notify = &model.dags.notify;
    let email = notify.email.as_ref().map(|(id, to)| {
        minijinja::context! { connection_id => id, to => to }
    });
    let ctx = minijinja::context! {
        header => header,
        name => p.name,
        summary => summary,
        airbyte_conn_id => model.airflow.connection_id,
        uses_sql => uses_sql,
        notify => notify.slack.is_some() || notify.email.is_some(),
        slack => notify.slack,
        email => email,
        on_success => notify.on_success,
        // The failed task is in the context when a task failed (not when the run deadlocked).
        failure_text => "airguard: DAG {{ dag.dag_id }} run {{ run_id }} failed\
            {% if ti is defined %} (task {{ ti.task_id }}){% endif %}",
        success_text => "airguard: DAG {{ dag.dag_id }} run {{ run_id }} succeeded",
        schedule => dag.schedule,
        start_date => dag.start_date.map(|d| (d.year, d.month, d.day)),
        tags => dag.tags,
        owner => dag.owner,
        retries => dag.retries,
        tasks => tasks,
        edges => edges,
    };
    Ok(Artifact {
        path: format!("dags/{}.py", p.name),
        content: env::render(PIPELINE_TEMPLATE, ctx)?,
    })
}

fn validate_task(
    var: String,
    task_id: String,
    uuid: &str,
    min: Option<u64>,
    stats: Option<&str>,
    metrics: Option<Value>,
) -> Task {
    let mut args = vec![
        ("connection_id", Value::from(uuid)),
        ("min_records", Value::from(min)),
        ("stats_task_id", Value::from(stats)),
    ];
    if let Some(l) = metrics {
        args.push(("metrics", l));
    }
    Task {
        comment: None,
        var,
        class: "ab.ValidateRecordsOperator",
        task_id,
        args,
        code_args: vec![("airbyte_conn_id", "AIRBYTE_CONN_ID".into())],
    }
}

fn check_tasks(
    n: usize,
    conn: &str,
    checks: &crate::spec::model::Checks,
    wait_id: &str,
) -> Vec<Task> {
    let mut out = Vec::new();
    if let Some(sql) = &checks.sql {
        if let Some(min) = sql.min_rows {
            let checks = Value::from_serialize(serde_json::json!({
                "row_count_check": { "check_statement": format!("COUNT(*) >= {min}") }
            }));
            out.push(Task {
                comment: None,
                var: format!("s{n}_table_check"),
                class: "SQLTableCheckOperator",
                task_id: format!("step{n}_table_check_{conn}"),
                args: vec![
                    ("conn_id", Value::from(sql.connection_id.as_str())),
                    ("table", Value::from(sql.table.as_str())),
                    ("checks", checks),
                    ("retries", Value::from(0)),
                ],
                code_args: vec![],
            });
        }
        if !sql.columns.is_empty() {
            let mut mapping = serde_json::Map::new();
            for (col, c) in &sql.columns {
                let mut m = serde_json::Map::new();
                if let Some(n) = c.max_nulls {
                    m.insert("null_check".into(), serde_json::json!({ "leq_to": n }));
                }
                if let Some(v) = c.min {
                    m.insert("min".into(), serde_json::json!({ "geq_to": v }));
                }
                if let Some(v) = c.max {
                    m.insert("max".into(), serde_json::json!({ "leq_to": v }));
                }
                mapping.insert(col.clone(), serde_json::Value::Object(m));
            }
            out.push(Task {
                comment: None,
                var: format!("s{n}_column_check"),
                class: "SQLColumnCheckOperator",
                task_id: format!("step{n}_column_check_{conn}"),
                args: vec![
                    ("conn_id", Value::from(sql.connection_id.as_str())),
                    ("table", Value::from(sql.table.as_str())),
                    (
                        "column_mapping",
                        Value::from_serialize(serde_json::Value::Object(mapping)),
                    ),
                    ("retries", Value::from(0)),
                ],
                code_args: vec![],
            });
        }
    }
    if let Some((module, func)) = &checks.python {
        out.push(Task {
            comment: None,
            var: format!("s{n}_python_check"),
            class: "ab.PythonCheckOperator",
            task_id: format!("step{n}_python_check_{conn}"),
            args: vec![
                ("callable_path", Value::from(format!("{module}.{func}"))),
                ("stats_task_id", Value::from(wait_id)),
            ],
            code_args: vec![],
        });
    }
    out
}

/// A value as a Python literal, ASCII only. Strings use double quotes unless they hold more
/// double than single quotes (as `ruff format` prefers); every character outside printable
/// ASCII is escaped, so the literal cannot end early or span lines. Non-empty lists and dicts
/// are written one item per line with a trailing comma, indented from `indent` spaces.
pub fn py_literal(v: &Value, indent: usize) -> Result<String, minijinja::Error> {
    use minijinja::value::ValueKind;
    let pad = " ".repeat(indent + 4);
    let close = " ".repeat(indent);
    Ok(match v.kind() {
        ValueKind::Undefined | ValueKind::None => "None".into(),
        ValueKind::Bool => if v.is_true() { "True" } else { "False" }.into(),
        ValueKind::Number => {
            let text = v.to_string();
            if let Ok(f) = f64::try_from(v.clone()) {
                if !f.is_finite() {
                    return Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        "not a finite number",
                    ));
                }
            }
            text
        }
        ValueKind::String => py_str(v.as_str().unwrap_or_default()),
        ValueKind::Seq => {
            let items: Vec<Value> = v.try_iter()?.collect();
            if items.is_empty() {
                return Ok("[]".into());
            }
            let mut s = String::from("[\n");
            for item in items {
                s.push_str(&format!("{pad}{},\n", py_literal(&item, indent + 4)?));
            }
            s.push_str(&close);
            s.push(']');
            s
        }
        ValueKind::Map => {
            let keys: Vec<Value> = v.try_iter()?.collect();
            if keys.is_empty() {
                return Ok("{}".into());
            }
            let mut s = String::from("{\n");
            for k in keys {
                let item = v.get_item(&k)?;
                s.push_str(&format!(
                    "{pad}{}: {},\n",
                    py_literal(&k, indent + 4)?,
                    py_literal(&item, indent + 4)?
                ));
            }
            s.push_str(&close);
            s.push('}');
            s
        }
        _ => {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("no Python literal for a {} value", v.kind()),
            ))
        }
    })
}

/// A Python string literal for `s` (see [`py_literal`]).
pub fn py_str(s: &str) -> String {
    let doubles = s.matches('"').count();
    let singles = s.matches('\'').count();
    let q = if doubles > singles { '\'' } else { '"' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::py_str;
    use proptest::prelude::*;

    /// Python's reading of a (non-raw, non-f) string literal, for the escapes Python defines.
    fn python_reads(lit: &str) -> Option<String> {
        let q = lit.chars().next()?;
        let body = lit.strip_prefix(q)?.strip_suffix(q)?;
        let mut out = String::new();
        let mut cs = body.chars();
        while let Some(c) = cs.next() {
            if c == q || c == '\n' || c == '\r' {
                return None; // would end the literal or the line
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let hex = |cs: &mut std::str::Chars, n: usize| -> Option<char> {
                let h: String = cs.by_ref().take(n).collect();
                (h.len() == n).then_some(())?;
                char::from_u32(u32::from_str_radix(&h, 16).ok()?)
            };
            match cs.next()? {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'x' => out.push(hex(&mut cs, 2)?),
                'u' => out.push(hex(&mut cs, 4)?),
                'U' => out.push(hex(&mut cs, 8)?),
                _ => return None,
            }
        }
        Some(out)
    }

    proptest! {
        #[test]
        fn any_string_round_trips_through_a_python_literal(s in any::<String>()) {
            let lit = py_str(&s);
            prop_assert!(lit.is_ascii() && !lit.contains('\n'));
            prop_assert_eq!(python_reads(&lit), Some(s));
        }
    }

    #[test]
    fn every_metric_the_runtime_sends_is_in_the_contract() {
        let runtime = include_str!("../../templates/dags/airguard_airbyte.py.j2");
        let names: Vec<&str> = crate::metrics::METRICS.iter().map(|m| m.name).collect();
        // Every string literal starting `"airguard_`: the metric keys the runtime uses.
        let used: Vec<String> = runtime
            .split("\"airguard_")
            .skip(1)
            .map(|rest| format!("airguard_{}", rest.split('"').next().unwrap_or_default()))
            .collect();
        assert!(used.len() >= names.len(), "{used:?}");
        for u in &used {
            assert!(
                names.contains(&u.as_str()),
                "the runtime sends {u}, not in crate::metrics"
            );
        }
        for m in super::metric_table() {
            assert!(!m.template.contains(['<', '>']), "{}", m.template);
            assert!(
                used.iter().any(|u| u == m.name),
                "the runtime never sends {}",
                m.name
            );
        }
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_non_ascii() {
        assert_eq!(py_str("orders"), "\"orders\"");
        assert_eq!(py_str("it's"), "\"it's\"");
        assert_eq!(py_str("say \"hi\""), "'say \"hi\"'");
        assert_eq!(
            py_str("a\\b\n\u{7f}é\u{2028}😀"),
            "\"a\\\\b\\n\\x7f\\xe9\\u2028\\U0001f600\""
        );
        assert_eq!(py_str("\"'\""), "'\"\\'\"'");
    }
}
