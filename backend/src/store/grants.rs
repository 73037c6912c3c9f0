//! Grant policies and grants: rows, and every status change as a compare-and-set on the
//! status it changes from (so two processes deciding about one grant cannot both win). The
//! rules (which change is legal, what it means) are `services::grants`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{Result, StoreError};
use super::schema::{grant_policies, grants, work_items};
use super::{DbConn, WriteTx};

/// The kind of work that takes a grant back (`work_items.kind`).
pub const WORK_KIND: &str = "grant_restore";

/// Statuses in which a grant still holds (or may hold) the account: the swap guard's set.
pub const OPEN: [&str; 4] = ["pending", "active", "restoring", "restore_failed"];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = grant_policies)]
pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub target_id: i64,
    pub account: String,
    pub mode: String,
    pub max_duration_s: i64,
    pub roles: String,
    pub kill_sessions: bool,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = grant_policies)]
pub struct PolicyFields {
    pub name: String,
    pub target_id: i64,
    pub account: String,
    pub mode: String,
    pub max_duration_s: i64,
    pub roles: String,
    pub kill_sessions: bool,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = grants)]
pub struct GrantRow {
    pub id: i64,
    pub status: String,
    pub policy_id: i64,
    pub target_id: i64,
    pub account: String,
    pub login: String,
    pub mode: String,
    pub kill_sessions: bool,
    pub requested_by: i64,
    pub requested_by_name: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub restore_attempts: i32,
    pub last_error: Option<String>,
    pub original_sealed: Option<String>,
    pub temp_sealed: String,
    pub saved_state: Option<String>,
    pub session_watermark: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = grants)]
pub struct NewGrant {
    pub status: String,
    pub policy_id: i64,
    pub target_id: i64,
    pub account: String,
    pub login: String,
    pub mode: String,
    pub kill_sessions: bool,
    pub requested_by: i64,
    pub requested_by_name: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub original_sealed: Option<String>,
    pub temp_sealed: String,
    pub saved_state: Option<String>,
    pub session_watermark: Option<String>,
}

pub fn insert_policy(tx: &mut WriteTx<'_>, f: &PolicyFields, created_by: i64) -> Result<i64> {
    let c: &mut DbConn = tx;
    let values = (
        f,
        grant_policies::created_by.eq(Some(created_by)),
        grant_policies::created_at.eq(f.updated_at),
    );
    Ok(match c {
        DbConn::Postgresql(pg) => diesel::insert_into(grant_policies::table)
            .values(values)
            .returning(grant_policies::id)
            .get_result(pg)?,
        DbConn::Sqlite(lite) => {
            diesel::insert_into(grant_policies::table)
                .values(values)
                .execute(lite)?;
            grant_policies::table
                .select(grant_policies::id)
                .order(grant_policies::id.desc())
                .first(lite)?
        }
    })
}

pub fn update_policy(tx: &mut WriteTx<'_>, id: i64, f: &PolicyFields) -> Result<()> {
    let n = diesel::update(grant_policies::table.find(id))
        .set(f)
        .execute(&mut **tx)?;
    if n == 0 {
        return Err(StoreError::NotFound("grant policy"));
    }
    Ok(())
}

pub fn delete_policy(tx: &mut WriteTx<'_>, id: i64) -> Result<bool> {
    Ok(diesel::delete(grant_policies::table.find(id)).execute(&mut **tx)? == 1)
}

pub fn policy(c: &mut DbConn, id: i64) -> Result<Option<PolicyRow>> {
    Ok(grant_policies::table
        .find(id)
        .select(PolicyRow::as_select())
        .first(c)
        .optional()?)
}

pub fn policies(c: &mut DbConn) -> Result<Vec<PolicyRow>> {
    Ok(grant_policies::table
        .order(grant_policies::name.asc())
        .select(PolicyRow::as_select())
        .load(c)?)
}

/// Grants of a policy that still hold (or may hold) its account.
pub fn open_of_policy(c: &mut DbConn, policy_id: i64) -> Result<i64> {
    Ok(grants::table
        .filter(grants::policy_id.eq(policy_id))
        .filter(grants::status.eq_any(OPEN))
        .count()
        .get_result(c)?)
}

pub fn insert(tx: &mut WriteTx<'_>, g: &NewGrant) -> Result<i64> {
    let c: &mut DbConn = tx;
    Ok(match c {
        DbConn::Postgresql(pg) => diesel::insert_into(grants::table)
            .values(g)
            .returning(grants::id)
            .get_result(pg)?,
        DbConn::Sqlite(lite) => {
            diesel::insert_into(grants::table).values(g).execute(lite)?;
            grants::table
                .select(grants::id)
                .order(grants::id.desc())
                .first(lite)?
        }
    })
}

pub fn get(c: &mut DbConn, id: i64) -> Result<Option<GrantRow>> {
    Ok(grants::table
        .find(id)
        .select(GrantRow::as_select())
        .first(c)
        .optional()?)
}

/// The open swap grant on a target's account, if any (who holds it, until when).
pub fn open_swap(c: &mut DbConn, target_id: i64, account: &str) -> Result<Option<GrantRow>> {
    Ok(grants::table
        .filter(grants::target_id.eq(target_id))
        .filter(grants::account.eq(account))
        .filter(grants::mode.eq("swap"))
        .filter(grants::status.eq_any(OPEN))
        .select(GrantRow::as_select())
        .first(c)
        .optional()?)
}

#[derive(Debug, Default, Clone)]
pub struct GrantFilter {
    pub status: Option<String>,
    pub target_id: Option<i64>,
    pub user: Option<String>,
    /// Only this user's grants (callers who may not see everyone's).
    pub owner_id: Option<i64>,
}

pub fn list(c: &mut DbConn, f: &GrantFilter, limit: i64) -> Result<Vec<GrantRow>> {
    // A boxed query is bound to one backend: the same filters, built for each.
    macro_rules! filtered {
        ($db:ty) => {{
            let mut q = grants::table.into_boxed::<$db>();
            if let Some(s) = &f.status {
                q = q.filter(grants::status.eq(s.clone()));
            }
            if let Some(t) = f.target_id {
                q = q.filter(grants::target_id.eq(t));
            }
            if let Some(u) = &f.user {
                q = q.filter(grants::requested_by_name.eq(u.clone()));
            }
            if let Some(o) = f.owner_id {
                q = q.filter(grants::requested_by.eq(o));
            }
            q.order(grants::id.desc())
                .limit(limit)
                .select(GrantRow::as_select())
        }};
    }
    Ok(match c {
        DbConn::Postgresql(pg) => filtered!(diesel::pg::Pg).load(pg)?,
        DbConn::Sqlite(lite) => filtered!(diesel::sqlite::Sqlite).load(lite)?,
    })
}

/// What a status change writes besides the status.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = grants)]
pub struct Change {
    pub status: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub ended_at: Option<Option<NaiveDateTime>>,
    pub restore_attempts: Option<i32>,
    pub last_error: Option<Option<String>>,
    pub next_attempt_at: Option<Option<NaiveDateTime>>,
}

/// Applies `change` only while the grant is in one of `from`: the compare-and-set every
/// transition goes through. `false`: someone else moved it first (or it does not exist).
pub fn transition(tx: &mut WriteTx<'_>, id: i64, from: &[&str], change: &Change) -> Result<bool> {
    let n = diesel::update(
        grants::table
            .filter(grants::id.eq(id))
            .filter(grants::status.eq_any(from)),
    )
    .set(change)
    .execute(&mut **tx)?;
    Ok(n == 1)
}

/// Moves the waiting restore item of a grant to `run_after`. `false`: no waiting item (it is
/// being executed now, or there is none).
pub fn reschedule(tx: &mut WriteTx<'_>, grant_id: i64, run_after: NaiveDateTime) -> Result<bool> {
    let n = diesel::update(
        work_items::table
            .filter(work_items::kind.eq(WORK_KIND))
            .filter(work_items::subject_id.eq(grant_id))
            .filter(work_items::status.eq(super::work::WAITING)),
    )
    .set(work_items::run_after.eq(run_after))
    .execute(&mut **tx)?;
    Ok(n >= 1)
}

/// Whether a restore item (waiting or running) exists for the grant.
pub fn has_item(c: &mut DbConn, grant_id: i64) -> Result<bool> {
    let n: i64 = work_items::table
        .filter(work_items::kind.eq(WORK_KIND))
        .filter(work_items::subject_id.eq(grant_id))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// Policies naming a target, and its grants that still hold (or may hold) an account.
pub fn uses_of_target(c: &mut DbConn, target_id: i64) -> Result<(i64, i64)> {
    let policies = grant_policies::table
        .filter(grant_policies::target_id.eq(target_id))
        .count()
        .get_result(c)?;
    let open = grants::table
        .filter(grants::target_id.eq(target_id))
        .filter(grants::status.eq_any(OPEN))
        .count()
        .get_result(c)?;
    Ok((policies, open))
}
