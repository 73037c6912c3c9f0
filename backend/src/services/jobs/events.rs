//! Live progress of a job as typed events: a `snapshot` first, then `run`, `script` and `job`
//! events for every status change and progress count, and `end` when the job has ended (or,
//! with a `reason`, when the reader's credential lapsed). `api::sse` sends them, woken by the
//! engine's change notices.

use crate::domain::Status;
use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use super::{load_job, load_job_since, Job, Run};
use crate::services::error::Result;
use crate::services::live::{sorted, End, Lapse, LiveEvent, Source};
use crate::services::{Actor, Ctx};

/// One event of a job's stream. The payloads other than the snapshot have their keys in
/// alphabetical order (nested DTOs too, see [`sorted`]): the wire form these events had when
/// they were built as `serde_json::Value`s, kept byte for byte.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum JobEvent {
    /// The whole job, as `GET /api/jobs/{id}` answers it.
    Snapshot(Box<Job>),
    /// A run is new or changed status, progress or `superseded`.
    Run {
        job_id: i64,
        #[serde(serialize_with = "sorted")]
        run: Box<Run>,
        script_index: i32,
    },
    /// A script is new or changed status.
    Script {
        index: i32,
        job_id: i64,
        status: Status,
    },
    /// The job changed status or attempt.
    Job {
        attempt: i32,
        finished_at: Option<DateTime<Utc>>,
        id: i64,
        started_at: Option<DateTime<Utc>>,
        status: Status,
    },
    End(End),
}

impl LiveEvent for JobEvent {
    fn name(&self) -> &'static str {
        match self {
            JobEvent::Snapshot(_) => "snapshot",
            JobEvent::Run { .. } => "run",
            JobEvent::Script { .. } => "script",
            JobEvent::Job { .. } => "job",
            JobEvent::End(_) => "end",
        }
    }
}

/// The events that turn `old` into `new`: O(runs), each run found by id.
fn diff(old: &Job, new: &Job) -> Vec<JobEvent> {
    let scripts: HashMap<i32, &super::Script> = old.scripts.iter().map(|s| (s.index, s)).collect();
    let runs: HashMap<i64, &Run> = old
        .scripts
        .iter()
        .flat_map(|s| &s.runs)
        .map(|r| (r.id, r))
        .collect();
    let mut out = vec![];
    for script in &new.scripts {
        let before = scripts.get(&script.index);
        for run in &script.runs {
            // A run id belongs to one script; looked up within it, as before.
            let prev = before.and(runs.get(&run.id));
            let changed = prev.is_none_or(|p| {
                p.status != run.status
                    || p.statements_done != run.statements_done
                    || p.statements_total != run.statements_total
                    || p.superseded != run.superseded
            });
            if changed {
                out.push(JobEvent::Run {
                    job_id: new.id,
                    run: Box::new(run.clone()),
                    script_index: script.index,
                });
            }
        }
        if before.is_none_or(|s| s.status != script.status) {
            out.push(JobEvent::Script {
                index: script.index,
                job_id: new.id,
                status: script.status,
            });
        }
    }
    if old.status != new.status || old.attempt != new.attempt {
        out.push(JobEvent::Job {
            attempt: new.attempt,
            finished_at: new.finished_at,
            id: new.id,
            started_at: new.started_at,
            status: new.status,
        });
    }
    out
}

/// How far back a read looks for changes before the previous read began: a change stamped
/// just before it but committed just after is still seen. One that comes later still, or from a
/// process whose clock is behind, makes the counts disagree and the job is read whole.
const OVERLAP: Duration = Duration::from_secs(2);

/// A job followed live: the first read loads it whole, later ones only the runs that may have
/// changed ([`super::load_job_since`]), and each sends what changed since the last read. A
/// fleet's job of 10,000 runs costs each reader its running runs per read, not all of them.
pub struct JobEvents {
    ctx: Ctx,
    id: i64,
    rx: broadcast::Receiver<i64>,
    last: Option<Job>,
    /// When the last read began (store clock).
    read_at: Option<NaiveDateTime>,
}

/// The job's events, subscribed to its engine's change notices from now on.
pub fn source(ctx: &Ctx, job_id: i64) -> JobEvents {
    JobEvents {
        ctx: ctx.clone(),
        id: job_id,
        rx: ctx.jobs.subscribe(),
        last: None,
        read_at: None,
    }
}

impl Source for JobEvents {
    type Event = JobEvent;

    fn id(&self) -> i64 {
        self.id
    }

    fn changes(&mut self) -> &mut broadcast::Receiver<i64> {
        &mut self.rx
    }

    async fn next(&mut self, _actor: &Actor) -> Result<(Vec<JobEvent>, bool)> {
        let id = self.id;
        let read_at = crate::store::now();
        let since = self.read_at.map(|t| t - OVERLAP);
        let last = self.last.take();
        let (job, last) = self
            .ctx
            .store
            .run(move |c| {
                let fresh = match (&last, since) {
                    (Some(old), Some(since)) => load_job_since(c, old, since)?,
                    _ => None,
                };
                let job = match fresh {
                    Some(job) => job,
                    None => load_job(c, id)?,
                };
                Ok::<_, crate::services::error::Error>((job, last))
            })
            .await?;
        self.last = last;
        self.read_at = Some(read_at);
        let mut events = match &self.last {
            None => vec![JobEvent::Snapshot(Box::new(job.clone()))],
            Some(old) => diff(old, &job),
        };
        let ended = job.finished_at.is_some()
            && !job
                .scripts
                .iter()
                .flat_map(|s| &s.runs)
                .any(|r| r.status == Status::Running);
        if ended {
            events.push(JobEvent::End(End::of(id, Some(job.status))));
        }
        self.last = Some(job);
        Ok((events, ended))
    }

    fn lapsed(&self, lapse: Lapse) -> JobEvent {
        let status = self.last.as_ref().map(|j| j.status);
        JobEvent::End(End::of(self.id, status).because(lapse))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::services::jobs::{OnError, RunCounts, Script};

    fn run(id: i64, status: &str, done: i32, attempt: i32) -> Run {
        Run {
            id,
            script_index: 0,
            target_id: 7,
            target_name: "pg".into(),
            attempt,
            status: status.parse().expect("a status"),
            started_at: None,
            finished_at: None,
            statements_done: done,
            statements_total: Some(3),
            error: None,
            error_code: None,
            error_line: None,
            superseded: false,
            late_status: None,
            first_statement: 0,
        }
    }

    fn job(status: &str, runs: Vec<Run>) -> Job {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 3, 4, 5).single();
        Job {
            id: 42,
            name: "j".into(),
            status: status.parse().expect("a status"),
            on_error: OnError::Stop,
            transactional: false,
            attempt: 1,
            created_by: "admin".into(),
            created_at: at.unwrap_or_default(),
            started_at: at,
            finished_at: None,
            schedule_id: None,
            scripts: vec![Script {
                index: 0,
                status: status.parse().expect("a status"),
                sql: "SELECT 1".into(),
                targets: json!({"target_ids": [7], "target_tags": []}),
                started_at: None,
                finished_at: None,
                counts: RunCounts {
                    waiting: 0,
                    running: 0,
                    success: 0,
                    error: 0,
                    cancelled: 0,
                },
                runs,
            }],
        }
    }

    fn wire(e: &JobEvent) -> String {
        serde_json::to_string(e).unwrap_or_default()
    }

    #[test]
    fn each_event_is_sent_as_the_json_the_stream_always_sent() {
        let old = job(
            "waiting",
            vec![run(1, "waiting", 0, 1), run(2, "waiting", 0, 1)],
        );
        let mut new = job(
            "running",
            vec![run(1, "running", 1, 1), run(2, "waiting", 0, 1)],
        );
        new.attempt = 2;
        let events = diff(&old, &new);
        let names: Vec<_> = events.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["run", "script", "job"]);
        let r = &new.scripts[0].runs[0];
        assert_eq!(
            wire(&events[0]),
            json!({"job_id": 42, "script_index": 0, "run": r}).to_string()
        );
        assert_eq!(
            wire(&events[1]),
            json!({"job_id": 42, "index": 0, "status": "running"}).to_string()
        );
        assert_eq!(
            wire(&events[2]),
            json!({"id": 42, "status": "running", "attempt": 2,
                   "started_at": new.started_at, "finished_at": new.finished_at})
            .to_string()
        );
        let snapshot = JobEvent::Snapshot(Box::new(new.clone()));
        assert_eq!(
            wire(&snapshot),
            serde_json::to_string(&new).unwrap_or_default()
        );
    }

    #[test]
    fn a_run_unchanged_since_the_last_read_sends_nothing_and_a_new_attempt_is_sent() {
        let old = job("running", vec![run(1, "error", 1, 1)]);
        let mut new = job(
            "running",
            vec![run(1, "error", 1, 1), run(3, "waiting", 0, 2)],
        );
        new.scripts[0].runs[0].superseded = true;
        let events = diff(&old, &new);
        let runs: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                JobEvent::Run { run, .. } => Some(run.id),
                _ => None,
            })
            .collect();
        assert_eq!(runs, [1, 3], "the superseded run and the new attempt");
        assert!(diff(&new, &new).is_empty());
    }
}
