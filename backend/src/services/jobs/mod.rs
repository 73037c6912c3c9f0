//! Jobs: ordered SQL scripts, each run on its targets in parallel, in the background.
//! Submitting writes the job, its scripts and runs to the store and answers; the engine
//! (`engine.rs`) executes them; `events.rs` streams their progress.

pub mod events;
pub mod runner;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{self, Event};
use super::error::{Error, Result};
use super::{Action, Actor, Ctx};
use crate::connectors::Engine;
use crate::store::jobs::{self as rows, JobFilter};
use crate::store::targets as target_rows;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The next scripts still run after a failure.
    Continue,
    /// Once a run fails, what has not started is cancelled.
    #[default]
    Stop,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
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
    pub name: String,
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
    /// `waiting` `running` `success` `error` `cancelled`
    pub status: String,
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
    /// What the run's process reported after AutoDB had already ended the run (it lost its
    /// lease and was reaped: `status` stays the reaper's `error`): `success` `error`
    /// `cancelled`, or null.
    pub late_status: Option<String>,
}

/// A script's runs, latest attempts only, by status.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
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
    pub status: String,
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
    pub status: String,
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
    pub status: String,
    pub attempt: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
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
    pub status: String,
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
        status: r.status.clone(),
        started_at: utc(r.started_at),
        finished_at: utc(r.finished_at),
        statements_done: r.statements_done,
        statements_total: r.statements_total,
        error: r.error.clone(),
        error_code: r.error_code.clone(),
        error_line: r.error_line,
        superseded: !r.latest,
        late_status: r.late_status.clone(),
    }
}

fn summary(j: &rows::JobRow) -> JobSummary {
    JobSummary {
        id: j.id,
        name: j.name.clone(),
        status: j.status.clone(),
        attempt: j.attempt,
        created_by: j.created_by_name.clone(),
        created_at: j.created_at.and_utc(),
        started_at: utc(j.started_at),
        finished_at: utc(j.finished_at),
    }
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
    Ok(Job {
        id: job.id,
        name: job.name.clone(),
        status: job.status.clone(),
        on_error: if job.on_error == "continue" {
            OnError::Continue
        } else {
            OnError::Stop
        },
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
                status: s.status.clone(),
                sql: shown_script(s),
                targets: serde_json::from_str(&s.target_selector).unwrap_or_default(),
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
                runs: by_script.remove(&s.idx).unwrap_or_default(),
            })
            .collect(),
    })
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
    let all = target_rows::list(conn, &[])?;
    let mut out = vec![];
    for (i, s) in input.scripts.iter().enumerate() {
        let field = |f: &str| format!("scripts[{i}].{f}");
        if s.sql.trim().is_empty() {
            return Err(Error::validation(field("sql"), "is empty"));
        }
        let chosen: Vec<&(target_rows::TargetRow, Vec<String>)> =
            match (s.target_ids.is_empty(), s.target_tags.is_empty()) {
                (false, true) => {
                    let ids: BTreeSet<i64> = s.target_ids.iter().copied().collect();
                    let found: Vec<_> = all.iter().filter(|(t, _)| ids.contains(&t.id)).collect();
                    if let Some(missing) = ids
                        .iter()
                        .find(|id| !found.iter().any(|(t, _)| t.id == **id))
                    {
                        return Err(Error::validation(
                            field("target_ids"),
                            format!("no target with id {missing}"),
                        ));
                    }
                    found
                }
                (true, false) => {
                    let found: Vec<_> = all
                        .iter()
                        .filter(|(_, tags)| s.target_tags.iter().all(|want| tags.contains(want)))
                        .collect();
                    if found.is_empty() {
                        return Err(Error::validation(
                            field("target_tags"),
                            format!("no target carries all of {:?}", s.target_tags),
                        ));
                    }
                    found
                }
                _ => {
                    return Err(Error::validation(
                        field("target_ids"),
                        "give either target_ids or target_tags (not both, not neither)",
                    ))
                }
            };
        // Split once per engine among the targets, not once per target.
        let engines: BTreeSet<&str> = chosen.iter().map(|(t, _)| t.engine.as_str()).collect();
        let mut shown = s.sql.clone();
        for name in engines {
            let engine: Engine = name.parse().map_err(|e| Error::internal(format!("{e}")))?;
            if sqlsplit::split(engine.dialect(), &s.sql)
                .statements
                .is_empty()
            {
                return Err(Error::validation(
                    field("sql"),
                    format!("has no statement to run on {engine} targets"),
                ));
            }
            // As each engine reads it: what is a literal differs between dialects.
            shown = sqlsplit::redact(engine.dialect(), &shown).text;
        }
        let selector =
            json!({"target_ids": s.target_ids, "target_tags": s.target_tags}).to_string();
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
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::validation("name", "must be 1 to 200 characters"));
    }
    if input.scripts.is_empty() || input.scripts.len() > MAX_SCRIPTS {
        return Err(Error::validation(
            "scripts",
            format!("must list 1 to {MAX_SCRIPTS} scripts"),
        ));
    }
    let actor = actor.clone();
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
        on_error: if on_error == OnError::Continue {
            "continue"
        } else {
            "stop"
        }
        .into(),
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
            audit::record(c, Some(&actor), None, None, event)?;
            link(c, id)?;
            Ok::<_, Error>(id)
        })
        .await?;
    ctx.jobs.wake();
    get(ctx, id).await
}

pub async fn get(ctx: &Ctx, id: i64) -> Result<Job> {
    ctx.store.run(move |c| load_job(c, id)).await
}

/// Most runs on one page of `GET /api/jobs/{id}/runs`.
pub const MAX_RUNS_PER_PAGE: i64 = 1000;
pub const RUN_STATUSES: [&str; 5] = [
    rows::WAITING,
    rows::RUNNING,
    rows::SUCCESS,
    rows::ERROR,
    rows::CANCELLED,
];

/// Checks a page of runs' parameters: the offset of the page.
pub fn runs_page_offset(filter: &rows::RunFilter, page: i64, per_page: i64) -> Result<i64> {
    if let Some(status) = &filter.status {
        if !RUN_STATUSES.contains(&status.as_str()) {
            return Err(Error::validation(
                "status",
                format!("must be one of {}", RUN_STATUSES.join(", ")),
            ));
        }
    }
    if filter.script.is_some_and(|s| s < 0) {
        return Err(Error::validation("script", "must be 0 or more"));
    }
    if page < 1 {
        return Err(Error::validation("page", "must be 1 or more"));
    }
    if !(1..=MAX_RUNS_PER_PAGE).contains(&per_page) {
        return Err(Error::validation(
            "per_page",
            format!("must be between 1 and {MAX_RUNS_PER_PAGE}"),
        ));
    }
    Ok((page - 1) * per_page)
}

/// A page of a job's runs, ordered by script index, target name and attempt.
pub async fn runs(
    ctx: &Ctx,
    job_id: i64,
    filter: rows::RunFilter,
    page: i64,
    per_page: i64,
) -> Result<RunPage> {
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

pub async fn list(ctx: &Ctx, filter: JobFilter, page: i64, per_page: i64) -> Result<JobPage> {
    let offset = crate::services::page_offset(page, per_page)?;
    let (rows, total) = ctx
        .store
        .run(move |c| rows::page(c, &filter, offset, per_page))
        .await?;
    Ok(JobPage {
        items: rows.iter().map(summary).collect(),
        total,
        page,
        per_page,
    })
}

/// Operators and admins may steer any job; its owner only while their role still runs jobs
/// (a developer demoted to viewer steers nothing, their own jobs included).
async fn require_steer(ctx: &Ctx, actor: &Actor, id: i64) -> Result<()> {
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
        Err(Error::forbidden(
            "only the job's owner, operators and admins may cancel or retry it",
        ))
    }
}

pub async fn cancel(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Job> {
    require_steer(ctx, actor, id).await?;
    let actor = actor.clone();
    // The cancel and its audit entry: one transaction.
    let running = ctx
        .store
        .write(move |c| {
            let running = match rows::request_cancel(c, id)? {
                rows::Cancel::Requested { running } => running,
                rows::Cancel::AlreadyEnded { status } => {
                    return Err(Error::Conflict(format!(
                        "job {id} has already ended ({status})"
                    )))
                }
            };
            let event = Event::ok("cancel", "job", id).with(json!({"running_runs": running.len()}));
            audit::record(c, Some(&actor), None, None, event)?;
            Ok(running)
        })
        .await?;
    for run in running {
        ctx.jobs.cancel_local(run);
    }
    ctx.jobs.changed(id);
    ctx.jobs.wake();
    get(ctx, id).await
}

pub async fn retry(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Job> {
    require_steer(ctx, actor, id).await?;
    let actor = actor.clone();
    ctx.store
        .write(move |c| {
            let n = match rows::retry(c, id)? {
                rows::Retry::Again { runs } => runs,
                rows::Retry::StillActive { status } => {
                    return Err(Error::Conflict(format!("job {id} is still {status}")))
                }
                rows::Retry::NothingFailed => {
                    return Err(Error::Conflict(format!(
                        "job {id} has no failed or cancelled runs"
                    )))
                }
            };
            let event = Event::ok("retry", "job", id).with(json!({"runs": n}));
            audit::record(c, Some(&actor), None, None, event)
        })
        .await?;
    ctx.jobs.changed(id);
    ctx.jobs.wake();
    get(ctx, id).await
}

pub async fn run_log(ctx: &Ctx, job_id: i64, run_id: i64) -> Result<RunLog> {
    ctx.store
        .run(move |c| {
            let run = rows::run(c, run_id)?
                .filter(|r| r.job_id == job_id)
                .ok_or(Error::NotFound("run"))?;
            let statements = rows::statements(c, run_id)?
                .into_iter()
                .map(|s| StatementLog {
                    index: s.idx,
                    line: s.line,
                    sql: s.sql_text,
                    status: s.status,
                    rows_affected: s.rows_affected,
                    rows_returned: s.rows_returned,
                    notices: serde_json::from_str(&s.notices).unwrap_or_default(),
                    notices_dropped: s.notices_dropped,
                    duration_ms: s.duration_ms,
                    error_code: s.error_code,
                    error_message: s.error_message,
                    started_at: s.started_at.and_utc(),
                })
                .collect();
            Ok(RunLog {
                run: run_dto(&run),
                statements,
            })
        })
        .await
}
