//! Executes one run: the script split for its target's engine, statement by statement on one
//! connection, each logged; the first failing statement fails the run. Runs on its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::engine::{JobEngine, Running};
use crate::config::EngineSettings;
use crate::connectors::{
    self, Cell, Column, DbError, DbErrorKind, Engine, NoticeLimits, RowSink, TargetConnection,
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
        finish(
            &engine,
            &run,
            Outcome::failed(format!("cannot start a run thread: {e}"), None, None),
        );
    }
}

/// A run mostly waits on its database; what CPU it does need yields to the HTTP workers, so a
/// fleet of runs starting or ending at once does not slow the API (Linux: the nice value is
/// per thread).
fn lower_priority(nice: u8) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        let me = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(me), i32::from(nice)) {
            log::debug!("cannot lower the priority of a run thread: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// How a run ended.
struct Outcome {
    status: &'static str,
    error: Option<String>,
    code: Option<String>,
    line: Option<i32>,
    /// The last statement's log line and count, recorded together with the run's end.
    last: Option<(rows::StatementRow, i32)>,
    /// How many statements the script has for this engine (once split).
    total: Option<i32>,
}

impl Outcome {
    fn success() -> Self {
        Self {
            status: rows::SUCCESS,
            error: None,
            code: None,
            line: None,
            last: None,
            total: None,
        }
    }
    fn cancelled() -> Self {
        Self {
            status: rows::CANCELLED,
            error: Some("cancelled".into()),
            code: None,
            line: None,
            last: None,
            total: None,
        }
    }
    fn failed(error: String, code: Option<String>, line: Option<i32>) -> Self {
        Self {
            status: rows::ERROR,
            error: Some(error),
            code,
            line,
            last: None,
            total: None,
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
    lower_priority(engine.settings.run_nice);
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
    finish(engine, run, outcome);
}

/// A run that has ended, on its way to the store.
pub(super) struct RunEnded {
    run: rows::RunRow,
    outcome: Outcome,
}

/// Hands the run's end to the thread that records ends; the run stays registered (its lease
/// renewed) until it is recorded.
fn finish(engine: &Arc<JobEngine>, run: &rows::RunRow, outcome: Outcome) {
    let ended = RunEnded {
        run: run.clone(),
        outcome,
    };
    if let Err(std::sync::mpsc::SendError(ended)) = engine.ends.send(ended) {
        // The recording thread is gone (it cannot be while the engine lives): record it here.
        if let Err(e) = record_alone(engine, &ended) {
            log::error!("run {}: cannot record its end: {e}", ended.run.id);
        }
        settle(engine, std::slice::from_ref(&ended));
    }
}

/// Most ends written in one transaction: a SQLite writer holds the store this long at most.
const MAX_BATCH: usize = 32;

/// The run-end thread: takes every end that is waiting (up to [`MAX_BATCH`]) and writes them
/// in one transaction, so a fleet of runs ending together costs a few store writes instead of
/// one each, and a few hundred run threads do not queue on the store's writer. Runs at normal
/// priority: it holds the SQLite write gate, which the API's writes wait on too.
pub(super) fn record_ends(
    engine: &std::sync::Weak<JobEngine>,
    received: &std::sync::mpsc::Receiver<RunEnded>,
) {
    while let Ok(first) = received.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match received.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let Some(engine) = engine.upgrade() else {
            return;
        };
        // Job rows are locked in job order; every other writer locks one job at most.
        batch.sort_by_key(|e| (e.run.job_id, e.run.id));
        let together = engine
            .store
            .write_blocking(|c| rows::finish_runs(c, batch.iter().map(|e| store_end(e)).collect()));
        match together {
            Ok(()) => settle(&engine, &batch),
            Err(e) => {
                // One bad end must not hold back the others: each alone, with retries.
                log::warn!(
                    "recording {} run ends together failed, one by one: {e}",
                    batch.len()
                );
                for ended in &batch {
                    if let Err(e) = record_alone(&engine, ended) {
                        log::error!("run {}: cannot record its end: {e}", ended.run.id);
                    }
                    settle(&engine, std::slice::from_ref(ended));
                }
            }
        }
    }
}

fn store_end(e: &RunEnded) -> rows::Ended<'_> {
    let o = &e.outcome;
    (
        e.run.id,
        rows::RunEnd {
            status: o.status,
            total: o.total,
            error: o.error.clone(),
            error_code: o.code.clone(),
            error_line: o.line,
        },
        o.last.as_ref().map(|(row, done)| (row, *done)),
    )
}

/// Records one run's end. A failed attempt (the store briefly away, a PostgreSQL deadlock
/// victim) is tried again while the run stays registered, so its lease keeps being renewed;
/// if it never succeeds the lease lapses and the run is reaped as interrupted.
fn record_alone(engine: &JobEngine, ended: &RunEnded) -> Result<()> {
    let run_id = ended.run.id;
    let mut delay = Duration::from_millis(50);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (id, end, last) = store_end(ended);
        let result = engine
            .store
            .write_blocking(|c| rows::finish_run(c, id, end, last));
        match result {
            Err(e) if attempt < FINISH_ATTEMPTS => {
                log::warn!(
                    "run {run_id}: recording its end failed (attempt {attempt}), retrying: {e}"
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            other => return other.map(|_| ()).map_err(Error::from),
        }
    }
}

/// The runs are no longer this process's; their jobs changed; there may be room for more.
/// A run whose end could not be recorded is let go too: its lease lapses and it is reaped.
fn settle(engine: &JobEngine, ended: &[RunEnded]) {
    {
        let mut running = engine.lock_running();
        for e in ended {
            running.remove(&e.run.id);
        }
    }
    for e in ended {
        engine.changed(e.run.job_id);
    }
    engine.wake();
}

/// About 30 s of retries with the backoff above.
const FINISH_ATTEMPTS: u32 = 20;

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
        let script =
            rows::script(c, run.job_id, run.script_idx)?.ok_or(Error::NotFound("script"))?;
        let target = targets::row(c, run.target_id)?;
        Ok::<_, Error>((job, script, target))
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
        &engine.access,
        Duration::from_secs(engine.settings.connect_timeout_s),
        (timeout > 0).then(|| Duration::from_secs(timeout)),
    ) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::from_db(&e, None)),
    };
    // The sealed original runs; scripts from before sealing keep their text in sql_text.
    let executable = match &script.sql_sealed {
        Some(sealed) => match engine.access.secrets.open_script(sealed) {
            Ok(text) => text,
            Err(why) => return Ok(Outcome::failed(why, None, None)),
        },
        None => script.sql_text.clone(),
    };
    let split = sqlsplit::split(dialect(spec.engine), &executable);
    let statements = split.statements;
    let total = i32::try_from(statements.len()).unwrap_or(i32::MAX);
    // A one-statement run (the common fleet case) reports its total with its end: one write
    // fewer per run. Longer scripts show it at once, for the progress bar.
    if total > 1 {
        engine
            .store
            .write_blocking(|c| rows::set_total(c, run.id, total))?;
        engine.changed(run.job_id);
    }
    let mut outcome = run_statements(engine, run, &job, &spec, &statements, cancelled);
    outcome.total = Some(total);
    Ok(outcome)
}

/// Connects and runs the statements in order; the first failure ends the run.
fn run_statements(
    engine: &Arc<JobEngine>,
    run: &rows::RunRow,
    job: &rows::JobRow,
    spec: &connectors::ConnectSpec,
    statements: &[sqlsplit::Statement],
    cancelled: &AtomicBool,
) -> Outcome {
    if cancelled.load(Ordering::SeqCst) {
        return Outcome::cancelled();
    }
    let mut conn = match connectors::connect(spec) {
        Ok(c) => c,
        Err(e) => return Outcome::from_db(&e, None),
    };
    if let Some(r) = engine.lock_running().get_mut(&run.id) {
        r.canceller = Some(conn.canceller());
    }
    // Transactional DDL exists on PostgreSQL and SQLite; elsewhere each statement commits.
    let in_tx = job.transactional && matches!(spec.engine, Engine::Postgres | Engine::Sqlite);
    if in_tx {
        if let Err(e) = conn.begin() {
            return Outcome::from_db(&e, None);
        }
    }
    let mut outcome = Outcome::success();
    let mut last = None;
    let mut budget = NoticeBudget::new(&engine.settings);
    for (i, stmt) in statements.iter().enumerate() {
        if cancelled.load(Ordering::SeqCst) {
            outcome = Outcome::cancelled();
            break;
        }
        let line = i32::try_from(stmt.line).unwrap_or(i32::MAX);
        conn.set_notice_limits(budget.next_statement());
        let (result, entry) = run_statement(
            conn.as_mut(),
            (run.id, i, line),
            &stmt.sql,
            dialect(spec.engine),
            &mut budget,
        );
        let done = i as i32 + 1;
        if result.is_ok() && i + 1 < statements.len() {
            let recorded = engine
                .store
                .write_blocking(|c| rows::record_statement(c, &entry, done));
            if let Err(e) = recorded {
                outcome =
                    Outcome::failed(format!("AutoDB could not record progress: {e}"), None, None);
                break;
            }
            engine.changed(run.job_id);
        } else {
            last = Some((entry, done));
        }
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
    outcome.last = last;
    outcome
}

fn run_statement(
    conn: &mut dyn TargetConnection,
    (run_id, idx, line): (i64, usize, i32),
    sql: &str,
    dialect: sqlsplit::Dialect,
    budget: &mut NoticeBudget,
) -> (std::result::Result<(), DbError>, rows::StatementRow) {
    // The log shows the statement with its password literals redacted, and whatever echoes
    // the statement (an error, a notice) is scrubbed of them.
    let shown = sqlsplit::redact(dialect, sql);
    let started_at = store::now();
    let clock = Instant::now();
    let mut sink = CountingSink;
    let result = conn.execute(sql, &mut sink);
    let duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
    let mut entry = rows::StatementRow {
        run_id,
        idx: idx as i32,
        line,
        sql_text: truncate(&shown.text, LOG_SQL_CHARS),
        status: rows::SUCCESS.into(),
        rows_affected: None,
        rows_returned: None,
        notices: "[]".into(),
        duration_ms,
        error_code: None,
        error_message: None,
        started_at,
        notices_dropped: 0,
    };
    match result {
        Ok(out) => {
            entry.rows_affected = out.rows_affected.map(|n| n as i64);
            entry.rows_returned = Some(out.rows_returned as i64);
            budget.spend(&out.notices);
            let mut notices: Vec<String> = out.notices.iter().map(|n| shown.scrub(n)).collect();
            if out.notices_dropped > 0 {
                notices.push(dropped_line(out.notices_dropped, out.notices_dropped_bytes));
            }
            entry.notices_dropped = i64::try_from(out.notices_dropped).unwrap_or(i64::MAX);
            entry.notices = serde_json::to_string(&notices).unwrap_or_else(|_| "[]".into());
            (Ok(()), entry)
        }
        Err(e) => {
            let e = DbError {
                message: shown.scrub(&e.message),
                ..e
            };
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

/// What is left of a run's notice caps (`engine.max_notices_per_run`,
/// `engine.max_notice_bytes_per_run`); each statement gets the smaller of its own caps and this.
struct NoticeBudget {
    per_statement: NoticeLimits,
    count: u64,
    bytes: u64,
}

impl NoticeBudget {
    fn new(s: &EngineSettings) -> Self {
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Self {
            per_statement: NoticeLimits {
                max_count: size(s.max_notices_per_statement),
                max_bytes: size(s.max_notice_bytes_per_statement),
            },
            count: s.max_notices_per_run,
            bytes: s.max_notice_bytes_per_run,
        }
    }

    fn next_statement(&self) -> NoticeLimits {
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        NoticeLimits {
            max_count: self.per_statement.max_count.min(size(self.count)),
            max_bytes: self.per_statement.max_bytes.min(size(self.bytes)),
        }
    }

    fn spend(&mut self, kept: &[String]) {
        let bytes: usize = kept.iter().map(String::len).sum();
        self.count = self.count.saturating_sub(kept.len() as u64);
        self.bytes = self.bytes.saturating_sub(bytes as u64);
    }
}

/// The run log's last notice line when some were cut: "… 199,358 notices (79.8 MB) dropped".
fn dropped_line(count: u64, bytes: u64) -> String {
    let size = match bytes {
        0 => String::new(),
        b if b >= 1_000_000 => format!(" ({:.1} MB)", b as f64 / 1_000_000.0),
        b if b >= 1_000 => format!(" ({:.1} kB)", b as f64 / 1_000.0),
        b => format!(" ({b} bytes)"),
    };
    let noun = if count == 1 { "notice" } else { "notices" };
    format!(
        "… {} {noun}{size} dropped (engine.max_notices_*/max_notice_bytes_* caps)",
        thousands(count)
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dropped_line_says_how_many_and_how_much() {
        assert_eq!(
            dropped_line(199_358, 81_340_064),
            "… 199,358 notices (81.3 MB) dropped (engine.max_notices_*/max_notice_bytes_* caps)"
        );
        assert!(dropped_line(1, 0).starts_with("… 1 notice dropped"));
    }

    #[test]
    fn a_run_budget_shrinks_each_statement_cap_as_it_is_spent() {
        let settings = EngineSettings {
            max_notices_per_statement: 10,
            max_notice_bytes_per_statement: 1000,
            max_notices_per_run: 25,
            max_notice_bytes_per_run: 10_000,
            ..EngineSettings::default()
        };
        let mut b = NoticeBudget::new(&settings);
        assert_eq!(b.next_statement().max_count, 10);
        b.spend(&vec!["x".to_string(); 10]);
        b.spend(&vec!["x".to_string(); 10]);
        assert_eq!(b.next_statement().max_count, 5);
        b.spend(&vec!["x".to_string(); 5]);
        assert_eq!(b.next_statement().max_count, 0);
        assert_eq!(b.next_statement().max_bytes, 1000);
    }
}
