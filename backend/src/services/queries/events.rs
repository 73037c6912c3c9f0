//! Live progress of a query as typed events: a `snapshot` (the whole query, rows of ended
//! results included), then a `result` event for each target × statement as it ends (with its
//! rows), `status` when the query's status changes, and `end` when the query has ended (or,
//! with a `reason`, when the reader's credential or role lapsed: nothing of the query is sent
//! after that). `api::sse` sends them, woken by the engine's change notices.

use crate::domain::Status;
use std::collections::HashSet;

use serde::Serialize;
use tokio::sync::broadcast;

use super::{load, result_dto, Query, QueryResult};
use crate::services::error::{Error, Result};
use crate::services::live::{sorted, End, Lapse, LiveEvent, Source};
use crate::services::{Actor, Ctx};
use crate::store::queries as rows;

/// One event of a query's stream. The payloads other than the snapshot have their keys in
/// alphabetical order (nested DTOs too, see [`sorted`]): the wire form these events had when
/// they were built as `serde_json::Value`s, kept byte for byte.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum QueryEvent {
    /// The whole query, as `GET /api/queries/{id}` answers it, rows included.
    Snapshot(Box<Query>),
    /// The query changed status.
    Status {
        id: i64,
        status: Status,
    },
    /// One target × statement ended, with its rows.
    Result {
        query_id: i64,
        #[serde(serialize_with = "sorted")]
        result: Box<QueryResult>,
    },
    End(End),
}

impl LiveEvent for QueryEvent {
    fn name(&self) -> &'static str {
        match self {
            QueryEvent::Snapshot(_) => "snapshot",
            QueryEvent::Status { .. } => "status",
            QueryEvent::Result { .. } => "result",
            QueryEvent::End(_) => "end",
        }
    }
}

fn ended(status: &Status) -> bool {
    status.is_final()
}

/// What the last read saw: enough to send only what changed.
struct Seen {
    status: Status,
    /// (target, statement) of the results already ended, so already sent.
    ended: HashSet<(i64, i32)>,
}

impl Seen {
    fn of(q: &Query) -> Self {
        Self {
            status: q.status,
            ended: q
                .results
                .iter()
                .filter(|r| ended(&r.status))
                .map(|r| (r.target_id, r.statement_index))
                .collect(),
        }
    }
}

/// A query followed live for one reader: each read loads it as that reader may see it.
pub struct QueryEvents {
    ctx: Ctx,
    id: i64,
    rx: broadcast::Receiver<i64>,
    seen: Option<Seen>,
}

/// The query's events, subscribed to its engine's change notices from now on.
pub fn source(ctx: &Ctx, id: i64) -> QueryEvents {
    QueryEvents {
        ctx: ctx.clone(),
        id,
        rx: ctx.queries.subscribe(),
        seen: None,
    }
}

impl Source for QueryEvents {
    type Event = QueryEvent;

    fn id(&self) -> i64 {
        self.id
    }

    fn changes(&mut self) -> &mut broadcast::Receiver<i64> {
        &mut self.rx
    }

    async fn next(&mut self, actor: &Actor) -> Result<(Vec<QueryEvent>, bool)> {
        let (actor, id) = (actor.clone(), self.id);
        let seen = self.seen.take();
        let (events, now, finished) = self
            .ctx
            .store
            .run(move |c| {
                let q = load(c, &actor, id, seen.is_none())?;
                let mut out = vec![];
                if let Some(old) = &seen {
                    if q.status != old.status {
                        out.push(QueryEvent::Status {
                            id,
                            status: q.status,
                        });
                    }
                    let new = q.results.iter().filter(|r| ended(&r.status));
                    for r in new.filter(|r| !old.ended.contains(&(r.target_id, r.statement_index)))
                    {
                        if let Some(full) = rows::result(c, id, r.target_id, r.statement_index)? {
                            out.push(QueryEvent::Result {
                                query_id: id,
                                result: Box::new(result_dto(full, true)?),
                            });
                        }
                    }
                }
                let now = Seen::of(&q);
                let finished = q.finished_at.is_some();
                let status = q.status;
                if seen.is_none() {
                    out.push(QueryEvent::Snapshot(Box::new(q)));
                }
                if finished {
                    out.push(QueryEvent::End(End::of(id, Some(status))));
                }
                Ok::<_, Error>((out, now, finished))
            })
            .await?;
        self.seen = Some(now);
        Ok((events, finished))
    }

    fn lapsed(&self, lapse: Lapse) -> QueryEvent {
        let status = self.seen.as_ref().map(|s| s.status);
        QueryEvent::End(End::of(self.id, status).because(lapse))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn wire(e: &QueryEvent) -> String {
        serde_json::to_string(e).unwrap_or_default()
    }

    #[test]
    fn each_event_is_sent_as_the_json_the_stream_always_sent() {
        let result = QueryResult {
            target_id: 3,
            target_name: "pg".into(),
            statement_index: 0,
            line: 1,
            status: Status::Success,
            columns: vec![],
            rows: json!([[{"t": "int", "v": 7}]]),
            truncated: false,
            truncated_by: None,
            row_count: 1,
            duration_ms: 1.5,
            error: None,
            error_code: None,
            started_at: None,
            finished_at: None,
        };
        let sent = QueryEvent::Result {
            query_id: 9,
            result: Box::new(result.clone()),
        };
        assert_eq!(sent.name(), "result");
        assert_eq!(
            wire(&sent),
            json!({"query_id": 9, "result": result}).to_string()
        );
        let status = QueryEvent::Status {
            id: 9,
            status: Status::Running,
        };
        assert_eq!(
            wire(&status),
            json!({"id": 9, "status": "running"}).to_string()
        );
        let end = QueryEvent::End(End::of(9, Some(Status::Success)));
        assert_eq!(wire(&end), r#"{"id":9,"status":"success"}"#);
        let lapsed = QueryEvent::End(End::of(9, None).because(Lapse::Forbidden));
        assert_eq!(
            wire(&lapsed),
            json!({"id": 9, "status": null, "reason": "forbidden"}).to_string()
        );
    }
}
