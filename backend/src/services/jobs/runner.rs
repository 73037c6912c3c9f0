//! Executes one run: the script split for its target's engine, statement by statement on one
//! connection, each logged; the first failing statement fails the run. Runs on its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::engine::{JobEngine, Running};
use crate::connectors::{
    self, Cell, Column, DbError, DbErrorKind, Engine, RowSink, TargetConnection,
};
use crate::services::error::{Error, Result};
use crate::services::targets as targets_service;
use crate::store::{self, jobs as rows, targets};

/// Longest statement text kept in a run's log.
pub const LOG_SQL_CHARS: usize = 4000;

pub(super) fn spawn(engine: Arc<JobEngine>, run: rows::RunRow) {
    let cancelled = Arc::new(AtomicBool::new(false));
    engine.lock_running().insert(
        run.id,
        Running {
            target_id: run.target_id,
            cancelled: cancelled.clone(),
            canceller: None,
        },
    );
    let spawned = std::thread::Builder::new()
        .name(format!("autodb-run-{}", run.id))
        .spawn({
            let engine = engine.clone();
            let run = run.clone();
            move || execute(&engine, &run, &cancelled)
        });
    if let Err(e) = spawned {
        log::error!("cannot start a thread for run {}: {e}", run.id);
        let _ = finish(
            &engine,
            &run,
            Outcome::failed(format!("cannot start a run thread: {e}"), None, None),
        );
    }
}

/// How a run ended.
struct Outcome {
    status: &'static str,
    error: Option<String>,
    code: Option<String>,
    line: Option<i32>,
}

impl Outcome {
    fn success() -> Self {
        Self {
            status: rows::SUCCESS,
            error: None,
            code: None,
            line: None,
        }
    }
    fn cancelled() -> Self {
        Self {
            status: rows::CANCELLED,
            error: Some("cancelled".into()),
            code: None,
            line: None,
        }
    }
    fn failed(error: String, code: Option<String>, line: Option<i32>) -> Self {
        Self {
            status: rows::ERROR,
            error: Some(error),
            code,
            line,
        }
    }
    fn from_db(e: &DbError, line: Option<i32>) -> Self {
        if e.kind == DbErrorKind::Cancelled {
            return Self {
                error: Some(e.message.clone()),
                code: e.code.clone(),
                line,
                ..Self::cancelled()
            };
        }
        Self::failed(e.message.clone(), e.code.clone(), line)
    }
}

fn execute(engine: &Arc<JobEngine>, run: &rows::RunRow, cancelled: &AtomicBool) {
    let outcome = match execute_inner(engine, run, cancelled) {
        Ok(o) => o,
        Err(e) => Outcome::failed(format!("AutoDB could not run this: {e}"), None, None),
    };
    let outcome = if cancelled.load(Ordering::SeqCst) && outcome.status == rows::ERROR {
        // A statement interrupted by our own cancel reports an error; it is a cancel.
        Outcome {
            status: rows::CANCELLED,
            ..outcome
        }
    } else {
        outcome
    };
    if let Err(e) = finish(engine, run, outcome) {
        log::error!("run {}: cannot record its end: {e}", run.id);
    }
}

fn finish(engine: &Arc<JobEngine>, run: &rows::RunRow, o: Outcome) -> Result<()> {
    engine.lock_running().remove(&run.id);
    let run_id = run.id;
    let result = engine.store.run_blocking(|c| {
        rows::finish_run(
            c,
            run_id,
            rows::RunEnd {
                status: o.status,
                error: o.error,
                error_code: o.code,
                error_line: o.line,
            },
        )
    });
    engine.changed(run.job_id);
    engine.wake();
    result.map(|_| ())
}

pub fn dialect(engine: Engine) -> sqlsplit::Dialect {
    match engine {
        Engine::Postgres => sqlsplit::Dialect::Postgres,
        Engine::Mysql => sqlsplit::Dialect::Mysql,
        Engine::Oracle => sqlsplit::Dialect::Oracle,
        Engine::Sqlite => sqlsplit::Dialect::Sqlite,
    }
}

fn execute_inner(
    engine: &Arc<JobEngine>,
    run: &rows::RunRow,
    cancelled: &AtomicBool,
) -> Result<Outcome> {
    let (job, script, target) = engine.store.run_blocking(|c| {
        let job = rows::job(c, run.job_id)?.ok_or(Error::NotFound("job"))?;
        let script = rows::scripts(c, run.job_id)?
            .into_iter()
            .find(|s| s.idx == run.script_idx)
            .ok_or(Error::NotFound("script"))?;
        let target = targets::by_id(c, run.target_id)?.map(|(t, _)| t);
        Ok((job, script, target))
    })?;
    let Some(target) = target else {
        return Ok(Outcome::failed(
            format!("target {} no longer exists", run.target_name),
            None,
            None,
        ));
    };
    let timeout = engine.settings.statement_timeout_s;
    let spec = match targets_service::spec_from_row(
        &target,
        &engine.secrets,
        Duration::from_secs(engine.settings.connect_timeout_s),
        (timeout > 0).then(|| Duration::from_secs(timeout)),
    ) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::from_db(&e, None)),
    };
    let split = sqlsplit::split(dialect(spec.engine), &script.sql_text);
    let statements = split.statements;
    engine
        .store
        .run_blocking(|c| rows::set_total(c, run.id, statements.len() as i32))?;
    engine.changed(run.job_id);
    if cancelled.load(Ordering::SeqCst) {
        return Ok(Outcome::cancelled());
    }
    let mut conn = match connectors::connect(&spec) {
        Ok(c) => c,
        Err(e) => return Ok(Outcome::from_db(&e, None)),
    };
    if let Some(r) = engine.lock_running().get_mut(&run.id) {
        r.canceller = Some(conn.canceller());
    }
    // Transactional DDL exists on PostgreSQL and SQLite; elsewhere each statement commits.
    let in_tx = job.transactional && matches!(spec.engine, Engine::Postgres | Engine::Sqlite);
    if in_tx {
        if let Err(e) = conn.begin() {
            return Ok(Outcome::from_db(&e, None));
        }
    }
    let mut outcome = Outcome::success();
    for (i, stmt) in statements.iter().enumerate() {
        if cancelled.load(Ordering::SeqCst) {
            outcome = Outcome::cancelled();
            break;
        }
        let line = i32::try_from(stmt.line).unwrap_or(i32::MAX);
        let (result, entry) = run_statement(conn.as_mut(), run.id, i, line, &stmt.sql);
        engine
            .store
            .run_blocking(|c| rows::record_statement(c, &entry, i as i32 + 1))?;
        engine.changed(run.job_id);
        if let Err(e) = result {
            outcome = Outcome::from_db(&e, Some(line));
            break;
        }
    }
    if in_tx {
        let end = if outcome.status == rows::SUCCESS {
            conn.commit()
        } else {
            conn.rollback()
        };
        if let Err(e) = end {
            if outcome.status == rows::SUCCESS {
                outcome = Outcome::from_db(&e, None);
            }
        }
    }
    Ok(outcome)
}

fn run_statement(
    conn: &mut dyn TargetConnection,
    run_id: i64,
    idx: usize,
    line: i32,
    sql: &str,
) -> (std::result::Result<(), DbError>, rows::StatementRow) {
    let started_at = store::now();
    let clock = Instant::now();
    let mut sink = CountingSink;
    let result = conn.execute(sql, &mut sink);
    let duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
    let mut entry = rows::StatementRow {
        run_id,
        idx: idx as i32,
        line,
        sql_text: truncate(sql, LOG_SQL_CHARS),
        status: rows::SUCCESS.into(),
        rows_affected: None,
        rows_returned: None,
        notices: "[]".into(),
        duration_ms,
        error_code: None,
        error_message: None,
        started_at,
    };
    match result {
        Ok(out) => {
            entry.rows_affected = out.rows_affected.map(|n| n as i64);
            entry.rows_returned = Some(out.rows_returned as i64);
            entry.notices = serde_json::to_string(&out.notices).unwrap_or_else(|_| "[]".into());
            (Ok(()), entry)
        }
        Err(e) => {
            entry.status = if e.kind == DbErrorKind::Cancelled {
                rows::CANCELLED
            } else {
                rows::ERROR
            }
            .into();
            entry.error_code = e.code.clone();
            entry.error_message = Some(e.message.clone());
            (Err(e), entry)
        }
    }
}

pub fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Jobs keep counts, not rows: results belong to queries.
struct CountingSink;

impl RowSink for CountingSink {
    fn columns(&mut self, _: &[Column]) {}
    fn row(&mut self, _: Vec<Cell>) -> bool {
        true
    }
}
