//! Job runs as a kind of work (`crate::work`): one run is the script split for its target's
//! engine, executed statement by statement on one connection, each logged; the first failing
//! statement fails the run. The engine claims runs, executes them on its pool and writes their
//! ends; this module says what a run does and how its end is written.

use std::time::{Duration, Instant};

use crate::config::EngineSettings;
use crate::connectors::{
    self, Cell, Column, DbError, DbErrorKind, NoticeLimits, RowSink, TargetConnection,
};
use crate::domain::{Outcome, Status};
use crate::services::error::{Error, Result};
use crate::services::targets::{self as targets_service, TargetAccess};
use crate::store::work::Item;
use crate::store::{self, jobs as rows, targets, Store, StoreError, WriteTx};
use crate::work::{self, Control, Lane, Stop};

/// Longest statement text kept in a run's log.
pub const LOG_SQL_CHARS: usize = 4000;

/// What the reaper writes on a run whose process stopped renewing its lease.
const INTERRUPTED: &str = "interrupted: AutoDB restarted (or its process stopped) during this run";

/// The kind of work that executes job runs.
pub struct JobRuns {
    pub access: TargetAccess,
    pub settings: EngineSettings,
}

impl work::Kind for JobRuns {
    fn name(&self) -> &'static str {
        rows::WORK_KIND
    }

    fn lane(&self) -> Lane {
        Lane::Runs
    }

    fn per_target(&self) -> usize {
        self.settings.max_parallel_runs_per_target
    }

    fn start(&self, tx: &mut WriteTx<'_>, items: &[Item]) -> Result<Vec<Item>, StoreError> {
        let ids: Vec<i64> = items.iter().map(|i| i.subject_id).collect();
        let started = rows::start_runs(tx, &ids)?;
        Ok(items
            .iter()
            .filter(|i| started.iter().any(|r| r.id == i.subject_id))
            .cloned()
            .collect())
    }

    fn execute(&self, item: &Item, ctl: &Control) -> Box<dyn work::End> {
        work::pool::name_thread(&format!("autodb-run-{}", item.subject_id));
        let outcome = match self.execute_run(item.subject_id, ctl) {
            Ok(o) => o,
            Err(e) => RunOutcome::failed(format!("AutoDB could not run this: {e}"), None, None),
        };
        // A statement interrupted by our own stop reports an error; say why it stopped.
        let outcome = match (ctl.stopped(), outcome.outcome) {
            (Some(Stop::Cancelled), Outcome::Error) => RunOutcome {
                outcome: Outcome::Cancelled,
                ..outcome
            },
            (Some(Stop::LeaseLost), Outcome::Error | Outcome::Cancelled) => RunOutcome {
                last: outcome.last,
                total: outcome.total,
                ..RunOutcome::lease_lost()
            },
            _ => outcome,
        };
        Box::new(RunEnded {
            run_id: item.subject_id,
            outcome,
        })
    }

    fn lapsed(&self, tx: &mut WriteTx<'_>, item: &Item) -> Result<(), StoreError> {
        rows::interrupt_run(tx, item.subject_id, INTERRUPTED).map(|_| ())
    }
}

/// How a run ended.
struct RunOutcome {
    outcome: Outcome,
    error: Option<String>,
    code: Option<String>,
    line: Option<i32>,
    /// The last statement's log line and count, recorded together with the run's end.
    last: Option<(rows::StatementRow, i32)>,
    /// How many statements the script has for this engine (once split).
    total: Option<i32>,
}

impl RunOutcome {
    fn success() -> Self {
        Self {
            outcome: Outcome::Success,
            error: None,
            code: None,
            line: None,
            last: None,
            total: None,
        }
    }
    fn cancelled() -> Self {
        Self {
            outcome: Outcome::Cancelled,
            error: Some("cancelled".into()),
            ..Self::success()
        }
    }
    fn lease_lost() -> Self {
        Self {
            outcome: Outcome::Error,
            error: Some(
                "stopped: AutoDB could not renew this run's lease in time (the metadata store \
                 did not answer), so its statement was cancelled and nothing more of it ran; \
                 retry the job to run it again"
                    .into(),
            ),
            code: Some("lease_lost".into()),
            ..Self::success()
        }
    }
    fn failed(error: String, code: Option<String>, line: Option<i32>) -> Self {
        Self {
            outcome: Outcome::Error,
            error: Some(error),
            code,
            line,
            ..Self::success()
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

/// A run's end, written by the engine's end recorder.
struct RunEnded {
    run_id: i64,
    outcome: RunOutcome,
}

impl work::End for RunEnded {
    fn record(&self, tx: &mut WriteTx<'_>, _: &Item, fenced: bool) -> Result<(), StoreError> {
        let o = &self.outcome;
        if !fenced {
            // The reaper ended the run first: its decision stands; what happened is kept.
            return rows::record_late_end(tx, self.run_id, o.outcome, o.error.as_deref());
        }
        let end = rows::RunEnd {
            outcome: o.outcome,
            total: o.total,
            error: o.error.clone(),
            error_code: o.code.clone(),
            error_line: o.line,
        };
        let last = o.last.as_ref().map(|(row, done)| (row, *done));
        rows::finish_run(tx, self.run_id, end, last).map(|_| ())
    }
}

impl JobRuns {
    fn execute_run(&self, run_id: i64, ctl: &Control) -> Result<RunOutcome> {
        let store = ctl.store();
        let (run, job, script, target) = store.run_blocking(|c| {
            let run = rows::run(c, run_id)?.ok_or(Error::NotFound("run"))?;
            let job = rows::job(c, run.job_id)?.ok_or(Error::NotFound("job"))?;
            let script =
                rows::script(c, run.job_id, run.script_idx)?.ok_or(Error::NotFound("script"))?;
            let target = targets::row(c, run.target_id)?;
            Ok::<_, Error>((run, job, script, target))
        })?;
        let Some(target) = target else {
            return Ok(RunOutcome::failed(
                format!("target {} no longer exists", run.target_name),
                None,
                None,
            ));
        };
        let timeout = self.settings.statement_timeout_s;
        let spec = match targets_service::spec_from_row(
            &target,
            &self.access,
            Duration::from_secs(self.settings.connect_timeout_s),
            (timeout > 0).then(|| Duration::from_secs(timeout)),
        ) {
            Ok(s) => s,
            Err(e) => return Ok(RunOutcome::from_db(&e, None)),
        };
        // The sealed original runs; scripts from before sealing keep their text in sql_text.
        let executable = match &script.sql_sealed {
            Some(sealed) => match self.access.secrets.open_script(sealed) {
                Ok(text) => text,
                Err(why) => return Ok(RunOutcome::failed(why, None, None)),
            },
            None => script.sql_text.clone(),
        };
        let statements = sqlsplit::split(spec.engine.dialect(), &executable).statements;
        let total = i32::try_from(statements.len()).unwrap_or(i32::MAX);
        // A one-statement run (the common fleet case) reports its total with its end: one
        // write fewer per run. Longer scripts show it at once, for the progress bar.
        if total > 1 {
            store.write_blocking(|c| rows::set_total(c, run.id, total))?;
            ctl.changed();
        }
        let mut outcome = self.run_statements(store, &run, &job, &spec, &statements, ctl);
        outcome.total = Some(total);
        Ok(outcome)
    }

    /// Connects and runs the statements in order; the first failure ends the run, and so does
    /// a stop (a cancel, or a lost lease: nothing more of the run may happen then).
    fn run_statements(
        &self,
        store: &Store,
        run: &rows::RunRow,
        job: &rows::JobRow,
        spec: &connectors::ConnectSpec,
        statements: &[sqlsplit::Statement],
        ctl: &Control,
    ) -> RunOutcome {
        if ctl.stopped().is_some() {
            return RunOutcome::cancelled();
        }
        let mut conn = match connectors::connect(spec) {
            Ok(c) => c,
            Err(e) => return RunOutcome::from_db(&e, None),
        };
        ctl.set_canceller(Some(conn.canceller()));
        let in_tx = super::in_one_transaction(job.transactional, spec.engine);
        if in_tx {
            if let Err(e) = conn.begin() {
                return RunOutcome::from_db(&e, None);
            }
        }
        let mut outcome = RunOutcome::success();
        let mut last = None;
        let mut budget = NoticeBudget::new(&self.settings);
        // A retry may start past what an earlier attempt ran (see `rows::retry`): those are
        // neither run nor logged, and count as done (`statements_done` is the script position).
        let from = usize::try_from(run.first_statement).unwrap_or(0);
        for (i, stmt) in statements.iter().enumerate().skip(from) {
            if ctl.stopped().is_some() {
                outcome = RunOutcome::cancelled();
                break;
            }
            let line = i32::try_from(stmt.line).unwrap_or(i32::MAX);
            conn.set_notice_limits(budget.next_statement());
            let (result, entry) = run_statement(
                conn.as_mut(),
                (run.id, i, line),
                &stmt.sql,
                spec.engine.dialect(),
                &mut budget,
            );
            let done = i as i32 + 1;
            if result.is_ok() && i + 1 < statements.len() {
                let recorded = store.write_blocking(|c| rows::record_statement(c, &entry, done));
                if let Err(e) = recorded {
                    outcome = RunOutcome::failed(
                        format!("AutoDB could not record progress: {e}"),
                        None,
                        None,
                    );
                    break;
                }
                ctl.changed();
            } else {
                last = Some((entry, done));
            }
            if let Err(e) = result {
                outcome = RunOutcome::from_db(&e, Some(line));
                break;
            }
        }
        if in_tx {
            // Committed only while the run is still this process's to run.
            let end = if outcome.outcome == Outcome::Success && ctl.stopped().is_none() {
                conn.commit()
            } else {
                conn.rollback()
            };
            if let Err(e) = end {
                if outcome.outcome == Outcome::Success {
                    outcome = RunOutcome::from_db(&e, None);
                }
            }
        }
        ctl.set_canceller(None);
        outcome.last = last;
        outcome
    }
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
        sql_text: crate::services::truncate(&shown.text, LOG_SQL_CHARS),
        status: Status::Success.as_str().into(),
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
                Status::Cancelled
            } else {
                Status::Error
            }
            .as_str()
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
