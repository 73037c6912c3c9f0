//! Targets' last connection check (the `targets.health_*` columns) and the work items of the
//! periodic check (kind [`WORK_KIND`]): one sweep item (subject 0) that comes back every
//! `targets.health_interval_s`, and one item per target being checked (subject = target id).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::Result;
use super::schema::{targets, work_items};
use super::{DbConn, WriteTx};

pub const WORK_KIND: &str = "target_health";

/// The subject of the sweep item (a check item's subject is its target's id, never 0).
pub const SWEEP: i64 = 0;

/// One check's outcome as stored.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = targets, treat_none_as_null = true)]
pub struct HealthFields {
    pub health_ok: Option<bool>,
    pub health_checked_at: Option<NaiveDateTime>,
    pub health_latency_ms: Option<f64>,
    pub health_server_version: Option<String>,
    /// The database's error as JSON.
    pub health_error: Option<String>,
}

/// Stores a check; returns the state it replaces (`Some(None)`: never checked), or `None` when
/// the target is gone (nothing written).
pub fn record(
    tx: &mut WriteTx<'_>,
    id: i64,
    fields: &HealthFields,
) -> Result<Option<Option<bool>>> {
    let conn: &mut DbConn = tx;
    let before: Option<Option<bool>> = targets::table
        .find(id)
        .select(targets::health_ok)
        .first(conn)
        .optional()?;
    if before.is_some() {
        diesel::update(targets::table.find(id))
            .set(fields)
            .execute(conn)?;
    }
    Ok(before)
}

/// Every target's id, for a sweep.
pub fn target_ids(conn: &mut DbConn) -> Result<Vec<i64>> {
    Ok(targets::table
        .order(targets::id.asc())
        .select(targets::id)
        .load(conn)?)
}

/// Targets with a check item already (waiting or running): a sweep adds none for them, so a
/// slow round never piles up behind itself.
pub fn being_checked(conn: &mut DbConn) -> Result<Vec<i64>> {
    Ok(work_items::table
        .filter(work_items::kind.eq(WORK_KIND))
        .filter(work_items::subject_id.ne(SWEEP))
        .select(work_items::subject_id)
        .load(conn)?)
}

/// Whether a sweep item other than `except` exists (waiting or running).
pub fn other_sweep(conn: &mut DbConn, except: Option<i64>) -> Result<bool> {
    let found: Option<i64> = work_items::table
        .filter(work_items::kind.eq(WORK_KIND))
        .filter(work_items::subject_id.eq(SWEEP))
        .filter(work_items::id.ne(except.unwrap_or(-1)))
        .select(work_items::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}
