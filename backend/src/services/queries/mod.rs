//! Queries: read-only self-service SQL on one or many targets. Submitting classifies the SQL
//! (`classify.rs`), writes the query and one waiting result per target × statement, audits it,
//! and answers; the engine (`engine.rs`, `runner.rs`) runs each target on a thread inside a
//! read-only transaction; `events.rs` streams progress; `export.rs` streams CSV.

pub mod account;
pub mod classify;

pub mod events;
pub mod export;
pub mod functions;
pub mod names;
pub mod runner;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::audit::{self, Event};
use super::error::{Error, Msg, Result};
use super::targets;
use super::{Actor, Ctx, Role};
use crate::connectors::Engine;
use crate::domain::{Status, TargetSelector};
use crate::store::queries::{self as rows, QueryFilter};
use crate::store::DbConn;

/// Most a `GET /api/queries/{id}?wait_ms=` waits.
pub const MAX_WAIT_MS: u64 = 10_000;
/// Longest SQL accepted (characters).
pub const MAX_SQL_CHARS: usize = 100_000;

/// Body of `POST /api/queries`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryInput {
    /// One or more queries (`SELECT`, `WITH … SELECT`, `EXPLAIN`, `SHOW`, …), split as the
    /// engine's client would. Anything that is not a query is refused (400 on `sql`).
    #[schema(
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 100000
    )]
    pub sql: String,
    /// Run on these targets...
    #[serde(default)]
    pub target_ids: Vec<i64>,
    /// ...or on every target carrying all of these tags.
    #[serde(default)]
    pub target_tags: Vec<String>,
    /// Rows kept per target and statement (default `query.default_row_limit`, at most
    /// `query.max_row_limit`).
    #[schema(minimum = 1)]
    pub row_limit: Option<u32>,
    /// Seconds each statement may run before the database cancels it (default
    /// `query.default_timeout_s`, at most `query.max_timeout_s`).
    #[schema(minimum = 1)]
    pub timeout_s: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedQuery {
    pub id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultColumn {
    pub name: String,
    /// The database's own type name (`int4`, `numeric`, `DECIMAL`, `NUMBER`, `TEXT`…).
    #[serde(rename = "type")]
    pub type_name: String,
}

/// One statement's outcome on one target.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryResult {
    pub target_id: i64,
    pub target_name: String,
    /// 0-based index of the statement in the submitted SQL.
    pub statement_index: i32,
    /// 1-based line where the statement starts.
    pub line: i32,
    pub status: Status,
    pub columns: Vec<ResultColumn>,
    /// The first page of rows. Each value is typed: `{"t": "null"}`, `{"t": "int", "v": 1}`
    /// (`"v": "9007199254740993"` beyond ±(2^53 − 1), which JSON readers cannot hold exactly),
    /// `{"t": "decimal", "v": "1.50"}`, `{"t": "text", "v": ""}`, `{"t": "bytes", "v": "00ff"}`,
    /// `{"t": "timestamp_tz", "v": "2024-01-02T03:04:05+00:00"}`,
    /// `{"t": "json", "v": "{\"id\": 12345678901234567890}"}` (the database's JSON text, its
    /// digits kept)…
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Value,
    /// The database had more rows than are kept here.
    pub truncated: bool,
    /// Which limit cut the page: `row_limit`, `max_result_bytes` (this statement's bytes) or
    /// `max_query_result_bytes` (the query's bytes, shared by its statements and targets).
    pub truncated_by: Option<String>,
    pub row_count: i64,
    pub duration_ms: f64,
    /// The database's message (or AutoDB's, e.g. for an unreachable target).
    pub error: Option<String>,
    /// The database's code: SQLSTATE (`25006`), MySQL error number (`1792`), `ORA-…`.
    pub error_code: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Query {
    pub id: i64,
    pub status: Status,
    pub sql: String,
    /// The selector as submitted: `{"target_ids": [...], "target_tags": [...]}`.
    #[schema(value_type = HashMap<String, Value>)]
    pub targets: Value,
    pub row_limit: i32,
    pub timeout_s: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub results: Vec<QueryResult>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuerySummary {
    pub id: i64,
    pub status: Status,
    /// The SQL, cut to 500 characters.
    pub sql: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryPage {
    pub items: Vec<QuerySummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

fn utc(t: Option<chrono::NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(|t| t.and_utc())
}

pub(crate) fn result_dto(r: rows::ResultRow, with_rows: bool) -> Result<QueryResult> {
    Ok(QueryResult {
        target_id: r.target_id,
        target_name: r.target_name,
        statement_index: r.stmt_idx,
        line: r.line,
        status: r.status,
        columns: super::stored_json(&r.columns_json, "query_results.columns_json")?,
        rows: if with_rows {
            super::stored_json(&r.rows_json, "query_results.rows_json")?
        } else {
            Value::Array(vec![])
        },
        truncated: r.truncated,
        truncated_by: r.truncated_by,
        row_count: r.row_count,
        duration_ms: r.duration_ms,
        error: r.error,
        error_code: r.error_code,
        started_at: utc(r.started_at),
        finished_at: utc(r.finished_at),
    })
}

fn query_dto(q: rows::QueryRow, results: Vec<rows::ResultRow>, with_rows: bool) -> Result<Query> {
    Ok(Query {
        id: q.id,
        status: q.status,
        sql: q.sql_text,
        targets: q.target_selector.to_json(),
        row_limit: q.row_limit,
        timeout_s: q.timeout_s,
        created_by: q.created_by_name,
        created_at: q.created_at.and_utc(),
        started_at: utc(q.started_at),
        finished_at: utc(q.finished_at),
        results: results
            .into_iter()
            .map(|r| result_dto(r, with_rows))
            .collect::<Result<_>>()?,
    })
}

/// The query if `actor` may see it: its owner and admins (to anyone else it does not exist).
pub(crate) fn visible(
    conn: &mut DbConn,
    actor_id: i64,
    admin: bool,
    id: i64,
) -> Result<rows::QueryRow> {
    rows::query(conn, id)?
        .filter(|q| admin || q.created_by == Some(actor_id))
        .ok_or(Error::NotFound("query"))
}

pub(crate) fn load(conn: &mut DbConn, actor: &Actor, id: i64, with_rows: bool) -> Result<Query> {
    let q = visible(conn, actor.user_id, actor.role == Role::Admin, id)?;
    let results = rows::results(conn, id)?;
    query_dto(q, results, with_rows)
}

/// The targets a query names, with the statements' lines as split for each engine. A
/// classification failure is the user's error, named on `sql`.
fn resolve(
    conn: &mut DbConn,
    input: &QueryInput,
    selector: &TargetSelector,
    max_statements: u32,
) -> Result<(Vec<rows::NewTarget>, std::result::Result<(), Msg>)> {
    let all = targets::catalog(conn)?;
    let chosen = targets::select(&all, selector, "")?;
    let refused: Vec<String> = chosen
        .iter()
        .filter_map(|(t, _)| {
            account::unsafe_findings(t).map(|f| format!("{}: {}", t.name, account::refusal(&f)))
        })
        .collect();
    if !refused.is_empty() {
        return Err(Error::QueryAccountUnsafe(refused.join("; ")));
    }
    let mut out = vec![];
    let mut verdict = Ok(());
    for (t, _) in chosen {
        let engine: Engine = t
            .engine
            .parse()
            .map_err(|e| Error::internal(format!("{e}")))?;
        // Counted before anything is parsed: each statement costs a result row per target.
        let count = sqlsplit::split(engine.dialect(), &input.sql)
            .statements
            .len();
        if count > max_statements as usize {
            return Err(Error::unprocessable(
                "sql",
                Msg::new(
                    "too_many_statements",
                    format!(
                        "holds {count} statements (as {engine} reads it); a query may hold at \
                         most {max_statements} (query.max_statements)"
                    ),
                )
                .with("count", count)
                .with("max", max_statements),
            ));
        }
        match classify::classify(engine, &input.sql) {
            Ok(stmts) => out.push(rows::NewTarget {
                id: t.id,
                name: t.name.clone(),
                lines: stmts.iter().map(|s| s.line).collect(),
            }),
            Err(why) => {
                let text = format!("{why} (as {engine} reads it, for {})", t.name);
                verdict = Err(Msg {
                    text,
                    ..why
                        .with("engine", engine.to_string())
                        .with("target", t.name.as_str())
                });
                break;
            }
        }
    }
    Ok((out, verdict))
}

fn limits(ctx: &Ctx, input: &QueryInput) -> Result<(i32, i32)> {
    let q = &ctx.settings.query;
    let row_limit = input.row_limit.unwrap_or(q.default_row_limit);
    if row_limit == 0 || row_limit > q.max_row_limit {
        return Err(Error::validation(
            "row_limit",
            format!(
                "must be between 1 and {} (query.max_row_limit)",
                q.max_row_limit
            ),
        ));
    }
    let timeout_s = input.timeout_s.unwrap_or(q.default_timeout_s);
    if timeout_s == 0 || timeout_s > q.max_timeout_s {
        return Err(Error::validation(
            "timeout_s",
            format!(
                "must be between 1 and {} (query.max_timeout_s)",
                q.max_timeout_s
            ),
        ));
    }
    let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    Ok((as_i32(row_limit), as_i32(timeout_s)))
}

/// Checks, classifies and records the query, then starts it. Answers before it runs. A refused
/// statement is audited too (as a failed `run`): attempts to write are worth knowing about.
pub async fn submit(ctx: &Ctx, actor: &Actor, input: QueryInput) -> Result<i64> {
    actor.require(&[Role::Developer, Role::Operator])?;
    if input.sql.trim().is_empty() {
        return Err(Error::validation("sql", Msg::empty()));
    }
    if input.sql.chars().count() > MAX_SQL_CHARS {
        return Err(Error::validation(
            "sql",
            Msg::new(
                "longer_than",
                format!("is longer than {MAX_SQL_CHARS} characters"),
            )
            .with("max", MAX_SQL_CHARS),
        ));
    }
    let (row_limit, timeout_s) = limits(ctx, &input)?;
    let selector = targets::selector(&input.target_ids, &input.target_tags, "")?;
    let runner = ctx.work.id().to_string();
    let max_statements = ctx.settings.query.max_statements;
    let a = actor.clone();
    // A refusal's audit entry is committed; the refusal is answered after.
    let submitted = ctx
        .store
        .write(move |c| {
            let (targets, verdict) = resolve(c, &input, &selector, max_statements)?;
            let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
            let detail = json!({
                "sql": crate::services::truncate(&input.sql, 10_000),
                "targets": names,
                "row_limit": row_limit,
                "timeout_s": timeout_s,
            });
            if let Err(why) = verdict {
                let mut detail = detail;
                detail["refused"] = Value::String(why.text.clone());
                let event = Event {
                    action: "run",
                    object_type: "query",
                    object_id: None,
                    detail,
                    success: false,
                };
                audit::record(c, Some(&a), None, None, event)?;
                return Ok(Err(Error::unprocessable("sql", why)));
            }
            let new = rows::NewQuery {
                sql: input.sql.clone(),
                selector,
                row_limit,
                timeout_s,
                runner,
                created_by: a.user_id,
                created_by_name: a.username.clone(),
                targets,
            };
            // The query and its audit entry: both or neither.
            let id = rows::insert(c, &new)?;
            let event = Event::ok("run", "query", id).with(detail);
            audit::record(c, Some(&a), None, None, event)?;
            Ok::<_, Error>(Ok((
                id,
                new.targets.iter().map(|t| t.id).collect::<Vec<_>>(),
            )))
        })
        .await?;
    let (id, _targets) = submitted?;
    ctx.queries.wake();
    Ok(id)
}

/// The query with its results; with `wait_ms`, first waits (at most [`MAX_WAIT_MS`]) until it
/// has ended, so a fast single-target query answers in one round trip.
pub async fn get(ctx: &Ctx, actor: &Actor, id: i64, wait_ms: u64) -> Result<Query> {
    if wait_ms > MAX_WAIT_MS {
        return Err(Error::validation(
            "wait_ms",
            Msg::at_most(MAX_WAIT_MS as i64),
        ));
    }
    let mut rx = ctx.queries.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    loop {
        let a = actor.clone();
        let q = ctx
            .store
            .run(move |c| visible(c, a.user_id, a.role == Role::Admin, id))
            .await?;
        if q.finished_at.is_some() || tokio::time::Instant::now() >= deadline {
            break;
        }
        // Woken by a change of any query; a short poll covers runs in another process.
        let poll = deadline.min(tokio::time::Instant::now() + Duration::from_millis(500));
        let _ = tokio::time::timeout_at(poll, async {
            loop {
                match rx.recv().await {
                    Ok(changed) if changed == id => return,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await
                    }
                }
            }
        })
        .await;
    }
    let a = actor.clone();
    ctx.store.run(move |c| load(c, &a, id, true)).await
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    mut filter: QueryFilter,
    page: i64,
    per_page: i64,
) -> Result<QueryPage> {
    let offset = crate::services::page_offset(page, per_page)?;
    if actor.role != Role::Admin {
        filter.owner_id = Some(actor.user_id);
    }
    let (rows, total) = ctx
        .store
        .run(move |c| rows::page(c, &filter, offset, per_page))
        .await?;
    Ok(QueryPage {
        items: rows
            .into_iter()
            .map(|q| QuerySummary {
                id: q.id,
                status: q.status,
                sql: crate::services::truncate(&q.sql_text, 500),
                created_by: q.created_by_name,
                created_at: q.created_at.and_utc(),
                finished_at: utc(q.finished_at),
            })
            .collect(),
        total,
        page,
        per_page,
    })
}

/// Cancels a query: waiting targets end at once, running statements are cancelled in their
/// databases. Its owner (while their role runs queries) and admins may.
pub async fn cancel(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Query> {
    actor.require_to(super::Action::RunQueries)?;
    let a = actor.clone();
    let open = ctx
        .store
        .write(move |c| {
            visible(c, a.user_id, a.role == Role::Admin, id)?;
            // Targets not started are dropped, running ones marked for their holder: before the
            // query's row is taken (the lock order of claims and ends).
            crate::store::work::cancel_group(c, rows::WORK_KIND, id)?;
            if !rows::request_cancel(c, id)? {
                return Err(Error::conflict(
                    Msg::new("query_ended", format!("query {id} has already ended")).with("id", id),
                ));
            }
            audit::record(c, Some(&a), None, None, Event::ok("cancel", "query", id))?;
            Ok(true)
        })
        .await?;
    if open {
        ctx.queries.cancel_local(id);
    }
    ctx.queries.changed(id);
    let a = actor.clone();
    ctx.store.run(move |c| load(c, &a, id, true)).await
}
