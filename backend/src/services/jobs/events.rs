//! Live progress of a job as Server-Sent Events: a `snapshot` first, then `run`, `script` and
//! `job` events for every status change and progress count, and `end` when the job has ended.
//! Woken by the engine's change notices, with a poll as a fallback for runs that execute in
//! another AutoDB process. The stream re-checks its credential (`services::live`) and ends
//! with `end` and a `reason` once the session or token has ended or the user is disabled.

use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use futures_util::Stream;
use serde::Serialize;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{load_job, Job};
use crate::services::live::Watch;
use crate::services::Ctx;

const POLL: Duration = Duration::from_secs(1);
const KEEPALIVE: Duration = Duration::from_secs(15);

struct State {
    ctx: Ctx,
    watch: Watch,
    job_id: i64,
    rx: broadcast::Receiver<i64>,
    last: Option<Job>,
    last_sent: Instant,
    done: bool,
}

fn event(name: &str, data: &impl Serialize) -> String {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    format!("event: {name}\ndata: {data}\n\n")
}

/// The events that turn `old` into `new`.
fn diff(old: &Job, new: &Job) -> String {
    let mut out = String::new();
    for script in &new.scripts {
        let before = old.scripts.iter().find(|s| s.index == script.index);
        for run in &script.runs {
            let prev = before.and_then(|s| s.runs.iter().find(|r| r.id == run.id));
            let changed = prev.is_none_or(|p| {
                p.status != run.status
                    || p.statements_done != run.statements_done
                    || p.statements_total != run.statements_total
                    || p.superseded != run.superseded
            });
            if changed {
                out += &event(
                    "run",
                    &json!({"job_id": new.id, "script_index": script.index, "run": run}),
                );
            }
        }
        if before.is_none_or(|s| s.status != script.status) {
            out += &event(
                "script",
                &json!({"job_id": new.id, "index": script.index, "status": script.status}),
            );
        }
    }
    if old.status != new.status || old.attempt != new.attempt {
        out += &event(
            "job",
            &json!({"id": new.id, "status": new.status, "attempt": new.attempt,
                    "started_at": new.started_at, "finished_at": new.finished_at}),
        );
    }
    out
}

async fn next(mut st: State) -> Option<(Result<Bytes, actix_web::Error>, State)> {
    if st.done {
        return None;
    }
    loop {
        if st.last.is_some() {
            let wait = tokio::time::timeout(POLL, async {
                loop {
                    match st.rx.recv().await {
                        Ok(id) if id == st.job_id => return,
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => return,
                        Err(RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            });
            let _ = wait.await;
        }
        if let Err(lapse) = st.watch.check(&st.ctx).await {
            st.done = true;
            let status = st.last.as_ref().map(|j| j.status.clone());
            let body = event(
                "end",
                &json!({"id": st.job_id, "status": status, "reason": lapse.reason()}),
            );
            return Some((Ok(Bytes::from(body)), st));
        }
        let job_id = st.job_id;
        let job = match st.ctx.store.run(move |c| load_job(c, job_id)).await {
            Ok(j) => j,
            Err(e) => {
                st.done = true;
                // Not "error": EventSource reports dropped connections under that name.
                let body = event("stream_error", &json!({"message": e.to_string()}));
                return Some((Ok(Bytes::from(body)), st));
            }
        };
        let mut out = match &st.last {
            None => event("snapshot", &job),
            Some(old) => diff(old, &job),
        };
        if job.finished_at.is_some()
            && !job
                .scripts
                .iter()
                .flat_map(|s| &s.runs)
                .any(|r| r.status == "running")
        {
            out += &event("end", &json!({"id": job.id, "status": job.status}));
            st.done = true;
        }
        st.last = Some(job);
        if out.is_empty() && st.last_sent.elapsed() >= KEEPALIVE {
            out = ": keep-alive\n\n".into();
        }
        if !out.is_empty() {
            st.last_sent = Instant::now();
            return Some((Ok(Bytes::from(out)), st));
        }
    }
}

/// The job's events for the holder of `watch` (checked again while the stream lasts).
pub fn stream(
    ctx: Ctx,
    watch: Watch,
    job_id: i64,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let rx = ctx.jobs.subscribe();
    let state = State {
        ctx,
        watch,
        job_id,
        rx,
        last: None,
        last_sent: Instant::now(),
        done: false,
    };
    futures_util::stream::unfold(state, next)
}
