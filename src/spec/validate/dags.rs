//! Spec rules for the Airflow side of the pipelines: `schedule`, `start-date`, `tags`, `owner`,
//! `retries`, the wait knobs of each step, `checks` after a sync, and the top-level `notify`.
//!
//! Everything here only feeds `render::dags`; `conform` ignores it. Values that land in Python
//! are escaped by the renderer, so these rules check meaning (a cron Airflow accepts, a date that
//! exists, a check with a table to check), not quoting. SQL identifiers are the exception: they
//! are spliced into SQL by `common.sql`, so they must be plain (dotted) identifiers.

use super::super::model::{self, Date};
use super::super::raw;
use super::Cx;
use crate::diag::Code;
use std::time::Duration;

/// Presets Airflow 3 turns into timetables itself.
pub const PRESETS: &[&str] = &[
    "@once",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
];

impl Cx<'_> {
    pub(super) fn dags(&mut self, raw: &raw::RawSpec) -> model::Dags {
        let notify = raw
            .notify
            .as_ref()
            .map(|n| self.notify(n))
            .unwrap_or_default();
        let pipelines = raw
            .pipelines
            .iter()
            .enumerate()
            .map(|(pi, p)| self.pipeline_dag(&format!("/pipelines/{pi}"), p))
            .collect();
        let git_sync = raw.dags.as_ref().map(|d| self.git_sync(&d.git_sync));
        model::Dags {
            notify,
            pipelines,
            git_sync,
        }
    }

    fn git_sync(&mut self, g: &raw::GitSync) -> model::GitSync {
        let base = "/dags/git-sync";
        let https = g.repo.starts_with("https://");
        let ssh = g.repo.starts_with("ssh://")
            || (!g.repo.contains("://") && g.repo.contains('@') && g.repo.contains(':'));
        if (!ssh && !https) || g.repo.contains(char::is_whitespace) {
            self.push(
                Code::InvalidUrl,
                &format!("{base}/repo"),
                format!("`{}` is not an HTTPS or SSH clone URL", g.repo),
                "not a clone URL",
                "write `https://host/org/repo.git` or `git@host:org/repo.git`".into(),
            );
        } else if https
            && g.repo["https://".len()..]
                .split('/')
                .next()
                .is_some_and(|h| h.contains('@'))
        {
            self.push(
                Code::InvalidUrl,
                &format!("{base}/repo"),
                "the clone URL carries credentials".into(),
                "credentials in the URL",
                "put them in the Secret named by `credentials-secret`".into(),
            );
        }
        for (key, v) in [
            ("credentials-secret", &g.credentials_secret),
            ("ssh-key-secret", &g.ssh_key_secret),
        ] {
            if let Some(name) = v {
                self.dns_subdomain(&format!("{base}/{key}"), name);
            }
        }
        if g.credentials_secret.is_some() && ssh {
            self.push(
                Code::ConflictingSettings,
                &format!("{base}/credentials-secret"),
                "`credentials-secret` is for HTTPS, but the repository is SSH".into(),
                "HTTPS credentials for an SSH repository",
                "use `ssh-key-secret`, or an `https://` clone URL".into(),
            );
        }
        if g.ssh_key_secret.is_some() && https {
            self.push(
                Code::ConflictingSettings,
                &format!("{base}/ssh-key-secret"),
                "`ssh-key-secret` is for SSH, but the repository is HTTPS".into(),
                "SSH key for an HTTPS repository",
                "use `credentials-secret`, or an SSH clone URL".into(),
            );
        }
        if let Some(sp) = &g.sub_path {
            if sp.is_empty() || sp.starts_with('/') || sp.split('/').any(|c| c == "..") {
                self.push(
                    Code::InvalidValue,
                    &format!("{base}/sub-path"),
                    format!("`{sp}` is not a path inside the repository"),
                    "absolute or leaves the repository",
                    "write the directory relative to the repository root, e.g. `airflow/dags`"
                        .into(),
                );
            }
        }
        model::GitSync {
            repo: g.repo.clone(),
            branch: g.branch.clone().unwrap_or_else(|| "main".into()),
            rev: g.rev.clone(),
            sub_path: g.sub_path.clone(),
            credentials_secret: g.credentials_secret.clone(),
            ssh_key_secret: g.ssh_key_secret.clone(),
            egress: self.egress(&format!("{base}/egress"), &g.egress),
        }
    }

    fn pipeline_dag(&mut self, base: &str, p: &raw::Pipeline) -> model::PipelineDag {
        let schedule = p.schedule.as_deref().and_then(|s| {
            let s = s.trim();
            if s == "none" {
                return None;
            }
            if let Err(why) = check_schedule(s) {
                self.push(
                    Code::InvalidSchedule,
                    &format!("{base}/schedule"),
                    format!("`{s}` is not a schedule Airflow accepts: {why}"),
                    "not a cron expression or preset",
                    format!(
                        "write 5 cron fields (`0 3 * * *`), a preset ({}) or `none`",
                        PRESETS.join(", ")
                    ),
                );
            }
            Some(s.to_string())
        });
        let start_date = p.start_date.as_deref().and_then(|d| match parse_date(d) {
            Some(date) => Some(date),
            None => {
                self.push(
                    Code::InvalidStartDate,
                    &format!("{base}/start-date"),
                    format!("`{d}` is not a date written `YYYY-MM-DD`"),
                    "not a calendar date",
                    "write the first day the DAG runs for, e.g. `2026-01-01` (UTC)".into(),
                );
                None
            }
        });
        for (i, t) in p.tags.iter().enumerate() {
            if t.is_empty() || t.chars().count() > 100 {
                self.push(
                    Code::InvalidValue,
                    &format!("{base}/tags/{i}"),
                    "an Airflow tag must hold 1 to 100 characters".into(),
                    "empty or too long",
                    "shorten the tag".into(),
                );
            }
        }
        if let Some(o) = &p.owner {
            if o.trim().is_empty() {
                self.push(
                    Code::InvalidValue,
                    &format!("{base}/owner"),
                    "`owner` is empty".into(),
                    "empty",
                    "name the team that owns the DAG, or remove `owner`".into(),
                );
            }
        }
        self.step_order(base, p);
        let steps = p
            .steps
            .iter()
            .enumerate()
            .map(|(si, s)| self.step_dag(&format!("{base}/steps/{si}"), s))
            .collect();
        model::PipelineDag {
            name: p.name.clone(),
            schedule,
            start_date,
            tags: p.tags.clone(),
            owner: p.owner.clone().unwrap_or_else(|| "airguard".into()),
            retries: p.retries.unwrap_or(2),
            steps,
        }
    }

    /// What an Airflow DAG cannot express the way `conform` runs it: `when.previous` on the
    /// first step (there is no
    /// previous step), and `after:` together with `when.previous: failed` (one trigger rule
    /// cannot ask for one upstream to succeed and the other to fail).
    fn step_order(&mut self, base: &str, p: &raw::Pipeline) {
        for (si, s) in p.steps.iter().enumerate() {
            let raw::Step::Action(a) = s else { continue };
            let sp = format!("{base}/steps/{si}");
            let previous = a.when.as_ref().and_then(|w| w.previous);
            // `after:` naming a later step is `unknown-dependency`, reported by the pipeline
            // rules; what only a DAG cannot express is checked here.
            if a.after.is_some() && previous == Some(raw::PreviousOutcome::Failed) {
                self.push(
                    Code::ConflictingSettings,
                    &format!("{sp}/when/previous"),
                    "`after:` wants a step to succeed, `when.previous: failed` wants the previous one to fail: no Airflow trigger rule says both".into(),
                    "conflicts with `after`",
                    "split the step, or drop one of the two conditions".into(),
                );
            }
            if si == 0 && previous.is_some() {
                self.push(
                    Code::ConflictingSettings,
                    &format!("{sp}/when/previous"),
                    "`when.previous` on the first step: there is no previous step".into(),
                    "no previous step",
                    "remove `when.previous`, or move the step after another".into(),
                );
            }
        }
    }

    fn step_dag(&mut self, pointer: &str, s: &raw::Step) -> model::StepDag {
        let mut out = model::StepDag::default();
        let raw::Step::Action(a) = s else { return out };
        if let Some(d) = a.poll_interval.as_deref() {
            out.poll_interval = self.interval(&format!("{pointer}/poll-interval"), d, 30);
        }
        if let Some(d) = a.progress_interval.as_deref() {
            out.progress_interval = self.interval(&format!("{pointer}/progress-interval"), d, 120);
        }
        if let Some(c) = &a.checks {
            let cp = format!("{pointer}/checks");
            if a.sync.is_none() {
                self.push(
                    Code::IncompleteCheck,
                    &cp,
                    "`checks` run after a sync, but this step is not a `sync`".into(),
                    "no sync to check",
                    "move `checks` to the `sync` step of the connection".into(),
                );
            }
            out.checks = self.checks(&cp, c);
        }
        out
    }

    /// A poll or progress interval: a Go duration of at least one second.
    fn interval(&mut self, pointer: &str, text: &str, default: u64) -> Duration {
        match self.duration(pointer, text) {
            Some(d) if d >= Duration::from_secs(1) => d,
            Some(_) => {
                self.push(
                    Code::InvalidDuration,
                    pointer,
                    format!("`{text}` is shorter than one second"),
                    "too short",
                    "poll and log at most once a second, e.g. `10s`".into(),
                );
                Duration::from_secs(default)
            }
            None => Duration::from_secs(default),
        }
    }

    fn checks(&mut self, p: &str, c: &raw::Checks) -> Option<model::Checks> {
        let wants_sql = c.table.is_some()
            || c.connection_id.is_some()
            || c.min_rows.is_some()
            || !c.columns.is_empty();
        if !wants_sql && c.python.is_none() {
            self.push(
                Code::IncompleteCheck,
                p,
                "`checks` checks nothing".into(),
                "empty",
                "give `table`, `connection-id` and `min-rows` or `columns`, or `python: module.function`".into(),
            );
            return None;
        }
        let python = c.python.as_deref().and_then(|s| match s.rsplit_once('.') {
            Some((m, f)) if m.split('.').all(is_py_ident) && is_py_ident(f) => {
                Some((m.to_string(), f.to_string()))
            }
            _ => {
                self.push(
                    Code::IncompleteCheck,
                    &format!("{p}/python"),
                    format!("`{s}` is not `module.function`"),
                    "not an importable callable",
                    "name a function the workers can import, e.g. `quality.orders.check`".into(),
                );
                None
            }
        });
        let sql = if wants_sql {
            self.sql_checks(p, c)
        } else {
            None
        };
        Some(model::Checks { sql, python })
    }

    fn sql_checks(&mut self, p: &str, c: &raw::Checks) -> Option<model::SqlChecks> {
        let mut ok = true;
        match &c.table {
            None => {
                self.push(
                    Code::IncompleteCheck,
                    p,
                    "SQL checks without a `table` to check".into(),
                    "no `table`",
                    "name the table the connection writes, e.g. `table: public.orders`".into(),
                );
                ok = false;
            }
            Some(t) if !is_sql_name(t, 3) => {
                self.push(
                    Code::InvalidValue,
                    &format!("{p}/table"),
                    format!("`{t}` is not a plain table name"),
                    "letters, digits, `_` and `$`, dot-separated",
                    "write `table` or `schema.table` (quoted identifiers are not supported)".into(),
                );
                ok = false;
            }
            Some(_) => {}
        }
        match &c.connection_id {
            None => {
                self.push(
                    Code::IncompleteCheck,
                    p,
                    "SQL checks without the `connection-id` of the database".into(),
                    "no `connection-id`",
                    "give the Airflow connection id of the destination database".into(),
                );
                ok = false;
            }
            Some(id) => ok &= self.airflow_conn_id(&format!("{p}/connection-id"), id),
        }
        if c.min_rows.is_none() && c.columns.is_empty() {
            self.push(
                Code::IncompleteCheck,
                p,
                "SQL checks name a table but check nothing on it".into(),
                "no `min-rows` or `columns`",
                "add `min-rows: 1` or column checks".into(),
            );
            ok = false;
        }
        for (name, col) in &c.columns {
            let cp = format!("{p}/columns/{}", super::super::yaml::escape_segment(name));
            if !is_sql_name(name, 1) {
                self.push(
                    Code::InvalidValue,
                    &cp,
                    format!("`{name}` is not a plain column name"),
                    "letters, digits, `_` and `$`",
                    "quoted identifiers are not supported".into(),
                );
                ok = false;
            }
            if col.max_nulls.is_none() && col.min.is_none() && col.max.is_none() {
                self.push(
                    Code::IncompleteCheck,
                    &cp,
                    format!("column `{name}` has no check"),
                    "empty",
                    "give `max-nulls`, `min` or `max`".into(),
                );
                ok = false;
            }
            let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
            if !finite(col.min) || !finite(col.max) {
                self.push(
                    Code::InvalidValue,
                    &cp,
                    "`min` and `max` must be finite numbers".into(),
                    "not finite",
                    "remove the bound instead of writing `.inf`".into(),
                );
                ok = false;
            } else if let (Some(lo), Some(hi)) = (col.min, col.max) {
                if lo > hi {
                    self.push(
                        Code::InvalidValue,
                        &cp,
                        format!("`min` {lo} is greater than `max` {hi}"),
                        "empty range",
                        "swap them".into(),
                    );
                    ok = false;
                }
            }
        }
        ok.then(|| model::SqlChecks {
            connection_id: c.connection_id.clone().unwrap_or_default(),
            table: c.table.clone().unwrap_or_default(),
            min_rows: c.min_rows,
            columns: c.columns.clone(),
        })
    }

    fn notify(&mut self, n: &raw::Notify) -> model::Notify {
        if n.slack.is_none() && n.email.is_none() {
            self.push(
                Code::IncompleteNotify,
                "/notify",
                "`notify` names no target".into(),
                "nobody to tell",
                "add `slack: {connection-id: ...}` or `email: {connection-id: ..., to: [...]}`"
                    .into(),
            );
        }
        let slack = n.slack.as_ref().and_then(|s| match &s.connection_id {
            None => {
                self.push(
                    Code::IncompleteNotify,
                    "/notify/slack",
                    "Slack notifications without the webhook's `connection-id`".into(),
                    "no `connection-id`",
                    "give the Airflow connection id of a Slack incoming webhook (`slackwebhook` type)".into(),
                );
                None
            }
            Some(id) => self
                .airflow_conn_id("/notify/slack/connection-id", id)
                .then(|| id.clone()),
        });
        let email = n.email.as_ref().and_then(|e| {
            let mut ok = true;
            match &e.connection_id {
                None => {
                    self.push(
                        Code::IncompleteNotify,
                        "/notify/email",
                        "e-mail notifications without the SMTP `connection-id`".into(),
                        "no `connection-id`",
                        "give the Airflow connection id of the SMTP server (e.g. `smtp_default`)"
                            .into(),
                    );
                    ok = false;
                }
                Some(id) => ok &= self.airflow_conn_id("/notify/email/connection-id", id),
            }
            if e.to.is_empty() {
                self.push(
                    Code::IncompleteNotify,
                    "/notify/email",
                    "e-mail notifications without recipients".into(),
                    "no `to`",
                    "list the addresses under `to:`".into(),
                );
                ok = false;
            }
            for (i, addr) in e.to.iter().enumerate() {
                let valid = addr.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && !d.is_empty() && !addr.contains(char::is_whitespace)
                });
                if !valid {
                    self.push(
                        Code::InvalidValue,
                        &format!("/notify/email/to/{i}"),
                        format!("`{addr}` is not an e-mail address"),
                        "expected `name@domain`",
                        "write one address per list item".into(),
                    );
                    ok = false;
                }
            }
            ok.then(|| (e.connection_id.clone().unwrap_or_default(), e.to.clone()))
        });
        model::Notify {
            slack,
            email,
            on_success: n.on_success,
        }
    }

    /// An Airflow connection id used directly by a hook (not through an environment variable):
    /// letters, digits, `_`, `.` and `-`, as Airflow's own check.
    fn airflow_conn_id(&mut self, pointer: &str, id: &str) -> bool {
        let ok = !id.is_empty()
            && id.len() <= 250
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            self.push(
                Code::InvalidConnectionId,
                pointer,
                format!("`{id}` is not an Airflow connection id"),
                "letters, digits, `_`, `.` and `-` only",
                "use the id the connection has in Airflow".into(),
            );
        }
        ok
    }
}

/// Check a cron expression the way Airflow's cron timetables read it (5 fields).
pub fn check_schedule(s: &str) -> Result<(), String> {
    if s.starts_with('@') {
        return if PRESETS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown preset `{s}`"))
        };
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("{} fields, expected 5", fields.len()));
    }
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("day of week", 0, 7, DAYS, 0),
    ];
    for (field, (what, lo, hi, names, first)) in fields.iter().zip(specs) {
        let value = |t: &str| -> Result<u32, String> {
            let v = match t.parse::<u32>() {
                Ok(v) => v,
                Err(_) => names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(t))
                    .map(|i| i as u32 + first)
                    .ok_or_else(|| format!("`{t}` is not a {what}"))?,
            };
            if (lo..=hi).contains(&v) {
                Ok(v)
            } else {
                Err(format!("{what} {v} is outside {lo}-{hi}"))
            }
        };
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (item, None),
            };
            if let Some(st) = step {
                match st.parse::<u32>() {
                    Ok(n) if n >= 1 && n <= hi.max(1) => {}
                    _ => return Err(format!("step `/{st}` in the {what} field")),
                }
            }
            if range == "*" {
                continue;
            }
            match range.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (value(a)?, value(b)?);
                    if a > b {
                        return Err(format!("range {a}-{b} in the {what} field runs backwards"));
                    }
                }
                None => {
                    value(range)?;
                }
            }
        }
    }
    Ok(())
}

/// `YYYY-MM-DD`, a date that exists in the proleptic Gregorian calendar.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let days = super::schedule::days_in_month(year, month)?;
    (year >= 1 && (1..=days).contains(&day)).then_some(Date {
        year: year as u16,
        month: month as u8,
        day: day as u8,
    })
}

fn is_py_ident(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

fn is_sql_name(s: &str, max_parts: usize) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() <= max_parts
        && parts.iter().all(|p| {
            let mut cs = p.chars();
            cs.next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1 jan,jul *",
            "30 2 * * mon-fri",
            "0 0 * * 7",
            "0 6-18/2 1,15 * *",
            "@daily",
            "@once",
        ] {
            assert_eq!(check_schedule(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "0 0 * * 8",
            "*/0 * * * *",
            "5-1 * * * *",
            "@every-day",
            "0 0 * * funday",
            "0 0 L * *",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2024-02-29"),
            Some(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-32",
            "0000-01-01",
            "2024/01/01",
            "+024-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(is_py_ident("check_orders") && !is_py_ident("class") && !is_py_ident("1x"));
        assert!(is_sql_name("public.orders", 3) && !is_sql_name("orders; drop", 3));
        assert!(!is_sql_name("a.b", 1) && !is_sql_name("", 1));
    }
}
