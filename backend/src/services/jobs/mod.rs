//! Jobs: ordered SQL scripts, each run on its targets in parallel, in the background.
//! Submitting writes the job, its scripts and runs to the store and answers; the engine
//! (`engine.rs`) executes them; `events.rs` streams their progress.

pub mod events;
pub mod outcomes;
mod retry;
pub mod runner;

pub use retry::{retry, RetryFrom, RetryInput};

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{self, Event};
use super::error::{Error, Msg, Result};
use super::{Action, Actor, Ctx};
use crate::connectors::Engine;
use crate::domain::Status;
use crate::services::targets;
use crate::store::jobs::{self as rows, JobFilter};
use crate::store::StoreError;

pub use crate::domain::OnError;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
    #[schema(pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
    pub sql: String,
    /// Run on these targets...
    #[serde(default)]
    pub target_ids: Vec<i64>,
    /// ...or on every target carrying all of these tags (resolved when the job is submitted).
    #[serde(default)]
    pub target_tags: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobInput {
    #[schema(
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 200
    )]
    pub name: String,
    #[schema(min_items = 1, max_items = 100)]
    pub scripts: Vec<ScriptInput>,
    #[serde(default)]
    pub on_error: OnError,
    /// Wrap each run in one transaction where the engine has transactional DDL (PostgreSQL,
    /// SQLite): a failing statement then leaves nothing behind.
    #[serde(default)]
    pub transactional: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Run {
    pub id: i64,
    /// The index of its script in the job.
    pub script_index: i32,
    pub target_id: i64,
    pub target_name: String,
    pub attempt: i32,
    pub status: Status,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub statements_done: i32,
    pub statements_total: Option<i32>,
    /// The database's message (or AutoDB's, e.g. for an unreachable target).
    pub error: Option<String>,
    pub error_code: Option<String>,
    /// Line in the script where the failing statement starts.
    pub error_line: Option<i32>,
    /// A later attempt of the same script and target exists.
    pub superseded: bool,
    /// The index (from 0) of the first statement this attempt runs: more than 0 when a retry
    /// started past what an earlier attempt ran (`from` of `POST /api/jobs/{id}/retry`). The
    /// statements before it are not run and not logged; they count in `statements_done`,
    /// which is the position in the script (statements before it and those this attempt
    /// finished), out of `statements_total`, all of the script's statements.
    pub first_statement: i32,
    /// What the run's process reported after AutoDB had already ended the run (it lost its
    /// lease and was reaped: `status` stays the reaper's `error`): `success` `error`
    /// `cancelled`, or null.
    pub late_status: Option<String>,
}

/// A script's runs, latest attempts only, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunCounts {
    pub waiting: i32,
    pub running: i32,
    pub success: i32,
    pub error: i32,
    pub cancelled: i32,
}

/// A page of a job's runs (`GET /api/jobs/{id}/runs`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunPage {
    pub items: Vec<Run>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Script {
    pub index: i32,
    pub status: Status,
    /// The script with its password literals redacted (`PASSWORD '***'`, `IDENTIFIED BY
    /// '***'`); the original is kept sealed and is what runs.
    pub sql: String,
    /// The selector as submitted: `{"target_ids": [...], "target_tags": [...]}`.
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub targets: serde_json::Value,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Its runs' latest attempts by status.
    pub counts: RunCounts,
    pub runs: Vec<Run>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: i64,
    pub name: String,
    pub status: Status,
    pub on_error: OnError,
    pub transactional: bool,
    pub attempt: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub scripts: Vec<Script>,
    /// The schedule that started it, if one did.
    pub schedule_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobSummary {
    pub id: i64,
    pub name: String,
    pub status: Status,
    pub attempt: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Distinct targets over all its scripts.
    pub target_count: i32,
    /// Its runs: one per script and target, the latest attempt of each. The sum of the five
    /// counts by status below.
    pub runs_total: i32,
    /// Of `runs_total`, not started yet.
    pub runs_waiting: i32,
    pub runs_running: i32,
    /// Of `runs_total`, ended in success.
    pub runs_succeeded: i32,
    /// Of `runs_total`, ended in error.
    pub runs_failed: i32,
    pub runs_cancelled: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobPage {
    pub items: Vec<JobSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementLog {
    pub index: i32,
    pub line: i32,
    /// The statement, password literals redacted, truncated to 4,000 characters.
    pub sql: String,
    pub status: Status,
    pub rows_affected: Option<i64>,
    pub rows_returned: Option<i64>,
    /// NOTICE / warnings / DBMS_OUTPUT lines, up to the `engine.max_notice*` caps; when some
    /// were cut, the last line says how many (and how many bytes).
    pub notices: Vec<String>,
    /// Notices past the caps: counted, not kept.
    pub notices_dropped: i64,
    pub duration_ms: f64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunLog {
    pub run: Run,
    pub statements: Vec<StatementLog>,
}

fn utc(t: Option<chrono::NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(|t| t.and_utc())
}

pub(crate) fn run_dto(r: &rows::RunRow) -> Run {
    Run {
        id: r.id,
        script_index: r.script_idx,
        target_id: r.target_id,
        target_name: r.target_name.clone(),
        attempt: r.attempt,
        status: r.status,
        started_at: utc(r.started_at),
        finished_at: utc(r.finished_at),
        statements_done: r.statements_done,
        statements_total: r.statements_total,
        error: r.error.clone(),
        error_code: r.error_code.clone(),
        error_line: r.error_line,
        superseded: !r.latest,
        late_status: r.late_status.clone(),
        first_statement: r.first_statement,
    }
}

fn summary(j: &rows::JobRow, c: rows::Counts) -> JobSummary {
    JobSummary {
        id: j.id,
        name: j.name.clone(),
        status: j.status,
        attempt: j.attempt,
        created_by: j.created_by_name.clone(),
        created_at: j.created_at.and_utc(),
        started_at: utc(j.started_at),
        finished_at: utc(j.finished_at),
        target_count: j.target_count,
        runs_total: c.waiting + c.running + c.success + c.error + c.cancelled,
        runs_waiting: c.waiting,
        runs_running: c.running,
        runs_succeeded: c.success,
        runs_failed: c.error,
        runs_cancelled: c.cancelled,
    }
}

/// The longest text `GET /api/jobs?q=` searches names for.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Whether a run of this job on this engine is one transaction: everything it did is rolled
/// back when it fails. Transactional DDL exists on PostgreSQL and SQLite; elsewhere each
/// statement commits.
pub(crate) fn in_one_transaction(transactional: bool, engine: Engine) -> bool {
    transactional && matches!(engine, Engine::Postgres | Engine::Sqlite)
}

pub(crate) fn load_job(conn: &mut crate::store::DbConn, id: i64) -> Result<Job> {
    let job = rows::job(conn, id)?.ok_or(Error::NotFound("job"))?;
    let scripts = rows::scripts(conn, id)?;
    let runs = rows::runs(conn, id)?;
    // One pass: runs grouped by script.
    let mut by_script: HashMap<i32, Vec<Run>> = HashMap::new();
    for r in &runs {
        by_script.entry(r.script_idx).or_default().push(run_dto(r));
    }
    let mut out = job_dto(&job, &scripts);
    for s in &mut out.scripts {
        s.runs = by_script.remove(&s.index).unwrap_or_default();
    }
    Ok(out)
}

/// `last` brought up to date by reading only the runs that may have changed since `since`
/// ([`rows::runs_changed_since`]). `None` when that cannot be trusted — a retry (new runs,
/// superseded ones) or a script whose stored counts disagree with the runs so put together (a
/// change committed late, or by a process whose clock is behind) — and the job is to be loaded
/// whole. Every status change moves a count in its own transaction, so no missed change can
/// pass the check.
pub(crate) fn load_job_since(
    conn: &mut crate::store::DbConn,
    last: &Job,
    since: chrono::NaiveDateTime,
) -> Result<Option<Job>> {
    let job = rows::job(conn, last.id)?.ok_or(Error::NotFound("job"))?;
    if job.attempt != last.attempt {
        return Ok(None);
    }
    let scripts = rows::scripts(conn, last.id)?;
    let mut changed: HashMap<i64, Run> = rows::runs_changed_since(conn, last.id, since)?
        .iter()
        .map(|r| (r.id, run_dto(r)))
        .collect();
    let mut out = job_dto(&job, &scripts);
    if out.scripts.len() != last.scripts.len() {
        return Ok(None);
    }
    for (new, old) in out.scripts.iter_mut().zip(&last.scripts) {
        new.runs = old
            .runs
            .iter()
            .map(|r| changed.remove(&r.id).unwrap_or_else(|| r.clone()))
            .collect();
        if counts_of(&new.runs) != new.counts {
            return Ok(None);
        }
    }
    Ok(changed.is_empty().then_some(out))
}

/// The counts of a script's latest attempts, as its runs say.
fn counts_of(runs: &[Run]) -> RunCounts {
    let mut c = RunCounts {
        waiting: 0,
        running: 0,
        success: 0,
        error: 0,
        cancelled: 0,
    };
    for r in runs.iter().filter(|r| !r.superseded) {
        match r.status {
            Status::Waiting => c.waiting += 1,
            Status::Running => c.running += 1,
            Status::Success => c.success += 1,
            Status::Error => c.error += 1,
            Status::Cancelled => c.cancelled += 1,
        }
    }
    c
}

/// The job and its scripts, without their runs.
fn job_dto(job: &rows::JobRow, scripts: &[rows::ScriptRow]) -> Job {
    Job {
        id: job.id,
        name: job.name.clone(),
        status: job.status,
        on_error: job.on_error,
        transactional: job.transactional,
        attempt: job.attempt,
        created_by: job.created_by_name.clone(),
        created_at: job.created_at.and_utc(),
        started_at: utc(job.started_at),
        finished_at: utc(job.finished_at),
        schedule_id: job.schedule_id,
        scripts: scripts
            .iter()
            .map(|s| Script {
                index: s.idx,
                status: s.status,
                sql: shown_script(s),
                targets: s.target_selector.to_json(),
                started_at: utc(s.started_at),
                finished_at: utc(s.finished_at),
                counts: {
                    let c = s.counts();
                    RunCounts {
                        waiting: c.waiting,
                        running: c.running,
                        success: c.success,
                        error: c.error,
                        cancelled: c.cancelled,
                    }
                },
                runs: vec![],
            })
            .collect(),
    }
}

/// A script as it may be shown. A sealed script's `sql_text` is already redacted; one written
/// before scripts were sealed holds the executable text, redacted here.
fn shown_script(s: &rows::ScriptRow) -> String {
    if s.sql_sealed.is_some() {
        return s.sql_text.clone();
    }
    redact_every_dialect(&s.sql_text)
}

/// A script whose targets' engines are not at hand, redacted as each dialect reads it.
fn redact_every_dialect(text: &str) -> String {
    [
        sqlsplit::Dialect::Postgres,
        sqlsplit::Dialect::Mysql,
        sqlsplit::Dialect::Oracle,
    ]
    .into_iter()
    .fold(text.to_string(), |text, d| sqlsplit::redact(d, &text).text)
}

/// Scripts written before scripts were sealed (their text in clear in the store) are sealed,
/// and keep their redaction for display. Run once at start; another process doing the same at
/// the same time seals each script once.
pub fn seal_legacy_scripts(
    store: &crate::store::Store,
    secrets: &crate::crypto::SecretBox,
) -> Result<usize> {
    let mut sealed = 0;
    let mut after = 0;
    loop {
        let batch = store.run_blocking(|c| rows::unsealed_scripts(c, after, 100))?;
        let Some((last, _)) = batch.last() else {
            return Ok(sealed);
        };
        after = *last;
        for (id, text) in batch {
            let shown = redact_every_dialect(&text);
            let closed = secrets.seal_script(&text);
            if store.write_blocking(|c| rows::seal_script(c, id, &shown, &closed))? {
                sealed += 1;
            }
        }
    }
}

pub const MAX_SCRIPTS: usize = 100;

/// Checks the input and resolves each script's targets (ids must exist; tags must match).
/// Each script is sealed for execution and kept redacted for display.
fn resolve(
    conn: &mut crate::store::DbConn,
    input: &JobInput,
    secrets: &crate::crypto::SecretBox,
) -> Result<Vec<rows::NewScript>> {
    let all = targets::catalog(conn)?;
    let mut out = vec![];
    for (i, s) in input.scripts.iter().enumerate() {
        let prefix = format!("scripts[{i}].");
        let field = |f: &str| format!("{prefix}{f}");
        if s.sql.trim().is_empty() {
            return Err(Error::validation(field("sql"), Msg::empty()));
        }
        let selector = targets::selector(&s.target_ids, &s.target_tags, &prefix)?;
        let chosen = targets::select(&all, &selector, &prefix)?;
        // Split once per engine among the targets, not once per target.
        let engines: BTreeSet<&str> = chosen.iter().map(|(t, _)| t.engine.as_str()).collect();
        let mut shown = s.sql.clone();
        for name in engines {
            let engine: Engine = name.parse().map_err(|e| Error::internal(format!("{e}")))?;
            if sqlsplit::split(engine.dialect(), &s.sql)
                .statements
                .is_empty()
            {
                return Err(Error::unprocessable(
                    field("sql"),
                    Msg::new(
                        "no_statement",
                        format!("has no statement to run on {engine} targets"),
                    )
                    .with("engine", engine.to_string()),
                ));
            }
            // As each engine reads it: what is a literal differs between dialects.
            shown = sqlsplit::redact(engine.dialect(), &shown).text;
        }
        out.push(rows::NewScript {
            sealed: Some(secrets.seal_script(&s.sql)),
            sql: shown,
            selector,
            targets: chosen.iter().map(|(t, _)| (t.id, t.name.clone())).collect(),
        });
    }
    Ok(out)
}

/// Writes the job and its runs, then wakes the engine. Answers before any statement runs.
pub async fn submit(ctx: &Ctx, actor: &Actor, input: JobInput) -> Result<Job> {
    submit_linked(ctx, actor, input, |_, _| Ok(())).await
}

/// [`submit`], with `link` run in the job's own transaction after its audit entry (a schedule
/// records its fire there): if `link` fails, no job was written.
pub async fn submit_linked(
    ctx: &Ctx,
    actor: &Actor,
    input: JobInput,
    link: impl FnOnce(&mut crate::store::WriteTx<'_>, i64) -> Result<()> + Send + 'static,
) -> Result<Job> {
    actor.require_to(Action::RunJobs)?;
    let name = input.name.trim().to_string();
    if name.is_empty() || input.name.chars().count() > 200 {
        return Err(Error::validation("name", Msg::chars(1, 200)));
    }
    if input.scripts.is_empty() || input.scripts.len() > MAX_SCRIPTS {
        return Err(Error::validation(
            "scripts",
            Msg::new(
                "scripts_count",
                format!("must list 1 to {MAX_SCRIPTS} scripts"),
            )
            .with("max", MAX_SCRIPTS),
        ));
    }
    let a = actor.clone();
    let secrets = ctx.secrets.clone();
    let (scripts, on_error, transactional) = ctx
        .store
        .run(move |c| {
            let scripts = resolve(c, &input, &secrets)?;
            Ok::<_, Error>((scripts, input.on_error, input.transactional))
        })
        .await?;
    let new = rows::NewJob {
        name,
        on_error,
        transactional,
        created_by: actor.user_id,
        created_by_name: actor.username.clone(),
        scripts,
    };
    let detail = json!({
        "name": new.name,
        "scripts": new.scripts.iter().map(|s| json!({
            "sql": crate::services::truncate(&s.sql, 2000),
            "targets": s.targets.iter().map(|(_, n)| n).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    // The job and its audit entry are written together, or neither is.
    let id = ctx
        .store
        .write(move |c| {
            let id = rows::insert(c, &new)?;
            let event = Event::ok("submit", "job", id).with(detail);
            audit::record(c, Some(&a), None, None, event)?;
            link(c, id)?;
            Ok::<_, Error>(id)
        })
        .await?;
    ctx.jobs.wake();
    get(ctx, actor, id).await
}

pub async fn get(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Job> {
    actor.require_to(Action::Read)?;
    ctx.store.run(move |c| load_job(c, id)).await
}

/// [`get`] as its JSON answer. Readers of the same job at the same moment share one load and
/// one serialization (`services::coalesce`): a fleet's job of 10,000 runs is megabytes of JSON,
/// and each reader building its own would multiply the time and the memory.
pub async fn get_json(ctx: &Ctx, actor: &Actor, id: i64) -> Result<bytes::Bytes> {
    actor.require_to(Action::Read)?;
    let shared = ctx
        .job_reads
        .get(id, || async move {
            let job = ctx.store.run(move |c| load_job(c, id)).await?;
            super::blocking(move || {
                serde_json::to_vec(&job)
                    .map(bytes::Bytes::from)
                    .map_err(|e| Error::internal(format!("serializing job {id}: {e}")))
            })
            .await
        })
        .await?;
    Ok((*shared).clone())
}

/// Most runs on one page of `GET /api/jobs/{id}/runs`.
pub const MAX_RUNS_PER_PAGE: i64 = 1000;

/// Checks a page of runs' parameters: the offset of the page.
pub fn runs_page_offset(filter: &rows::RunFilter, page: i64, per_page: i64) -> Result<i64> {
    if filter.script.is_some_and(|s| s < 0) {
        return Err(Error::validation("script", Msg::at_least(0)));
    }
    if page < 1 {
        return Err(Error::validation("page", Msg::at_least(1)));
    }
    if !(1..=MAX_RUNS_PER_PAGE).contains(&per_page) {
        return Err(Error::validation(
            "per_page",
            Msg::between(1, MAX_RUNS_PER_PAGE),
        ));
    }
    Ok((page - 1).saturating_mul(per_page))
}

/// A page of a job's runs, ordered by script index, target name and attempt.
pub async fn runs(
    ctx: &Ctx,
    actor: &Actor,
    job_id: i64,
    filter: rows::RunFilter,
    page: i64,
    per_page: i64,
) -> Result<RunPage> {
    actor.require_to(Action::Read)?;
    let offset = runs_page_offset(&filter, page, per_page)?;
    let (items, total) = ctx
        .store
        .run(move |c| {
            rows::job(c, job_id)?.ok_or(Error::NotFound("job"))?;
            Ok::<_, Error>(rows::runs_page(c, job_id, &filter, offset, per_page)?)
        })
        .await?;
    Ok(RunPage {
        items: items.iter().map(run_dto).collect(),
        total,
        page,
        per_page,
    })
}

pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: JobFilter,
    page: i64,
    per_page: i64,
) -> Result<JobPage> {
    actor.require_to(Action::Read)?;
    let offset = crate::services::page_offset(page, per_page)?;
    if let Some(q) = &filter.name {
        if q.chars().count() > MAX_SEARCH_CHARS {
            return Err(Error::validation("q", Msg::at_most_chars(MAX_SEARCH_CHARS)));
        }
    }
    let (rows, total, counts) = ctx
        .store
        .run(move |c| {
            let (rows, total) = rows::page(c, &filter, offset, per_page)?;
            let ids: Vec<i64> = rows.iter().map(|j| j.id).collect();
            let counts: HashMap<i64, rows::Counts> =
                rows::job_counts(c, &ids)?.into_iter().collect();
            Ok::<_, StoreError>((rows, total, counts))
        })
        .await?;
    Ok(JobPage {
        items: rows
            .iter()
            .map(|j| summary(j, counts.get(&j.id).copied().unwrap_or_default()))
            .collect(),
        total,
        page,
        per_page,
    })
}

/// Operators and admins may steer any job; its owner only while their role still runs jobs
/// (a developer demoted to viewer steers nothing, their own jobs included).
pub(super) async fn require_steer(ctx: &Ctx, actor: &Actor, id: i64) -> Result<()> {
    let job = ctx
        .store
        .run(move |c| rows::job(c, id))
        .await?
        .ok_or(Error::NotFound("job"))?;
    if actor.may(Action::SteerAnyJob) {
        return Ok(());
    }
    actor.require_to(Action::RunJobs)?;
    if job.created_by == Some(actor.user_id) {
        Ok(())
    } else {
        Err(Error::forbidden(Msg::new(
            "job_owner_only",
            "only the job's owner, operators and admins may cancel or retry it",
        )))
    }
}

pub async fn cancel(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Job> {
    require_steer(ctx, actor, id).await?;
    let a = actor.clone();
    // The cancel and its audit entry: one transaction.
    let running = ctx
        .store
        .write(move |c| {
            let running = match rows::request_cancel(c, id)? {
                rows::Cancel::Requested { running } => running,
                rows::Cancel::AlreadyEnded { status } => {
                    return Err(Error::conflict(
                        Msg::new(
                            "job_ended",
                            format!("job {id} has already ended ({status})"),
                        )
                        .with("id", id)
                        .with("status", status.as_str()),
                    ))
                }
            };
            let event = Event::ok("cancel", "job", id).with(json!({"running_runs": running.len()}));
            audit::record(c, Some(&a), None, None, event)?;
            Ok(running)
        })
        .await?;
    for run in running {
        ctx.jobs.cancel_local(run);
    }
    ctx.jobs.changed(id);
    ctx.jobs.wake();
    get(ctx, actor, id).await
}

pub async fn run_log(ctx: &Ctx, actor: &Actor, job_id: i64, run_id: i64) -> Result<RunLog> {
    actor.require_to(Action::Read)?;
    ctx.store
        .run(move |c| {
            let run = rows::run(c, run_id)?
                .filter(|r| r.job_id == job_id)
                .ok_or(Error::NotFound("run"))?;
            let mut statements = vec![];
            for s in rows::statements(c, run_id)? {
                statements.push(StatementLog {
                    index: s.idx,
                    line: s.line,
                    sql: s.sql_text,
                    status: s.status.parse().map_err(|e| {
                        StoreError::Integrity(format!("run_statements.status: {e}"))
                    })?,
                    rows_affected: s.rows_affected,
                    rows_returned: s.rows_returned,
                    notices: super::stored_json(&s.notices, "run_statements.notices")?,
                    notices_dropped: s.notices_dropped,
                    duration_ms: s.duration_ms,
                    error_code: s.error_code,
                    error_message: s.error_message,
                    started_at: s.started_at.and_utc(),
                });
            }
            Ok(RunLog {
                run: run_dto(&run),
                statements,
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::tests::{success, two_running_runs};
    use crate::store::schema::job_runs;
    use diesel::prelude::*;

    #[test]
    fn a_live_read_takes_changed_runs_and_reads_whole_when_it_missed_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, job_id, runs) = two_running_runs(dir.path());
        let first = store.run_blocking(|c| load_job(c, job_id)).expect("load");
        let since = crate::store::now();
        // An end made after `since`: read from the changed runs alone, and right.
        store
            .write_blocking(|c| rows::finish_run(c, runs[0].id, success(), None))
            .expect("end");
        let fresh = store
            .run_blocking(|c| load_job_since(c, &first, since))
            .expect("read")
            .expect("trusted");
        assert_eq!(fresh.scripts[0].runs.len(), 2);
        let whole = store.run_blocking(|c| load_job(c, job_id)).expect("load");
        assert_eq!(
            serde_json::to_value(&fresh).expect("json"),
            serde_json::to_value(&whole).expect("json")
        );
        // An end stamped before `since` (committed late, or another process's clock): the
        // counts give it away, and the caller reads the job whole.
        let since = crate::store::now();
        store
            .write_blocking(|c| {
                rows::finish_run(c, runs[1].id, success(), None)?;
                let long_ago = since - chrono::Duration::minutes(5);
                diesel::update(job_runs::table.find(runs[1].id))
                    .set(job_runs::finished_at.eq(Some(long_ago)))
                    .execute(&mut **c)?;
                Ok::<_, crate::store::StoreError>(())
            })
            .expect("late end");
        let missed = store
            .run_blocking(|c| load_job_since(c, &fresh, since))
            .expect("read");
        assert!(missed.is_none(), "a missed end must not pass: {missed:?}");
    }
}
