//! The conformance lifecycle: run each pipeline's steps against a [`Client`] and collect a
//! [`Report`].
//!
//! A spec step becomes one or more reported cases: `health`; `connection` (exists, active);
//! `sync` → `wait` → `stats` (→ `validate` when the step has a `min-records`, its own or the
//! connection's, and the next step is not an explicit `validate` of it); `reset`/`clear` →
//! `wait`; `validate`. Steps of a pipeline run in order; `after:` runs a step only when the last
//! step on the named connection passed (a step blocked by a failed dependency is skipped, one
//! whose dependency never passed fails: a step that did not run is never a pass), `when:` skips
//! it unless its condition holds. Independent pipelines run concurrently, at most
//! [`RunnerConfig::parallel`] at a time; pipelines that touch a common connection run one after
//! the other in spec order. Reports keep spec order.
//!
//! The runner fails closed: a job that ends in anything but `succeeded`, an unknown status, a
//! job of the wrong type or of another connection, a missing record count where a minimum is
//! set, or a deadline all fail the case. A step's `timeout` bounds the whole step, trigger
//! retries included. At a deadline it cancels the job, confirms the job ended, and checks that
//! no replacement job appeared. It never panics on API input; every case message passes through
//! [`Client::sanitize`] (secrets redacted, control characters escaped); and it only prints
//! progress lines (through `crate::output::eprint`).

use super::client::{Client, ClientError, Job, JobFilter, JobKind, JobStatus, Triggered};
use super::report::{Case, JobStats, Outcome, PipelineReport, Report};
use crate::diag::Code;
use crate::spec::model::{Connection, OnRunning, Pipeline, PreviousOutcome, Step, StepKind};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Pacing and concurrency of a run.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Wait before the first poll of a job.
    pub first_poll: Duration,
    /// Factor by which the poll interval grows after each poll (1.0 for a fixed interval).
    pub poll_factor: f64,
    /// Largest poll interval.
    pub poll_cap: Duration,
    /// Print a progress line at most this often per job; `None` for none.
    pub progress_every: Option<Duration>,
    /// After cancelling a job at its deadline, how long to wait for it to end.
    pub cancel_confirm: Duration,
    /// Pipelines run at the same time.
    pub parallel: usize,
    /// Wall clock, for `when: last-sync-older-than` (a parameter so tests can fix it).
    pub clock: fn() -> SystemTime,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            first_poll: Duration::from_secs(1),
            poll_factor: 1.5,
            poll_cap: Duration::from_secs(30),
            progress_every: Some(Duration::from_secs(5)),
            cancel_confirm: Duration::from_secs(60),
            parallel: 4,
            clock: SystemTime::now,
        }
    }
}

/// Run `pipelines` (in spec order) and report. `connections` resolves the names steps use.
pub async fn run(
    client: Arc<Client>,
    connections: &[Connection],
    pipelines: &[Pipeline],
    cfg: &RunnerConfig,
) -> Report {
    let connections: Arc<HashMap<String, Connection>> = Arc::new(
        connections
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect(),
    );
    let limit = Arc::new(tokio::sync::Semaphore::new(cfg.parallel.max(1)));
    // Pipelines that touch the same connection are not independent (a reset cancels a running
    // sync; a conditional step reads the last sync): they run one after the other, in spec
    // order. Each waits for the latest earlier pipeline on each of its connections.
    let mut done_tx = Vec::with_capacity(pipelines.len());
    let mut done_rx = Vec::with_capacity(pipelines.len());
    for _ in pipelines {
        let (tx, rx) = tokio::sync::watch::channel(false);
        done_tx.push(tx);
        done_rx.push(rx);
    }
    let mut last_on: HashMap<&str, usize> = HashMap::new();
    let mut set = tokio::task::JoinSet::new();
    for ((i, p), done) in pipelines.iter().enumerate().zip(done_tx) {
        let mut waits: Vec<tokio::sync::watch::Receiver<bool>> = Vec::new();
        for conn in p.steps.iter().filter_map(|s| s.kind.connection()) {
            if let Some(j) = last_on.insert(conn, i) {
                if j != i {
                    waits.push(done_rx[j].clone());
                }
            }
        }
        let (client, connections, limit, cfg, p) = (
            client.clone(),
            connections.clone(),
            limit.clone(),
            cfg.clone(),
            p.clone(),
        );
        set.spawn(async move {
            for mut w in waits {
                // An error means the sender is gone, i.e. that pipeline ended (even by panic).
                let _ = w.wait_for(|d| *d).await;
            }
            let _permit = limit
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let runner = PipelineRun {
                client: &client,
                cfg: &cfg,
                connections: &connections,
                pipeline: &p.name,
                cases: Vec::new(),
                last_outcome: HashMap::new(),
                last_sync: HashMap::new(),
                previous: None,
            };
            let report = runner.run(&p.steps).await;
            let _ = done.send(true);
            (i, report)
        });
    }
    let mut results: Vec<(usize, PipelineReport)> = Vec::with_capacity(pipelines.len());
    while let Some(r) = set.join_next().await {
        match r {
            Ok(r) => results.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    results.sort_by_key(|(i, _)| *i);
    let flavour = match client.flavour() {
        crate::spec::model::ApiFlavour::Public => "public",
        crate::spec::model::ApiFlavour::Config => "config",
    };
    Report::new(flavour, results.into_iter().map(|(_, r)| r).collect())
}

struct PipelineRun<'a> {
    client: &'a Client,
    cfg: &'a RunnerConfig,
    connections: &'a HashMap<String, Connection>,
    pipeline: &'a str,
    cases: Vec<Case>,
    /// Outcome of the last step on each connection (for `after:`).
    last_outcome: HashMap<String, Outcome>,
    /// The last successful sync of each connection in this pipeline (for `validate`).
    last_sync: HashMap<String, Job>,
    /// Outcome of the previous step (for `when: previous`).
    previous: Option<Outcome>,
}

/// One case being measured.
struct CaseRun {
    step: usize,
    name: &'static str,
    connection: Option<String>,
    started: Instant,
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

impl<'a> PipelineRun<'a> {
    async fn run(mut self, steps: &[Step]) -> PipelineReport {
        let started = Instant::now();
        for (i, step) in steps.iter().enumerate() {
            let n = i + 1;
            // A sync with min-records validates inline, unless the next step validates it anyway.
            let validated_next = matches!(
                (steps.get(i + 1).map(|s| &s.kind), &step.kind),
                (Some(StepKind::Validate(v)), StepKind::Sync(c)) if v == c
            );
            let outcome = match self.gate(n, step).await {
                Some(skip) => skip,
                None => self.step(n, step, validated_next).await,
            };
            if let Some(c) = step.kind.connection() {
                if outcome != Outcome::Skipped {
                    self.last_outcome.insert(c.to_string(), outcome);
                }
            }
            self.previous = Some(outcome);
        }
        let outcome = if self.cases.iter().any(|c| c.outcome == Outcome::Failed) {
            Outcome::Failed
        } else {
            Outcome::Passed
        };
        PipelineReport {
            name: self.pipeline.to_string(),
            outcome,
            duration_ms: ms(started.elapsed()),
            cases: self.cases,
        }
    }

    fn begin(&self, step: usize, name: &'static str, connection: Option<&str>) -> CaseRun {
        CaseRun {
            step,
            name,
            connection: connection.map(str::to_string),
            started: Instant::now(),
        }
    }

    fn finish(
        &mut self,
        c: CaseRun,
        outcome: Outcome,
        message: impl Into<Option<String>>,
        job: Option<&Job>,
    ) -> Outcome {
        self.finish_coded(c, outcome, message, job, None)
    }

    /// Record a case. Every message passes through [`Client::sanitize`] (known secrets
    /// redacted, control characters escaped), whatever its source.
    fn finish_coded(
        &mut self,
        c: CaseRun,
        outcome: Outcome,
        message: impl Into<Option<String>>,
        job: Option<&Job>,
        code: Option<Code>,
    ) -> Outcome {
        self.cases.push(Case {
            step: c.step,
            name: c.name.to_string(),
            connection: c.connection,
            outcome,
            duration_ms: ms(c.started.elapsed()),
            message: message.into().map(|m| self.client.sanitize(&m)),
            code: code.map(|k| k.as_str().to_string()),
            job: job.map(JobStats::from),
        });
        outcome
    }

    /// A failed case for a client error: its message chain (prefixed) and its code.
    fn fail(&mut self, c: CaseRun, prefix: &str, e: &ClientError, job: Option<&Job>) -> Outcome {
        let msg = format!("{prefix}{}", e.chain());
        self.finish_coded(c, Outcome::Failed, msg, job, e.code())
    }

    /// Check `after:` and `when:`. Returns the outcome to record when the step must not run.
    async fn gate(&mut self, n: usize, step: &Step) -> Option<Outcome> {
        let conn = step.kind.connection();
        let case = self.begin(n, step.kind.action(), conn);
        if let Some(dep) = &step.after {
            match self.last_outcome.get(dep) {
                Some(Outcome::Passed) => {}
                // That failure already fails the pipeline.
                Some(o) => {
                    let why = format!("skipped: the step it comes after (on `{dep}`) {o}");
                    return Some(self.finish(case, Outcome::Skipped, why, None));
                }
                // Nothing fails the pipeline otherwise: a step that never ran is no pass.
                None => {
                    let why = format!(
                        "blocked: no step on `{dep}` passed before it (it was skipped, or comes later), so this step did not run"
                    );
                    let code = Some(Code::StepBlocked);
                    return Some(self.finish_coded(case, Outcome::Failed, why, None, code));
                }
            }
        }
        let Some(when) = &step.when else { return None };
        if let Some(want) = when.previous {
            let want_outcome = match want {
                PreviousOutcome::Succeeded => Outcome::Passed,
                PreviousOutcome::Failed => Outcome::Failed,
            };
            if self.previous != Some(want_outcome) {
                let had = self
                    .previous
                    .map_or_else(|| "none (first step)".to_string(), |o| o.to_string());
                let want = if want_outcome == Outcome::Passed {
                    "passed"
                } else {
                    "failed"
                };
                let why =
                    format!("skipped: `when.previous` wants the previous step {want}; it {had}");
                return Some(self.finish(case, Outcome::Skipped, why, None));
            }
        }
        if let (Some(age), Some(name)) = (when.last_sync_older_than, conn) {
            let Some(c) = self.connections.get(name) else {
                return Some(self.finish(
                    case,
                    Outcome::Failed,
                    format!("unknown connection `{name}`"),
                    None,
                ));
            };
            match self.client.last_successful_sync(&c.id).await {
                Err(e) => return Some(self.fail(case, "cannot read the last sync: ", &e, None)),
                Ok(None) => {}
                Ok(Some(job)) => {
                    let at = job.end.unwrap_or(job.start);
                    let now = (self.cfg.clock)()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64);
                    let ago = Duration::from_secs(now.saturating_sub(at).max(0) as u64);
                    if ago < age {
                        let why = format!(
                            "skipped: last successful sync (job {}) ended {} ago, within last-sync-older-than {}",
                            job.id,
                            humantime::format_duration(ago),
                            humantime::format_duration(age)
                        );
                        return Some(self.finish(case, Outcome::Skipped, why, Some(&job)));
                    }
                }
            }
        }
        None
    }

    async fn step(&mut self, n: usize, step: &Step, validated_next: bool) -> Outcome {
        let conn_name = step.kind.connection();
        let conn = match conn_name.map(|c| (c, self.connections.get(c).cloned())) {
            Some((name, None)) => {
                let case = self.begin(n, step.kind.action(), Some(name));
                return self.finish(
                    case,
                    Outcome::Failed,
                    format!("unknown connection `{name}`"),
                    None,
                );
            }
            Some((_, Some(c))) => Some(c),
            None => None,
        };
        match (&step.kind, conn) {
            (StepKind::Health, _) => {
                let case = self.begin(n, "health", None);
                match self.client.health().await {
                    Ok(()) => {
                        self.finish(case, Outcome::Passed, "API is healthy".to_string(), None)
                    }
                    Err(e) => self.fail(case, "", &e, None),
                }
            }
            (StepKind::Check(_), Some(c)) => self.check(n, &c).await,
            (StepKind::Sync(_), Some(c)) => self.sync(n, step, &c, validated_next).await,
            (StepKind::Reset(_), Some(c)) => self.reset(n, step, &c, JobKind::Reset).await,
            (StepKind::Clear(_), Some(c)) => self.reset(n, step, &c, JobKind::Clear).await,
            (StepKind::Validate(_), Some(c)) => {
                let min = step.min_records.or(c.min_records);
                self.validate(n, &c, min).await
            }
            (_, None) => unreachable!("every step but health names a connection"),
        }
    }

    async fn check(&mut self, n: usize, c: &Connection) -> Outcome {
        let case = self.begin(n, "connection", Some(&c.name));
        match self.client.connection(&c.id).await {
            Ok(conn) if conn.status == super::client::ConnectionStatus::Active => self.finish(
                case,
                Outcome::Passed,
                format!("connection {} (`{}`) is active", c.id, conn.name),
                None,
            ),
            Ok(conn) => self.finish(
                case,
                Outcome::Failed,
                format!("connection {} is {}, not active", c.id, conn.status),
                None,
            ),
            Err(e) if e.status() == Some(404) => {
                let prefix = format!("connection {} does not exist: ", c.id);
                self.fail(case, &prefix, &e, None)
            }
            Err(e) => self.fail(case, "", &e, None),
        }
    }

    async fn sync(
        &mut self,
        n: usize,
        step: &Step,
        c: &Connection,
        validated_next: bool,
    ) -> Outcome {
        let case = self.begin(n, "sync", Some(&c.name));
        // The step's timeout bounds the whole step: the trigger (with its retries) and the wait.
        let deadline = case.started + step.timeout;
        let Some(triggered) = self
            .within(deadline, self.client.trigger(&c.id, JobKind::Sync))
            .await
        else {
            return self
                .trigger_cut_off(case, c, JobKind::Sync, step.timeout)
                .await;
        };
        let job = match triggered {
            Ok(Triggered::Started(job)) => {
                self.finish(
                    case,
                    Outcome::Passed,
                    format!("started job {}", job.id),
                    Some(&job),
                );
                job
            }
            Ok(Triggered::Recovered(job)) => {
                let msg = format!(
                    "the trigger's response was lost; attached to {} job {}",
                    recovered_state(&job),
                    job.id
                );
                self.finish(case, Outcome::Passed, msg, Some(&job));
                job
            }
            Ok(Triggered::AlreadyRunning { message }) => {
                let why = if message.is_empty() {
                    "a sync is already running (HTTP 409)".to_string()
                } else {
                    format!("HTTP 409: {message}")
                };
                match step.on_running {
                    OnRunning::Skip => {
                        return self.finish(
                            case,
                            Outcome::Skipped,
                            format!("{why}; on-running: skip"),
                            None,
                        )
                    }
                    OnRunning::Fail => {
                        return self.finish(
                            case,
                            Outcome::Failed,
                            format!("{why}; on-running: fail"),
                            None,
                        )
                    }
                    OnRunning::Attach => {
                        let found = self
                            .within(deadline, self.client.running_job(&c.id, JobKind::Sync))
                            .await;
                        let Some(found) = found else {
                            let msg = format!(
                                "{why}; deadline of {} passed while looking for it",
                                humantime::format_duration(step.timeout)
                            );
                            return self.finish(case, Outcome::Failed, msg, None);
                        };
                        match found {
                            Ok(Some(job)) => {
                                let msg = format!("{why}; attached to running job {}", job.id);
                                self.finish(case, Outcome::Passed, msg, Some(&job));
                                job
                            }
                            Ok(None) => {
                                let msg = format!(
                                    "{why}, but no running sync job of the connection was found"
                                );
                                return self.finish(case, Outcome::Failed, msg, None);
                            }
                            Err(e) => {
                                let prefix = format!("{why}; finding it failed: ");
                                return self.fail(case, &prefix, &e, None);
                            }
                        }
                    }
                }
            }
            Err(e) => return self.fail(case, "", &e, None),
        };
        let (outcome, fin) = self
            .wait(n, c, job, JobKind::Sync, deadline, step.timeout)
            .await;
        let case = self.begin(n, "stats", Some(&c.name));
        let Some(fin) = fin.filter(|_| outcome == Outcome::Passed) else {
            self.finish(
                case,
                Outcome::Skipped,
                "skipped: the job did not succeed".to_string(),
                None,
            );
            return outcome;
        };
        self.finish(case, Outcome::Passed, stats_line(&fin), Some(&fin));
        self.last_sync.insert(c.name.clone(), fin);
        match step.min_records {
            Some(min) if !validated_next => self.validate(n, c, Some(min)).await,
            _ => Outcome::Passed,
        }
    }

    async fn reset(&mut self, n: usize, step: &Step, c: &Connection, kind: JobKind) -> Outcome {
        let name = if kind == JobKind::Clear {
            "clear"
        } else {
            "reset"
        };
        let case = self.begin(n, name, Some(&c.name));
        let deadline = case.started + step.timeout;
        let Some(triggered) = self
            .within(deadline, self.client.trigger(&c.id, kind))
            .await
        else {
            return self.trigger_cut_off(case, c, kind, step.timeout).await;
        };
        let job = match triggered {
            Ok(Triggered::Started(job)) => {
                self.finish(
                    case,
                    Outcome::Passed,
                    format!("started {} job {}", job.kind, job.id),
                    Some(&job),
                );
                job
            }
            Ok(Triggered::Recovered(job)) => {
                let msg = format!(
                    "the trigger's response was lost; attached to {} {} job {}",
                    recovered_state(&job),
                    job.kind,
                    job.id
                );
                self.finish(case, Outcome::Passed, msg, Some(&job));
                job
            }
            Ok(Triggered::AlreadyRunning { message }) => {
                return self.finish(
                    case,
                    Outcome::Failed,
                    format!("HTTP 409 on {name}: {message}"),
                    None,
                )
            }
            Err(e) => return self.fail(case, "", &e, None),
        };
        let (outcome, _) = self.wait(n, c, job, kind, deadline, step.timeout).await;
        if outcome == Outcome::Passed {
            self.last_sync.remove(&c.name);
        }
        outcome
    }

    async fn validate(&mut self, n: usize, c: &Connection, min: Option<u64>) -> Outcome {
        let case = self.begin(n, "validate", Some(&c.name));
        let job = match self.last_sync.get(&c.name) {
            Some(j) => j.clone(),
            None => match self.client.last_successful_sync(&c.id).await {
                Ok(Some(j)) => j,
                Ok(None) => {
                    return self.finish(
                        case,
                        Outcome::Failed,
                        format!("no successful sync of `{}` to validate", c.name),
                        None,
                    )
                }
                Err(e) => return self.fail(case, "", &e, None),
            },
        };
        if job.status != JobStatus::Succeeded {
            return self.finish(
                case,
                Outcome::Failed,
                format!("job {} is {}, not succeeded", job.id, job.status),
                Some(&job),
            );
        }
        let (outcome, msg) = match (min, job.records) {
            (None, Some(r)) => (
                Outcome::Passed,
                format!("{r} records committed (no min-records set)"),
            ),
            (None, None) => (
                Outcome::Passed,
                "no record count reported (no min-records set)".to_string(),
            ),
            (Some(m), None) => (
                Outcome::Failed,
                format!(
                    "job {} reported no record count; cannot check min-records {m}",
                    job.id
                ),
            ),
            (Some(m), Some(0)) if m > 0 => (
                Outcome::Failed,
                format!(
                    "job {} succeeded with 0 records; min-records is {m}",
                    job.id
                ),
            ),
            (Some(m), Some(r)) if r < m => (
                Outcome::Failed,
                format!(
                    "job {} committed {r} records, fewer than min-records {m}",
                    job.id
                ),
            ),
            (Some(m), Some(r)) => (
                Outcome::Passed,
                format!("{r} records committed (min-records {m})"),
            ),
        };
        self.finish(case, outcome, msg, Some(&job))
    }

    /// The `wait` case: poll `job` until it ends or the step's `deadline` (its `timeout` after
    /// the step began) passes.
    async fn wait(
        &mut self,
        n: usize,
        c: &Connection,
        job: Job,
        asked: JobKind,
        deadline: Instant,
        timeout: Duration,
    ) -> (Outcome, Option<Job>) {
        let case = self.begin(n, "wait", Some(&c.name));
        let id = job.id;
        let mut interval = self.cfg.first_poll;
        let mut last_progress = case.started;
        let mut current = job;
        let mut transient = 0u32;
        loop {
            if current.status.is_terminal() {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                let msg = self.on_deadline(c, &current, timeout).await;
                let o = self.finish(case, Outcome::Failed, msg, Some(&current));
                return (o, None);
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = interval
                .mul_f64(self.cfg.poll_factor.max(1.0))
                .min(self.cfg.poll_cap);
            // One poll may retry for minutes: it gets only the time left before the deadline.
            let Some(polled) = self.within(deadline, self.client.job(id)).await else {
                let msg = self.on_deadline(c, &current, timeout).await;
                let o = self.finish(case, Outcome::Failed, msg, Some(&current));
                return (o, None);
            };
            match polled {
                Ok(j) if !j.kind.answers(asked) => {
                    let msg = format!("job {id} is a {} job, but a {asked} was asked for", j.kind);
                    let o = self.finish(case, Outcome::Failed, msg, Some(&j));
                    return (o, None);
                }
                Ok(j) if j.connection_id != c.id => {
                    let msg = format!(
                        "job {id} belongs to connection {}, not to {} (`{}`) whose {asked} was triggered",
                        j.connection_id, c.id, c.name
                    );
                    let code = Some(Code::JobConnectionMismatch);
                    let o = self.finish_coded(case, Outcome::Failed, msg, Some(&current), code);
                    return (o, None);
                }
                Ok(j) => {
                    current = j;
                    transient = 0;
                }
                Err(e) if e.is_transient() && transient < 3 => {
                    transient += 1;
                    tracing::warn!(job = id, error = %self.client.describe(&e), "polling failed; will poll again");
                    continue;
                }
                Err(e) => {
                    let prefix = format!("polling job {id}: ");
                    let o = self.fail(case, &prefix, &e, Some(&current));
                    return (o, None);
                }
            }
            if let Some(every) = self.cfg.progress_every {
                if !current.status.is_terminal() && last_progress.elapsed() >= every {
                    last_progress = Instant::now();
                    let records = current
                        .records
                        .map(|r| format!(", {r} records"))
                        .unwrap_or_default();
                    crate::output::eprint(&format!(
                        "conform: {}: {asked} {}: job {id} {} for {}{records}\n",
                        self.pipeline,
                        c.name,
                        current.status,
                        humantime::format_duration(Duration::from_secs(
                            case.started.elapsed().as_secs()
                        ))
                    ));
                }
            }
        }
        let took =
            humantime::format_duration(Duration::from_secs(case.started.elapsed().as_secs()));
        let attempts = current
            .attempts
            .map(|a| format!(", {a} attempt(s)"))
            .unwrap_or_default();
        if current.status == JobStatus::Succeeded {
            let msg = format!("job {id} succeeded after {took}{attempts}");
            self.finish(case, Outcome::Passed, msg, Some(&current));
            (Outcome::Passed, Some(current))
        } else {
            let msg = format!("job {id} ended {} after {took}{attempts}", current.status);
            let o = self.finish(case, Outcome::Failed, msg, Some(&current));
            (o, Some(current))
        }
    }

    /// Await `call`, giving up (`None`) when `until` passes first.
    ///
    /// A client without a request timeout (only tests on a paused clock build one: there, any
    /// timer armed while a request is in flight fires at once) is not bounded.
    async fn within<T>(
        &self,
        until: Instant,
        call: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        if self.client.request_timeout().is_none() {
            return Some(call.await);
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None; // not even sent
        }
        tokio::time::timeout(left, call).await.ok()
    }

    /// The step's deadline passed before its trigger was answered (retries included). The
    /// trigger may still have started a job: look for a running one (within the cancel window)
    /// and, if there is one, cancel it as at any deadline.
    async fn trigger_cut_off(
        &mut self,
        case: CaseRun,
        c: &Connection,
        kind: JobKind,
        timeout: Duration,
    ) -> Outcome {
        let mut msg = format!(
            "deadline of {} passed before the {kind} trigger was answered",
            humantime::format_duration(timeout)
        );
        let until = Instant::now() + self.cfg.cancel_confirm;
        match self
            .within(until, self.client.running_job(&c.id, kind))
            .await
        {
            Some(Ok(Some(job))) => {
                let cancelled = self.on_deadline(c, &job, timeout).await;
                msg.push_str(&format!("; it started job {}: {cancelled}", job.id));
            }
            Some(Ok(None)) => msg.push_str("; no job of it is running"),
            Some(Err(e)) => msg.push_str(&format!(
                "; could not check whether it started a job: {}",
                e.chain()
            )),
            None => msg.push_str(&format!(
                "; could not check whether it started a job: no answer within {}",
                humantime::format_duration(self.cfg.cancel_confirm)
            )),
        }
        self.finish(case, Outcome::Failed, msg, None)
    }

    /// At the deadline: cancel the job, confirm it ended, and look for a replacement job
    /// (Airbyte can spawn a new job when a pending one is cancelled). Returns the case message.
    ///
    /// Bounded: cancelling and confirming share one `cancel_confirm` window, and checking for
    /// (and cancelling) a replacement job gets another; a call cut off by its window is reported.
    async fn on_deadline(&self, c: &Connection, job: &Job, timeout: Duration) -> String {
        let id = job.id;
        let window = self.cfg.cancel_confirm;
        let no_answer = || format!("no answer within {}", humantime::format_duration(window));
        let mut msg = format!(
            "deadline of {} passed with job {id} {}",
            humantime::format_duration(timeout),
            job.status
        );
        let confirm_until = Instant::now() + window;
        let mut status = match self.within(confirm_until, self.client.cancel(id)).await {
            Some(Ok(j)) => {
                msg.push_str("; cancelled it");
                Some(j.status)
            }
            Some(Err(e)) => {
                msg.push_str(&format!("; cancel failed: {}", e.chain()));
                None
            }
            None => {
                msg.push_str(&format!("; cancel failed: {}", no_answer()));
                None
            }
        };
        let mut interval = self.cfg.first_poll;
        while !status.is_some_and(JobStatus::is_terminal) && Instant::now() < confirm_until {
            tokio::time::sleep(interval.min(confirm_until - Instant::now())).await;
            interval = interval.saturating_mul(2).min(self.cfg.poll_cap);
            match self.within(confirm_until, self.client.job(id)).await {
                Some(Ok(j)) => status = Some(j.status),
                Some(Err(e)) => {
                    tracing::warn!(job = id, error = %self.client.describe(&e), "confirming cancellation")
                }
                None => tracing::warn!(job = id, "confirming cancellation: no answer in time"),
            }
        }
        match status {
            Some(s) if s.is_terminal() => msg.push_str(&format!("; it ended {s}")),
            Some(s) => msg.push_str(&format!(
                "; it is still {s} after {}",
                humantime::format_duration(self.cfg.cancel_confirm)
            )),
            None => msg.push_str("; could not confirm it ended"),
        }
        let check_until = Instant::now() + window;
        let filter = JobFilter {
            kind: None,
            status: None,
            limit: 20,
        };
        match self
            .within(check_until, self.client.jobs(&c.id, filter))
            .await
            .map_or_else(|| Err(no_answer()), |r| r.map_err(|e| e.chain()))
        {
            Ok(jobs) => {
                let others: Vec<&Job> = jobs
                    .iter()
                    .filter(|j| j.id != id && !j.status.is_terminal())
                    .collect();
                for other in others {
                    msg.push_str(&format!(
                        "; a replacement {} job {} appeared ({})",
                        other.kind, other.id, other.status
                    ));
                    match self.within(check_until, self.client.cancel(other.id)).await {
                        Some(Ok(_)) => msg.push_str(", cancelled it"),
                        Some(Err(e)) => {
                            msg.push_str(&format!(", cancelling it failed: {}", e.chain()))
                        }
                        None => msg.push_str(&format!(", cancelling it failed: {}", no_answer())),
                    }
                }
            }
            Err(e) => msg.push_str(&format!("; could not check for a replacement job: {e}")),
        }
        msg
    }
}

/// How a recovered job is described: `running` while it runs, else its status (`succeeded`).
fn recovered_state(j: &Job) -> String {
    if j.status.is_terminal() {
        j.status.to_string()
    } else {
        "running".to_string()
    }
}

fn stats_line(j: &Job) -> String {
    let mut parts = vec![format!("job {}", j.id)];
    parts.push(
        j.records
            .map_or("records unknown".into(), |r| format!("{r} records")),
    );
    parts.push(
        j.bytes
            .map_or("bytes unknown".into(), |b| format!("{b} bytes")),
    );
    if let Some(d) = j.duration_secs {
        parts.push(format!(
            "{} long",
            humantime::format_duration(Duration::from_secs(d))
        ));
    }
    if let Some(a) = j.attempts {
        parts.push(format!("{a} attempt(s)"));
    }
    parts.join(", ")
}

/// Errors the runner itself can hit before any step runs.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// `--pipeline` named a pipeline the spec does not declare.
    #[error("no pipeline named `{0}` in the spec")]
    UnknownPipeline(String),
    /// The client could not be built.
    #[error("cannot build the Airbyte client")]
    Client(#[source] ClientError),
}

/// Keep the pipelines named in `only` (all when empty), in spec order.
pub fn select(pipelines: &[Pipeline], only: &[String]) -> Result<Vec<Pipeline>, RunnerError> {
    if let Some(missing) = only
        .iter()
        .find(|n| !pipelines.iter().any(|p| &p.name == *n))
    {
        return Err(RunnerError::UnknownPipeline(missing.clone()));
    }
    Ok(pipelines
        .iter()
        .filter(|p| only.is_empty() || only.contains(&p.name))
        .cloned()
        .collect())
}
