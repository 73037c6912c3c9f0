//! Live progress of a query as Server-Sent Events: a `snapshot` (the whole query, rows of ended
//! results included), then a `result` event for each target × statement as it ends (with its
//! rows), `status` when the query's status changes, and `end` when the query has ended. Woken
//! by the engine's change notices, with a poll as a fallback for queries run by another process.
//! The stream re-checks its credential and role (`services::live`) before each read and ends
//! with `end` and a `reason` once the session or token has ended, the user is disabled, or
//! their role no longer runs queries: nothing of the query is sent after that.

use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use futures_util::Stream;
use serde::Serialize;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{load, result_dto, Query};
use crate::services::live::Watch;
use crate::services::Ctx;
use crate::store::queries as rows;

const POLL: Duration = Duration::from_secs(1);
const KEEPALIVE: Duration = Duration::from_secs(15);

struct State {
    ctx: Ctx,
    watch: Watch,
    id: i64,
    rx: broadcast::Receiver<i64>,
    last: Option<Query>,
    last_sent: Instant,
    done: bool,
}

fn event(name: &str, data: &impl Serialize) -> String {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    format!("event: {name}\ndata: {data}\n\n")
}

fn ended(status: &str) -> bool {
    !matches!(status, "waiting" | "running")
}

async fn changes(st: &mut State) -> Result<String, String> {
    let (actor, id) = (st.watch.actor().clone(), st.id);
    let last = st.last.clone();
    st.ctx
        .store
        .run(move |c| {
            let Some(old) = last else {
                let q = load(c, &actor, id, true)?;
                return Ok((event("snapshot", &q), q));
            };
            let q = load(c, &actor, id, false)?;
            let mut out = String::new();
            if q.status != old.status {
                out += &event("status", &json!({"id": id, "status": q.status}));
            }
            for r in q.results.iter().filter(|r| ended(&r.status)) {
                let was = old
                    .results
                    .iter()
                    .find(|o| o.target_id == r.target_id && o.statement_index == r.statement_index);
                if was.is_some_and(|o| ended(&o.status)) {
                    continue;
                }
                if let Some(full) = rows::result(c, id, r.target_id, r.statement_index)? {
                    out += &event(
                        "result",
                        &json!({"query_id": id, "result": result_dto(full, true)}),
                    );
                }
            }
            Ok((out, q))
        })
        .await
        .map(|(out, q)| {
            let finished = q.finished_at.is_some();
            st.last = Some(q);
            if finished {
                st.done = true;
                let status = st.last.as_ref().map(|q| q.status.clone());
                return out + &event("end", &json!({"id": id, "status": status}));
            }
            out
        })
        .map_err(|e: crate::services::error::Error| e.to_string())
}

async fn next(mut st: State) -> Option<(Result<Bytes, actix_web::Error>, State)> {
    if st.done {
        return None;
    }
    loop {
        if st.last.is_some() {
            let id = st.id;
            let rx = &mut st.rx;
            let _ = tokio::time::timeout(POLL, async {
                loop {
                    match rx.recv().await {
                        Ok(changed) if changed == id => return,
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => return,
                        Err(RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            })
            .await;
        }
        if let Err(lapse) = st.watch.check(&st.ctx).await {
            st.done = true;
            let status = st.last.as_ref().map(|q| q.status.clone());
            let body = event(
                "end",
                &json!({"id": st.id, "status": status, "reason": lapse.reason()}),
            );
            return Some((Ok(Bytes::from(body)), st));
        }
        let mut out = match changes(&mut st).await {
            Ok(out) => out,
            Err(message) => {
                st.done = true;
                let body = event("error", &json!({ "message": message }));
                return Some((Ok(Bytes::from(body)), st));
            }
        };
        if out.is_empty() && st.last_sent.elapsed() >= KEEPALIVE {
            out = ": keep-alive\n\n".into();
        }
        if !out.is_empty() {
            st.last_sent = Instant::now();
            return Some((Ok(Bytes::from(out)), st));
        }
    }
}

/// The query's events for the holder of `watch` (checked again while the stream lasts).
pub fn stream(
    ctx: Ctx,
    watch: Watch,
    id: i64,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let rx = ctx.queries.subscribe();
    let state = State {
        ctx,
        watch,
        id,
        rx,
        last: None,
        last_sent: Instant::now(),
        done: false,
    };
    futures_util::stream::unfold(state, next)
}
