//! Schedules and their fires. A fire's row is unique on (schedule_id, scheduled_for); a fire
//! moves the schedule on with a compare-and-set of `next_fire_at` (or `queued_fire_id`), so a
//! fire happens once however many processes try it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::Result;
use super::schema::{jobs, schedule_fires, schedules};
use super::{DbConn, WriteTx};

/// The `work_items.kind` of schedule fires.
pub const WORK_KIND: &str = "schedule_fire";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = schedules)]
pub struct ScheduleRow {
    pub id: i64,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    pub overlap: String,
    pub misfire: String,
    pub job_sealed: String,
    pub job_shown: String,
    pub owner_id: Option<i64>,
    pub owner_name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub next_fire_at: Option<NaiveDateTime>,
    pub last_fired_at: Option<NaiveDateTime>,
    pub last_job_id: Option<i64>,
    pub queued_fire_id: Option<i64>,
}

/// What a create or an update writes.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = schedules, treat_none_as_null = true)]
pub struct ScheduleForm {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub enabled: bool,
    pub overlap: String,
    pub misfire: String,
    pub job_sealed: String,
    pub job_shown: String,
    pub updated_at: NaiveDateTime,
    pub next_fire_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = schedule_fires)]
pub struct FireRow {
    pub id: i64,
    pub schedule_id: i64,
    pub scheduled_for: NaiveDateTime,
    pub fired_at: NaiveDateTime,
    pub job_id: Option<i64>,
    pub outcome: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = schedule_fires, treat_none_as_default_value = false)]
pub struct NewFire {
    pub schedule_id: i64,
    pub scheduled_for: NaiveDateTime,
    pub fired_at: NaiveDateTime,
    pub job_id: Option<i64>,
    pub outcome: String,
    pub message: Option<String>,
}

pub fn insert(
    tx: &mut WriteTx<'_>,
    form: &ScheduleForm,
    owner: (i64, &str),
    at: NaiveDateTime,
) -> Result<i64> {
    let values = (
        form,
        schedules::owner_id.eq(Some(owner.0)),
        schedules::owner_name.eq(owner.1),
        schedules::created_at.eq(at),
    );
    Ok(match &mut **tx {
        DbConn::Postgresql(pg) => diesel::insert_into(schedules::table)
            .values(values)
            .returning(schedules::id)
            .get_result(pg)?,
        DbConn::Sqlite(lite) => {
            diesel::insert_into(schedules::table)
                .values(values)
                .execute(lite)?;
            schedules::table
                .select(schedules::id)
                .order(schedules::id.desc())
                .first(lite)?
        }
    })
}

pub fn get(conn: &mut DbConn, id: i64) -> Result<Option<ScheduleRow>> {
    Ok(schedules::table
        .find(id)
        .select(ScheduleRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<ScheduleRow>> {
    Ok(schedules::table
        .order(schedules::id.asc())
        .select(ScheduleRow::as_select())
        .load(conn)?)
}

pub fn update(tx: &mut WriteTx<'_>, id: i64, form: &ScheduleForm) -> Result<usize> {
    Ok(diesel::update(schedules::table.find(id))
        .set((form, schedules::queued_fire_id.eq(None::<i64>)))
        .execute(&mut **tx)?)
}

pub fn delete(tx: &mut WriteTx<'_>, id: i64) -> Result<usize> {
    diesel::update(jobs::table.filter(jobs::schedule_id.eq(id)))
        .set(jobs::schedule_id.eq(None::<i64>))
        .execute(&mut **tx)?;
    diesel::delete(schedule_fires::table.filter(schedule_fires::schedule_id.eq(id)))
        .execute(&mut **tx)?;
    Ok(diesel::delete(schedules::table.find(id)).execute(&mut **tx)?)
}

/// Ids of enabled schedules due at `now`, and (schedule, fire) of the queued fires.
pub struct Due {
    pub schedules: Vec<i64>,
    pub queued: Vec<(i64, i64)>,
}

pub fn due(conn: &mut DbConn, now: NaiveDateTime) -> Result<Due> {
    let due = schedules::table
        .filter(schedules::enabled.eq(true))
        .filter(schedules::next_fire_at.le(now))
        .order(schedules::id.asc())
        .select(schedules::id)
        .load(conn)?;
    let queued: Vec<(i64, Option<i64>)> = schedules::table
        .filter(schedules::queued_fire_id.is_not_null())
        .select((schedules::id, schedules::queued_fire_id))
        .load(conn)?;
    Ok(Due {
        schedules: due,
        queued: queued
            .into_iter()
            .filter_map(|(s, f)| f.map(|f| (s, f)))
            .collect(),
    })
}

/// The compare-and-set of a fire: moves `next_fire_at` from `expected` to `next`. `false`:
/// another fire (or an edit) moved it first.
pub fn advance(
    tx: &mut WriteTx<'_>,
    id: i64,
    expected: NaiveDateTime,
    next: Option<NaiveDateTime>,
    fired_at: NaiveDateTime,
) -> Result<bool> {
    let n = diesel::update(
        schedules::table
            .find(id)
            .filter(schedules::next_fire_at.eq(expected)),
    )
    .set((
        schedules::next_fire_at.eq(next),
        schedules::last_fired_at.eq(Some(fired_at)),
    ))
    .execute(&mut **tx)?;
    Ok(n == 1)
}

/// Takes the schedule's queued fire (compare-and-set on its id). `false`: it was taken.
pub fn take_queued(tx: &mut WriteTx<'_>, id: i64, fire_id: i64) -> Result<bool> {
    let n = diesel::update(
        schedules::table
            .find(id)
            .filter(schedules::queued_fire_id.eq(fire_id)),
    )
    .set(schedules::queued_fire_id.eq(None::<i64>))
    .execute(&mut **tx)?;
    Ok(n == 1)
}

pub fn set_queued(tx: &mut WriteTx<'_>, id: i64, fire_id: i64) -> Result<()> {
    diesel::update(schedules::table.find(id))
        .set(schedules::queued_fire_id.eq(Some(fire_id)))
        .execute(&mut **tx)?;
    Ok(())
}

/// The job a fire (or a run now) started: linked both ways.
pub fn link_job(tx: &mut WriteTx<'_>, id: i64, job_id: i64) -> Result<()> {
    diesel::update(schedules::table.find(id))
        .set(schedules::last_job_id.eq(Some(job_id)))
        .execute(&mut **tx)?;
    diesel::update(jobs::table.find(job_id))
        .set(jobs::schedule_id.eq(Some(id)))
        .execute(&mut **tx)?;
    Ok(())
}

/// Records a fire; a second row for the same time is refused ([`super::StoreError::Duplicate`]).
pub fn insert_fire(tx: &mut WriteTx<'_>, fire: &NewFire) -> Result<i64> {
    Ok(match &mut **tx {
        DbConn::Postgresql(pg) => diesel::insert_into(schedule_fires::table)
            .values(fire)
            .returning(schedule_fires::id)
            .get_result(pg)?,
        DbConn::Sqlite(lite) => {
            diesel::insert_into(schedule_fires::table)
                .values(fire)
                .execute(lite)?;
            schedule_fires::table
                .select(schedule_fires::id)
                .order(schedule_fires::id.desc())
                .first(lite)?
        }
    })
}

pub fn set_fire_outcome(
    tx: &mut WriteTx<'_>,
    fire_id: i64,
    job_id: Option<i64>,
    outcome: Option<&str>,
    message: Option<&str>,
) -> Result<()> {
    let this = schedule_fires::table.find(fire_id);
    if let Some(o) = outcome {
        diesel::update(this)
            .set((
                schedule_fires::outcome.eq(o),
                schedule_fires::message.eq(message),
            ))
            .execute(&mut **tx)?;
    }
    if job_id.is_some() {
        diesel::update(this)
            .set(schedule_fires::job_id.eq(job_id))
            .execute(&mut **tx)?;
    }
    Ok(())
}

/// Newest first.
pub fn fires(conn: &mut DbConn, id: i64, limit: i64) -> Result<Vec<FireRow>> {
    Ok(schedule_fires::table
        .filter(schedule_fires::schedule_id.eq(id))
        .order(schedule_fires::scheduled_for.desc())
        .limit(limit)
        .select(FireRow::as_select())
        .load(conn)?)
}

/// Whether a job has not ended yet (its `finished_at` is unset).
pub fn job_active(conn: &mut DbConn, job_id: i64) -> Result<bool> {
    let finished: Option<Option<NaiveDateTime>> = jobs::table
        .find(job_id)
        .select(jobs::finished_at)
        .first(conn)
        .optional()?;
    Ok(matches!(finished, Some(None)))
}

/// Removes the schedule's waiting fire items (an edit or a delete replaces them).
pub fn drop_waiting(tx: &mut WriteTx<'_>, id: i64) -> Result<usize> {
    super::work::drop_waiting(tx, WORK_KIND, id)
}

/// Whether the schedule has a waiting next-fire item other than `item_id`.
pub fn other_waiting(conn: &mut DbConn, id: i64, item_id: i64) -> Result<bool> {
    use super::schema::work_items;
    let found: Option<i64> = work_items::table
        .filter(work_items::kind.eq(WORK_KIND))
        .filter(work_items::group_id.eq(id))
        .filter(work_items::subject_id.eq(0))
        .filter(work_items::status.eq(super::work::WAITING))
        .filter(work_items::id.ne(item_id))
        .select(work_items::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}
