//! Queries and their results (one row per target × statement, holding the first page of rows
//! as JSON text), and the transitions that must be atomic: ending a result and, with the last
//! one, its query; cancelling; reaping queries whose process stopped.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{Result, StoreError};
use super::schema::{queries, query_results};
use super::work::NewItem;
use super::{now, DbConn, WriteTx};
use crate::domain::status::{self, GroupEvent, RunEvent, Transitions};
use crate::domain::{Outcome, Status, TargetSelector};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = queries)]
pub struct QueryRow {
    pub id: i64,
    pub sql_text: String,
    #[diesel(deserialize_as = String)]
    pub target_selector: TargetSelector,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub row_limit: i32,
    pub timeout_s: i32,
    pub cancel_requested: bool,
    pub runner: Option<String>,
    pub heartbeat_at: Option<NaiveDateTime>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = query_results)]
pub struct ResultRow {
    pub id: i64,
    pub query_id: i64,
    pub target_id: i64,
    pub target_name: String,
    pub stmt_idx: i32,
    pub line: i32,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub columns_json: String,
    pub rows_json: String,
    pub truncated: bool,
    pub truncated_by: Option<String>,
    pub row_count: i64,
    pub duration_ms: f64,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

/// A target of a new query and the lines of its statements (as split for its engine).
pub struct NewTarget {
    pub id: i64,
    pub name: String,
    pub lines: Vec<usize>,
}

pub struct NewQuery {
    pub sql: String,
    pub selector: TargetSelector,
    pub row_limit: i32,
    pub timeout_s: i32,
    pub runner: String,
    pub created_by: i64,
    pub created_by_name: String,
    pub targets: Vec<NewTarget>,
}

/// Writes the query and one waiting result per target × statement (with the audit entry, in
/// the caller's transaction).
pub fn insert(tx: &mut WriteTx<'_>, q: &NewQuery) -> Result<i64> {
    let c: &mut DbConn = tx;
    let at = now();
    let values = (
        queries::sql_text.eq(&q.sql),
        queries::target_selector.eq(q.selector.to_json_string()),
        queries::status.eq(Status::Waiting.as_str()),
        queries::row_limit.eq(q.row_limit),
        queries::timeout_s.eq(q.timeout_s),
        queries::runner.eq(Some(&q.runner)),
        queries::heartbeat_at.eq(Some(at)),
        queries::created_by.eq(Some(q.created_by)),
        queries::created_by_name.eq(&q.created_by_name),
        queries::created_at.eq(at),
    );
    let id: i64 = match c {
        DbConn::Postgresql(pg) => diesel::insert_into(queries::table)
            .values(values)
            .returning(queries::id)
            .get_result(pg)?,
        // SQLite: this is the only writer (BEGIN IMMEDIATE), so the newest row is ours.
        DbConn::Sqlite(lite) => {
            diesel::insert_into(queries::table)
                .values(values)
                .execute(lite)?;
            queries::table
                .select(queries::id)
                .order(queries::id.desc())
                .first(lite)?
        }
    };
    for t in &q.targets {
        for (idx, line) in t.lines.iter().enumerate() {
            diesel::insert_into(query_results::table)
                .values((
                    query_results::query_id.eq(id),
                    query_results::target_id.eq(t.id),
                    query_results::target_name.eq(&t.name),
                    query_results::stmt_idx.eq(idx as i32),
                    query_results::line.eq(i32::try_from(*line).unwrap_or(i32::MAX)),
                    query_results::status.eq(Status::Waiting.as_str()),
                ))
                .execute(c)?;
        }
    }
    // One work item per target: the engine runs each on its pool.
    let items: Vec<NewItem<'_>> = q
        .targets
        .iter()
        .map(|t| NewItem {
            kind: WORK_KIND,
            group_id: id,
            subject_id: id,
            target_id: Some(t.id),
            run_after: at,
            created_at: at,
        })
        .collect();
    super::work::enqueue(tx, &items)?;
    Ok(id)
}

/// The work kind of a query's targets (`store::work`): group and subject are the query.
pub const WORK_KIND: &str = "query_target";

pub fn query(conn: &mut DbConn, id: i64) -> Result<Option<QueryRow>> {
    Ok(queries::table
        .find(id)
        .select(QueryRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn results(conn: &mut DbConn, query_id: i64) -> Result<Vec<ResultRow>> {
    Ok(query_results::table
        .filter(query_results::query_id.eq(query_id))
        .order((
            query_results::target_name.asc(),
            query_results::target_id.asc(),
            query_results::stmt_idx.asc(),
        ))
        .select(ResultRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Default, Clone)]
pub struct QueryFilter {
    /// Only this user's queries (everyone but admins).
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub status: Option<Status>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

type Backend = <DbConn as diesel::Connection>::Backend;

fn filtered(f: &QueryFilter) -> queries::BoxedQuery<'static, Backend> {
    let mut q = queries::table.into_boxed();
    if let Some(v) = f.owner_id {
        q = q.filter(queries::created_by.eq(Some(v)));
    }
    if let Some(v) = &f.owner_name {
        q = q.filter(queries::created_by_name.eq(v.clone()));
    }
    if let Some(v) = f.status {
        q = q.filter(queries::status.eq(v.as_str()));
    }
    if let Some(v) = f.since {
        q = q.filter(queries::created_at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(queries::created_at.lt(v));
    }
    q
}

pub fn page(
    conn: &mut DbConn,
    f: &QueryFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<QueryRow>, i64)> {
    let total = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .order(queries::id.desc())
        .offset(offset)
        .limit(limit)
        .select(QueryRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// A target's statements start: the query is running from its first one on.
pub fn start_target(tx: &mut WriteTx<'_>, query_id: i64, target_id: i64) -> Result<bool> {
    {
        let c: &mut DbConn = tx;
        let at = now();
        let start = GroupEvent::Start;
        diesel::update(
            queries::table
                .filter(queries::id.eq(query_id))
                .filter(queries::status.eq_any(status::Query::sources(start))),
        )
        .set((
            queries::status.eq(status::Query::target(start).as_str()),
            queries::started_at.eq(Some(at)),
        ))
        .execute(c)?;
        let start = RunEvent::Start;
        let n = diesel::update(
            query_results::table
                .filter(query_results::query_id.eq(query_id))
                .filter(query_results::target_id.eq(target_id))
                .filter(query_results::status.eq_any(status::QueryResult::sources(start))),
        )
        .set((
            query_results::status.eq(status::QueryResult::target(start).as_str()),
            query_results::started_at.eq(Some(at)),
        ))
        .execute(c)?;
        Ok(n > 0)
    }
}

/// How one statement on one target ended.
#[derive(Debug, Clone)]
pub struct ResultEnd {
    pub outcome: Outcome,
    pub columns_json: String,
    pub rows_json: String,
    pub truncated: bool,
    pub truncated_by: Option<&'static str>,
    pub row_count: i64,
    pub duration_ms: f64,
    pub error: Option<String>,
    pub error_code: Option<String>,
}

impl ResultEnd {
    pub fn failed(outcome: Outcome, error: String, code: Option<String>) -> Self {
        Self {
            outcome,
            columns_json: "[]".into(),
            rows_json: "[]".into(),
            truncated: false,
            truncated_by: None,
            row_count: 0,
            duration_ms: 0.0,
            error: Some(error),
            error_code: code,
        }
    }
}

/// Takes the query row's lock (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serializes).
/// Results of one query end in parallel on several threads: without it, two transactions
/// each see the other's result still running and neither ends the query.
fn lock_query(c: &mut DbConn, query_id: i64) -> Result<()> {
    if let DbConn::Postgresql(pg) = c {
        queries::table
            .find(query_id)
            .select(queries::id)
            .for_update()
            .first::<i64>(pg)
            .optional()?;
    }
    Ok(())
}

/// Ends one result (if it has not ended) and, when it was the query's last, the query.
/// Returns whether the query has now ended.
pub fn finish_result(
    tx: &mut WriteTx<'_>,
    query_id: i64,
    target_id: i64,
    stmt_idx: i32,
    end: ResultEnd,
) -> Result<bool> {
    {
        let c: &mut DbConn = tx;
        lock_query(c, query_id)?;
        let event = RunEvent::End(end.outcome);
        diesel::update(
            query_results::table
                .filter(query_results::query_id.eq(query_id))
                .filter(query_results::target_id.eq(target_id))
                .filter(query_results::stmt_idx.eq(stmt_idx))
                .filter(query_results::status.eq_any(status::QueryResult::sources(event))),
        )
        .set((
            query_results::status.eq(status::QueryResult::target(event).as_str()),
            query_results::columns_json.eq(end.columns_json),
            query_results::rows_json.eq(end.rows_json),
            query_results::truncated.eq(end.truncated),
            query_results::truncated_by.eq(end.truncated_by),
            query_results::row_count.eq(end.row_count),
            query_results::duration_ms.eq(end.duration_ms),
            query_results::error.eq(end.error),
            query_results::error_code.eq(end.error_code),
            query_results::finished_at.eq(Some(now())),
        ))
        .execute(c)?;
        end_if_done(c, query_id)
    }
}

/// Ends the query when none of its results is waiting or running.
fn end_if_done(c: &mut DbConn, query_id: i64) -> Result<bool> {
    let statuses: Vec<String> = query_results::table
        .filter(query_results::query_id.eq(query_id))
        .select(query_results::status)
        .load(c)?;
    let mut outcomes = Vec::with_capacity(statuses.len());
    for s in statuses {
        let st = Status::try_from(s).map_err(|e| StoreError::Integrity(e.to_string()))?;
        match Outcome::of(st) {
            Some(o) => outcomes.push(o),
            None => return Ok(false),
        }
    }
    let finish = GroupEvent::Finish(Outcome::of_group(outcomes));
    diesel::update(
        queries::table
            .filter(queries::id.eq(query_id))
            .filter(queries::finished_at.is_null())
            .filter(queries::status.eq_any(status::Query::sources(finish))),
    )
    .set((
        queries::status.eq(status::Query::target(finish).as_str()),
        queries::finished_at.eq(Some(now())),
    ))
    .execute(c)?;
    Ok(true)
}

/// Cancel: waiting results end cancelled at once; running ones are left to the runner, which
/// cancels them in their databases. Returns whether the query had not ended.
pub fn request_cancel(tx: &mut WriteTx<'_>, query_id: i64) -> Result<bool> {
    let c: &mut DbConn = tx;
    let open = diesel::update(
        queries::table
            .filter(queries::id.eq(query_id))
            .filter(queries::finished_at.is_null()),
    )
    .set(queries::cancel_requested.eq(true))
    .execute(c)?
        == 1;
    if open {
        let cancel = RunEvent::Cancel;
        diesel::update(
            query_results::table
                .filter(query_results::query_id.eq(query_id))
                .filter(query_results::status.eq_any(status::QueryResult::sources(cancel))),
        )
        .set((
            query_results::status.eq(status::QueryResult::target(cancel).as_str()),
            query_results::error.eq(Some("cancelled before it started")),
            query_results::finished_at.eq(Some(now())),
        ))
        .execute(c)?;
        end_if_done(c, query_id)?;
    }
    Ok(open)
}

/// The reaper's end of a target whose process stopped renewing its lease: its open results
/// end as errors (and the query with them when it was the last).
pub fn interrupt_target(
    tx: &mut WriteTx<'_>,
    query_id: i64,
    target_id: i64,
    message: &str,
) -> Result<bool> {
    let c: &mut DbConn = tx;
    lock_query(c, query_id)?;
    diesel::update(
        query_results::table
            .filter(query_results::query_id.eq(query_id))
            .filter(query_results::target_id.eq(target_id))
            .filter(
                query_results::status.eq_any(status::QueryResult::sources(RunEvent::Interrupt)),
            ),
    )
    .set((
        query_results::status.eq(status::QueryResult::target(RunEvent::Interrupt).as_str()),
        query_results::error.eq(Some(message)),
        query_results::finished_at.eq(Some(now())),
    ))
    .execute(c)?;
    end_if_done(c, query_id)
}

pub fn result(
    conn: &mut DbConn,
    query_id: i64,
    target_id: i64,
    stmt_idx: i32,
) -> Result<Option<ResultRow>> {
    Ok(query_results::table
        .filter(query_results::query_id.eq(query_id))
        .filter(query_results::target_id.eq(target_id))
        .filter(query_results::stmt_idx.eq(stmt_idx))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()?)
}
