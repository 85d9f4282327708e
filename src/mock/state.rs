//! The mock's world: connections, jobs and their clock-driven state machine, and issued tokens.
//!
//! A job's status is never stored: it is computed from the job's creation instant, its
//! behaviour and an optional cancellation instant, at the moment a request reads it. So the
//! state machine needs no background task, and paused tokio time drives it exactly. This module
//! never does IO and never reads the wall clock except once, in [`Clock::new`].

use super::catalog::{Catalog, Schedule, StreamSpec};
use super::scenario::{
    ConnectionSpec, ConnectionStatus, JobBehaviour, Outcome, ResetCreates, Scenario,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Maps tokio instants to epoch seconds: wall time at start plus elapsed tokio time.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
    base_epoch: i64,
}

impl Clock {
    /// A clock anchored at the current wall time.
    pub fn new() -> Self {
        let base_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self {
            base: Instant::now(),
            base_epoch,
        }
    }

    /// Epoch seconds of `t`.
    pub fn epoch(&self, t: Instant) -> i64 {
        self.base_epoch + t.saturating_duration_since(self.base).as_secs() as i64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A sync (`sync` in both APIs).
    Sync,
    /// A reset (`reset_connection` in the Config API, `reset` in the public API).
    Reset,
}

/// Job status, the union of both APIs' enums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum JobStatus {
    /// Created, not started.
    Pending,
    /// Waiting for a worker (only when the scenario asks for it).
    Queued,
    /// An attempt runs.
    Running,
    /// An attempt failed; another will run.
    Incomplete,
    /// Ended in success.
    Succeeded,
    /// Ended in failure.
    Failed,
    /// Ended by cancellation.
    Cancelled,
}

impl JobStatus {
    /// Whether the status is final.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// Attempt status (`running | failed | succeeded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum AttemptStatus {
    /// Running.
    Running,
    /// Failed (also a cancelled attempt).
    Failed,
    /// Succeeded.
    Succeeded,
}

/// A job record.
#[derive(Clone, Debug)]
pub struct Job {
    /// Job id.
    pub id: i64,
    /// Connection id.
    pub connection: Arc<str>,
    /// Sync or reset.
    pub kind: JobKind,
    /// Creation instant.
    pub created: Instant,
    /// Behaviour.
    pub behaviour: Arc<JobBehaviour>,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<Instant>,
}

/// An attempt as seen at some instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptView {
    /// Attempt number, 0-based.
    pub number: u32,
    /// Status.
    pub status: AttemptStatus,
    /// Start.
    pub created: Instant,
    /// Last change.
    pub updated: Instant,
    /// End, if ended.
    pub ended: Option<Instant>,
    /// Records emitted so far.
    pub records_emitted: u64,
    /// Bytes emitted so far.
    pub bytes_emitted: u64,
    /// Records committed (final once ended).
    pub records_committed: u64,
    /// Bytes committed.
    pub bytes_committed: u64,
}

/// A job as seen at some instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobView {
    /// Status.
    pub status: JobStatus,
    /// Creation.
    pub created: Instant,
    /// Last transition.
    pub updated: Instant,
    /// When the first attempt started.
    pub started: Option<Instant>,
    /// Attempts started so far.
    pub attempts: Vec<AttemptView>,
}

impl JobView {
    /// Records committed over all attempts.
    pub fn records_committed(&self) -> u64 {
        self.attempts.iter().map(|a| a.records_committed).sum()
    }
    /// Bytes committed over all attempts.
    pub fn bytes_committed(&self) -> u64 {
        self.attempts.iter().map(|a| a.bytes_committed).sum()
    }
    /// Records emitted over all attempts.
    pub fn records_emitted(&self) -> u64 {
        self.attempts.iter().map(|a| a.records_emitted).sum()
    }
    /// Bytes emitted over all attempts.
    pub fn bytes_emitted(&self) -> u64 {
        self.attempts.iter().map(|a| a.bytes_emitted).sum()
    }
}

fn frac(total: u64, done: Duration, of: Duration) -> u64 {
    if of.is_zero() {
        return total;
    }
    let f = done.as_secs_f64() / of.as_secs_f64();
    ((total as f64) * f.clamp(0.0, 1.0)) as u64
}

impl Job {
    /// The job as it is at `now`.
    pub fn view(&self, now: Instant) -> JobView {
        let b = &*self.behaviour;
        let cancel = self.cancelled_at.filter(|c| *c <= now);
        let t = cancel.unwrap_or(now);
        let first_start = self.created + b.pending + b.queued;
        let n = if b.stuck { 1 } else { b.attempts.max(1) };
        let step = b.duration + b.retry_delay;
        let mut attempts = Vec::new();
        let mut status;
        let mut updated = self.created;
        if t < self.created + b.pending {
            status = JobStatus::Pending;
        } else if t < first_start {
            status = JobStatus::Queued;
            updated = self.created + b.pending;
        } else {
            status = JobStatus::Running;
            for i in 0..n {
                let start = first_start + step * i;
                if start > t {
                    break;
                }
                let end = start + b.duration;
                let last = i + 1 == n;
                if b.stuck || t < end {
                    let done = t - start;
                    let (re, be) = if b.stuck {
                        (b.records / 2, b.bytes / 2)
                    } else {
                        (
                            frac(b.records, done, b.duration),
                            frac(b.bytes, done, b.duration),
                        )
                    };
                    attempts.push(AttemptView {
                        number: i,
                        status: AttemptStatus::Running,
                        created: start,
                        updated: start,
                        ended: None,
                        records_emitted: re,
                        bytes_emitted: be,
                        records_committed: 0,
                        bytes_committed: 0,
                    });
                    status = JobStatus::Running;
                    updated = start;
                    break;
                }
                let ok = last && b.outcome == Outcome::Succeeded;
                let committed = if ok { (b.records, b.bytes) } else { (0, 0) };
                attempts.push(AttemptView {
                    number: i,
                    status: if ok {
                        AttemptStatus::Succeeded
                    } else {
                        AttemptStatus::Failed
                    },
                    created: start,
                    updated: end,
                    ended: Some(end),
                    records_emitted: if ok { b.records } else { b.records / 2 },
                    bytes_emitted: if ok { b.bytes } else { b.bytes / 2 },
                    records_committed: committed.0,
                    bytes_committed: committed.1,
                });
                updated = end;
                status = if !last {
                    JobStatus::Incomplete
                } else {
                    match b.outcome {
                        Outcome::Succeeded => JobStatus::Succeeded,
                        Outcome::Failed => JobStatus::Failed,
                        Outcome::Cancelled => JobStatus::Cancelled,
                    }
                };
            }
        }
        if let Some(c) = cancel {
            if !status.is_terminal() {
                status = JobStatus::Cancelled;
                updated = c;
                if let Some(a) = attempts.last_mut() {
                    if a.status == AttemptStatus::Running {
                        a.status = AttemptStatus::Failed;
                        a.updated = c;
                        a.ended = Some(c);
                    }
                }
            }
        }
        let started = attempts.first().map(|a| a.created);
        JobView {
            status,
            created: self.created,
            updated,
            started,
            attempts,
        }
    }
}

/// A connection with its resolved job behaviour.
#[derive(Clone, Debug)]
pub struct Connection {
    /// Lowercase UUID.
    pub id: Arc<str>,
    /// Name.
    pub name: String,
    /// Status.
    pub status: ConnectionStatus,
    /// How its jobs behave.
    pub behaviour: Arc<JobBehaviour>,
    /// Behaviour of its reset jobs (no records).
    pub reset_behaviour: Arc<JobBehaviour>,
    /// Lowercase workspace UUID.
    pub workspace: Arc<str>,
    /// Lowercase source UUID.
    pub source: Arc<str>,
    /// Lowercase destination UUID.
    pub destination: Arc<str>,
    /// How Airbyte schedules it.
    pub schedule: Schedule,
    /// Configured streams (shared by generated connections).
    pub streams: Arc<Vec<StreamSpec>>,
}

/// Why a job operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such connection.
    UnknownConnection,
    /// No such job.
    UnknownJob,
    /// A job of the connection is not terminal (holds its id).
    SyncRunning(i64),
    /// The connection is not active.
    Inactive,
    /// The job has already ended.
    NotRunning,
}

/// Everything the mock knows.
#[derive(Debug)]
pub struct World {
    /// Time base.
    pub clock: Clock,
    /// Connections in scenario order.
    pub connections: Vec<Connection>,
    index: HashMap<Arc<str>, usize>,
    /// Jobs; job `first_job_id + i` is `jobs[i]`.
    pub jobs: Vec<Job>,
    first_job_id: i64,
    /// Epoch seconds the connections claim they were created at.
    pub connections_created_at: i64,
    /// Workspaces, sources and destinations.
    pub catalog: Catalog,
}

impl World {
    /// A world from a scenario.
    pub fn new(scenario: &Scenario) -> Self {
        let clock = Clock::new();
        let default = Arc::new(scenario.jobs.clone());
        let bulk: Vec<(ConnectionSpec, Arc<Vec<StreamSpec>>)> = scenario
            .bulk
            .map(|b| b.expand().collect())
            .unwrap_or_default();
        let specs: Vec<(&ConnectionSpec, Arc<Vec<StreamSpec>>)> = scenario
            .connections
            .iter()
            .map(|c| (c, Arc::new(c.streams.clone())))
            .chain(bulk.iter().map(|(c, s)| (c, s.clone())))
            .collect();
        let id = |v: Option<&String>, default: &str| -> Arc<str> {
            Arc::from(v.map_or_else(|| default.to_owned(), |s| s.to_ascii_lowercase()))
        };
        let connections: Vec<Connection> = specs
            .iter()
            .map(|(c, streams): &(&ConnectionSpec, Arc<Vec<StreamSpec>>)| {
                let behaviour = c
                    .jobs
                    .clone()
                    .map(Arc::new)
                    .unwrap_or_else(|| default.clone());
                let reset_behaviour = Arc::new(JobBehaviour {
                    records: 0,
                    bytes: 0,
                    attempts: 1,
                    outcome: Outcome::Succeeded,
                    stuck: false,
                    ..(*behaviour).clone()
                });
                Connection {
                    id: Arc::from(c.id.to_ascii_lowercase()),
                    name: c.name.clone(),
                    status: c.status,
                    behaviour,
                    reset_behaviour,
                    workspace: id(c.workspace.as_ref(), super::body::WORKSPACE_ID),
                    source: id(c.source.as_ref(), super::body::SOURCE_ID),
                    destination: id(c.destination.as_ref(), super::body::DESTINATION_ID),
                    schedule: c.schedule.clone(),
                    streams: streams.clone(),
                }
            })
            .collect();
        let all_specs: Vec<ConnectionSpec> = specs.iter().map(|(c, _)| (*c).clone()).collect();
        let catalog = Catalog::new(scenario, &all_specs);
        let index = connections
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let connections_created_at = clock.epoch(Instant::now()) - 86_400;
        Self {
            clock,
            connections,
            index,
            jobs: Vec::new(),
            first_job_id: scenario.first_job_id,
            connections_created_at,
            catalog,
        }
    }

    /// A connection by id (case-insensitive).
    pub fn connection(&self, id: &str) -> Option<&Connection> {
        if let Some(&i) = self.index.get(id) {
            return Some(&self.connections[i]);
        }
        self.index
            .get(id.to_ascii_lowercase().as_str())
            .map(|&i| &self.connections[i])
    }

    /// A job by id.
    pub fn job(&self, id: i64) -> Option<&Job> {
        let i = id.checked_sub(self.first_job_id)?;
        usize::try_from(i).ok().and_then(|i| self.jobs.get(i))
    }

    fn job_mut(&mut self, id: i64) -> Option<&mut Job> {
        let i = id.checked_sub(self.first_job_id)?;
        usize::try_from(i)
            .ok()
            .and_then(move |i| self.jobs.get_mut(i))
    }

    fn push_job(
        &mut self,
        connection: Arc<str>,
        kind: JobKind,
        behaviour: Arc<JobBehaviour>,
        now: Instant,
    ) -> i64 {
        let id = self.first_job_id + self.jobs.len() as i64;
        self.jobs.push(Job {
            id,
            connection,
            kind,
            created: now,
            behaviour,
            cancelled_at: None,
        });
        id
    }

    /// The non-terminal job of a connection, if any (newest first).
    pub fn running_job(&self, connection: &str, now: Instant) -> Option<i64> {
        self.jobs
            .iter()
            .rev()
            .filter(|j| &*j.connection == connection)
            .find(|j| !j.view(now).status.is_terminal())
            .map(|j| j.id)
    }

    /// Start a sync: refused while another job of the connection runs.
    pub fn sync(&mut self, connection: &str, now: Instant) -> Result<i64, Refusal> {
        let c = self
            .connection(connection)
            .ok_or(Refusal::UnknownConnection)?;
        if c.status != ConnectionStatus::Active {
            return Err(Refusal::Inactive);
        }
        let (id, behaviour) = (c.id.clone(), c.behaviour.clone());
        if let Some(running) = self.running_job(&id, now) {
            return Err(Refusal::SyncRunning(running));
        }
        Ok(self.push_job(id, JobKind::Sync, behaviour, now))
    }

    /// Reset (or clear): cancel whatever runs for the connection and start a reset job.
    pub fn reset(&mut self, connection: &str, now: Instant) -> Result<i64, Refusal> {
        let c = self
            .connection(connection)
            .ok_or(Refusal::UnknownConnection)?;
        if c.status != ConnectionStatus::Active {
            return Err(Refusal::Inactive);
        }
        let id = c.id.clone();
        let (kind, behaviour) = match c.behaviour.reset_creates {
            ResetCreates::Reset => (JobKind::Reset, c.reset_behaviour.clone()),
            ResetCreates::Sync => (JobKind::Sync, c.behaviour.clone()),
        };
        for j in self.jobs.iter_mut().filter(|j| j.connection == id) {
            if j.cancelled_at.is_none() && !j.view(now).status.is_terminal() {
                j.cancelled_at = Some(now);
            }
        }
        Ok(self.push_job(id, kind, behaviour, now))
    }

    /// Cancel a job; refused if it has ended. May spawn a new job if the scenario says so.
    pub fn cancel(&mut self, job: i64, now: Instant) -> Result<(), Refusal> {
        let j = self.job_mut(job).ok_or(Refusal::UnknownJob)?;
        if j.view(now).status.is_terminal() {
            return Err(Refusal::NotRunning);
        }
        j.cancelled_at = Some(now);
        let (connection, behaviour) = (j.connection.clone(), j.behaviour.clone());
        if behaviour.cancel_spawns_job {
            let fresh = Arc::new(JobBehaviour {
                cancel_spawns_job: false,
                ..(*behaviour).clone()
            });
            self.push_job(connection, JobKind::Sync, fresh, now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(yaml: &str) -> World {
        World::new(&Scenario::from_str("t", yaml).unwrap())
    }

    const C: &str = "7c2b0000-0000-4000-8000-000000000001";

    fn statuses(w: &World, id: i64, start: Instant, at_ms: &[u64]) -> Vec<JobStatus> {
        at_ms
            .iter()
            .map(|ms| {
                w.job(id)
                    .unwrap()
                    .view(start + Duration::from_millis(*ms))
                    .status
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn job_walks_pending_running_incomplete_succeeded() {
        let mut w = world(&format!(
            "connections: [{{ id: {C}, name: a }}]\njobs: {{ pending: 1s, duration: 2s, retry-delay: 1s, attempts: 2, records: 10, bytes: 20 }}\n"
        ));
        let t0 = Instant::now();
        let id = w.sync(C, t0).unwrap();
        use JobStatus::*;
        assert_eq!(
            statuses(
                &w,
                id,
                t0,
                &[0, 999, 1000, 2999, 3000, 3999, 4000, 5999, 6000]
            ),
            [
                Pending, Pending, Running, Running, Incomplete, Incomplete, Running, Running,
                Succeeded
            ]
        );
        let v = w.job(id).unwrap().view(t0 + Duration::from_secs(10));
        assert_eq!(v.attempts.len(), 2);
        assert_eq!(v.attempts[0].status, AttemptStatus::Failed);
        assert_eq!(v.attempts[1].status, AttemptStatus::Succeeded);
        assert_eq!((v.records_committed(), v.bytes_committed()), (10, 20));
        assert_eq!(v.updated, t0 + Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn sync_while_running_is_refused_and_reset_cancels_it() {
        let mut w = world(&format!("connections: [{{ id: {C}, name: a }}]\n"));
        let t0 = Instant::now();
        let first = w.sync(C, t0).unwrap();
        assert_eq!(
            w.sync(C, t0 + Duration::from_millis(10)),
            Err(Refusal::SyncRunning(first))
        );
        let t1 = t0 + Duration::from_secs(1);
        let reset = w.reset(C, t1).unwrap();
        assert_eq!(w.job(first).unwrap().view(t1).status, JobStatus::Cancelled);
        assert_eq!(w.job(reset).unwrap().kind, JobKind::Reset);
        assert_eq!(w.cancel(first, t1), Err(Refusal::NotRunning));
        assert_eq!(
            w.sync("00000000-0000-4000-8000-000000000000", t1),
            Err(Refusal::UnknownConnection)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stuck_job_runs_until_cancelled_and_may_spawn_another() {
        let mut w = world(&format!(
            "connections: [{{ id: {C}, name: a }}]\njobs: {{ stuck: true, cancel-spawns-job: true }}\n"
        ));
        let t0 = Instant::now();
        let id = w.sync(C, t0).unwrap();
        assert_eq!(
            w.job(id)
                .unwrap()
                .view(t0 + Duration::from_secs(86_400))
                .status,
            JobStatus::Running
        );
        let tc = t0 + Duration::from_secs(60);
        w.cancel(id, tc).unwrap();
        let v = w.job(id).unwrap().view(tc);
        assert_eq!(v.status, JobStatus::Cancelled);
        assert_eq!(v.attempts[0].status, AttemptStatus::Failed);
        assert_eq!(w.running_job(C, tc), Some(id + 1));
    }

    #[tokio::test(start_paused = true)]
    async fn queued_only_when_asked() {
        let mut w = world(&format!(
            "connections: [{{ id: {C}, name: a }}]\njobs: {{ pending: 1s, queued: 1s }}\n"
        ));
        let t0 = Instant::now();
        let id = w.sync(C, t0).unwrap();
        assert_eq!(
            statuses(&w, id, t0, &[500, 1500, 2500]),
            [JobStatus::Pending, JobStatus::Queued, JobStatus::Running]
        );
        let mut w = world(&format!("connections: [{{ id: {C}, name: a }}]\n"));
        let id = w.sync(C, t0).unwrap();
        let all = statuses(&w, id, t0, &(0..60).map(|i| i * 100).collect::<Vec<_>>());
        assert!(!all.contains(&JobStatus::Queued));
    }
}
