//! What a fire does. Each fire is decided, then written in one transaction that moves the
//! schedule on with a compare-and-set (`next_fire_at` from the time fired to the next one),
//! inserts the fire rows (unique on schedule and time), links the job and enqueues the next
//! fire's item. A started job is written in that same transaction (through
//! `jobs::submit_linked`, the path of `POST /api/jobs`, as the owner): if another process
//! fired first, the compare-and-set fails and neither the job nor the fire is written.
//!
//! Misfires: the due times of one fire are every time from `next_fire_at` up to now. All but
//! the newest were missed (recorded `skipped_misfire`). The newest is late when it is more
//! than `schedules.misfire_grace_s` old: then `skip` records it `skipped_misfire` too and
//! `run_once` starts one job for all of them. On time, it fires as usual.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::Value;

use super::cron::{self, CronExpr};
use super::{Misfire, Outcome, Overlap};
use crate::services::error::{Error, Result};
use crate::services::jobs::{self, JobInput};
use crate::services::{Action, Actor, Ctx, Role};
use crate::store::schedules::{self as rows, NewFire, ScheduleRow};
use crate::store::{users, work as items, WriteTx};

/// At most this many due times are recorded by one fire (AutoDB down for a long time).
const MAX_CATCHUP: usize = 1000;
/// How often a queued fire looks whether the previous job has ended.
pub const QUEUE_RECHECK: Duration = Duration::seconds(2);

/// What became of a fire item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Fired, skipped, or nothing to do (another process fired it, the schedule changed).
    Done,
    /// Its time has not come (by this process's clock).
    NotYet(DateTime<Utc>),
    /// A queued fire whose previous job still runs.
    Waiting,
}

/// The stored job body, checked again as `POST /api/jobs` reads it.
pub(crate) fn stored_job(ctx: &Ctx, row: &ScheduleRow) -> Result<JobInput> {
    let text = ctx
        .secrets
        .open_script(&row.job_sealed)
        .map_err(|e| Error::internal(format!("schedule {}: its job body: {e}", row.id)))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("schedule {}: its job body: {e}", row.id)))?;
    super::check_job(&value)
}

/// Fires every due schedule and every queued fire whose previous job ended, at `now`. The
/// engine fires one schedule per item; tests drive this with a hand-set clock.
pub async fn fire_due(ctx: &Ctx, now: DateTime<Utc>) -> Result<usize> {
    let at = now.naive_utc();
    let due = ctx.store.run(move |c| rows::due(c, at)).await?;
    let mut n = 0;
    for id in due.schedules {
        if fire_next(ctx, id, now).await? == Handled::Done {
            n += 1;
        }
    }
    for (id, fire) in due.queued {
        if fire_queued(ctx, id, fire, now).await? == Handled::Done {
            n += 1;
        }
    }
    Ok(n)
}

/// The owner as an actor, while they may still run jobs; else why not.
async fn owner(ctx: &Ctx, row: &ScheduleRow) -> Result<std::result::Result<Actor, String>> {
    let Some(uid) = row.owner_id else {
        return Ok(Err("the schedule's owner no longer exists".into()));
    };
    let Some(user) = ctx.store.run(move |c| users::by_id(c, uid)).await? else {
        return Ok(Err("the schedule's owner no longer exists".into()));
    };
    if user.disabled {
        return Ok(Err(format!("the owner {} is disabled", user.username)));
    }
    let role: Role = user.role.parse().map_err(Error::internal)?;
    let actor = Actor {
        user_id: user.id,
        username: user.username,
        role,
        client_addr: None,
        session_digest: None,
    };
    if !actor.may(Action::RunJobs) {
        return Ok(Err(format!(
            "the owner {} ({}) may no longer run jobs",
            actor.username, actor.role
        )));
    }
    Ok(Ok(actor))
}

fn fire_row(id: i64, at: DateTime<Utc>, now: DateTime<Utc>, outcome: Outcome) -> NewFire {
    NewFire {
        schedule_id: id,
        scheduled_for: at.naive_utc(),
        fired_at: now.naive_utc(),
        job_id: None,
        outcome: outcome.as_str().into(),
        message: None,
    }
}

/// A fire's whole write (see the module docs). `Conflict`: another fire or an edit was first.
struct Commit {
    id: i64,
    expected: NaiveDateTime,
    next: Option<NaiveDateTime>,
    now: NaiveDateTime,
    fires: Vec<NewFire>,
    queue: bool,
}

const ALREADY: &str = "this fire was already handled";

impl Commit {
    fn write(self, tx: &mut WriteTx<'_>, job: Option<i64>) -> Result<()> {
        if !rows::advance(tx, self.id, self.expected, self.next, self.now)? {
            return Err(Error::Conflict(ALREADY.into()));
        }
        let mut last = None;
        for mut f in self.fires {
            if f.outcome == Outcome::Started.as_str() {
                f.job_id = job;
            }
            last = Some(rows::insert_fire(tx, &f)?);
        }
        if let Some(j) = job {
            rows::link_job(tx, self.id, j)?;
        }
        if let (true, Some(fire)) = (self.queue, last) {
            rows::set_queued(tx, self.id, fire)?;
            enqueue(tx, self.id, fire, crate::store::now() + QUEUE_RECHECK)?;
        }
        if let Some(n) = self.next {
            enqueue(tx, self.id, 0, n)?;
        }
        Ok(())
    }
}

/// A fire item: subject 0 is the schedule's next fire, any other a queued fire's id.
pub(crate) fn enqueue(
    tx: &mut WriteTx<'_>,
    id: i64,
    subject: i64,
    at: NaiveDateTime,
) -> Result<()> {
    items::enqueue(
        tx,
        &[items::NewItem {
            kind: rows::WORK_KIND,
            group_id: id,
            subject_id: subject,
            target_id: None,
            run_after: at,
            created_at: crate::store::now(),
        }],
    )?;
    Ok(())
}

fn refusal(e: &Error) -> Option<String> {
    match e {
        Error::Forbidden(m) => Some(m.to_string()),
        Error::Validation { field, message } | Error::Unprocessable { field, message } => {
            Some(format!("{field}: {message}"))
        }
        Error::NotFound(what) => Some(format!("{what} not found")),
        _ => None,
    }
}

/// Fires the schedule's next time, if it is due at `now`.
pub async fn fire_next(ctx: &Ctx, id: i64, now: DateTime<Utc>) -> Result<Handled> {
    let Some(row) = ctx.store.run(move |c| rows::get(c, id)).await? else {
        return Ok(Handled::Done);
    };
    let (true, Some(expected)) = (row.enabled, row.next_fire_at) else {
        return Ok(Handled::Done);
    };
    let first = expected.and_utc();
    if first > now {
        return Ok(Handled::NotYet(first));
    }
    let expr = CronExpr::parse(&row.cron)?;
    let zone: chrono_tz::Tz = row.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let mut due = vec![first];
    while due.len() < MAX_CATCHUP {
        let Some(later) = cron::next_fires(&expr, zone, due[due.len() - 1], 1).pop() else {
            break;
        };
        if later.with_timezone(&Utc) > now {
            break;
        }
        due.push(later.with_timezone(&Utc));
    }
    let next = cron::next_fires(&expr, zone, now, 1)
        .pop()
        .map(|t| t.naive_utc());
    let newest = due[due.len() - 1];
    let mut fires: Vec<NewFire> = due[..due.len() - 1]
        .iter()
        .map(|t| NewFire {
            message: Some("missed: AutoDB was not running at this time".into()),
            ..fire_row(id, *t, now, Outcome::SkippedMisfire)
        })
        .collect();
    let grace = Duration::seconds(ctx.settings.schedules.misfire_grace_s as i64);
    let late = now - newest > grace;
    let commit = |fires, queue| Commit {
        id,
        expected,
        next,
        now: now.naive_utc(),
        fires,
        queue,
    };
    let mut decide = |outcome: Outcome, message: Option<String>| {
        fires.push(NewFire {
            message,
            ..fire_row(id, newest, now, outcome)
        });
        std::mem::take(&mut fires)
    };
    let chosen = if late && Misfire::parse(&row.misfire) == Misfire::Skip {
        Some(decide(
            Outcome::SkippedMisfire,
            Some(format!(
                "missed: more than {} s late",
                ctx.settings.schedules.misfire_grace_s
            )),
        ))
    } else {
        None
    };
    let actor = match chosen {
        Some(f) => return finish(ctx, commit(f, false)).await,
        None => match owner(ctx, &row).await? {
            Ok(a) => a,
            Err(why) => {
                return finish(ctx, commit(decide(Outcome::Refused, Some(why)), false)).await
            }
        },
    };
    let previous = row.last_job_id;
    let running = match previous {
        Some(j) => ctx.store.run(move |c| rows::job_active(c, j)).await?,
        None => false,
    };
    if running {
        match Overlap::parse(&row.overlap) {
            Overlap::Skip => {
                let why = Some(format!("job {} still runs", previous.unwrap_or_default()));
                return finish(ctx, commit(decide(Outcome::SkippedOverlap, why), false)).await;
            }
            Overlap::Queue if row.queued_fire_id.is_some() => {
                let why = Some("another fire is already queued".to_string());
                return finish(ctx, commit(decide(Outcome::SkippedOverlap, why), false)).await;
            }
            Overlap::Queue => {
                return finish(ctx, commit(decide(Outcome::Queued, None), true)).await;
            }
            Overlap::Allow => {}
        }
    }
    let input = match stored_job(ctx, &row) {
        Ok(i) => i,
        Err(e) => match refusal(&e) {
            Some(why) => {
                return finish(ctx, commit(decide(Outcome::Refused, Some(why)), false)).await
            }
            None => return Err(e),
        },
    };
    let started = decide(Outcome::Started, None);
    let refused_fires: Vec<NewFire> = started.iter().map(|f| NewFire { ..f.clone() }).collect();
    let c = commit(started, false);
    match jobs::submit_linked(ctx, &actor, input, move |tx, job| c.write(tx, Some(job))).await {
        Ok(_) => {
            ctx.schedules.changed(id);
            Ok(Handled::Done)
        }
        Err(Error::Conflict(_)) => Ok(Handled::Done),
        Err(e) => match refusal(&e) {
            Some(why) => {
                let mut fires = refused_fires;
                if let Some(last) = fires.last_mut() {
                    last.outcome = Outcome::Refused.as_str().into();
                    last.message = Some(why);
                }
                finish(ctx, commit(fires, false)).await
            }
            None => Err(e),
        },
    }
}

/// Writes a fire that starts no job.
async fn finish(ctx: &Ctx, commit: Commit) -> Result<Handled> {
    let id = commit.id;
    match ctx.store.write(move |tx| commit.write(tx, None)).await {
        Ok(()) | Err(Error::Conflict(_)) => {
            ctx.schedules.changed(id);
            ctx.schedules.wake();
            Ok(Handled::Done)
        }
        Err(e) => Err(e),
    }
}

/// A queued fire: starts its job once the previous one has ended.
pub async fn fire_queued(ctx: &Ctx, id: i64, fire: i64, _now: DateTime<Utc>) -> Result<Handled> {
    let Some(row) = ctx.store.run(move |c| rows::get(c, id)).await? else {
        return Ok(Handled::Done);
    };
    if row.queued_fire_id != Some(fire) {
        return Ok(Handled::Done);
    }
    if let Some(j) = row.last_job_id {
        if ctx.store.run(move |c| rows::job_active(c, j)).await? {
            return Ok(Handled::Waiting);
        }
    }
    let refuse = |why: String| async move {
        ctx.store
            .write(move |tx| {
                if rows::take_queued(tx, id, fire)? {
                    rows::set_fire_outcome(
                        tx,
                        fire,
                        None,
                        Some(Outcome::Refused.as_str()),
                        Some(&why),
                    )?;
                }
                Ok::<_, Error>(())
            })
            .await?;
        ctx.schedules.changed(id);
        Ok(Handled::Done)
    };
    let actor = match owner(ctx, &row).await? {
        Ok(a) => a,
        Err(why) => return refuse(why).await,
    };
    let input = match stored_job(ctx, &row) {
        Ok(i) => i,
        Err(e) => match refusal(&e) {
            Some(why) => return refuse(why).await,
            None => return Err(e),
        },
    };
    let link = move |tx: &mut WriteTx<'_>, job: i64| {
        if !rows::take_queued(tx, id, fire)? {
            return Err(Error::Conflict(ALREADY.into()));
        }
        rows::set_fire_outcome(tx, fire, Some(job), None, None)?;
        rows::link_job(tx, id, job)?;
        Ok(())
    };
    match jobs::submit_linked(ctx, &actor, input, link).await {
        Ok(_) => {
            ctx.schedules.changed(id);
            Ok(Handled::Done)
        }
        Err(Error::Conflict(_)) => Ok(Handled::Done),
        Err(e) => match refusal(&e) {
            Some(why) => refuse(why).await,
            None => Err(e),
        },
    }
}
