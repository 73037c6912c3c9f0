//! Jobs, their scripts, runs (one per script × target × attempt) and statement logs, and the
//! state transitions that must be atomic: claiming runs, finishing them, advancing the job.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::error::{Result, StoreError};
use super::schema::{job_runs, job_scripts, jobs, run_statements};
use super::{now, DbConn, WriteTx};
use crate::domain::status::{self, GroupEvent, RunEvent, Transitions};
use crate::domain::{after_script, AfterScript, OnError, Outcome, Status, TargetSelector};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub name: String,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    #[diesel(deserialize_as = String)]
    pub on_error: OnError,
    pub transactional: bool,
    pub attempt: i32,
    pub current_script: i32,
    pub cancel_requested: bool,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub schedule_id: Option<i64>,
    /// Its distinct targets over all scripts, written with it (a retry runs the same ones).
    pub target_count: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_scripts)]
pub struct ScriptRow {
    pub id: i64,
    pub job_id: i64,
    pub idx: i32,
    /// The script as shown: password literals redacted.
    pub sql_text: String,
    #[diesel(deserialize_as = String)]
    pub target_selector: TargetSelector,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    /// The executable script, sealed (`SecretBox::seal_script`); `None` for scripts written
    /// before scripts were sealed, whose `sql_text` is the executable text.
    pub sql_sealed: Option<String>,
    /// Its runs' latest attempts by status (see [`Counts`]).
    pub n_waiting: i32,
    pub n_running: i32,
    pub n_success: i32,
    pub n_error: i32,
    pub n_cancelled: i32,
}

impl ScriptRow {
    pub fn counts(&self) -> Counts {
        Counts {
            waiting: self.n_waiting,
            running: self.n_running,
            success: self.n_success,
            error: self.n_error,
            cancelled: self.n_cancelled,
        }
    }
}

/// A script's runs, latest attempts only, by status: kept in `job_scripts` by every transition
/// in the transaction that makes it, so deciding about a script or a job reads one row per
/// script, never its runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub waiting: i32,
    pub running: i32,
    pub success: i32,
    pub error: i32,
    pub cancelled: i32,
}

impl Counts {
    /// Some run has yet to end.
    pub fn active(&self) -> bool {
        self.waiting + self.running > 0
    }

    fn add(self, o: Counts) -> Counts {
        Counts {
            waiting: self.waiting + o.waiting,
            running: self.running + o.running,
            success: self.success + o.success,
            error: self.error + o.error,
            cancelled: self.cancelled + o.cancelled,
        }
    }
}

/// The outcome of a script whose runs have all ended ([`Outcome::of_group`] of theirs).
pub fn script_outcome(c: &Counts) -> Outcome {
    let some = |n: i32, o: Outcome| (n > 0).then_some(o);
    Outcome::of_group(
        [
            some(c.success, Outcome::Success),
            some(c.error, Outcome::Error),
            some(c.cancelled, Outcome::Cancelled),
        ]
        .into_iter()
        .flatten(),
    )
}

/// The outcome of a job whose scripts have all ended: as [`script_outcome`] over all its runs.
pub fn job_outcome(scripts: impl IntoIterator<Item = Counts>) -> Outcome {
    script_outcome(&scripts.into_iter().fold(Counts::default(), Counts::add))
}

/// The `job_scripts` column counting runs of this status.
fn count_column(status: Status) -> &'static str {
    match status {
        Status::Waiting => "n_waiting",
        Status::Running => "n_running",
        Status::Success => "n_success",
        Status::Error => "n_error",
        Status::Cancelled => "n_cancelled",
    }
}

/// `n` latest attempts of a script moved from status `from` to `to`.
fn shift(
    c: &mut DbConn,
    job_id: i64,
    script_idx: i32,
    from: Status,
    to: Status,
    n: i32,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let (f, t) = (count_column(from), count_column(to));
    let q = diesel::sql_query(format!(
        "UPDATE job_scripts SET {f} = {f} - $1, {t} = {t} + $1 WHERE job_id = $2 AND idx = $3"
    ))
    .bind::<diesel::sql_types::Integer, _>(n)
    .bind::<BigInt, _>(job_id)
    .bind::<diesel::sql_types::Integer, _>(script_idx);
    match c {
        DbConn::Postgresql(pg) => q.execute(pg)?,
        DbConn::Sqlite(lite) => q.execute(lite)?,
    };
    Ok(())
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
    #[diesel(deserialize_as = String)]
    pub status: Status,
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
    /// What an end that came after the reaper's really said (the status stays the reaper's).
    pub late_status: Option<String>,
    pub late_error: Option<String>,
    /// The latest attempt of its (script, target).
    pub latest: bool,
    /// The index of the script's first statement this attempt runs: a retry may start past
    /// what an earlier attempt already ran (or skip the statement that failed).
    pub first_statement: i32,
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
    pub selector: TargetSelector,
    pub targets: Vec<(i64, String)>,
}

pub struct NewJob {
    pub name: String,
    pub on_error: OnError,
    pub transactional: bool,
    pub created_by: i64,
    pub created_by_name: String,
    pub scripts: Vec<NewScript>,
}

/// Writes a job, its scripts and their first runs.
pub fn insert(tx: &mut WriteTx<'_>, job: &NewJob) -> Result<i64> {
    let c: &mut DbConn = tx;
    let at = now();
    let target_count = job
        .scripts
        .iter()
        .flat_map(|s| s.targets.iter().map(|(id, _)| *id))
        .collect::<std::collections::BTreeSet<i64>>()
        .len();
    let values = (
        jobs::name.eq(&job.name),
        jobs::target_count.eq(i32::try_from(target_count).unwrap_or(i32::MAX)),
        jobs::status.eq(Status::Waiting.as_str()),
        jobs::on_error.eq(job.on_error.as_str()),
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
                job_scripts::target_selector.eq(selector.to_json_string()),
                job_scripts::status.eq(Status::Waiting.as_str()),
                job_scripts::n_waiting.eq(targets.len() as i32),
            ))
            .execute(c)?;
        let rows: Vec<_> = targets
            .iter()
            .map(|(tid, tname)| new_run(id, idx, (*tid, tname.clone()), 1, at, 0))
            .collect();
        insert_runs(c, &rows)?;
    }
    enqueue_script(c, id, 0)?;
    Ok(id)
}

/// Rows per INSERT of runs. Few statements, not one per run: a round trip per run would add up
/// on a fleet (PostgreSQL store). Not one for all: a statement takes at most 32,766 bound
/// parameters on SQLite and 65,535 on PostgreSQL, and a run row binds 9 (10,000 runs would bind
/// 90,000).
const RUN_BATCH: usize = 1000;

type NewRun = (
    diesel::dsl::Eq<job_runs::job_id, i64>,
    diesel::dsl::Eq<job_runs::script_idx, i32>,
    diesel::dsl::Eq<job_runs::target_id, i64>,
    diesel::dsl::Eq<job_runs::target_name, String>,
    diesel::dsl::Eq<job_runs::attempt, i32>,
    diesel::dsl::Eq<job_runs::status, &'static str>,
    diesel::dsl::Eq<job_runs::created_at, NaiveDateTime>,
    diesel::dsl::Eq<job_runs::first_statement, i32>,
    diesel::dsl::Eq<job_runs::statements_done, i32>,
);

fn new_run(
    job_id: i64,
    script_idx: i32,
    target: (i64, String),
    attempt: i32,
    at: NaiveDateTime,
    first_statement: i32,
) -> NewRun {
    (
        job_runs::job_id.eq(job_id),
        job_runs::script_idx.eq(script_idx),
        job_runs::target_id.eq(target.0),
        job_runs::target_name.eq(target.1),
        job_runs::attempt.eq(attempt),
        job_runs::status.eq(Status::Waiting.as_str()),
        job_runs::created_at.eq(at),
        job_runs::first_statement.eq(first_statement),
        // The statements before the first count as done: `statements_done` is the position in
        // the script, so progress reads the same whatever attempt it is.
        job_runs::statements_done.eq(first_statement),
    )
}

/// Writes runs in statements of at most [`RUN_BATCH`] rows.
fn insert_runs(c: &mut DbConn, rows: &[NewRun]) -> Result<()> {
    for chunk in rows.chunks(RUN_BATCH) {
        match c {
            DbConn::Postgresql(pg) => diesel::insert_into(job_runs::table)
                .values(chunk)
                .execute(pg)?,
            DbConn::Sqlite(lite) => diesel::insert_into(job_runs::table)
                .values(chunk)
                .execute(lite)?,
        };
    }
    Ok(())
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

/// The runs of a job that may have changed since `since`: running ones (their progress moves)
/// and those created, started or ended at or after it. What a live view reads instead of every
/// run; it checks what it got against the scripts' counts ([`ScriptRow::counts`]), which every
/// status change keeps in its own transaction.
pub fn runs_changed_since(
    conn: &mut DbConn,
    job_id: i64,
    since: NaiveDateTime,
) -> Result<Vec<RunRow>> {
    Ok(job_runs::table
        .filter(job_runs::job_id.eq(job_id))
        .filter(
            job_runs::status
                .eq(Status::Running.as_str())
                .or(job_runs::created_at.ge(since))
                .or(job_runs::started_at.ge(since))
                .or(job_runs::finished_at.ge(since)),
        )
        .select(RunRow::as_select())
        .load(conn)?)
}

/// What a page of a job's runs is filtered on.
#[derive(Debug, Default, Clone)]
pub struct RunFilter {
    pub script: Option<i32>,
    pub status: Option<Status>,
}

fn filtered_runs(job_id: i64, f: &RunFilter) -> job_runs::BoxedQuery<'static, Backend> {
    let mut q = job_runs::table
        .filter(job_runs::job_id.eq(job_id))
        .into_boxed();
    if let Some(v) = f.script {
        q = q.filter(job_runs::script_idx.eq(v));
    }
    if let Some(v) = f.status {
        q = q.filter(job_runs::status.eq(v.as_str()));
    }
    q
}

/// A page of a job's runs, in the order of [`runs`], and how many match.
pub fn runs_page(
    conn: &mut DbConn,
    job_id: i64,
    f: &RunFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<RunRow>, i64)> {
    let total = filtered_runs(job_id, f).count().get_result(conn)?;
    let rows = filtered_runs(job_id, f)
        .order((
            job_runs::script_idx.asc(),
            job_runs::target_name.asc(),
            job_runs::attempt.asc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(RunRow::as_select())
        .load(conn)?;
    Ok((rows, total))
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
    pub status: Option<Status>,
    pub owner: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Part of the name, any case: `%` and `_` match themselves.
    pub name: Option<String>,
}

diesel::define_sql_function! {
    /// Lower case, all of Unicode: PostgreSQL's own; on SQLite (whose built-in folds ASCII
    /// only) Rust's, registered on every connection of the store (`SqlitePragmas`).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern matching any text that contains `text`, its `\`, `%` and `_` escaped
/// with a backslash (the `ESCAPE` character given with it).
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

type Backend = <DbConn as diesel::Connection>::Backend;

fn filtered(f: &JobFilter) -> jobs::BoxedQuery<'static, Backend> {
    let mut q = jobs::table.into_boxed();
    if let Some(v) = f.status {
        q = q.filter(jobs::status.eq(v.as_str()));
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
    if let Some(v) = &f.name {
        // Both sides lowered by the same database function, so a name always matches itself
        // whatever that function leaves alone (non-ASCII letters on SQLite).
        q = q.filter(
            lower(jobs::name)
                .like(lower(contains_pattern(v)))
                .escape('\\'),
        );
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

/// The runs' latest attempts by status of each of these jobs, all scripts together: one
/// grouped read of their scripts' counts. A job without scripts is absent.
pub fn job_counts(conn: &mut DbConn, ids: &[i64]) -> Result<Vec<(i64, Counts)>> {
    use diesel::dsl::sum;
    type Sums = (
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Sums> = job_scripts::table
        .filter(job_scripts::job_id.eq_any(ids))
        .group_by(job_scripts::job_id)
        .select((
            job_scripts::job_id,
            sum(job_scripts::n_waiting),
            sum(job_scripts::n_running),
            sum(job_scripts::n_success),
            sum(job_scripts::n_error),
            sum(job_scripts::n_cancelled),
        ))
        .load(conn)?;
    let n = |v: Option<i64>| i32::try_from(v.unwrap_or(0)).unwrap_or(i32::MAX);
    Ok(rows
        .into_iter()
        .map(|(id, waiting, running, success, error, cancelled)| {
            let counts = Counts {
                waiting: n(waiting),
                running: n(running),
                success: n(success),
                error: n(error),
                cancelled: n(cancelled),
            };
            (id, counts)
        })
        .collect())
}

/// The status and end of every job that ended at or after `since`, oldest first.
pub fn ended_since(
    conn: &mut DbConn,
    since: NaiveDateTime,
) -> Result<Vec<(String, NaiveDateTime)>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = jobs::table
        .filter(jobs::finished_at.ge(since))
        .order(jobs::finished_at.asc())
        .select((jobs::status, jobs::finished_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, at)| Some((s, at?)))
        .collect())
}

/// Runs that just started (waiting → running) move from their scripts' waiting count to the
/// running one, and their jobs and scripts become running with their first run. One statement
/// per script, not per run.
fn note_started(c: &mut DbConn, started: &[RunRow], at: NaiveDateTime) -> Result<()> {
    let mut per_script: Vec<((i64, i32), i32)> = vec![];
    for row in started {
        let key = (row.job_id, row.script_idx);
        match per_script.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => per_script.push((key, 1)),
        }
    }
    for ((job_id, script_idx), n) in per_script {
        mark_started(c, job_id, script_idx, at)?;
        shift(c, job_id, script_idx, Status::Waiting, Status::Running, n)?;
    }
    Ok(())
}

/// The job and the script of a first-started run become `running`. Rows already running are
/// not written: an UPDATE would wait on a job row another transaction holds. A retry keeps
/// the first attempt's `started_at`, so a job's duration spans all its attempts.
fn mark_started(c: &mut DbConn, job_id: i64, script_idx: i32, at: NaiveDateTime) -> Result<()> {
    let start = GroupEvent::Start;
    let (job_status, job_started): (String, Option<NaiveDateTime>) = jobs::table
        .find(job_id)
        .select((jobs::status, jobs::started_at))
        .first(c)?;
    if status::Job::sources(start).contains(&job_status.as_str()) {
        diesel::update(
            jobs::table
                .filter(jobs::id.eq(job_id))
                .filter(jobs::status.eq_any(status::Job::sources(start))),
        )
        .set((
            jobs::status.eq(status::Job::target(start).as_str()),
            jobs::started_at.eq(Some(job_started.unwrap_or(at))),
        ))
        .execute(c)?;
    }
    let script = job_scripts::table
        .filter(job_scripts::job_id.eq(job_id))
        .filter(job_scripts::idx.eq(script_idx));
    let (script_status, script_started): (String, Option<NaiveDateTime>) = script
        .select((job_scripts::status, job_scripts::started_at))
        .first(c)?;
    if status::Script::sources(start).contains(&script_status.as_str()) {
        diesel::update(script.filter(job_scripts::status.eq_any(status::Script::sources(start))))
            .set((
                job_scripts::status.eq(status::Script::target(start).as_str()),
                job_scripts::started_at.eq(Some(script_started.unwrap_or(at))),
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

pub struct RunEnd {
    pub outcome: Outcome,
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
    end: RunEnd,
    last: Option<(&StatementRow, i32)>,
) -> Result<bool> {
    end_run(tx, run_id, end, last)
}

/// A run's end as [`finish_runs`] takes it: the run, its end and its last statement's log.
pub type Ended<'a> = (i64, RunEnd, Option<(&'a StatementRow, i32)>);

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
    end: RunEnd,
    last: Option<(&StatementRow, i32)>,
) -> Result<bool> {
    // The job row first, as cancel and retry take it: one order for the locks they share.
    let (job_id, script_idx): (i64, i32) = job_runs::table
        .find(run_id)
        .select((job_runs::job_id, job_runs::script_idx))
        .first(c)?;
    let job = lock_job(c, job_id)?;
    if let Some((row, done)) = last {
        append_statement(c, row, done)?;
    }
    let event = RunEvent::End(end.outcome);
    let to = status::Run::target(event);
    let n = diesel::update(
        job_runs::table
            .filter(job_runs::id.eq(run_id))
            .filter(job_runs::status.eq_any(status::Run::sources(event))),
    )
    .set((
        job_runs::status.eq(to.as_str()),
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
        shift(c, job_id, script_idx, Status::Running, to, 1)?;
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

/// Moves the job past scripts whose runs have all ended, applying `on_error: stop`, and ends
/// the job after its last script. Decides from the scripts' counts: O(1) in the job's runs,
/// but for the runs of a script that becomes current (made work items once). Call inside a
/// write transaction, with the job row locked ([`lock_job`]) and given as read then.
fn advance(c: &mut DbConn, mut job: JobRow) -> Result<()> {
    let job_id = job.id;
    let at = now();
    loop {
        let cur = job.current_script;
        let Some(script) = script(c, job_id, cur)? else {
            // Past the last script: the job ends with its runs.
            let outcome = job_outcome(scripts(c, job_id)?.iter().map(ScriptRow::counts));
            let finish = GroupEvent::Finish(outcome);
            diesel::update(
                jobs::table
                    .filter(jobs::id.eq(job_id))
                    .filter(jobs::status.eq_any(status::Job::sources(finish))),
            )
            .set((
                jobs::status.eq(status::Job::target(finish).as_str()),
                jobs::finished_at.eq(Some(at)),
            ))
            .execute(c)?;
            return Ok(());
        };
        let counts = script.counts();
        if counts.active() {
            return Ok(());
        }
        let outcome = script_outcome(&counts);
        let finish = GroupEvent::Finish(outcome);
        diesel::update(
            job_scripts::table
                .filter(job_scripts::id.eq(script.id))
                .filter(job_scripts::status.eq_any(status::Script::sources(finish))),
        )
        .set((
            job_scripts::status.eq(status::Script::target(finish).as_str()),
            job_scripts::finished_at.eq(Some(at)),
        ))
        .execute(c)?;
        if after_script(outcome, job.on_error) == AfterScript::CancelTheRest {
            cancel_waiting(c, job_id)?;
        }
        job.current_script = cur + 1;
        diesel::update(jobs::table.find(job_id))
            .set(jobs::current_script.eq(job.current_script))
            .execute(c)?;
        // Past the last script this finds no run: nothing is added.
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
    // Their jobs' rows first, in id order, as ends, cancels and retries take them: one order
    // for the locks they share (a cancel writes these runs and their scripts' counts too).
    if let DbConn::Postgresql(pg) = c {
        let job_ids: Vec<i64> = job_runs::table
            .filter(job_runs::id.eq_any(run_ids))
            .select(job_runs::job_id)
            .distinct()
            .load(pg)?;
        let _: Vec<i64> = jobs::table
            .filter(jobs::id.eq_any(&job_ids))
            .order(jobs::id.asc())
            .select(jobs::id)
            .for_update()
            .load(pg)?;
    }
    let start = RunEvent::Start;
    diesel::update(
        job_runs::table
            .filter(job_runs::id.eq_any(run_ids))
            .filter(job_runs::status.eq_any(status::Run::sources(start))),
    )
    .set((
        job_runs::status.eq(status::Run::target(start).as_str()),
        job_runs::started_at.eq(Some(at)),
    ))
    .execute(c)?;
    let started: Vec<RunRow> = job_runs::table
        .filter(job_runs::id.eq_any(run_ids))
        .filter(job_runs::status.eq(Status::Running.as_str()))
        .filter(job_runs::started_at.eq(Some(at)))
        .order(job_runs::id)
        .select(RunRow::as_select())
        .load(c)?;
    note_started(c, &started, at)?;
    Ok(started)
}

/// The reaper's end of a run whose process stopped renewing its lease: an error
/// ([`RunEvent::Interrupt`]).
pub fn interrupt_run(tx: &mut WriteTx<'_>, run_id: i64, message: &str) -> Result<bool> {
    debug_assert_eq!(
        status::Run::target(RunEvent::Interrupt),
        status::Run::target(RunEvent::End(Outcome::Error))
    );
    end_run(
        tx,
        run_id,
        RunEnd {
            outcome: Outcome::Error,
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
    outcome: Outcome,
    error: Option<&str>,
) -> Result<()> {
    diesel::update(job_runs::table.find(run_id))
        .set((
            job_runs::late_status.eq(Some(outcome.status().as_str())),
            job_runs::late_error.eq(error),
        ))
        .execute(&mut **tx)?;
    Ok(())
}

/// Waiting runs of the job become cancelled, and so do the scripts that had only those.
fn cancel_waiting(c: &mut DbConn, job_id: i64) -> Result<usize> {
    let at = now();
    super::work::drop_waiting(c, WORK_KIND, job_id)?;
    let cancel = RunEvent::Cancel;
    let n = diesel::update(
        job_runs::table
            .filter(job_runs::job_id.eq(job_id))
            .filter(job_runs::status.eq_any(status::Run::sources(cancel))),
    )
    .set((
        job_runs::status.eq(status::Run::target(cancel).as_str()),
        job_runs::finished_at.eq(Some(at)),
    ))
    .execute(c)?;
    // Every waiting run is a latest attempt: each script's waiting count moves to cancelled
    // (the right-hand sides read the row as it was).
    diesel::update(job_scripts::table.filter(job_scripts::job_id.eq(job_id)))
        .set((
            job_scripts::n_cancelled.eq(job_scripts::n_cancelled + job_scripts::n_waiting),
            job_scripts::n_waiting.eq(0),
        ))
        .execute(c)?;
    // Scripts that had not started end cancelled (they had only waiting runs).
    let finish = GroupEvent::Finish(Outcome::Cancelled);
    diesel::update(
        job_scripts::table
            .filter(job_scripts::job_id.eq(job_id))
            .filter(job_scripts::status.eq(Status::Waiting.as_str())),
    )
    .set((
        job_scripts::status.eq(status::Script::target(finish).as_str()),
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
    AlreadyEnded { status: Status },
}

/// Cancel: nothing new starts; waiting runs end as cancelled.
pub fn request_cancel(tx: &mut WriteTx<'_>, job_id: i64) -> Result<Cancel> {
    {
        // Running items are marked (their holder, here or elsewhere, cancels at its next
        // renewal) before the job's row is taken: the lock order of claims and ends.
        super::work::mark_cancel(tx, WORK_KIND, job_id)?;
        let job = lock_job(tx, job_id)?;
        if job.finished_at.is_some() {
            return Ok(Cancel::AlreadyEnded { status: job.status });
        }
        diesel::update(jobs::table.find(job_id))
            .set(jobs::cancel_requested.eq(true))
            .execute(&mut **tx)?;
        cancel_waiting(tx, job_id)?;
        let c: &mut DbConn = tx;
        advance(c, job)?;
        let running = job_runs::table
            .filter(job_runs::job_id.eq(job_id))
            .filter(job_runs::status.eq(Status::Running.as_str()))
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
    StillActive { status: Status },
    /// No latest attempt failed or was cancelled.
    NothingFailed,
}

/// A failed or cancelled run about to be retried, as its statement log tells it.
#[derive(Debug, Clone)]
pub struct Retried {
    pub script_idx: i32,
    pub target_id: i64,
    /// Where that attempt started.
    pub first_statement: i32,
    /// The first statement that did not finish: after the last one logged as a success (or
    /// `first_statement` when none was).
    pub unfinished: i32,
    /// The statement logged as failed or cancelled, if the run got to one (it may have failed
    /// before any, e.g. connecting).
    pub failed: Option<i32>,
}

/// Retry: the failed and cancelled runs (latest attempts) run again as a new attempt, each
/// from the statement `first` says (the caller's rule; 0 is the whole script).
pub fn retry(
    tx: &mut WriteTx<'_>,
    job_id: i64,
    first: &dyn Fn(&JobRow, &Retried) -> i32,
) -> Result<Retry> {
    {
        let c: &mut DbConn = tx;
        let job = lock_job(c, job_id)?;
        if job.finished_at.is_none() {
            return Ok(Retry::StillActive { status: job.status });
        }
        let failed = || {
            job_runs::table
                .filter(job_runs::job_id.eq(job_id))
                .filter(job_runs::latest.eq(true))
                .filter(job_runs::status.eq_any(status::Job::sources(GroupEvent::Retry)))
        };
        let again: Vec<(i64, i32, i64, String, i32)> = failed()
            .order(job_runs::id.asc())
            .select((
                job_runs::id,
                job_runs::script_idx,
                job_runs::target_id,
                job_runs::target_name,
                job_runs::first_statement,
            ))
            .load(c)?;
        let Some(first_script) = again.iter().map(|r| r.1).min() else {
            return Ok(Retry::NothingFailed);
        };
        let logged = |statuses: &[&'static str]| {
            run_statements::table
                .filter(run_statements::run_id.eq_any(failed().select(job_runs::id)))
                .filter(run_statements::status.eq_any(statuses.to_vec()))
                .group_by(run_statements::run_id)
        };
        let succeeded: std::collections::HashMap<i64, Option<i32>> =
            logged(&[Status::Success.as_str()])
                .select((
                    run_statements::run_id,
                    diesel::dsl::max(run_statements::idx),
                ))
                .load::<(i64, Option<i32>)>(c)?
                .into_iter()
                .collect();
        let stopped: std::collections::HashMap<i64, Option<i32>> =
            logged(&[Status::Error.as_str(), Status::Cancelled.as_str()])
                .select((
                    run_statements::run_id,
                    diesel::dsl::min(run_statements::idx),
                ))
                .load::<(i64, Option<i32>)>(c)?
                .into_iter()
                .collect();
        let attempt = job.attempt + 1;
        let at = now();
        let n = again.len();
        let rows: Vec<NewRun> = again
            .into_iter()
            .map(|(id, idx, tid, tname, from)| {
                let done = succeeded.get(&id).copied().flatten();
                let retried = Retried {
                    script_idx: idx,
                    target_id: tid,
                    first_statement: from,
                    unfinished: done.map_or(from, |d| (d + 1).max(from)),
                    failed: stopped.get(&id).copied().flatten(),
                };
                let start = first(&job, &retried).max(0);
                new_run(job_id, idx, (tid, tname), attempt, at, start)
            })
            .collect();
        // The failed attempts stop being the latest; the new ones are.
        diesel::update(failed())
            .set(job_runs::latest.eq(false))
            .execute(c)?;
        insert_runs(c, &rows)?;
        // Scripts with failed or cancelled runs wait again: those counts become waiting ones.
        diesel::update(
            job_scripts::table
                .filter(job_scripts::job_id.eq(job_id))
                .filter((job_scripts::n_error + job_scripts::n_cancelled).gt(0)),
        )
        .set((
            job_scripts::n_waiting
                .eq(job_scripts::n_waiting + job_scripts::n_error + job_scripts::n_cancelled),
            job_scripts::n_error.eq(0),
            job_scripts::n_cancelled.eq(0),
            job_scripts::status.eq(status::Script::target(GroupEvent::Retry).as_str()),
            job_scripts::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)?;
        diesel::update(jobs::table.find(job_id))
            .set((
                jobs::status.eq(status::Job::target(GroupEvent::Retry).as_str()),
                jobs::attempt.eq(attempt),
                jobs::current_script.eq(first_script),
                jobs::cancel_requested.eq(false),
                jobs::finished_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        enqueue_script(c, job_id, first_script)?;
        Ok(Retry::Again { runs: n })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::{targets, users, Store, StoreUrl};

    #[test]
    fn a_contains_pattern_escapes_the_like_wildcards_and_its_escape() {
        assert_eq!(contains_pattern("nightly"), "%nightly%");
        assert_eq!(contains_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(contains_pattern("a\\b"), "%a\\\\b%");
        assert_eq!(contains_pattern(""), "%%");
    }

    /// A SQLite store with one job of two runs, both started.
    pub(crate) fn two_running_runs(dir: &std::path::Path) -> (Store, i64, Vec<RunRow>) {
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
                    on_error: OnError::Continue,
                    transactional: false,
                    created_by: user.id,
                    created_by_name: "op".into(),
                    scripts: vec![NewScript {
                        sql: "SELECT 1".into(),
                        sealed: None,
                        selector: TargetSelector::Tags(vec!["t".into()]),
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

    pub(crate) fn success() -> RunEnd {
        RunEnd {
            outcome: Outcome::Success,
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
        let statuses: Vec<Status> = store
            .run_blocking(|c| {
                Ok::<_, StoreError>(
                    super::runs(c, job_id)?
                        .into_iter()
                        .map(|r| r.status)
                        .collect(),
                )
            })
            .expect("runs");
        assert_eq!(statuses, [Status::Running; 2]);
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
        assert_eq!(job.status, Status::Success);
        assert!(job.finished_at.is_some());
    }

    fn counts(waiting: i32, running: i32, success: i32, error: i32, cancelled: i32) -> Counts {
        Counts {
            waiting,
            running,
            success,
            error,
            cancelled,
        }
    }

    #[test]
    fn a_script_outcome_is_error_over_cancelled_over_success() {
        assert_eq!(script_outcome(&counts(0, 0, 5, 0, 0)), Outcome::Success);
        assert_eq!(script_outcome(&counts(0, 0, 5, 0, 1)), Outcome::Cancelled);
        assert_eq!(script_outcome(&counts(0, 0, 5, 1, 1)), Outcome::Error);
        assert!(counts(0, 1, 0, 0, 0).active());
        assert!(counts(1, 0, 0, 0, 0).active());
        assert!(!counts(0, 0, 3, 2, 1).active());
    }

    #[test]
    fn a_job_outcome_is_made_of_all_its_scripts() {
        assert_eq!(
            job_outcome([counts(0, 0, 2, 0, 0), counts(0, 0, 2, 0, 0)]),
            Outcome::Success
        );
        assert_eq!(
            job_outcome([counts(0, 0, 2, 0, 0), counts(0, 0, 0, 0, 2)]),
            Outcome::Cancelled
        );
        assert_eq!(
            job_outcome([counts(0, 0, 0, 1, 0), counts(0, 0, 0, 0, 2)]),
            Outcome::Error
        );
    }

    fn script_counts(store: &Store, job_id: i64) -> Vec<Counts> {
        store
            .run_blocking(|c| {
                Ok::<_, StoreError>(scripts(c, job_id)?.iter().map(ScriptRow::counts).collect())
            })
            .expect("scripts")
    }

    /// The counts as a scan of the runs makes them: what every transition must keep.
    fn scanned(store: &Store, job_id: i64) -> Vec<Counts> {
        let all = store
            .run_blocking(|c| super::runs(c, job_id))
            .expect("runs");
        let n = 1 + all.iter().map(|r| r.script_idx).max().unwrap_or(0) as usize;
        let mut out = vec![Counts::default(); n];
        for r in all.iter().filter(|r| r.latest) {
            let c = &mut out[r.script_idx as usize];
            match r.status {
                Status::Waiting => c.waiting += 1,
                Status::Running => c.running += 1,
                Status::Success => c.success += 1,
                Status::Error => c.error += 1,
                Status::Cancelled => c.cancelled += 1,
            }
        }
        out
    }

    fn failure() -> RunEnd {
        RunEnd {
            outcome: Outcome::Error,
            total: Some(1),
            error: Some("boom".into()),
            error_code: None,
            error_line: None,
        }
    }

    #[test]
    fn counts_follow_every_transition_and_a_retry_counts_only_the_new_attempt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, job_id, runs) = two_running_runs(dir.path());
        assert_eq!(script_counts(&store, job_id), [counts(0, 2, 0, 0, 0)]);
        // One succeeds; the other is interrupted by the reaper, whose end stands over the
        // run's late one.
        store
            .write_blocking(|c| end_run(c, runs[0].id, success(), None))
            .expect("end");
        assert_eq!(script_counts(&store, job_id), [counts(0, 1, 1, 0, 0)]);
        assert!(store
            .write_blocking(|c| interrupt_run(c, runs[1].id, "interrupted"))
            .expect("interrupt"));
        assert!(
            !store
                .write_blocking(|c| end_run(c, runs[1].id, success(), None))
                .expect("late end"),
            "an ended run does not end again"
        );
        store
            .write_blocking(|c| record_late_end(c, runs[1].id, Outcome::Success, None))
            .expect("late");
        assert_eq!(script_counts(&store, job_id), [counts(0, 0, 1, 1, 0)]);
        assert_eq!(script_counts(&store, job_id), scanned(&store, job_id));
        let late = store
            .run_blocking(|c| run(c, runs[1].id))
            .expect("run")
            .expect("exists");
        assert_eq!(
            (late.status, late.late_status.as_deref()),
            (Status::Error, Some("success"))
        );
        let ended = store
            .run_blocking(|c| job(c, job_id))
            .expect("job")
            .expect("exists");
        assert_eq!(ended.status, Status::Error);
        // Retry: only the failed run again, as attempt 2; the old one is no longer latest.
        let again = store
            .write_blocking(|c| retry(c, job_id, &|_, _| 0))
            .expect("retry");
        assert!(matches!(again, Retry::Again { runs: 1 }), "{again:?}");
        assert_eq!(script_counts(&store, job_id), [counts(1, 0, 1, 0, 0)]);
        assert_eq!(script_counts(&store, job_id), scanned(&store, job_id));
        let all = store
            .run_blocking(|c| super::runs(c, job_id))
            .expect("runs");
        assert_eq!(all.len(), 3);
        let old = all.iter().find(|r| r.id == runs[1].id).expect("old");
        assert!(!old.latest);
        let new = all.iter().find(|r| r.attempt == 2).expect("new attempt");
        assert!(new.latest);
        // It has its work item, and starts and ends like the first.
        let (waiting, _) = store
            .run_blocking(|c| crate::store::work::count(c, WORK_KIND))
            .expect("count");
        assert!(waiting >= 1);
        let started = store
            .write_blocking(|c| start_runs(c, &[new.id]))
            .expect("start");
        assert_eq!(started.len(), 1);
        assert_eq!(script_counts(&store, job_id), [counts(0, 1, 1, 0, 0)]);
        store
            .write_blocking(|c| end_run(c, new.id, failure(), None))
            .expect("end");
        assert_eq!(script_counts(&store, job_id), [counts(0, 0, 1, 1, 0)]);
        let ended = store
            .run_blocking(|c| job(c, job_id))
            .expect("job")
            .expect("exists");
        assert_eq!((ended.status, ended.attempt), (Status::Error, 2));
    }

    #[test]
    fn on_error_stop_cancels_the_next_scripts_and_their_counts_say_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = StoreUrl::Sqlite(dir.path().join("t.db"));
        let store = Store::open(&url, 2, 5).expect("open");
        store.migrate().expect("migrate");
        let job_id = store
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
                let fields = targets::TargetFields {
                    name: "a".into(),
                    engine: "sqlite".into(),
                    host: String::new(),
                    port: 0,
                    database_name: "/tmp/a.db".into(),
                    username: String::new(),
                    password_enc: None,
                    options: "{}".into(),
                    updated_at: at,
                    query_username: None,
                    query_password_enc: None,
                    trusted_for_queries: false,
                };
                let t = (targets::insert(c, &fields, &[], user.id)?, "a".to_string());
                let script = |sql: &str| NewScript {
                    sql: sql.into(),
                    sealed: None,
                    selector: TargetSelector::Tags(vec!["t".into()]),
                    targets: vec![t.clone()],
                };
                insert(
                    c,
                    &NewJob {
                        name: "j".into(),
                        on_error: OnError::Stop,
                        transactional: false,
                        created_by: user.id,
                        created_by_name: "op".into(),
                        scripts: vec![script("SELECT 1"), script("SELECT 2"), script("SELECT 3")],
                    },
                )
            })
            .expect("setup");
        let waiting = counts(1, 0, 0, 0, 0);
        assert_eq!(script_counts(&store, job_id), [waiting, waiting, waiting]);
        // Only the first script's run is work to claim.
        assert_eq!(
            store
                .run_blocking(|c| crate::store::work::count(c, WORK_KIND))
                .expect("count"),
            (1, 0)
        );
        let first = store
            .run_blocking(|c| super::runs(c, job_id))
            .expect("runs")[0]
            .id;
        store
            .write_blocking(|c| {
                start_runs(c, &[first])?;
                end_run(c, first, failure(), None)
            })
            .expect("fail");
        let cancelled = counts(0, 0, 0, 0, 1);
        assert_eq!(
            script_counts(&store, job_id),
            [counts(0, 0, 0, 1, 0), cancelled, cancelled]
        );
        assert_eq!(script_counts(&store, job_id), scanned(&store, job_id));
        let (job, scripts) = store
            .run_blocking(|c| {
                Ok::<_, StoreError>((job(c, job_id)?.expect("job"), scripts(c, job_id)?))
            })
            .expect("job");
        assert_eq!(job.status, Status::Error);
        let statuses: Vec<Status> = scripts.iter().map(|s| s.status).collect();
        assert_eq!(
            statuses,
            [Status::Error, Status::Cancelled, Status::Cancelled]
        );
        // No work item was made for the cancelled scripts.
        assert_eq!(
            store
                .run_blocking(|c| crate::store::work::count(c, WORK_KIND))
                .expect("count"),
            (0, 0)
        );
    }
}
