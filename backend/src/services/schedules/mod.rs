//! Schedules: a job body fired on a cron expression in an IANA zone. CRUD, preview and "run
//! now" here; what a fire does in `fire.rs`; the fire as a kind of work in `runner.rs`; cron
//! and DST rules in `cron.rs`; the injectable clock in `clock.rs`.

pub mod clock;
pub mod cron;
pub mod fire;
pub mod runner;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::audit::{self, Event};
use super::error::{Error, Msg, Result};
use super::jobs::JobInput;
use super::{Action, Actor, Ctx};
use crate::store::schedules::{self as rows, ScheduleForm, ScheduleRow};
use crate::store::work as items;
use cron::CronExpr;

/// What a fire does when the schedule's previous job still runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Records `skipped_overlap`.
    #[default]
    Skip,
    /// Keeps at most one fire waiting; it starts when the previous job ends.
    Queue,
    /// Starts another job.
    Allow,
}

/// What happens to fires whose time passed while AutoDB was down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Misfire {
    /// Each missed time is recorded `skipped_misfire`.
    #[default]
    Skip,
    /// One job for all the missed times.
    RunOnce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Started,
    SkippedOverlap,
    Queued,
    SkippedMisfire,
    Refused,
}

impl Overlap {
    fn parse(s: &str) -> Self {
        parse(s, Self::Skip)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Queue => "queue",
            Self::Allow => "allow",
        }
    }
}

impl Misfire {
    fn parse(s: &str) -> Self {
        parse(s, Self::Skip)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::RunOnce => "run_once",
        }
    }
}

impl Outcome {
    fn parse(s: &str) -> Self {
        parse(s, Self::Refused)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::SkippedOverlap => "skipped_overlap",
            Self::Queued => "queued",
            Self::SkippedMisfire => "skipped_misfire",
            Self::Refused => "refused",
        }
    }
}

/// A stored name read back as its enum (the migration's CHECK keeps the names valid; an
/// unknown one reads as `fallback`).
fn parse<T: serde::de::DeserializeOwned>(stored: &str, fallback: T) -> T {
    serde_json::from_value(Value::String(stored.to_string())).unwrap_or(fallback)
}

/// `POST /api/schedules` and `PUT /api/schedules/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    #[schema(
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 200
    )]
    pub name: String,
    /// Five fields (minute hour day-of-month month day-of-week) or `@hourly` `@daily`
    /// `@weekly` `@monthly` `@yearly`.
    pub cron: String,
    /// IANA name; `server.timezone` (else the machine's zone) when left out.
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub overlap: Overlap,
    #[serde(default)]
    pub misfire: Misfire,
    /// The body of `POST /api/jobs`. Required to create; left out of an update, the stored
    /// body is kept (what answers show is redacted, so sending it back would change it).
    #[serde(default)]
    #[schema(value_type = Option<JobInput>)]
    pub job: Option<Value>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    pub id: i64,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    pub overlap: Overlap,
    pub misfire: Misfire,
    /// The job body, with password literals in its scripts redacted.
    #[schema(value_type = Object)]
    pub job: Value,
    /// User name of the owner: fires create jobs as this user.
    pub owner: String,
    pub owner_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The next 5 fire times (RFC 3339, with the zone's offset); empty when disabled.
    #[serde(serialize_with = "with_offsets")]
    pub next_runs: Vec<DateTime<FixedOffset>>,
    pub last_fired_at: Option<DateTime<Utc>>,
    pub last_job_id: Option<i64>,
    /// The newest fire's outcome.
    pub last_outcome: Option<Outcome>,
    /// A fire waits for the previous job to end (overlap `queue`).
    pub queued: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Fire {
    /// In the schedule's zone, with its offset.
    #[serde(serialize_with = "with_offset")]
    pub scheduled_for: DateTime<FixedOffset>,
    pub fired_at: DateTime<Utc>,
    pub job_id: Option<i64>,
    pub outcome: Outcome,
    /// Why a fire was refused (the job's validation or permission error).
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub cron: String,
    #[serde(default)]
    pub timezone: Option<String>,
    /// 1 to 100; 5 when left out.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub count: Option<usize>,
    /// After this time (RFC 3339); now when left out.
    #[serde(default)]
    pub from: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    #[serde(serialize_with = "with_offsets")]
    pub times: Vec<DateTime<FixedOffset>>,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunNow {
    pub job_id: i64,
}

/// RFC 3339 with the offset always written (`+00:00`, never `Z`).
fn with_offset<S: serde::Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
}

fn with_offsets<S: serde::Serializer>(
    ts: &[DateTime<FixedOffset>],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        ts.iter()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)),
    )
}

pub const NEXT_RUNS: usize = 5;
pub const MAX_PREVIEW: usize = 100;

fn zone_of(ctx: &Ctx, name: Option<&str>) -> Result<chrono_tz::Tz> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => cron::parse_zone(n),
        None => Ok(clock::default_zone(&ctx.settings.server.timezone)),
    }
}

fn offset(t: DateTime<chrono_tz::Tz>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

/// The stored body must be a job body: checked as `POST /api/jobs` reads it (fields named
/// under `job.`); targets and scripts are checked again at every fire.
fn check_job(body: &Value) -> Result<JobInput> {
    let input: JobInput = serde_path_to_error::deserialize(body.clone()).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "job".to_string()
        } else {
            format!("job.{path}")
        };
        Error::validation(field, e.inner().to_string())
    })?;
    if input.name.trim().is_empty() {
        return Err(Error::validation("job.name", Msg::empty()));
    }
    if input.scripts.is_empty() {
        return Err(Error::validation(
            "job.scripts",
            Msg::new("scripts_count", "must list at least one script")
                .with("max", crate::services::jobs::MAX_SCRIPTS),
        ));
    }
    Ok(input)
}

/// The body with each script's password literals redacted, as each dialect reads them.
fn redacted(body: &Value) -> Value {
    let mut shown = body.clone();
    if let Some(scripts) = shown.get_mut("scripts").and_then(Value::as_array_mut) {
        for s in scripts {
            if let Some(sql) = s.get("sql").and_then(Value::as_str) {
                let text = [
                    sqlsplit::Dialect::Postgres,
                    sqlsplit::Dialect::Mysql,
                    sqlsplit::Dialect::Oracle,
                ]
                .into_iter()
                .fold(sql.to_string(), |t, d| sqlsplit::redact(d, &t).text);
                s["sql"] = Value::String(text);
            }
        }
    }
    shown
}

struct Checked {
    form: ScheduleForm,
    zone: chrono_tz::Tz,
}

/// Checks the input; `kept` is the stored body (sealed, shown) an update keeps without `job`.
fn check(
    ctx: &Ctx,
    input: &ScheduleInput,
    now: DateTime<Utc>,
    kept: Option<(String, String)>,
) -> Result<Checked> {
    let name = input.name.trim();
    if name.is_empty() || input.name.chars().count() > 200 {
        return Err(Error::validation("name", Msg::chars(1, 200)));
    }
    let cron = CronExpr::parse(&input.cron)?;
    let zone = zone_of(ctx, input.timezone.as_deref())?;
    let (job_sealed, job_shown) = match (&input.job, kept) {
        (Some(job), _) => {
            check_job(job)?;
            (
                ctx.secrets.seal_script(&job.to_string()),
                redacted(job).to_string(),
            )
        }
        (None, Some(kept)) => kept,
        (None, None) => return Err(Error::unprocessable("job", Msg::required())),
    };
    let next = if input.enabled {
        cron::next_fires(&cron, zone, now, 1)
            .first()
            .map(|t| t.naive_utc())
    } else {
        None
    };
    Ok(Checked {
        form: ScheduleForm {
            name: name.to_string(),
            cron: cron.as_str().to_string(),
            timezone: zone.name().to_string(),
            enabled: input.enabled,
            overlap: input.overlap.as_str().into(),
            misfire: input.misfire.as_str().into(),
            job_sealed,
            job_shown,
            updated_at: crate::store::now(),
            next_fire_at: next,
        },
        zone,
    })
}

/// The schedule's one waiting fire item (subject 0: "the next fire").
fn enqueue_next(tx: &mut crate::store::WriteTx<'_>, id: i64, at: NaiveDateTime) -> Result<()> {
    items::enqueue(
        tx,
        &[items::NewItem {
            kind: rows::WORK_KIND,
            group_id: id,
            subject_id: 0,
            target_id: None,
            run_after: at,
            created_at: crate::store::now(),
        }],
    )?;
    Ok(())
}

pub(crate) fn dto(
    row: &ScheduleRow,
    now: DateTime<Utc>,
    last_outcome: Option<&rows::FireRow>,
) -> Schedule {
    let zone: chrono_tz::Tz = row.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let next_runs = match (row.enabled, CronExpr::parse(&row.cron)) {
        (true, Ok(c)) => cron::next_fires(&c, zone, now, NEXT_RUNS)
            .into_iter()
            .map(offset)
            .collect(),
        _ => vec![],
    };
    Schedule {
        id: row.id,
        name: row.name.clone(),
        cron: row.cron.clone(),
        timezone: row.timezone.clone(),
        enabled: row.enabled,
        overlap: Overlap::parse(&row.overlap),
        misfire: Misfire::parse(&row.misfire),
        job: serde_json::from_str(&row.job_shown).unwrap_or(Value::Null),
        owner: row.owner_name.clone(),
        owner_id: row.owner_id,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        next_runs,
        last_fired_at: row.last_fired_at.map(|t| t.and_utc()),
        last_job_id: row.last_job_id,
        last_outcome: last_outcome.map(|f| Outcome::parse(&f.outcome)),
        queued: row.queued_fire_id.is_some(),
    }
}

pub async fn get(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Schedule> {
    actor.require_to(Action::Read)?;
    let now = ctx.clock.now();
    ctx.store
        .run(move |c| {
            let row = rows::get(c, id)?.ok_or(Error::NotFound("schedule"))?;
            let last = rows::fires(c, id, 1)?;
            Ok(dto(&row, now, last.first()))
        })
        .await
}

pub async fn list(ctx: &Ctx, actor: &Actor) -> Result<Vec<Schedule>> {
    actor.require_to(Action::Read)?;
    let now = ctx.clock.now();
    ctx.store
        .run(move |c| {
            let all = rows::list(c)?;
            let mut out = Vec::with_capacity(all.len());
            for row in &all {
                let last = rows::fires(c, row.id, 1)?;
                out.push(dto(row, now, last.first()));
            }
            Ok::<_, Error>(out)
        })
        .await
}

pub async fn create(ctx: &Ctx, actor: &Actor, input: ScheduleInput) -> Result<Schedule> {
    actor.require_to(Action::RunJobs)?;
    let checked = check(ctx, &input, ctx.clock.now(), None)?;
    let a = actor.clone();
    let id = ctx
        .store
        .write(move |tx| {
            let form = checked.form;
            let id = rows::insert(tx, &form, (a.user_id, &a.username), crate::store::now())?;
            if let Some(at) = form.next_fire_at {
                enqueue_next(tx, id, at)?;
            }
            let event = Event::ok("create", "schedule", id).with(json!({
                "name": form.name, "cron": form.cron, "timezone": checked.zone.name(),
            }));
            audit::record(tx, Some(&a), None, None, event)?;
            Ok::<_, Error>(id)
        })
        .await?;
    ctx.schedules.wake();
    get(ctx, actor, id).await
}

/// The owner, or an admin (who may change anyone's), while their role runs jobs.
fn require_owner(actor: &Actor, row: &ScheduleRow) -> Result<()> {
    actor.require_to(Action::RunJobs)?;
    if actor.may(Action::ManageAnySchedule) || row.owner_id == Some(actor.user_id) {
        Ok(())
    } else {
        Err(Error::forbidden(Msg::new(
            "schedule_owner_only",
            "only the schedule's owner and admins may change, delete or run it",
        )))
    }
}

async fn load_owned(ctx: &Ctx, actor: &Actor, id: i64) -> Result<ScheduleRow> {
    let row = ctx
        .store
        .run(move |c| rows::get(c, id))
        .await?
        .ok_or(Error::NotFound("schedule"))?;
    require_owner(actor, &row)?;
    Ok(row)
}

/// Changes a schedule; its next fire is computed again from now (its waiting item replaced).
pub async fn update(ctx: &Ctx, actor: &Actor, id: i64, input: ScheduleInput) -> Result<Schedule> {
    let row = load_owned(ctx, actor, id).await?;
    let checked = check(
        ctx,
        &input,
        ctx.clock.now(),
        Some((row.job_sealed, row.job_shown)),
    )?;
    let a = actor.clone();
    ctx.store
        .write(move |tx| {
            // Lock order: the schedule's items, then its row.
            rows::drop_waiting(tx, id)?;
            let event = Event::ok("update", "schedule", id).with(json!({
                "name": checked.form.name, "cron": checked.form.cron,
                "timezone": checked.zone.name(), "enabled": checked.form.enabled,
            }));
            audit::record(tx, Some(&a), None, None, event)?;
            if rows::update(tx, id, &checked.form)? == 0 {
                return Err(Error::NotFound("schedule"));
            }
            if let Some(at) = checked.form.next_fire_at {
                enqueue_next(tx, id, at)?;
            }
            Ok(())
        })
        .await?;
    ctx.schedules.wake();
    get(ctx, actor, id).await
}

pub async fn delete(ctx: &Ctx, actor: &Actor, id: i64) -> Result<()> {
    let row = load_owned(ctx, actor, id).await?;
    let actor = actor.clone();
    ctx.store
        .write(move |tx| {
            rows::drop_waiting(tx, id)?;
            let event = Event::ok("delete", "schedule", id).with(json!({"name": row.name}));
            audit::record(tx, Some(&actor), None, None, event)?;
            if rows::delete(tx, id)? == 0 {
                return Err(Error::NotFound("schedule"));
            }
            Ok(())
        })
        .await
}

/// Starts the schedule's job now, as the caller, through `POST /api/jobs`'s path; the job is
/// linked to the schedule (and counts as its previous job for overlap).
pub async fn run_now(ctx: &Ctx, actor: &Actor, id: i64) -> Result<RunNow> {
    let row = load_owned(ctx, actor, id).await?;
    let input = fire::stored_job(ctx, &row)?;
    let job = super::jobs::submit_linked(ctx, actor, input, move |tx, job_id| {
        Ok(rows::link_job(tx, id, job_id)?)
    })
    .await?;
    Ok(RunNow { job_id: job.id })
}

pub const MAX_FIRES: i64 = 500;

/// A schedule's fires, newest first.
pub async fn fires(ctx: &Ctx, actor: &Actor, id: i64, limit: i64) -> Result<Vec<Fire>> {
    actor.require_to(Action::Read)?;
    if !(1..=MAX_FIRES).contains(&limit) {
        return Err(Error::validation("limit", Msg::between(1, MAX_FIRES)));
    }
    ctx.store
        .run(move |c| {
            let row = rows::get(c, id)?.ok_or(Error::NotFound("schedule"))?;
            let zone: chrono_tz::Tz = row.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
            Ok(rows::fires(c, id, limit)?
                .into_iter()
                .map(|f| Fire {
                    scheduled_for: f
                        .scheduled_for
                        .and_utc()
                        .with_timezone(&zone)
                        .fixed_offset(),
                    fired_at: f.fired_at.and_utc(),
                    job_id: f.job_id,
                    outcome: Outcome::parse(&f.outcome),
                    message: f.message,
                })
                .collect())
        })
        .await
}

/// The next fire times of an expression, for the editor and for checking DST behaviour.
pub fn preview(ctx: &Ctx, input: &PreviewInput) -> Result<Preview> {
    let cron = CronExpr::parse(&input.cron)?;
    let zone = zone_of(ctx, input.timezone.as_deref())?;
    let count = input.count.unwrap_or(NEXT_RUNS);
    if !(1..=MAX_PREVIEW).contains(&count) {
        return Err(Error::validation(
            "count",
            Msg::between(1, MAX_PREVIEW as i64),
        ));
    }
    let from = input
        .from
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| ctx.clock.now());
    Ok(Preview {
        times: cron::next_fires(&cron, zone, from, count)
            .into_iter()
            .map(offset)
            .collect(),
        timezone: zone.name().to_string(),
    })
}
