//! Jobs, their scripts, runs (one per script × target × attempt) and statement logs, and the
//! state transitions that must be atomic: claiming runs, finishing them, advancing the job.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::error::{Result, StoreError};
use super::schema::{job_runs, job_scripts, jobs, run_statements, work_items};
use super::{now, DbConn, WriteTx};

pub const WAITING: &str = "waiting";
pub const RUNNING: &str = "running";
pub const SUCCESS: &str = "success";
pub const ERROR: &str = "error";
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub on_error: String,
    pub transactional: bool,
    pub attempt: i32,
    pub current_script: i32,
    pub cancel_requested: bool,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_scripts)]
pub struct ScriptRow {
    pub id: i64,
    pub job_id: i64,
    pub idx: i32,
    /// The script as shown: password literals redacted.
    pub sql_text: String,
    pub target_selector: String,
    pub status: String,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    /// The executable script, sealed (`SecretBox::seal_script`); `None` for scripts written
    /// before scripts were sealed, whose `sql_text` is the executable text.
    pub sql_sealed: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_runs)]
pub struct RunRow {
    pub id: i64,
    pub job_id: i64,
    pub script_idx: i32,
    pub target_id: i64,
    pub target_name: String,
    pub attempt: i32,
    pub status: String,
    pub statements_done: i32,
    pub statements_total: Option<i32>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub error_line: Option<i32>,
    pub claimed_by: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = run_statements)]
pub struct StatementRow {
    pub run_id: i64,
    pub idx: i32,
    pub line: i32,
    pub sql_text: String,
    pub status: String,
    pub rows_affected: Option<i64>,
    pub rows_returned: Option<i64>,
    pub notices: String,
    pub duration_ms: f64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub started_at: NaiveDateTime,
    /// Notices past the caps: counted, not kept.
    pub notices_dropped: i64,
}

/// A script of a new job: its SQL as shown (redacted) and sealed for execution, its target
/// selector as given (JSON), its targets (id, name).
pub struct NewScript {
    pub sql: String,
    pub sealed: Option<String>,
    pub selector: String,
    pub targets: Vec<(i64, String)>,
}

pub struct NewJob {
    pub name: String,
    pub on_error: String,
    pub transactional: bool,
    pub created_by: i64,
    pub created_by_name: String,
    pub scripts: Vec<NewScript>,
}

/// Writes a job, its scripts and their first runs.
pub fn insert(tx: &mut WriteTx<'_>, job: &NewJob) -> Result<i64> {
    let c: &mut DbConn = tx;
    let at = now();
    let values = (
        jobs::name.eq(&job.name),
        jobs::status.eq(WAITING),
        jobs::on_error.eq(&job.on_error),
        jobs::transactional.eq(job.transactional),
        jobs::created_by.eq(Some(job.created_by)),
        jobs::created_by_name.eq(&job.created_by_name),
        jobs::created_at.eq(at),
    );
    let id: i64 = match c {
        DbConn::Postgresql(pg) => diesel::insert_into(jobs::table)
            .values(values)
            .returning(jobs::id)
            .get_result(pg)?,
        // SQLite: this is the only writer (BEGIN IMMEDIATE), so the newest row is ours.
        DbConn::Sqlite(lite) => {
            diesel::insert_into(jobs::table)
                .values(values)
                .execute(lite)?;
            jobs::table
                .select(jobs::id)
                .order(jobs::id.desc())
                .first(lite)?
        }
    };
    for (
        idx,
        NewScript {
            sql,
            sealed,
            selector,
            targets,
        },
    ) in job.scripts.iter().enumerate()
    {
        let idx = idx as i32;
        diesel::insert_into(job_scripts::table)
            .values((
                job_scripts::job_id.eq(id),
                job_scripts::idx.eq(idx),
                job_scripts::sql_text.eq(sql),
                job_scripts::sql_sealed.eq(sealed),
                job_scripts::target_selector.eq(selector),
                job_scripts::status.eq(WAITING),
            ))
            .execute(c)?;
        let rows: Vec<_> = targets
            .iter()
            .map(|(tid, tname)| {
                (
                    job_runs::job_id.eq(id),
                    job_runs::script_idx.eq(idx),
                    job_runs::target_id.eq(*tid),
                    job_runs::target_name.eq(tname.clone()),
                    job_runs::attempt.eq(1),
                    job_runs::status.eq(WAITING),
                    job_runs::created_at.eq(at),
                )
            })
            .collect();
        // One statement: a round trip per run would add up on a fleet (PostgreSQL store).
        match c {
            DbConn::Postgresql(pg) => diesel::insert_into(job_runs::table)
                .values(rows)
                .execute(pg)?,
            DbConn::Sqlite(lite) => diesel::insert_into(job_runs::table)
                .values(rows)
                .execute(lite)?,
        };
    }
    enqueue_script(c, id, 0)?;
    Ok(id)
}

pub fn job(conn: &mut DbConn, id: i64) -> Result<Option<JobRow>> {
    Ok(jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn scripts(conn: &mut DbConn, job_id: i64) -> Result<Vec<ScriptRow>> {
    Ok(job_scripts::table
        .filter(job_scripts::job_id.eq(job_id))
        .order(job_scripts::idx.asc())
        .select(ScriptRow::as_select())
        .load(conn)?)
}

pub fn script(conn: &mut DbConn, job_id: i64, idx: i32) -> Result<Option<ScriptRow>> {
    Ok(job_scripts::table
        .filter(job_scripts::job_id.eq(job_id))
        .filter(job_scripts::idx.eq(idx))
        .select(ScriptRow::as_select())
        .first(conn)
        .optional()?)
}

/// Up to `limit` scripts written before scripts were sealed, after id `after`: (id, text).
pub fn unsealed_scripts(conn: &mut DbConn, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
    Ok(job_scripts::table
        .filter(job_scripts::sql_sealed.is_null())
        .filter(job_scripts::id.gt(after))
        .order(job_scripts::id.asc())
        .limit(limit)
        .select((job_scripts::id, job_scripts::sql_text))
        .load(conn)?)
}

/// Seals one such script, unless another process did first.
pub fn seal_script(tx: &mut WriteTx<'_>, id: i64, shown: &str, sealed: &str) -> Result<bool> {
    let conn: &mut DbConn = tx;
    let n = diesel::update(
        job_scripts::table
            .filter(job_scripts::id.eq(id))
            .filter(job_scripts::sql_sealed.is_null()),
    )
    .set((
        job_scripts::sql_text.eq(shown),
        job_scripts::sql_sealed.eq(Some(sealed)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn runs(conn: &mut DbConn, job_id: i64) -> Result<Vec<RunRow>> {
    Ok(job_runs::table
        .filter(job_runs::job_id.eq(job_id))
        .order((
            job_runs::script_idx.asc(),
            job_runs::target_name.asc(),
            job_runs::attempt.asc(),
        ))
        .select(RunRow::as_select())
        .load(conn)?)
}

pub fn run(conn: &mut DbConn, id: i64) -> Result<Option<RunRow>> {
    Ok(job_runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn statements(conn: &mut DbConn, run_id: i64) -> Result<Vec<StatementRow>> {
    Ok(run_statements::table
        .filter(run_statements::run_id.eq(run_id))
        .order(run_statements::idx.asc())
        .select(StatementRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Default, Clone)]
pub struct JobFilter {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

type Backend = <DbConn as diesel::Connection>::Backend;

fn filtered(f: &JobFilter) -> jobs::BoxedQuery<'static, Backend> {
    let mut q = jobs::table.into_boxed();
    if let Some(v) = &f.status {
        q = q.filter(jobs::status.eq(v.clone()));
    }
    if let Some(v) = &f.owner {
        q = q.filter(jobs::created_by_name.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(jobs::created_at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(jobs::created_at.lt(v));
    }
    q
}

pub fn page(
    conn: &mut DbConn,
    f: &JobFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<JobRow>, i64)> {
    let total = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .order(jobs::id.desc())
        .offset(offset)
        .limit(limit)
        .select(JobRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The job and the script of a first-started run become `running`. Rows already running are
/// not written: an UPDATE would wait on a job row another transaction holds.
fn mark_started(c: &mut DbConn, run: &RunRow, at: NaiveDateTime) -> Result<()> {
    let job_status: String = jobs::table.find(run.job_id).select(jobs::status).first(c)?;
    if job_status == WAITING {
        diesel::update(
            jobs::table
                .filter(jobs::id.eq(run.job_id))
                .filter(jobs::status.eq(WAITING)),
        )
        .set((jobs::status.eq(RUNNING), jobs::started_at.eq(Some(at))))
        .execute(c)?;
    }
    let script = job_scripts::table
        .filter(job_scripts::job_id.eq(run.job_id))
        .filter(job_scripts::idx.eq(run.script_idx));
    let script_status: String = script.select(job_scripts::status).first(c)?;
    if script_status == WAITING {
        diesel::update(script.filter(job_scripts::status.eq(WAITING)))
            .set((
                job_scripts::status.eq(RUNNING),
                job_scripts::started_at.eq(Some(at)),
            ))
            .execute(c)?;
    }
    Ok(())
}

pub fn set_total(tx: &mut WriteTx<'_>, run_id: i64, total: i32) -> Result<()> {
    diesel::update(job_runs::table.find(run_id))
        .set(job_runs::statements_total.eq(Some(total)))
        .execute(&mut **tx)?;
    Ok(())
}

/// Appends one statement's log line and counts it done.
pub fn record_statement(tx: &mut WriteTx<'_>, row: &StatementRow, done: i32) -> Result<()> {
    append_statement(tx, row, done)
}

fn append_statement(c: &mut DbConn, row: &StatementRow, done: i32) -> Result<()> {
    diesel::insert_into(run_statements::table)
        .values(row)
        .execute(c)?;
    diesel::update(job_runs::table.find(row.run_id))
        .set(job_runs::statements_done.eq(done))
        .execute(c)?;
    Ok(())
}

pub struct RunEnd<'a> {
    pub status: &'a str,
    /// The number of statements, when the run got as far as splitting its script.
    pub total: Option<i32>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub error_line: Option<i32>,
}

/// Ends a run (only if it is still running: a reaped or cancelled run stays as it is) and
/// advances its job. `last` is the run's final statement log, written in the same transaction
/// (one write instead of two when a fleet of runs ends at once). Returns whether this call
/// ended the run.
pub fn finish_run(
    tx: &mut WriteTx<'_>,
    run_id: i64,
    end: RunEnd<'_>,
    last: Option<(&StatementRow, i32)>,
) -> Result<bool> {
    end_run(tx, run_id, end, last)
}

/// A run's end as [`finish_runs`] takes it: the run, its end and its last statement's log.
pub type Ended<'a> = (i64, RunEnd<'a>, Option<(&'a StatementRow, i32)>);

/// Ends several runs in one transaction: a fleet's runs end within moments of each other, and
/// one write transaction for all of them holds the store's writer far less than one each.
/// Give them sorted by job: job rows are locked in that order, as every other writer takes at
/// most one.
pub fn finish_runs<'a>(tx: &mut WriteTx<'_>, ends: Vec<Ended<'a>>) -> Result<()> {
    for (run_id, end, last) in ends {
        end_run(tx, run_id, end, last)?;
    }
    Ok(())
}

fn end_run(
    c: &mut DbConn,
    run_id: i64,
    end: RunEnd<'_>,
    last: Option<(&StatementRow, i32)>,
) -> Result<bool> {
    // The job row first, as cancel and retry take it: one order for the locks they share.
    let job_id = job_runs::table
        .find(run_id)
        .select(job_runs::job_id)
        .first(c)?;
    let job = lock_job(c, job_id)?;
    if let Some((row, done)) = last {
        append_statement(c, row, done)?;
    }
    let n = diesel::update(
        job_runs::table
            .filter(job_runs::id.eq(run_id))
            .filter(job_runs::status.eq(RUNNING)),
    )
    .set((
        job_runs::status.eq(end.status),
        job_runs::error.eq(end.error),
        job_runs::error_code.eq(end.error_code),
        job_runs::error_line.eq(end.error_line),
        job_runs::finished_at.eq(Some(now())),
        job_runs::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(c)?;
    if let (1, Some(total)) = (n, end.total) {
        diesel::update(job_runs::table.find(run_id))
            .set(job_runs::statements_total.eq(Some(total)))
            .execute(c)?;
    }
    if n == 1 {
        advance(c, job)?;
    }
    Ok(n == 1)
}

fn lock_job(c: &mut DbConn, job_id: i64) -> Result<JobRow> {
    let row = match c {
        DbConn::Postgresql(pg) => jobs::table
            .find(job_id)
            .select(JobRow::as_select())
            .for_update()
            .first(pg)
            .optional()?,
        DbConn::Sqlite(_) => job(c, job_id)?,
    };
    row.ok_or(StoreError::NotFound("job"))
}

/// The latest attempt of each (script, target): what the job's outcome is made of.
pub fn latest_attempts(runs: &[RunRow]) -> Vec<&RunRow> {
    let mut latest: Vec<&RunRow> = vec![];
    for r in runs {
        match latest
            .iter_mut()
            .find(|l| l.script_idx == r.script_idx && l.target_id == r.target_id)
        {
            Some(l) if l.attempt < r.attempt => *l = r,
            Some(_) => {}
            None => latest.push(r),
        }
    }
    latest
}

/// The status of a finished group of runs: any error wins, then any cancel, else success.
pub fn outcome<'a>(statuses: impl IntoIterator<Item = &'a str>) -> &'static str {
    let mut result = SUCCESS;
    for s in statuses {
        match s {
            ERROR => return ERROR,
            CANCELLED => result = CANCELLED,
            _ => {}
        }
    }
    result
}

/// Moves the job past scripts whose runs have all ended, applying `on_error: stop`, and ends
/// the job after its last script. Call inside a write transaction, with the job row locked
/// ([`lock_job`]) and given as read then.
fn advance(c: &mut DbConn, mut job: JobRow) -> Result<()> {
    let job_id = job.id;
    let scripts = scripts(c, job_id)?;
    let at = now();
    loop {
        let all = runs(c, job_id)?;
        let latest = latest_attempts(&all);
        let cur = job.current_script;
        let current: Vec<&&RunRow> = latest.iter().filter(|r| r.script_idx == cur).collect();
        if current
            .iter()
            .any(|r| r.status == WAITING || r.status == RUNNING)
        {
            return Ok(());
        }
        if let Some(script) = scripts.iter().find(|s| s.idx == cur) {
            let status = outcome(current.iter().map(|r| r.status.as_str()));
            diesel::update(job_scripts::table.find(script.id))
                .set((
                    job_scripts::status.eq(status),
                    job_scripts::finished_at.eq(Some(at)),
                ))
                .execute(c)?;
            if status == ERROR && job.on_error == "stop" {
                cancel_waiting(c, job_id)?;
            }
        }
        job.current_script = cur + 1;
        diesel::update(jobs::table.find(job_id))
            .set(jobs::current_script.eq(job.current_script))
            .execute(c)?;
        if job.current_script as usize >= scripts.len() {
            let all = runs(c, job_id)?;
            let status = outcome(latest_attempts(&all).iter().map(|r| r.status.as_str()));
            diesel::update(jobs::table.find(job_id))
                .set((jobs::status.eq(status), jobs::finished_at.eq(Some(at))))
                .execute(c)?;
            return Ok(());
        }
        enqueue_script(c, job_id, job.current_script)?;
    }
}

/// The work kind of job runs (`store::work`): a run is claimable while it has an item, and it
/// has one from when its script becomes current until it ends.
pub const WORK_KIND: &str = "job_run";

/// The waiting runs of a script that just became current become work items.
fn enqueue_script(c: &mut DbConn, job_id: i64, script_idx: i32) -> Result<usize> {
    let at = now();
    let q = diesel::sql_query(
        "INSERT INTO work_items (kind, group_id, subject_id, target_id, run_after, created_at) \
         SELECT $1, job_id, id, target_id, $2, $2 FROM job_runs \
         WHERE job_id = $3 AND script_idx = $4 AND status = 'waiting' ORDER BY id",
    )
    .bind::<diesel::sql_types::Text, _>(WORK_KIND)
    .bind::<diesel::sql_types::Timestamp, _>(at)
    .bind::<BigInt, _>(job_id)
    .bind::<diesel::sql_types::Integer, _>(script_idx);
    Ok(match c {
        DbConn::Postgresql(pg) => q.execute(pg)?,
        DbConn::Sqlite(lite) => q.execute(lite)?,
    })
}

/// Claimed runs start: the compare-and-set waiting → running, and their job and script become
/// running with their first run. Returns the runs that started (a run cancelled meanwhile does
/// not).
pub fn start_runs(tx: &mut WriteTx<'_>, run_ids: &[i64]) -> Result<Vec<RunRow>> {
    let c: &mut DbConn = tx;
    let at = now();
    diesel::update(
        job_runs::table
            .filter(job_runs::id.eq_any(run_ids))
            .filter(job_runs::status.eq(WAITING)),
    )
    .set((
        job_runs::status.eq(RUNNING),
        job_runs::started_at.eq(Some(at)),
    ))
    .execute(c)?;
    let started: Vec<RunRow> = job_runs::table
        .filter(job_runs::id.eq_any(run_ids))
        .filter(job_runs::status.eq(RUNNING))
        .filter(job_runs::started_at.eq(Some(at)))
        .order(job_runs::id)
        .select(RunRow::as_select())
        .load(c)?;
    let mut marked: Vec<(i64, i32)> = vec![];
    for row in &started {
        if !marked.contains(&(row.job_id, row.script_idx)) {
            mark_started(c, row, at)?;
            marked.push((row.job_id, row.script_idx));
        }
    }
    Ok(started)
}

/// The reaper's end of a run whose process stopped renewing its lease.
pub fn interrupt_run(tx: &mut WriteTx<'_>, run_id: i64, message: &str) -> Result<bool> {
    end_run(
        tx,
        run_id,
        RunEnd {
            status: ERROR,
            total: None,
            error: Some(message.to_string()),
            error_code: None,
            error_line: None,
        },
        None,
    )
}

/// An end that came after the reaper had ended the run: the recorded status stays; what
/// really happened is kept beside it.
pub fn record_late_end(
    tx: &mut WriteTx<'_>,
    run_id: i64,
    status: &str,
    error: Option<&str>,
) -> Result<()> {
    diesel::update(job_runs::table.find(run_id))
        .set((
            job_runs::late_status.eq(Some(status)),
            job_runs::late_error.eq(error),
        ))
        .execute(&mut **tx)?;
    Ok(())
}

/// Waiting runs of the job become cancelled, and so do the scripts that had only those.
fn cancel_waiting(c: &mut DbConn, job_id: i64) -> Result<usize> {
    let at = now();
    diesel::delete(
        work_items::table
            .filter(work_items::kind.eq(WORK_KIND))
            .filter(work_items::group_id.eq(job_id))
            .filter(work_items::status.eq(super::work::WAITING)),
    )
    .execute(c)?;
    let n = diesel::update(
        job_runs::table
            .filter(job_runs::job_id.eq(job_id))
            .filter(job_runs::status.eq(WAITING)),
    )
    .set((
        job_runs::status.eq(CANCELLED),
        job_runs::finished_at.eq(Some(at)),
    ))
    .execute(c)?;
    diesel::update(
        job_scripts::table
            .filter(job_scripts::job_id.eq(job_id))
            .filter(job_scripts::status.eq(WAITING)),
    )
    .set((
        job_scripts::status.eq(CANCELLED),
        job_scripts::finished_at.eq(Some(at)),
    ))
    .execute(c)?;
    Ok(n)
}

/// What a cancel did.
#[derive(Debug)]
pub enum Cancel {
    /// The job was marked; these runs are running and are cancelled in their databases.
    Requested { running: Vec<i64> },
    /// Nothing to cancel: the job had ended.
    AlreadyEnded { status: String },
}

/// Cancel: nothing new starts; waiting runs end as cancelled.
pub fn request_cancel(tx: &mut WriteTx<'_>, job_id: i64) -> Result<Cancel> {
    {
        let c: &mut DbConn = tx;
        let job = lock_job(c, job_id)?;
        if job.finished_at.is_some() {
            return Ok(Cancel::AlreadyEnded { status: job.status });
        }
        diesel::update(jobs::table.find(job_id))
            .set(jobs::cancel_requested.eq(true))
            .execute(c)?;
        cancel_waiting(c, job_id)?;
        // Running items are marked: their holder, here or elsewhere, cancels at its next renewal.
        diesel::update(
            work_items::table
                .filter(work_items::kind.eq(WORK_KIND))
                .filter(work_items::group_id.eq(job_id)),
        )
        .set(work_items::cancel_requested.eq(true))
        .execute(c)?;
        advance(c, job)?;
        let running = job_runs::table
            .filter(job_runs::job_id.eq(job_id))
            .filter(job_runs::status.eq(RUNNING))
            .select(job_runs::id)
            .load(c)?;
        Ok(Cancel::Requested { running })
    }
}

/// What a retry did.
#[derive(Debug)]
pub enum Retry {
    /// This many runs wait again, as a new attempt.
    Again { runs: usize },
    /// The job has not ended.
    StillActive { status: String },
    /// No latest attempt failed or was cancelled.
    NothingFailed,
}

/// Retry: the failed and cancelled runs (latest attempts) run again as a new attempt.
pub fn retry(tx: &mut WriteTx<'_>, job_id: i64) -> Result<Retry> {
    {
        let c: &mut DbConn = tx;
        let job = lock_job(c, job_id)?;
        if job.finished_at.is_none() {
            return Ok(Retry::StillActive { status: job.status });
        }
        let all = runs(c, job_id)?;
        let again: Vec<RunRow> = latest_attempts(&all)
            .into_iter()
            .filter(|r| r.status == ERROR || r.status == CANCELLED)
            .cloned()
            .collect();
        let Some(first) = again.iter().map(|r| r.script_idx).min() else {
            return Ok(Retry::NothingFailed);
        };
        let attempt = job.attempt + 1;
        let at = now();
        for r in &again {
            diesel::insert_into(job_runs::table)
                .values((
                    job_runs::job_id.eq(job_id),
                    job_runs::script_idx.eq(r.script_idx),
                    job_runs::target_id.eq(r.target_id),
                    job_runs::target_name.eq(&r.target_name),
                    job_runs::attempt.eq(attempt),
                    job_runs::status.eq(WAITING),
                    job_runs::created_at.eq(at),
                ))
                .execute(c)?;
        }
        let scripts_again: Vec<i32> = again.iter().map(|r| r.script_idx).collect();
        diesel::update(
            job_scripts::table
                .filter(job_scripts::job_id.eq(job_id))
                .filter(job_scripts::idx.eq_any(scripts_again)),
        )
        .set((
            job_scripts::status.eq(WAITING),
            job_scripts::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)?;
        diesel::update(jobs::table.find(job_id))
            .set((
                jobs::status.eq(WAITING),
                jobs::attempt.eq(attempt),
                jobs::current_script.eq(first),
                jobs::cancel_requested.eq(false),
                jobs::finished_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        enqueue_script(c, job_id, first)?;
        Ok(Retry::Again { runs: again.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{targets, users, Store, StoreUrl};

    /// A SQLite store with one job of two runs, both started.
    fn two_running_runs(dir: &std::path::Path) -> (Store, i64, Vec<RunRow>) {
        let url = StoreUrl::Sqlite(dir.join("t.db"));
        let store = Store::open(&url, 2, 5).expect("open");
        store.migrate().expect("migrate");
        let (job_id, runs) = store
            .write_blocking(|c| {
                let at = now();
                let user = users::insert(
                    c,
                    &users::NewUserRow {
                        username: "op",
                        password_hash: "x",
                        role: "operator",
                        disabled: false,
                        created_at: at,
                        updated_at: at,
                    },
                )?;
                let mut ids = vec![];
                for name in ["a", "b"] {
                    let fields = targets::TargetFields {
                        name: name.into(),
                        engine: "sqlite".into(),
                        host: String::new(),
                        port: 0,
                        database_name: format!("/tmp/{name}.db"),
                        username: String::new(),
                        password_enc: None,
                        options: "{}".into(),
                        updated_at: at,
                        query_username: None,
                        query_password_enc: None,
                        trusted_for_queries: false,
                    };
                    ids.push((targets::insert(c, &fields, &[], user.id)?, name.to_string()));
                }
                let job = NewJob {
                    name: "j".into(),
                    on_error: "continue".into(),
                    transactional: false,
                    created_by: user.id,
                    created_by_name: "op".into(),
                    scripts: vec![NewScript {
                        sql: "SELECT 1".into(),
                        sealed: None,
                        selector: "{}".into(),
                        targets: ids,
                    }],
                };
                let job_id = insert(c, &job)?;
                let ids: Vec<i64> = super::runs(c, job_id)?.iter().map(|r| r.id).collect();
                let runs = start_runs(c, &ids)?;
                Ok::<_, StoreError>((job_id, runs))
            })
            .expect("setup");
        assert_eq!(runs.len(), 2);
        (store, job_id, runs)
    }

    fn success<'a>() -> RunEnd<'a> {
        RunEnd {
            status: SUCCESS,
            total: Some(1),
            error: None,
            error_code: None,
            error_line: None,
        }
    }

    #[test]
    fn run_ends_recorded_together_are_all_or_nothing_and_end_the_job() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, job_id, runs) = two_running_runs(dir.path());
        // A batch with a run that does not exist fails as a whole: the good end is not kept.
        let failed = store.write_blocking(|c| {
            finish_runs(
                c,
                vec![(runs[0].id, success(), None), (i64::MAX, success(), None)],
            )
        });
        assert!(failed.is_err());
        let statuses: Vec<String> = store
            .run_blocking(|c| {
                Ok::<_, StoreError>(
                    super::runs(c, job_id)?
                        .into_iter()
                        .map(|r| r.status)
                        .collect(),
                )
            })
            .expect("runs");
        assert_eq!(statuses, [RUNNING, RUNNING]);
        // Both ends together: the runs end, and the job with them.
        store
            .write_blocking(|c| {
                finish_runs(c, runs.iter().map(|r| (r.id, success(), None)).collect())
            })
            .expect("finish");
        let job = store
            .run_blocking(|c| job(c, job_id))
            .expect("job")
            .expect("exists");
        assert_eq!(job.status, SUCCESS);
        assert!(job.finished_at.is_some());
    }
}
