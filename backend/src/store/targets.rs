//! Target rows and their tags.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{Result, StoreError};
use super::schema::{target_tags, targets};
use super::{DbConn, WriteTx};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = targets)]
pub struct TargetRow {
    pub id: i64,
    pub name: String,
    pub engine: String,
    pub host: String,
    pub port: i32,
    pub database_name: String,
    pub username: String,
    pub password_enc: Option<String>,
    pub options: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub query_username: Option<String>,
    pub query_password_enc: Option<String>,
    pub trusted_for_queries: bool,
    pub query_account_findings: Option<String>,
    pub query_account_checked_at: Option<NaiveDateTime>,
    pub query_account_check_error: Option<String>,
    pub health_ok: Option<bool>,
    pub health_checked_at: Option<NaiveDateTime>,
    pub health_latency_ms: Option<f64>,
    pub health_server_version: Option<String>,
    pub health_error: Option<String>,
}

/// Written on create and on update (an update replaces every field but the creator).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = targets, treat_none_as_null = true)]
pub struct TargetFields {
    pub name: String,
    pub engine: String,
    pub host: String,
    pub port: i32,
    pub database_name: String,
    pub username: String,
    pub password_enc: Option<String>,
    pub options: String,
    pub updated_at: NaiveDateTime,
    pub query_username: Option<String>,
    pub query_password_enc: Option<String>,
    pub trusted_for_queries: bool,
}

/// What the last check of the query account found (see `services::queries::account`).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = targets, treat_none_as_null = true)]
pub struct AccountCheckFields {
    /// A JSON array of findings; `None` when the check could not run (then `check_error`).
    pub query_account_findings: Option<String>,
    pub query_account_checked_at: Option<NaiveDateTime>,
    pub query_account_check_error: Option<String>,
}

/// Records a check's outcome.
pub fn set_account_check(tx: &mut WriteTx<'_>, id: i64, check: &AccountCheckFields) -> Result<()> {
    let conn: &mut DbConn = tx;
    diesel::update(targets::table.find(id))
        .set(check)
        .execute(conn)?;
    Ok(())
}

pub fn insert(
    tx: &mut WriteTx<'_>,
    fields: &TargetFields,
    tags: &[String],
    created_by: i64,
) -> Result<i64> {
    let conn: &mut DbConn = tx;
    diesel::insert_into(targets::table)
        .values((
            fields,
            targets::created_by.eq(Some(created_by)),
            targets::created_at.eq(fields.updated_at),
        ))
        .execute(conn)?;
    let id: i64 = targets::table
        .filter(targets::name.eq(&fields.name))
        .select(targets::id)
        .first(conn)?;
    set_tags(conn, id, tags)?;
    Ok(id)
}

pub fn update(tx: &mut WriteTx<'_>, id: i64, fields: &TargetFields, tags: &[String]) -> Result<()> {
    let conn: &mut DbConn = tx;
    let n = diesel::update(targets::table.find(id))
        .set(fields)
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("target"));
    }
    set_tags(conn, id, tags)
}

fn set_tags(conn: &mut DbConn, id: i64, tags: &[String]) -> Result<()> {
    diesel::delete(target_tags::table.filter(target_tags::target_id.eq(id))).execute(conn)?;
    for tag in tags {
        diesel::insert_into(target_tags::table)
            .values((target_tags::target_id.eq(id), target_tags::tag.eq(tag)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete(tx: &mut WriteTx<'_>, id: i64) -> Result<bool> {
    let conn: &mut DbConn = tx;
    diesel::delete(target_tags::table.filter(target_tags::target_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(targets::table.find(id)).execute(conn)? == 1)
}

/// The target's row alone (what connecting needs), without its tags.
pub fn row(conn: &mut DbConn, id: i64) -> Result<Option<TargetRow>> {
    Ok(targets::table
        .find(id)
        .select(TargetRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_id(conn: &mut DbConn, id: i64) -> Result<Option<(TargetRow, Vec<String>)>> {
    let Some(row) = row(conn, id)? else {
        return Ok(None);
    };
    let tags = target_tags::table
        .filter(target_tags::target_id.eq(id))
        .order(target_tags::tag.asc())
        .select(target_tags::tag)
        .load(conn)?;
    Ok(Some((row, tags)))
}

/// All targets (optionally only those carrying every tag in `tags`), by name, with their tags.
pub fn list(conn: &mut DbConn, tags: &[String]) -> Result<Vec<(TargetRow, Vec<String>)>> {
    let rows: Vec<TargetRow> = targets::table
        .order(targets::name.asc())
        .select(TargetRow::as_select())
        .load(conn)?;
    let all_tags: Vec<(i64, String)> = target_tags::table
        .order((target_tags::target_id.asc(), target_tags::tag.asc()))
        .load(conn)?;
    let mut by_target: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (id, tag) in all_tags {
        by_target.entry(id).or_default().push(tag);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let t = by_target.remove(&r.id).unwrap_or_default();
            (r, t)
        })
        .filter(|(_, t)| tags.iter().all(|want| t.contains(want)))
        .collect())
}
